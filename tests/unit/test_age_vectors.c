/* test_age_vectors.c: known answers from stock age and the bad-case vectors of
 * tests/age/ (README.md there lists them). Run by make check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "age/age.h"
#include "util/error.h"

static unsigned char *load(const char *name, size_t *n)
{
	const char *src = getenv("NV_SRCDIR");
	char path[4096];
	unsigned char *buf;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/tests/age/%s", src ? src : ".", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run through make check)", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	buf[len] = '\0';
	*n = (size_t)len;
	return buf;
}

static nv_age_identity *load_identity(const char *name)
{
	nv_age_identity *id;
	unsigned char *text;
	size_t n;

	/* Parsed from memory: git does not keep the 0600 mode identity_load wants. */
	text = load(name, &n);
	assert_int_equal(nv_age_identity_parse(&id, (char *)text, n), 0);
	nv_age_wipe_free(text, n);
	return id;
}

static int setup(void **state)
{
	*state = load_identity("testkey.txt");
	return 0;
}

static int teardown(void **state)
{
	nv_age_identity_free(*state);
	return 0;
}

/* Decrypts in pieces of step bytes, as a pipeline would. */
static int decrypt_steps(const unsigned char *in, size_t n, size_t step, const nv_age_identity *id,
			 unsigned char **out, size_t *outlen)
{
	unsigned char *buf = malloc(n + NV_AGE_CHUNK_SIZE);
	size_t o = 0, got, done, take;
	nv_age_dec *d;
	int rc = 0;

	assert_int_equal(nv_age_dec_new(&d, id), 0);
	for (done = 0; done < n && rc == 0; done += take) {
		take = n - done < step ? n - done : step;
		if ((rc = nv_age_dec_update(d, in + done, take, buf + o, &got)) == 0)
			o += got;
	}
	if (rc == 0 && (rc = nv_age_dec_final(d, buf + o, &got)) == 0)
		o += got;
	nv_age_dec_free(d);
	*out = buf;
	*outlen = o;
	return rc;
}

static void check_plain(const char *file, const void *want, size_t wantlen, nv_age_identity *id)
{
	static const size_t steps[] = {1, 100, 65552, 65553, 1 << 20};
	unsigned char *c, *p;
	size_t clen, plen, i;

	c = load(file, &clen);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(decrypt_steps(c, clen, steps[i], id, &p, &plen), 0);
		assert_int_equal(plen, wantlen);
		assert_memory_equal(p, want, wantlen);
		free(p);
	}
	free(c);
}

static unsigned char *pattern(size_t n)
{
	unsigned char *p = malloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 131 + 7);
	return p;
}

static void test_stock_age_files(void **state)
{
	nv_age_identity *other = load_identity("testkey2.txt");
	unsigned char *pat = pattern(65537);

	check_plain("stock-hello.age", "navette age known-answer test\n", 30, *state);
	check_plain("stock-empty.age", "", 0, *state);
	check_plain("stock-65537.age", pat, 65537, *state);
	check_plain("stock-two.age", "two recipients\n", 15, *state);
	check_plain("stock-two.age", "two recipients\n", 15, other);
	check_plain("good-5.age", pat, 5, *state);
	free(pat);
	nv_age_identity_free(other);
}

static void test_stock_armored(void **state)
{
	unsigned char *c, *p;
	size_t clen, plen;

	c = load("stock-armored.age", &clen);
	assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, clen, *state), 0);
	assert_int_equal(plen, 8);
	assert_memory_equal(p, "armored\n", 8);
	nv_age_wipe_free(p, plen);
	c[40] = c[40] == 'A' ? 'B' : 'A';
	assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, clen, *state), NV_EMISMATCH);
	free(c);
}

static const struct {
	const char *file;
	int code;
	const char *msg;
} nv_bad[] = {
	{"noncanonical-share.age", NV_EMISMATCH, "X25519 share is not 32 bytes of canonical base64"},
	{"noncanonical-body.age", NV_EMISMATCH, "line 3: stanza body is not canonical unpadded base64"},
	{"low-order-zero.age", NV_EMISMATCH, "low order"},
	{"low-order-one.age", NV_EMISMATCH, "low order"},
	{"header-mac.age", NV_EMISMATCH, "MAC mismatch"},
	{"unknown-version.age", NV_EMISMATCH, "unsupported age version 'v2'"},
	{"empty-after-full.age", NV_EMISMATCH, "empty last chunk 1 after a full chunk"},
	{"missing-last.age", NV_EMISMATCH, "last chunk missing"},
	{"trailing-data.age", NV_EMISMATCH, "trailing data after the last chunk"},
	{"truncated-mid-chunk.age", NV_EMISMATCH, "last chunk 0 failed authentication"},
	{"truncated-in-tag.age", NV_EMISMATCH, "chunk 0 is shorter than its tag"},
	{"truncated-header.age", NV_EMISMATCH, "input ends inside the header"},
	{"flipped-payload.age", NV_EMISMATCH, "chunk 0 failed authentication"},
	{"no-match.age", NV_EAUTH, "no identity matches any recipient stanza"},
};

static void test_bad_vectors(void **state)
{
	static const size_t steps[] = {1, 7, 65552, 65553, 1 << 20};
	unsigned char *c, *p;
	size_t clen, plen, i, j;

	for (i = 0; i < sizeof(nv_bad) / sizeof(nv_bad[0]); i++) {
		c = load(nv_bad[i].file, &clen);
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			int rc = decrypt_steps(c, clen, steps[j], *state, &p, &plen);

			if (rc != nv_bad[i].code || !strstr(nv_error_msg(), nv_bad[i].msg))
				fail_msg("%s (step %zu): got %d '%s', want %d '%s'", nv_bad[i].file,
					 steps[j], rc, nv_error_msg(), nv_bad[i].code, nv_bad[i].msg);
			free(p);
		}
		assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, clen, *state), nv_bad[i].code);
		assert_null(p);
		free(c);
	}
}

/* Random damage anywhere (flip, insert, delete) is always refused, never crashes,
 * whatever the split points. */
static void test_mutations(void **state)
{
	unsigned char *good, *c, *p;
	size_t glen, clen, plen, i, at;
	int rc;

	good = load("good-5.age", &glen);
	c = malloc(glen + 1);
	srand(12345);
	for (i = 0; i < 3000; i++) {
		memcpy(c, good, glen);
		clen = glen;
		at = (size_t)rand() % glen;
		switch (i % 3) {
		case 0:
			c[at] ^= (unsigned char)(1 + rand() % 255);
			break;
		case 1:
			memmove(c + at + 1, c + at, glen - at);
			c[at] = (unsigned char)rand();
			clen++;
			break;
		default:
			memmove(c + at, c + at + 1, glen - at - 1);
			clen--;
		}
		rc = decrypt_steps(c, clen, i % 2 ? 1 : 4096, *state, &p, &plen);
		if (rc >= 0)
			fail_msg("mutation %zu at %zu accepted", i, at);
		free(p);
	}
	free(c);
	free(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stock_age_files),
		cmocka_unit_test(test_stock_armored),
		cmocka_unit_test(test_bad_vectors),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
