/* test_publish.c: the formats of a sharded push (docs/FORMAT.md 2.9): the
 * partial key's and the MAC's test vectors (made with `openssl dgst -mac
 * HMAC`), the run's names and run ids, the run document and the partial
 * catalog's lines written and parsed strictly, and a partial catalog sealed
 * and opened over the fake store: every forgery or alteration refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "fake_driver.h"
#include "util/error.h"
#include "util/hash.h"
#include "vault/format.h"
#include "vault/partial.h"
#include "vault/run_doc.h"

#define R1 "age13txjjshg5hm3jdw59lq8s05zc8d6j4tskmwdlet0c7055u8l6ewq492cnp"
#define VID "0123456789abcdef0123456789abcdef"
#define HELLO_SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define HELLO_ID "94bbeebc3ed4fdfef6a3b372689d408b821ad6796d97c1e65cfe2b82a37aa9bc"
#define HELLO_OBJ "objects/94/" HELLO_ID ".0123456789abcdef.age"

/* FORMAT.md 2.9's example: header and one line of shard 1 of 3 of run mig-42. */
#define HEAD "{\"recipient\":\"" R1 "\",\"run\":\"mig-42\",\"shard\":1,\"shards\":3,\"type\":" \
	"\"partial-catalog\",\"vault_id\":\"" VID "\",\"version\":1}\n"
#define LINE "{\"mode\":420,\"mtime\":1764464523,\"mtime_ns\":120000000,\"object\":\"" \
	HELLO_OBJ "\",\"path\":\"dir/file.txt\",\"sha256\":\"" HELLO_SHA "\",\"size\":6,"  \
	"\"stored_sha256\":\"abababababababababababababababababababababababababababababababab\"," \
	"\"stored_size\":207}\n"

static void kid_vector(unsigned char kid[NV_KID_LEN])
{
	for (int i = 0; i < NV_KID_LEN; i++)
		kid[i] = (unsigned char)i;
}

static void test_partial_vectors(void **state)
{
	nv_partial_head h = { .vault_id = VID, .run = "mig-42", .recipient = R1, .shard = 1,
			      .shards = 3 };
	nv_cat_entry e = { .path = "dir/file.txt", .size = 6, .mode = 0644, .mtime = 1764464523,
			   .mtime_ns = 120000000, .object = HELLO_OBJ };
	nv_obj_rec obj = { .name = HELLO_OBJ, .size = 207 };
	unsigned char kid[NV_KID_LEN], key[NV_KID_LEN], mac[NV_SHA256_LEN], sha[NV_SHA256_LEN];
	char hex[NV_SHA256_HEX], id[NV_OBJECT_ID_HEX], *line;

	(void)state;
	kid_vector(kid);
	nv_partial_key(key, kid);
	nv_hex(hex, key, sizeof(key));
	assert_string_equal(hex, "c7ceb9ebda65441e58a58a944cde0076c8dc67e7dd710fd6bc88087ce66372ae");
	nv_sha256_buf(sha, "hello\n", 6);
	nv_object_id(id, kid, sha);
	assert_string_equal(id, HELLO_ID);
	memcpy(e.sha256, sha, sizeof(sha));
	memset(obj.sha256, 0xab, sizeof(obj.sha256));
	line = nv_partial_head_line(&h);
	assert_string_equal(line, HEAD);
	free(line);
	line = nv_partial_file_line(&e, &obj);
	assert_string_equal(line, LINE);
	free(line);
	nv_partial_mac(mac, key, HEAD LINE, strlen(HEAD LINE));
	nv_hex(hex, mac, sizeof(mac));
	assert_string_equal(hex, "02ddcfcda4be96849110ceb775e515cc6792538f4687bacb5e641b6d3bb94866");
	line = nv_partial_end_line(mac);
	assert_string_equal(line, "{\"hmac\":\"02ddcfcda4be96849110ceb775e515cc6792538f4687bacb5e6"
			    "41b6d3bb94866\",\"type\":\"end\"}\n");
	free(line);
}

