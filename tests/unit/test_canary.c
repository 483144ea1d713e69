/* test_canary.c: the formats of canary files (docs/FORMAT.md 2.8): the canary
 * key's test vector (made with `openssl dgst -mac HMAC`), the drill document
 * written and parsed strictly, the manifest's optional "canary" field (and
 * the unknown-field rule older readers rely on), the canary catalog's type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/hash.h"
#include "vault/canary_doc.h"
#include "vault/vault_doc.h"

#define R1 "age13txjjshg5hm3jdw59lq8s05zc8d6j4tskmwdlet0c7055u8l6ewq492cnp"
#define R2 "age1lv3xtksvj45w8fls2pg492v8lsrkcyztszlflvlguvs26e7xy58qp83uav"
#define VID "0123456789abcdef0123456789abcdef"

/* FORMAT.md 2.8: K_id = 00 01 ... 1f. */
static void test_canary_key_vector(void **state)
{
	static const char *const two[] = { R1, R2 };
	unsigned char kid[NV_KID_LEN], kc[NV_KID_LEN], sha[NV_SHA256_LEN];
	char hex[NV_SHA256_HEX], id[NV_OBJECT_ID_HEX];

	(void)state;
	for (int i = 0; i < NV_KID_LEN; i++)
		kid[i] = (unsigned char)i;
	nv_canary_key(kc, kid, two, 2);
	nv_hex(hex, kc, sizeof(kc));
	assert_string_equal(hex, "01bf79fba4c3e3976d7ab7db5201e3683fc0c63567bdcc3eed3dfe20c46e5361");
	nv_sha256_buf(sha, "canary\n", 7);
	nv_object_id(id, kc, sha);
	assert_string_equal(id, "60aa1250df8fc207370c30994948925736f37f7e0e6c8ed9ace21d8c52125290");
	/* no drill recipient: the label alone; never K_id's own ids */
	nv_canary_key(kc, kid, NULL, 0);
	nv_hex(hex, kc, sizeof(kc));
	assert_string_equal(hex, "89f7a5e678900dc17d9d984be273f5f8d502f7b0d2943727a7323bec61708643");
	nv_object_id(hex, kid, sha);
	assert_string_not_equal(hex, id);
}

#define DOC(recips, serial) "{\"recipients\":[" recips "],\"serial\":" serial ",\"time\":" \
	"\"2026-12-03T01:02:03Z\",\"type\":\"drill\",\"vault_id\":\"" VID "\",\"version\":1}\n"

static int doc_parse(nv_drill_doc *d, const char *text)
{
	return nv_drill_doc_parse(d, text, strlen(text));
}

static void test_drill_doc_round_trip(void **state)
{
	static const char text[] = DOC("\"" R1 "\",\"" R2 "\"", "7");
	nv_drill_doc d;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(doc_parse(&d, text), 0);
	assert_int_equal(d.serial, 7);
	assert_int_equal(d.n_recipients, 2);
	assert_string_equal(d.recipients[1], R2);
	assert_int_equal(nv_drill_doc_format(&out, &len, &d), 0);
	assert_int_equal(len, strlen(text));
	assert_string_equal(out, text);
	free(out);
	nv_drill_doc_clear(&d);
	assert_int_equal(doc_parse(&d, DOC("", "1")), 0); /* drills stopped: no recipient */
	assert_int_equal(d.n_recipients, 0);
	nv_drill_doc_clear(&d);
}

static void test_drill_doc_refused(void **state)
{
	static const char *const bad[] = {
		DOC("\"" R2 "\",\"" R1 "\"", "1"),                /* not sorted */
		DOC("\"" R1 "\",\"" R1 "\"", "1"),                /* twice */
		DOC("\"age1notakey\"", "1"),                      /* not a recipient */
		DOC("\"" R1 "\"", "0"),                           /* serial from 1 */
		DOC("\"" R1 "\"", "-1"),
		DOC("\"" R1 "\"", "1.5"),
		DOC("7", "1"),
		"{\"recipients\":[],\"serial\":1,\"time\":\"2026-12-03T01:02:03Z\",\"type\":"
		"\"manifest\",\"vault_id\":\"" VID "\",\"version\":1}\n",
		"{\"recipients\":[],\"serial\":1,\"time\":\"2026-12-03T01:02:03Z\",\"type\":"
		"\"drill\",\"vault_id\":\"" VID "\",\"version\":2}\n",
		"{\"recipients\":[],\"serial\":1,\"time\":\"yesterday\",\"type\":"
		"\"drill\",\"vault_id\":\"" VID "\",\"version\":1}\n",
		"{\"recipients\":[],\"serial\":1,\"time\":\"2026-12-03T01:02:03Z\",\"type\":"
		"\"drill\",\"vault_id\":\"0123\",\"version\":1}\n",
		"{\"recipients\":[],\"serial\":1,\"serial\":2,\"time\":\"2026-12-03T01:02:03Z\","
		"\"type\":\"drill\",\"vault_id\":\"" VID "\",\"version\":1}\n",
		DOC("", "1") DOC("", "2"),                        /* two lines */
		"{\"recipients\":[],\"serial\":1,\"time\":\"2026-12-03T01:02:03Z\",\"type\":"
		"\"drill\",\"vault_id\":\"" VID "\",\"version\":1}",   /* no newline */
	};
	nv_drill_doc d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (doc_parse(&d, bad[i]) != NV_EMISMATCH)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(d.n_recipients, 0);
	}
}

