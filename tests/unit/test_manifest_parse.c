/* test_manifest_parse.c: the manifest's object lines are read by a fast path
 * when they have the exact form nv_manifest_format writes, and by jansson
 * otherwise: both give the same records, and what jansson refuses (a leading
 * zero, an integer past int64, a bad hex) stays refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "vault/vault_doc.h"

#define ID "3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f"
#define CAT "objects/3f/" ID ".0123456789abcdef.age"
#define OBJ "objects/3f/" ID ".fedcba9876543210.age"
#define SHA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEAD "{\"bytes\":%s,\"catalog\":\"" CAT "\",\"generation\":1,\"objects\":2," \
	"\"previous\":null,\"time\":\"2026-12-03T01:02:03Z\",\"type\":\"manifest\"," \
	"\"vault_id\":\"0123456789abcdef0123456789abcdef\",\"version\":1}\n"

/* A manifest with the catalog (size 10) and OBJ, OBJ's line as given. */
static int parse(nv_manifest *m, const char *bytes, const char *obj_line)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf), HEAD "{\"name\":\"" CAT "\",\"sha256\":\"" SHA
			 "\",\"size\":10}\n%s\n", bytes, obj_line);

	return nv_manifest_parse(m, buf, (size_t)n);
}

static void test_fast_and_jansson_agree(void **state)
{
	static const char *const same[] = {
		"{\"name\":\"" OBJ "\",\"sha256\":\"" SHA "\",\"size\":42}",     /* fast */
		"{\"name\": \"" OBJ "\", \"sha256\": \"" SHA "\", \"size\": 42}", /* jansson */
		"{\"size\":42,\"sha256\":\"" SHA "\",\"name\":\"" OBJ "\"}",     /* jansson */
		"{\"name\":\"objects\\/3f\\/" ID ".fedcba9876543210.age\",\"sha256\":\"" SHA
			"\",\"size\":42}",                                          /* escapes */
	};
	nv_manifest m;

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(parse(&m, "52", same[i]), 0);
		assert_int_equal(m.n, 2);
		assert_string_equal(m.objs[1].name, OBJ);
		assert_int_equal(m.objs[1].size, 42);
		assert_int_equal(m.objs[1].sha256[0], 0xaa);
		nv_manifest_clear(&m);
	}
}

static void test_refused_either_way(void **state)
{
	static const char *const bad[] = {
		"{\"name\":\"" OBJ "\",\"sha256\":\"" SHA "\",\"size\":042}",
		"{\"name\":\"" OBJ "\",\"sha256\":\"" SHA "\",\"size\":99999999999999999999}",
		"{\"name\":\"" OBJ "\",\"sha256\":\"" SHA "\",\"size\":-1}",
		"{\"name\":\"" OBJ "\",\"sha256\":\"zz" SHA "\",\"size\":42}",
		"{\"name\":\"" OBJ "\",\"sha256\":\"" SHA "\",\"size\":42,\"size\":43}",
		"{\"name\":\"objects/3f/short.age\",\"sha256\":\"" SHA "\",\"size\":42}",
	};
	nv_manifest m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&m, "52", bad[i]) == 0)
			fail_msg("line %zu accepted: %s", i, bad[i]);
	}
	/* the byte total still has to add up */
	assert_int_not_equal(parse(&m, "53", "{\"name\":\"" OBJ "\",\"sha256\":\"" SHA
			     "\",\"size\":42}"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_and_jansson_agree),
		cmocka_unit_test(test_refused_either_way),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