static void test_run_names(void **state)
{
	static const char *const bad_runs[] = { "", ".", "..", "a/b", "a b", "caf\xc3\xa9",
		"0123456789012345678901234567890123456789012345678901234567890123x" };
	static const char *const bad_names[] = {
		"runs/r/shard-3-of-3.age", "runs/r/shard-01-of-3.age", "runs/r/shard-0-of-03.age",
		"runs/r/shard-0-of-0.age", "runs/r/shard-0-of-3.age.x", "runs/r/shard-0-of-3",
		"runs/rr/shard-0-of-3.age", "runs/r/run.json", "runs/r/shard--1-of-3.age",
		"runs/r/x/shard-0-of-3.age", "runs/r/shard-0-of-1000000000.age",
	};
	char name[NV_RUN_NAME_MAX];
	unsigned k, n;

	(void)state;
	assert_int_equal(nv_run_id_check("mig-42.a_b"), 0);
	for (size_t i = 0; i < sizeof(bad_runs) / sizeof(*bad_runs); i++)
		if (nv_run_id_check(bad_runs[i]) != NV_EINVAL)
			fail_msg("run id accepted: '%s'", bad_runs[i]);
	assert_int_equal(nv_run_doc_name(name, "r"), 0);
	assert_string_equal(name, "runs/r/run.json");
	assert_int_equal(nv_partial_name(name, "r", 10, 12), 0);
	assert_string_equal(name, "runs/r/shard-10-of-12.age");
	assert_int_equal(nv_partial_name_parse(name, "r", &k, &n), 0);
	assert_true(k == 10 && n == 12);
	assert_int_equal(nv_partial_name_parse("runs/r/shard-0-of-1.age", "r", &k, &n), 0);
	assert_true(k == 0 && n == 1);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++)
		if (nv_partial_name_parse(bad_names[i], "r", &k, &n) != NV_EMISMATCH)
			fail_msg("partial name accepted: '%s'", bad_names[i]);
	assert_int_equal(nv_partial_name(name, "..", 0, 1), NV_EINVAL);
}

#define RUNDOC(run, extra) "{\"recipient\":\"" R1 "\",\"run\":\"" run "\",\"time\":" \
	"\"2026-12-03T01:02:03Z\",\"type\":\"run\",\"vault_id\":\"" VID "\",\"version\":1" \
	extra "}\n"

static void test_run_doc(void **state)
{
	static const char *const bad[] = {
		RUNDOC("..", ""), RUNDOC("mig-42", ",\"x\":1"), RUNDOC("a/b", ""),
		"{\"recipient\":\"age1notakey\",\"run\":\"r\",\"time\":\"2026-12-03T01:02:03Z\","
		"\"type\":\"run\",\"vault_id\":\"" VID "\",\"version\":1}\n",
		"{\"recipient\":\"" R1 "\",\"run\":\"r\",\"time\":\"2026-12-03T01:02:03Z\","
		"\"type\":\"drill\",\"vault_id\":\"" VID "\",\"version\":1}\n",
		"{\"recipient\":\"" R1 "\",\"run\":\"r\",\"time\":\"2026-12-03T01:02:03Z\","
		"\"type\":\"run\",\"vault_id\":\"" VID "\",\"version\":2}\n",
		"{\"recipient\":\"" R1 "\",\"run\":\"r\",\"time\":\"2026-12-03T01:02:03Z\","
		"\"type\":\"run\",\"vault_id\":\"" VID "\",\"version\":1}",
		RUNDOC("r", "") RUNDOC("r", ""),
	};
	static const char good[] = RUNDOC("mig-42", "");
	nv_run_doc d;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(nv_run_doc_parse(&d, good, strlen(good)), 0);
	assert_string_equal(d.run, "mig-42");
	assert_string_equal(d.recipient, R1);
	assert_int_equal(nv_run_doc_format(&out, &len, &d), 0);
	assert_int_equal(len, strlen(good));
	assert_string_equal(out, good);
	free(out);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (nv_run_doc_parse(&d, bad[i], strlen(bad[i])) != NV_EMISMATCH)
			fail_msg("run document accepted: %s", bad[i]);
}

