/* test_age_codec.c: unit tests of the age module's encodings: strict base64,
 * Bech32 and the age key strings built on it. Run by make check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "age/age.h"
#include "util/b64.h"
#include "age/bech32.h"
#include "util/error.h"

/* Key pair made by stock age-keygen (tests/age/testkey.txt). */
#define NV_T_SECRET "AGE-SECRET-KEY-1MHELVQ5Z2QVQYTLJZYDSLH52ACNGLRC528QUUXFE3RWVRDFXEEVS73ELP3"
#define NV_T_PUBLIC "age17dk59rqd3g8v9wumjskjkt7fvhq35jzxlue78zjek4d0e3c3a9dqx5sgyx"

static long raw(unsigned char *out, const char *s)
{
	return nv_b64_raw_decode(out, s, strlen(s));
}

static void test_b64_canonical(void **state)
{
	unsigned char out[64];

	(void)state;
	assert_int_equal(raw(out, ""), 0);
	assert_int_equal(raw(out, "AA"), 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(raw(out, "AAA"), 2);
	assert_int_equal(raw(out, "AAAA"), 3);
	assert_int_equal(raw(out, "/w"), 1);
	assert_int_equal(out[0], 0xff);
	/* Non-zero trailing bits: "AB" would decode like "AA". */
	assert_int_equal(raw(out, "AB"), -1);
	assert_int_equal(raw(out, "AAB"), -1);
	assert_int_equal(raw(out, "/x"), -1);
	/* No padding, no length 4k+1, nothing outside the alphabet. */
	assert_int_equal(raw(out, "AA=="), -1);
	assert_int_equal(raw(out, "AAAAA"), -1);
	assert_int_equal(raw(out, "A-"), -1);
	assert_int_equal(raw(out, "A_"), -1);
	assert_int_equal(raw(out, "AA\n"), -1);
	assert_int_equal(raw(out, "AA A"), -1);
	assert_int_equal(nv_b64_pad_decode(out, "AA==", 4), 1);
	assert_int_equal(nv_b64_pad_decode(out, "AAA=", 4), 2);
	assert_int_equal(nv_b64_pad_decode(out, "AB==", 4), -1);
	assert_int_equal(nv_b64_pad_decode(out, "AA=", 3), -1);
	assert_int_equal(nv_b64_pad_decode(out, "A===", 4), -1);
	assert_int_equal(nv_b64_pad_decode(out, "A=A=", 4), -1);
}

static void test_b64_round_trip(void **state)
{
	unsigned char in[100], out[100];
	char enc[200];
	size_t n, i;

	(void)state;
	for (n = 0; n < sizeof(in); n++) {
		for (i = 0; i < n; i++)
			in[i] = (unsigned char)rand();
		nv_b64_raw_encode(enc, in, n);
		assert_int_equal(strlen(enc), nv_b64_raw_len(n));
		assert_int_equal(raw(out, enc), (long)n);
		assert_memory_equal(in, out, n);
		nv_b64_pad_encode(enc, in, n);
		assert_int_equal(strlen(enc), nv_b64_pad_len(n));
		assert_int_equal(nv_b64_pad_decode(out, enc, strlen(enc)), (long)n);
		assert_memory_equal(in, out, n);
	}
}

static int dec(const char *hrp, const char *s, unsigned char *out, size_t *n)
{
	return nv_bech32_decode(out, 64, n, hrp, s);
}

static void test_bech32_bip173(void **state)
{
	static const unsigned char want[] = {0x00, 0x44, 0x32, 0x14, 0xc7, 0x42, 0x54, 0xb6, 0x35, 0xcf,
					     0x84, 0x65, 0x3a, 0x56, 0xd7, 0xc6, 0x75, 0xbe, 0x77, 0xdf};
	unsigned char out[64];
	char enc[128];
	size_t n = 99;

	(void)state;
	assert_int_equal(dec("a", "A12UEL5L", out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dec("a", "a12uel5l", out, &n), 0);
	assert_int_equal(dec("abcdef", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", out, &n), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(nv_bech32_encode(enc, sizeof(enc), "abcdef", want, sizeof(want), 0), 45);
	assert_string_equal(enc, "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw");
	/* BIP 173 invalid cases: checksum over the upper-case hrp, empty hrp, mixed case,
	 * a character outside the charset, too short for a checksum. */
	assert_int_equal(dec("a", "A1G7SGD8", out, &n), -1);
	assert_int_equal(dec("", "10a06t8", out, &n), -1);
	assert_int_equal(dec("a", "A12uEL5L", out, &n), -1);
	assert_int_equal(dec("a", "a12ueb5l", out, &n), -1);
	assert_int_equal(dec("a", "a1", out, &n), -1);
	assert_int_equal(dec("b", "a12uel5l", out, &n), -1);
	assert_int_equal(nv_bech32_encode(enc, 8, "abcdef", want, sizeof(want), 0), -1);
}

static void test_bech32_round_trip(void **state)
{
	unsigned char in[40], out[64];
	char enc[128];
	size_t n, i, got;

	(void)state;
	for (n = 0; n < sizeof(in); n++) {
		for (i = 0; i < n; i++)
			in[i] = (unsigned char)rand();
		assert_true(nv_bech32_encode(enc, sizeof(enc), "age", in, n, n & 1) > 0);
		assert_int_equal(dec("age", enc, out, &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(in, out, n);
		/* Any one changed character breaks the checksum. */
		for (i = 4; i < strlen(enc); i++) {
			char saved = enc[i];

			enc[i] = saved == 'q' || saved == 'Q' ? (n & 1 ? 'P' : 'p') : (n & 1 ? 'Q' : 'q');
			assert_int_equal(dec("age", enc, out, &got), -1);
			enc[i] = saved;
		}
	}
}

static void test_recipient_strings(void **state)
{
	nv_age_recipient r;
	char buf[NV_AGE_RECIPIENT_MAX], upper[NV_AGE_RECIPIENT_MAX];
	size_t i;

	(void)state;
	assert_int_equal(nv_age_recipient_parse(&r, NV_T_PUBLIC), 0);
	assert_int_equal(nv_age_recipient_format(buf, sizeof(buf), &r), 0);
	assert_string_equal(buf, NV_T_PUBLIC);
	assert_int_equal(nv_age_recipient_format(buf, 20, &r), NV_EINVAL);
	for (i = 0; i <= strlen(NV_T_PUBLIC); i++)
		upper[i] = (char)(NV_T_PUBLIC[i] >= 'a' && NV_T_PUBLIC[i] <= 'z' ? NV_T_PUBLIC[i] - 32
									  : NV_T_PUBLIC[i]);
	assert_int_equal(nv_age_recipient_parse(&r, upper), NV_EINVAL);
	buf[10] = buf[10] == 'q' ? 'p' : 'q';
	assert_int_equal(nv_age_recipient_parse(&r, buf), NV_EINVAL);
	assert_int_equal(nv_age_recipient_parse(&r, "age1"), NV_EINVAL);
	assert_int_equal(nv_age_recipient_parse(&r, ""), NV_EINVAL);
	/* The secret key is not a recipient, whatever its case. */
	assert_int_equal(nv_age_recipient_parse(&r, NV_T_SECRET), NV_EINVAL);
}

static void test_identity_strings(void **state)
{
	const char *text = "# created: 2026-11-30T00:27:26Z\n# public key: " NV_T_PUBLIC "\n" NV_T_SECRET "\n";
	char lower[128], buf[NV_AGE_RECIPIENT_MAX];
	nv_age_identity *id;
	nv_age_recipient r;
	size_t i;

	(void)state;
	assert_int_equal(nv_age_identity_parse(&id, text, strlen(text)), 0);
	assert_int_equal(nv_age_identity_count(id), 1);
	assert_int_equal(nv_age_identity_recipient(id, &r), 0);
	assert_int_equal(nv_age_recipient_format(buf, sizeof(buf), &r), 0);
	/* The public key derived here is the one stock age-keygen printed. */
	assert_string_equal(buf, NV_T_PUBLIC);
	nv_age_identity_free(id);

	for (i = 0; i <= strlen(NV_T_SECRET); i++)
		lower[i] = (char)(NV_T_SECRET[i] >= 'A' && NV_T_SECRET[i] <= 'Z' ? NV_T_SECRET[i] + 32
									  : NV_T_SECRET[i]);
	assert_int_equal(nv_age_identity_parse(&id, lower, strlen(lower)), NV_EINVAL);
	assert_null(id);
	/* The error names the line, never the key. */
	assert_int_equal(nv_age_identity_parse(&id, "\n\n" NV_T_SECRET "X\n", strlen(NV_T_SECRET) + 4),
			 NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "line 3"));
	assert_null(strstr(nv_error_msg(), "AGE-SECRET-KEY-1M"));
	assert_int_equal(nv_age_identity_parse(&id, "# only a comment\n", 17), NV_EINVAL);
	assert_int_equal(nv_age_identity_parse(&id, NV_T_PUBLIC, strlen(NV_T_PUBLIC)), NV_EINVAL);
	/* Several keys, blanks around them, CRLF line ends. */
	assert_int_equal(nv_age_identity_parse(&id, "  " NV_T_SECRET " \r\n\r\n" NV_T_SECRET "\r\n",
					       2 * strlen(NV_T_SECRET) + 9), 0);
	assert_int_equal(nv_age_identity_count(id), 2);
	nv_age_identity_free(id);
	nv_age_identity_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_canonical),
		cmocka_unit_test(test_b64_round_trip),
		cmocka_unit_test(test_bech32_bip173),
		cmocka_unit_test(test_bech32_round_trip),
		cmocka_unit_test(test_recipient_strings),
		cmocka_unit_test(test_identity_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
