/* test_sha_pair.c: the two interleaved SHA-256 streams of util/sha_pair.h give
 * OpenSSL's digests for any lengths and any way of cutting them into updates,
 * on SHA-NI and on the generic path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha_pair.h"

static uint32_t rng = 12345;

static uint32_t next(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

static unsigned char *random_bytes(size_t n)
{
	unsigned char *b = malloc(n ? n : 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)next();
	return b;
}

/* Feeds a[0..na) and b[0..nb) in pieces whose sizes come from step (0: random
 * up to 3 blocks; else step bytes of a and step + skew of b each time). */
static void feed(nv_sha_pair *h, const unsigned char *a, size_t na, const unsigned char *b,
		 size_t nb, size_t step, size_t skew)
{
	size_t oa = 0, ob = 0;

	while (oa < na || ob < nb) {
		size_t ka = step ? step : next() % 200, kb = step ? step + skew : next() % 200;

		ka = ka < na - oa ? ka : na - oa;
		kb = kb < nb - ob ? kb : nb - ob;
		nv_sha_pair_update(h, ka ? a + oa : NULL, ka, kb ? b + ob : NULL, kb);
		oa += ka;
		ob += kb;
	}
}

static void check_pair(unsigned flags, size_t na, size_t nb, size_t step, size_t skew)
{
	unsigned char *a = random_bytes(na), *b = random_bytes(nb);
	unsigned char wa[NV_SHA256_LEN], wb[NV_SHA256_LEN], ga[NV_SHA256_LEN], gb[NV_SHA256_LEN];
	nv_sha_pair *h = nv_sha_pair_new(flags);

	assert_non_null(h);
	nv_sha256_buf(wa, a, na);
	nv_sha256_buf(wb, b, nb);
	/* twice: final resets the pair for two new streams */
	for (int round = 0; round < 2; round++) {
		feed(h, a, na, b, nb, step, skew);
		nv_sha_pair_final(h, ga, gb);
		assert_memory_equal(ga, wa, NV_SHA256_LEN);
		assert_memory_equal(gb, wb, NV_SHA256_LEN);
	}
	nv_sha_pair_free(h);
	free(a);
	free(b);
}

static void each_shape(unsigned flags)
{
	/* every length around the padding's edges (55, 56, 63, 64 ...), either side */
	for (size_t n = 0; n < 300; n++) {
		check_pair(flags, n, 300 - n, 0, 0);
		check_pair(flags, n, n, n ? n : 1, 0);
	}
	/* what a push feeds: a plaintext buffer and its ciphertext, a little longer */
	check_pair(flags, 1 << 20, (1 << 20) + 16 * 16 + 200, 1 << 20, 16 * 16 + 200);
	check_pair(flags, 3000001, 3000001 + 46 * 16 + 200, 65536, 16);
	check_pair(flags, 100000, 0, 4096, 0);
	check_pair(flags, 0, 100000, 4096, 0);
	check_pair(flags, 5000, 70000, 0, 0);
}

static void test_generic(void **state)
{
	nv_sha_pair *h = nv_sha_pair_new(NV_SHA_PAIR_GENERIC);

	(void)state;
	assert_false(nv_sha_pair_interleaved(h));
	nv_sha_pair_free(h);
	each_shape(NV_SHA_PAIR_GENERIC);
}

/* On a CPU without SHA-NI this is the generic path again. */
static void test_interleaved(void **state)
{
	nv_sha_pair *h = nv_sha_pair_new(0);

	(void)state;
	printf("# SHA-NI %s\n", nv_sha_pair_interleaved(h) ? "in use" : "absent: generic path");
	nv_sha_pair_free(h);
	each_shape(0);
}

/* A digest asked for by NULL is dropped; the other is right, and both restart. */
static void test_final_null(void **state)
{
	unsigned char want[NV_SHA256_LEN], got[NV_SHA256_LEN];
	nv_sha_pair *h = nv_sha_pair_new(0);

	(void)state;
	nv_sha256_buf(want, "abc", 3);
	nv_sha_pair_update(h, "zzz", 3, "abc", 3);
	nv_sha_pair_final(h, NULL, got);
	assert_memory_equal(got, want, NV_SHA256_LEN);
	nv_sha_pair_update(h, "abc", 3, NULL, 0);
	nv_sha_pair_final(h, got, NULL);
	assert_memory_equal(got, want, NV_SHA256_LEN);
	nv_sha_pair_free(h);
	nv_sha_pair_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_final_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