static void test_partial_lines_refused(void **state)
{
	static const char *const bad[] = {
		"{\"mode\":420,\"mtime\":1,\"mtime_ns\":0,\"object\":\"" HELLO_OBJ "\",\"path\":"
		"\"../x\",\"sha256\":\"" HELLO_SHA "\",\"size\":6,\"stored_sha256\":\"" HELLO_SHA
		"\",\"stored_size\":207}",                               /* unsafe path */
		"{\"mode\":420,\"mtime\":1,\"mtime_ns\":0,\"object\":\"objects/94/x.age\",\"path\":"
		"\"x\",\"sha256\":\"" HELLO_SHA "\",\"size\":6,\"stored_sha256\":\"" HELLO_SHA
		"\",\"stored_size\":207}",                               /* object name */
		"{\"mode\":4096,\"mtime\":1,\"mtime_ns\":0,\"object\":\"" HELLO_OBJ "\",\"path\":"
		"\"x\",\"sha256\":\"" HELLO_SHA "\",\"size\":6,\"stored_sha256\":\"" HELLO_SHA
		"\",\"stored_size\":207}",                               /* mode */
		"{\"mode\":420,\"mtime\":1,\"mtime_ns\":1000000000,\"object\":\"" HELLO_OBJ "\","
		"\"path\":\"x\",\"sha256\":\"" HELLO_SHA "\",\"size\":6,\"stored_sha256\":\""
		HELLO_SHA "\",\"stored_size\":207}",                     /* mtime_ns */
		"{\"mode\":420,\"mtime\":1,\"mtime_ns\":0,\"object\":\"" HELLO_OBJ "\",\"path\":"
		"\"x\",\"sha256\":\"" HELLO_SHA "\",\"size\":6,\"stored_size\":207}", /* no stored_sha256 */
		"{\"mode\":420,\"mtime\":1,\"mtime_ns\":0,\"object\":\"" HELLO_OBJ "\",\"path\":"
		"\"x\",\"sha256\":\"" HELLO_SHA "\",\"size\":-6,\"stored_sha256\":\"" HELLO_SHA
		"\",\"stored_size\":207}",                               /* size */
		"{\"mode\":420,\"mtime\":1,\"mtime_ns\":0,\"object\":\"" HELLO_OBJ "\",\"path\":"
		"\"x\",\"sha256\":\"" HELLO_SHA "\",\"size\":6,\"stored_sha256\":\"" HELLO_SHA
		"\",\"stored_size\":207,\"more\":1}",                    /* a field too many */
	};
	nv_cat_entry e;
	nv_obj_rec o;
	nv_partial_head h;
	unsigned char mac[NV_SHA256_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (nv_partial_file_parse(&e, &o, bad[i], strlen(bad[i])) != NV_EMISMATCH)
			fail_msg("line accepted: %s", bad[i]);
	assert_int_equal(nv_partial_head_parse(&h, HEAD, strlen(HEAD) - 1), 0);
	assert_true(h.shard == 1 && h.shards == 3);
	assert_string_equal(h.run, "mig-42");
	assert_int_equal(nv_partial_head_parse(&h, HEAD, strlen(HEAD)), NV_EMISMATCH); /* '\n' */
	assert_int_equal(nv_partial_end_parse(mac, "{\"type\":\"end\"}", 14), NV_EMISMATCH);
	assert_int_equal(nv_partial_file_parse(&e, &o, LINE, strlen(LINE) - 1), 0);
	assert_string_equal(e.path, "dir/file.txt");
	assert_ptr_equal(e.object, o.name);
	assert_int_equal(o.size, 207);
	free(e.path);
	free(o.name);
}

/* ---- sealed and opened over the fake store ---- */

typedef struct fx {
	nv_fake *store;
	nv_store *s;
	nv_age_identity *id;
	nv_age_recipient r;
	unsigned char kid[NV_KID_LEN];
	nv_partial_head h;
	nv_push_file f[3];
	nv_push_file *fp[3];
} fx;

/* A file of the fixture: path, contents, object named under kid. */
static void fx_file(fx *x, int i, const char *path, const char *text)
{
	nv_push_file *f = &x->f[i];
	char id[NV_OBJECT_ID_HEX];

	f->path = f->cat.path = (char *)path;
	f->cat.size = strlen(text);
	f->cat.mode = 0600;
	f->cat.mtime = 1000 + i;
	nv_sha256_buf(f->cat.sha256, text, strlen(text));
	nv_object_id(id, x->kid, f->cat.sha256);
	f->obj.name = malloc(NV_OBJECT_NAME_MAX);
	assert_int_equal(nv_object_name(f->obj.name, id, "00000000000000aa"), 0);
	f->cat.object = f->obj.name;
	f->obj.size = f->cat.size + 200;
	x->fp[i] = f;
}

static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	char recip[NV_AGE_RECIPIENT_MAX], *text;

	assert_int_equal(nv_age_keygen(&text, recip, sizeof(recip)), 0);
	assert_int_equal(nv_age_identity_parse(&x->id, text, strlen(text)), 0);
	nv_age_wipe_free(text, strlen(text));
	assert_int_equal(nv_age_recipient_parse(&x->r, recip), 0);
	kid_vector(x->kid);
	x->store = nv_fake_new("vault");
	assert_int_equal(nv_drv_open(&x->s, nv_fake_location(x->store)), 0);
	x->h = (nv_partial_head){ .vault_id = VID, .run = "r", .shard = 1, .shards = 3 };
	memcpy(x->h.recipient, recip, sizeof(recip));
	/* shard 1 of 3 (FORMAT.md 14's table): "a" and "dir/file.txt" */
	fx_file(x, 0, "a", "one\n");
	fx_file(x, 1, "dir/file.txt", "hello\n");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;

	for (int i = 0; i < 3; i++)
		free(x->f[i].obj.name);
	nv_drv_close(x->s);
	nv_fake_free(x->store);
	nv_age_identity_free(x->id);
	free(x);
	return 0;
}

