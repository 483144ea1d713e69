/* test_b64.c: unit tests of src/util/b64.c, the one base64: RFC 4648's test
 * vectors both ways, padded and unpadded, and what a strict decoder refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/b64.h"

/* RFC 4648, section 10. */
static const struct {
	const char *plain, *padded, *raw;
} rfc4648[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void test_rfc4648_encode(void **state)
{
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		size_t n = strlen(rfc4648[i].plain);

		assert_int_equal(nv_b64_pad_len(n), strlen(rfc4648[i].padded));
		nv_b64_pad_encode(out, (const unsigned char *)rfc4648[i].plain, n);
		assert_string_equal(out, rfc4648[i].padded);
		assert_int_equal(nv_b64_raw_len(n), strlen(rfc4648[i].raw));
		nv_b64_raw_encode(out, (const unsigned char *)rfc4648[i].plain, n);
		assert_string_equal(out, rfc4648[i].raw);
	}
}

static void test_rfc4648_decode(void **state)
{
	unsigned char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *p = rfc4648[i].plain;
		long n = (long)strlen(p);

		memset(out, 0xaa, sizeof(out));
		assert_int_equal(nv_b64_pad_decode(out, rfc4648[i].padded,
						   strlen(rfc4648[i].padded)), n);
		assert_memory_equal(out, p, (size_t)n);
		assert_int_equal(nv_b64_raw_decode(out, rfc4648[i].raw, strlen(rfc4648[i].raw)), n);
		assert_memory_equal(out, p, (size_t)n);
	}
}

/* Every byte value, and a Content-MD5 (16 bytes) as S3 and Azure expect it. */
static void test_binary(void **state)
{
	static const unsigned char md5_empty[16] = {
		0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
		0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e,
	};
	unsigned char all[256], back[256];
	char enc[400];

	(void)state;
	nv_b64_pad_encode(enc, md5_empty, 16);
	assert_string_equal(enc, "1B2M2Y8AsgTpgAmY7PhCfg==");
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	nv_b64_pad_encode(enc, all, 256);
	assert_int_equal(strlen(enc), nv_b64_pad_len(256));
	assert_memory_equal(enc, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 44);
	assert_string_equal(enc + strlen(enc) - 11, "fr7/P3+/w==");
	assert_int_equal(nv_b64_pad_decode(back, enc, strlen(enc)), 256);
	assert_memory_equal(back, all, 256);
}

static void test_refused(void **state)
{
	static const char *const bad_padded[] = {
		"Zg=",      /* not a multiple of 4 */
		"Zg=a",     /* '=' inside */
		"Z===",     /* too much padding */
		"Zh==",     /* non-zero trailing bits: would decode like "Zg==" */
		"Zm9-",     /* URL-safe alphabet is another encoding */
		"Zm9_",
		"Zm 9",
		"Zm9v\n",
	};
	unsigned char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_padded) / sizeof(bad_padded[0]); i++)
		assert_int_equal(nv_b64_pad_decode(out, bad_padded[i], strlen(bad_padded[i])), -1);
	assert_int_equal(nv_b64_raw_decode(out, "Zg==", 4), -1); /* raw takes no padding */
	assert_int_equal(nv_b64_raw_decode(out, "Zm9vY", 5), -1); /* 4k+1 characters */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_encode),
		cmocka_unit_test(test_rfc4648_decode),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