static void test_drill_doc_too_many(void **state)
{
	char buf[16384] = "{\"recipients\":[", *p = buf + strlen(buf);
	nv_drill_doc d;

	(void)state;
	/* 65 copies of one key: refused for the count before the order */
	for (int i = 0; i <= NV_DRILL_RECIPIENTS_MAX; i++)
		p += sprintf(p, "%s\"" R1 "\"", i ? "," : "");
	sprintf(p, "],\"serial\":1,\"time\":\"2026-12-03T01:02:03Z\",\"type\":\"drill\","
		"\"vault_id\":\"" VID "\",\"version\":1}\n");
	assert_int_equal(doc_parse(&d, buf), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "at most 64"));
}

#define ID "3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f"
#define CAT "objects/3f/" ID ".0123456789abcdef.age"
#define CAN "objects/3f/" ID ".fedcba9876543210.age"
#define SHA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* A manifest of the catalog and CAN, with extra header fields. */
static int manifest(nv_manifest *m, const char *extra)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf), "{\"bytes\":20,%s\"catalog\":\"" CAT "\","
			 "\"generation\":1,\"objects\":2,\"previous\":null,\"time\":"
			 "\"2026-12-03T01:02:03Z\",\"type\":\"manifest\",\"vault_id\":\"" VID
			 "\",\"version\":1}\n{\"name\":\"" CAT "\",\"sha256\":\"" SHA "\",\"size\":10}"
			 "\n{\"name\":\"" CAN "\",\"sha256\":\"" SHA "\",\"size\":10}\n", extra);

	return nv_manifest_parse(m, buf, (size_t)n);
}

static void test_manifest_canary(void **state)
{
	nv_manifest m;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(manifest(&m, "\"canary\":\"" CAN "\","), 0);
	assert_string_equal(m.canary, CAN);
	assert_int_equal(nv_manifest_format(&out, &len, &m), 0);
	assert_non_null(strstr(out, "{\"bytes\":20,\"canary\":\"" CAN "\",\"catalog\":"));
	free(out);
	nv_manifest_clear(&m);
	/* what an older reader does with a field it does not know: ignores it */
	assert_int_equal(manifest(&m, "\"zz_future\":{\"x\":[1]},\"aa\":null,"), 0);
	assert_null(m.canary);
	assert_int_equal(nv_manifest_format(&out, &len, &m), 0);
	assert_null(strstr(out, "canary"));
	free(out);
	nv_manifest_clear(&m);
	assert_int_equal(manifest(&m, "\"canary\":\"" CAT "\","), NV_EMISMATCH); /* the catalog */
	assert_int_equal(manifest(&m, "\"canary\":7,"), NV_EMISMATCH);
	assert_int_equal(manifest(&m, "\"canary\":null,"), NV_EMISMATCH);
	assert_int_equal(manifest(&m, "\"canary\":\"objects/3f/" ID ".1111111111111111.age\","),
			 NV_EMISMATCH); /* not among the objects */
	assert_non_null(strstr(nv_error_msg(), "not among its objects"));
}

static void test_canary_catalog_type(void **state)
{
	static const char canary[] = "{\"generation\":3,\"type\":\"canary-catalog\",\"vault_id\":\""
				     VID "\",\"version\":1}\n";
	static const char real[] = "{\"generation\":3,\"type\":\"catalog\",\"vault_id\":\""
				   VID "\",\"version\":1}\n";
	nv_catalog head = { .type = NV_CANARY_CATALOG_TYPE, .vault_id = VID, .generation = 3 };
	nv_catalog c;
	char *line;

	(void)state;
	line = nv_catalog_line(&head, NULL);
	assert_string_equal(line, canary);
	free(line);
	/* one is never read as the other */
	assert_int_equal(nv_catalog_parse(&c, canary, strlen(canary)), NV_EMISMATCH);
	assert_int_equal(nv_catalog_parse_type(&c, real, strlen(real), NV_CANARY_CATALOG_TYPE),
			 NV_EMISMATCH);
	assert_int_equal(nv_catalog_parse_type(&c, canary, strlen(canary),
					       NV_CANARY_CATALOG_TYPE), 0);
	assert_int_equal(c.generation, 3);
	nv_catalog_clear(&c);
	assert_int_equal(nv_catalog_parse(&c, real, strlen(real)), 0);
	nv_catalog_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canary_key_vector),
		cmocka_unit_test(test_drill_doc_round_trip),
		cmocka_unit_test(test_drill_doc_refused),
		cmocka_unit_test(test_drill_doc_too_many),
		cmocka_unit_test(test_manifest_canary),
		cmocka_unit_test(test_canary_catalog_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