/* Writes fp[0..n) as shard 1's partial catalog, as a shard does: through its
 * sorted records (which sort them by path). */
static int write_partial(fx *x, const unsigned char kid[NV_KID_LEN], size_t n)
{
	nv_push_recs recs;
	int rc;

	assert_int_equal(nv_push_recs_open(&recs), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(nv_push_recs_add(&recs, x->fp[i]), 0);
	assert_int_equal(nv_push_recs_sort(&recs), 0);
	rc = nv_partial_write(x->s, kid, &x->h, &x->r, &recs, NULL);
	nv_push_recs_close(&recs);
	return rc;
}

/* Seals body (header and file lines) under x->kid by hand, as a holder of
 * K_id could: lines no shard writes (out of order, twice). */
static void seal_partial(fx *x, const char *body)
{
	unsigned char key[NV_KID_LEN], mac[NV_SHA256_LEN], *ct;
	char *end, *all;
	size_t clen;

	nv_partial_key(key, x->kid);
	nv_partial_mac(mac, key, body, strlen(body));
	end = nv_partial_end_line(mac);
	assert_non_null(all = malloc(strlen(body) + strlen(end) + 1));
	strcpy(all, body);
	strcat(all, end);
	assert_int_equal(nv_age_encrypt_buf(&ct, &clen, all, strlen(all), &x->r, 1), 0);
	nv_fake_put(x->store, "runs/r/shard-1-of-3.age", ct, clen, 1000);
	free(ct);
	free(all);
	free(end);
}

/* Opens runs/r/shard-1-of-3.age as publish does and reads its files, which
 * must be fp[0..) in order; *n counts them. */
static int open_partial(fx *x, size_t *n)
{
	nv_partial *p = NULL;
	nv_cat_entry e;
	nv_obj_rec o;
	uint64_t bytes;
	int rc = nv_partial_open(&p, x->s, "runs/r/shard-1-of-3.age", x->kid, &x->h, x->id,
				 &bytes);

	for (*n = 0; !rc && (rc = nv_partial_next(p, &e, &o)) == 0; (*n)++) {
		assert_string_equal(e.path, x->fp[*n]->path);
		assert_string_equal(e.object, x->fp[*n]->obj.name);
		assert_memory_equal(e.sha256, x->fp[*n]->cat.sha256, NV_SHA256_LEN);
		assert_int_equal(o.size, x->fp[*n]->obj.size);
		assert_int_equal(e.mtime, x->fp[*n]->cat.mtime);
	}
	nv_partial_close(p);
	return rc == NV_EOF ? 0 : rc;
}

static void test_partial_round_trip(void **state)
{
	fx *x = *state;
	size_t n;

	assert_int_equal(write_partial(x, x->kid, 2), 0);
	assert_int_equal(open_partial(x, &n), 0);
	assert_int_equal(n, 2);
	/* a shard run again replaces what it wrote */
	x->fp[0] = &x->f[1];
	assert_int_equal(write_partial(x, x->kid, 1), 0);
	assert_int_equal(open_partial(x, &n), 0);
	assert_int_equal(n, 1);
}

static void test_partial_altered(void **state)
{
	fx *x = *state;
	size_t n, len;

	assert_int_equal(write_partial(x, x->kid, 2), 0);
	free(nv_fake_get(x->store, "runs/r/shard-1-of-3.age", &len));
	assert_int_equal(nv_fake_flip(x->store, "runs/r/shard-1-of-3.age", len - 20), 0);
	assert_int_equal(open_partial(x, &n), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "does not decrypt with the run's key"));
}

