/* test_md5_pair.c: the plain-C MD5 of drivers/md5_pair.c: RFC 1321's test suite,
 * then any split of the input and any pairing (aligned or not) against OpenSSL's
 * MD5 over the same bytes. Run by make check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../../drivers/md5_pair.h"

static void hex(char out[33], const unsigned char d[16])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void openssl_md5(unsigned char out[16], const unsigned char *a, size_t alen,
			const unsigned char *b, size_t blen)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned n = 0;

	assert_non_null(m);
	assert_int_equal(EVP_DigestInit_ex(m, EVP_md5(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(m, a, alen), 1);
	assert_int_equal(EVP_DigestUpdate(m, b, blen), 1);
	assert_int_equal(EVP_DigestFinal_ex(m, out, &n), 1);
	assert_int_equal(n, 16);
	EVP_MD_CTX_free(m);
}

/* RFC 1321, appendix A.5. */
static void test_rfc1321_suite(void **state)
{
	static const char *const in[] = {
		"", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		"1234567890123456789012345678901234567890123456789012345678901234567890"
		"1234567890",
	};
	static const char *const want[] = {
		"d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
		"900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
		"c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
		"57edf4a22be3c955ac49da2e2107b67a",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		nv_md5_ctx c, p1, p2;
		unsigned char d[16];
		char h[33];

		nv_md5_init(&c);
		nv_md5_update(&c, in[i], strlen(in[i]));
		nv_md5_final(&c, d);
		hex(h, d);
		assert_string_equal(h, want[i]);
		/* the pair update gives both digests the same answer */
		nv_md5_init(&p1);
		nv_md5_init(&p2);
		nv_md5_update_pair(&p1, &p2, in[i], strlen(in[i]));
		nv_md5_final(&p1, d);
		hex(h, d);
		assert_string_equal(h, want[i]);
		nv_md5_final(&p2, d);
		hex(h, d);
		assert_string_equal(h, want[i]);
	}
}

/* Random lengths, random pieces, each digest with its own prefix (so the two are
 * at the same or at different offsets modulo 64): both must equal OpenSSL's MD5
 * of their prefix followed by the shared bytes. */
static void test_pair_any_split(void **state)
{
	enum { N = 20000 };
	unsigned char *data = malloc(N + 200);
	unsigned seed = 12345;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < N + 200; i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = (unsigned char)(seed >> 16);
	}
	for (int t = 0; t < 3000; t++) {
		size_t len = (size_t)(rand() % 5000), pre1 = (size_t)(rand() % 130);
		size_t pre2 = t % 2 ? pre1 : (size_t)(rand() % 130), off = 0;
		unsigned char *prefix = data + N, d1[16], d2[16], w1[16], w2[16];
		nv_md5_ctx x, y;

		nv_md5_init(&x);
		nv_md5_init(&y);
		nv_md5_update(&x, prefix, pre1 > 70 ? 70 : pre1);
		nv_md5_update(&x, prefix + 70, pre1 > 70 ? pre1 - 70 : 0);
		nv_md5_update(&y, prefix, pre2);
		while (off < len) {
			size_t k = (size_t)(rand() % 300);

			if (k > len - off)
				k = len - off;
			nv_md5_update_pair(&x, &y, data + off, k);
			off += k;
		}
		nv_md5_final(&x, d1);
		nv_md5_final(&y, d2);
		openssl_md5(w1, prefix, pre1, data, len);
		openssl_md5(w2, prefix, pre2, data, len);
		assert_memory_equal(d1, w1, 16);
		assert_memory_equal(d2, w2, 16);
	}
	free(data);
}

/* One long input in a single call. */
static void test_one_mebibyte(void **state)
{
	size_t n = 1 << 20;
	unsigned char *data = malloc(n), d[16], w[16];
	nv_md5_ctx c;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 31 + (i >> 9));
	nv_md5_init(&c);
	nv_md5_update(&c, data, n);
	nv_md5_final(&c, d);
	openssl_md5(w, data, n, NULL, 0);
	assert_memory_equal(d, w, 16);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1321_suite),
		cmocka_unit_test(test_pair_any_split),
		cmocka_unit_test(test_one_mebibyte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