static void test_partial_forged(void **state)
{
	fx *x = *state;
	unsigned char other[NV_KID_LEN];
	size_t n;

	/* anyone can encrypt to the run's key: without K_id the MAC is wrong */
	memset(other, 7, sizeof(other));
	assert_int_equal(write_partial(x, other, 2), 0);
	assert_int_equal(open_partial(x, &n), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "HMAC under K_id does not match"));
}

static void test_partial_claims_refused(void **state)
{
	fx *x = *state;
	unsigned char *other;
	size_t n;

	/* another shard's header */
	x->h.shard = 2;
	assert_int_equal(write_partial(x, x->kid, 2), 0);
	x->h.shard = 1;
	other = nv_fake_get(x->store, "runs/r/shard-2-of-3.age", &n);
	nv_fake_put(x->store, "runs/r/shard-1-of-3.age", other, n, 1000);
	free(other);
	assert_int_equal(open_partial(x, &n), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "its header names vault"));
	/* a path of another shard ("a/b" is shard 2 of 3) */
	fx_file(x, 2, "a/b", "two\n");
	x->fp[1] = &x->f[2];
	assert_int_equal(write_partial(x, x->kid, 2), 0);
	assert_int_equal(open_partial(x, &n), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "is not of shard 1/3"));
	/* an object not named after the contents its line claims */
	x->fp[1] = &x->f[1];
	x->f[1].cat.sha256[0] ^= 1;
	assert_int_equal(write_partial(x, x->kid, 2), 0);
	assert_int_equal(open_partial(x, &n), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "is not named after the contents"));
	/* paths out of order, or twice: no shard writes them (its records are
	 * sorted), a holder of K_id could */
	x->f[1].cat.sha256[0] ^= 1;
	for (int twice = 0; twice < 2; twice++) {
		char *head = nv_partial_head_line(&x->h), *l0, *l1, body[4096];
		const nv_push_file *second = &x->f[twice ? 1 : 0];

		l0 = nv_partial_file_line(&x->f[1].cat, &x->f[1].obj);
		l1 = nv_partial_file_line(&second->cat, &second->obj);
		snprintf(body, sizeof(body), "%s%s%s", head, l0, l1);
		seal_partial(x, body);
		x->fp[0] = &x->f[1];
		assert_int_equal(open_partial(x, &n), NV_EMISMATCH);
		assert_non_null(strstr(nv_error_msg(), twice ? "appears twice" : "is out of order"));
		free(head);
		free(l0);
		free(l1);
	}
}

/* The MAC of a partial catalog made in pieces is FORMAT.md 2.9's vector. */
static void test_partial_mac_stream(void **state)
{
	unsigned char kid[NV_KID_LEN], key[NV_KID_LEN], mac[NV_SHA256_LEN];
	const char *body = HEAD LINE;
	char hex[NV_SHA256_HEX];
	nv_partial_hmac *h;

	(void)state;
	kid_vector(kid);
	nv_partial_key(key, kid);
	assert_non_null(h = nv_partial_mac_begin(key));
	for (size_t i = 0; i < strlen(body); i += 7)
		nv_partial_mac_update(h, body + i, strlen(body) - i < 7 ? strlen(body) - i : 7);
	nv_partial_mac_end(h, mac);
	nv_hex(hex, mac, sizeof(mac));
	assert_string_equal(hex, "02ddcfcda4be96849110ceb775e515cc6792538f4687bacb5e641b6d3bb94866");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_vectors),
		cmocka_unit_test(test_partial_mac_stream),
		cmocka_unit_test(test_run_names),
		cmocka_unit_test(test_run_doc),
		cmocka_unit_test(test_partial_lines_refused),
		cmocka_unit_test_setup_teardown(test_partial_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_altered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_claims_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
