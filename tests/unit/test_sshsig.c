/* test_sshsig.c: unit tests of SSHSIG signatures (src/sshsig.c) against
 * vectors made by stock ssh-keygen, and of every way a signature must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "ssh/sshbuf.h"
#include "ssh/sshkey.h"
#include "ssh/sshsig.h"
#include "sshsig_vectors.h"

#define NS NV_SSHSIG_NS_MANIFEST
#define SIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SIG_END "-----END SSH SIGNATURE-----"

static nv_sshkey *vec_key(void)
{
	nv_sshkey *k = NULL;

	assert_int_equal(nv_sshkey_parse_private(&k, vec_priv, strlen(vec_priv), "vec"), 0);
	return k;
}

static int verify(const char *sig, const nv_sshkey *k, const char *ns, const char *msg)
{
	return nv_sshsig_verify(sig, strlen(sig), k, ns, msg, strlen(msg));
}

static void test_sign_verify(void **state)
{
	nv_sshkey *k = NULL;
	char *sig = NULL;
	static const char msg[] = "{\"generation\":1}\n";

	(void)state;
	assert_int_equal(nv_sshkey_generate(&k), 0);
	assert_int_equal(nv_sshsig_sign(&sig, k, NS, msg, strlen(msg)), 0);
	assert_int_equal(verify(sig, k, NS, msg), 0);
	free(sig);
	/* empty message */
	assert_int_equal(nv_sshsig_sign(&sig, k, NV_SSHSIG_NS_VAULT, "", 0), 0);
	assert_int_equal(nv_sshsig_verify(sig, strlen(sig), k, NV_SSHSIG_NS_VAULT, "", 0), 0);
	free(sig);
	nv_sshkey_free(k);
}

/* Ed25519 is deterministic, so our signature equals ssh-keygen's byte for byte. */
static void test_sign_matches_ssh_keygen(void **state)
{
	nv_sshkey *k = vec_key();
	char *sig = NULL;

	(void)state;
	assert_int_equal(nv_sshsig_sign(&sig, k, NS, vec_msg, strlen(vec_msg)), 0);
	assert_string_equal(sig, vec_sig512);
	free(sig);
	assert_int_equal(nv_sshsig_sign(&sig, k, NV_SSHSIG_NS_VAULT, "", 0), 0);
	assert_string_equal(sig, vec_sig_empty_vault);
	free(sig);
	nv_sshkey_free(k);
}

static void test_verify_ssh_keygen_vectors(void **state)
{
	nv_sshkey *pub = NULL;

	(void)state;
	assert_int_equal(nv_sshkey_parse_public(&pub, vec_pub), 0);
	assert_int_equal(verify(vec_sig512, pub, NS, vec_msg), 0);
	assert_int_equal(verify(vec_sig256, pub, NS, vec_msg), 0);
	assert_int_equal(nv_sshsig_verify(vec_sig_empty_vault, strlen(vec_sig_empty_vault), pub,
					  NV_SSHSIG_NS_VAULT, "", 0), 0);
	nv_sshkey_free(pub);
}

static void test_sign_needs_private_and_namespace(void **state)
{
	nv_sshkey *pub = NULL, *k = vec_key();
	char *sig = (char *)"unset";

	(void)state;
	assert_int_equal(nv_sshkey_parse_public(&pub, vec_pub), 0);
	assert_int_equal(nv_sshsig_sign(&sig, pub, NS, "x", 1), NV_EINVAL);
	assert_null(sig);
	assert_int_equal(nv_sshsig_sign(&sig, k, "", "x", 1), NV_EINVAL);
	nv_sshkey_free(pub);
	nv_sshkey_free(k);
}

static void test_flipped_message(void **state)
{
	nv_sshkey *k = vec_key();
	char msg[sizeof(vec_msg)];
	size_t i, bit;

	(void)state;
	for (i = 0; i < strlen(vec_msg); i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(msg, vec_msg, sizeof(msg));
			msg[i] ^= (char)(1 << bit);
			assert_int_equal(verify(vec_sig512, k, NS, msg), NV_EMISMATCH);
			assert_int_equal(verify(vec_sig256, k, NS, msg), NV_EMISMATCH);
		}
	assert_int_equal(verify(vec_sig512, k, NS, "hello"), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "bad signature"));
	assert_int_equal(verify(vec_sig512, k, NS, "hello\n\n"), NV_EMISMATCH);
	nv_sshkey_free(k);
}

/* Every one-bit change anywhere in the armored text must be refused: the
 * strict base64 decoder leaves no slack bits, and every field counts. */
static void test_flipped_signature_text(void **state)
{
	nv_sshkey *k = vec_key();
	size_t len = strlen(vec_sig512), i;
	char *buf = malloc(len + 1);

	(void)state;
	for (i = 0; i < len * 8; i++) {
		memcpy(buf, vec_sig512, len + 1);
		buf[i / 8] ^= (char)(1 << (i % 8));
		if (nv_sshsig_verify(buf, len, k, NS, vec_msg, strlen(vec_msg)) != NV_EMISMATCH) {
			/* Only turning a line break into another whitespace is harmless. */
			assert_true(vec_sig512[i / 8] == '\n' && buf[i / 8] == '\r');
		}
	}
	free(buf);
	nv_sshkey_free(k);
}

/* Every one-bit change of the decoded blob, and every truncation, is refused. */
static void test_flipped_signature_blob(void **state)
{
	nv_sshkey *k = vec_key();
	unsigned char *blob;
	size_t n, i;
	char *text;

	(void)state;
	assert_int_equal(nv_ssh_dearmor(&blob, &n, vec_sig512, strlen(vec_sig512), SIG_BEGIN,
					SIG_END), 0);
	for (i = 0; i < n * 8; i++) {
		blob[i / 8] ^= (unsigned char)(1 << (i % 8));
		assert_int_equal(nv_ssh_armor(&text, blob, n, SIG_BEGIN, SIG_END, 70), 0);
		assert_int_equal(verify(text, k, NS, vec_msg), NV_EMISMATCH);
		free(text);
		blob[i / 8] ^= (unsigned char)(1 << (i % 8));
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(nv_ssh_armor(&text, blob, i, SIG_BEGIN, SIG_END, 70), 0);
		assert_int_equal(verify(text, k, NS, vec_msg), NV_EMISMATCH);
		free(text);
	}
	free(blob);
	nv_sshkey_free(k);
}

static void test_other_namespace(void **state)
{
	nv_sshkey *k = vec_key();

	(void)state;
	assert_int_equal(verify(vec_sig512, k, NV_SSHSIG_NS_VAULT, vec_msg), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "namespace"));
	assert_int_equal(verify(vec_sig512, k, "navette-manifes", vec_msg), NV_EMISMATCH);
	assert_int_equal(verify(vec_sig512, k, "navette-manifest2", vec_msg), NV_EMISMATCH);
	nv_sshkey_free(k);
}

static void test_other_key(void **state)
{
	nv_sshkey *k = vec_key(), *other = NULL;
	char *sig = NULL;

	(void)state;
	assert_int_equal(nv_sshkey_generate(&other), 0);
	assert_int_equal(verify(vec_sig512, other, NS, vec_msg), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "another key"));
	assert_non_null(strstr(nv_error_msg(), vec_fp));
	assert_int_equal(nv_sshsig_sign(&sig, other, NS, vec_msg, strlen(vec_msg)), 0);
	assert_int_equal(verify(sig, k, NS, vec_msg), NV_EMISMATCH);
	free(sig);
	nv_sshkey_free(other);
	nv_sshkey_free(k);
}

/* A signature whose embedded public key is swapped for the verifier's key
 * but whose Ed25519 signature is another key's must still fail. */
static void test_swapped_embedded_key(void **state)
{
	nv_sshkey *k = vec_key(), *other = NULL;
	unsigned char *blob, *pub;
	size_t n, publen;
	char *sig = NULL, *text;

	(void)state;
	assert_int_equal(nv_sshkey_generate(&other), 0);
	assert_int_equal(nv_sshsig_sign(&sig, other, NS, vec_msg, strlen(vec_msg)), 0);
	assert_int_equal(nv_ssh_dearmor(&blob, &n, sig, strlen(sig), SIG_BEGIN, SIG_END), 0);
	assert_int_equal(nv_sshkey_public_blob(&pub, &publen, k), 0);
	memcpy(blob + 6 + 4 + 4, pub, publen); /* magic, version, key length */
	assert_int_equal(nv_ssh_armor(&text, blob, n, SIG_BEGIN, SIG_END, 70), 0);
	assert_int_equal(verify(text, k, NS, vec_msg), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "bad signature"));
	free(text);
	free(pub);
	free(blob);
	free(sig);
	nv_sshkey_free(other);
	nv_sshkey_free(k);
}

static void test_malformed_armor(void **state)
{
	static const char *bad[] = {
		"",
		"hello",
		SIG_BEGIN "\n",
		SIG_BEGIN "\n" SIG_END "\n",
		SIG_BEGIN "\nU1NIU0lH\n" SIG_END "\n",
		SIG_BEGIN "\n!!!!\n" SIG_END "\n",
		SIG_BEGIN "U1NIU0lHAAAAAQ==\n" SIG_END "\n",
		"-----BEGIN PGP SIGNATURE-----\nU1NIU0lH\n-----END PGP SIGNATURE-----\n",
	};
	nv_sshkey *k = vec_key();
	char *big, *tail;
	size_t i, len = strlen(vec_sig512);

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(verify(bad[i], k, NS, vec_msg), NV_EMISMATCH);
	/* not NUL-terminated: the length is honoured, nothing past it is read */
	big = malloc(len);
	memcpy(big, vec_sig512, len);
	assert_int_equal(nv_sshsig_verify(big, len, k, NS, vec_msg, strlen(vec_msg)), 0);
	assert_int_equal(nv_sshsig_verify(big, len - 2, k, NS, vec_msg, strlen(vec_msg)),
			 NV_EMISMATCH);
	free(big);
	/* trailing garbage, and an oversized input */
	tail = malloc(len + 8);
	memcpy(tail, vec_sig512, len);
	memcpy(tail + len, "junk\n", 6);
	assert_int_equal(verify(tail, k, NS, vec_msg), NV_EMISMATCH);
	free(tail);
	big = malloc(128 * 1024);
	memset(big, 'A', 128 * 1024);
	assert_int_equal(nv_sshsig_verify(big, 128 * 1024, k, NS, vec_msg, strlen(vec_msg)),
			 NV_EMISMATCH);
	free(big);
	nv_sshkey_free(k);
}

static void feed(nv_sshsig_ctx *c, const char *msg, size_t len, size_t step)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		assert_int_equal(nv_sshsig_update(c, msg + off, n), 0);
	}
}

/* Fed in pieces of any size, the streaming calls give the one-shot results. */
static void test_streaming(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64, 1000 };
	nv_sshkey *k = vec_key(), *other = NULL;
	nv_sshsig_ctx *c = NULL;
	char *sig = NULL;
	size_t i, len = strlen(vec_msg);

	(void)state;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(nv_sshsig_sign_begin(&c), 0);
		feed(c, vec_msg, len, steps[i]);
		assert_int_equal(nv_sshsig_sign_end(&sig, c, k, NS), 0);
		assert_string_equal(sig, vec_sig512);
		free(sig);
		assert_int_equal(nv_sshsig_verify_begin(&c, vec_sig256, strlen(vec_sig256), k, NS), 0);
		feed(c, vec_msg, len, steps[i]);
		assert_int_equal(nv_sshsig_verify_end(c), 0);
	}
	/* a missing last byte */
	assert_int_equal(nv_sshsig_verify_begin(&c, vec_sig512, strlen(vec_sig512), k, NS), 0);
	assert_int_equal(nv_sshsig_update(c, vec_msg, len - 1), 0);
	assert_int_equal(nv_sshsig_verify_end(c), NV_EMISMATCH);
	/* key and namespace are refused before any of the message is read */
	assert_int_equal(nv_sshkey_generate(&other), 0);
	c = (nv_sshsig_ctx *)&c;
	assert_int_equal(nv_sshsig_verify_begin(&c, vec_sig512, strlen(vec_sig512), other, NS),
			 NV_EMISMATCH);
	assert_null(c);
	assert_int_equal(nv_sshsig_verify_begin(&c, vec_sig512, strlen(vec_sig512), k,
						NV_SSHSIG_NS_VAULT), NV_EMISMATCH);
	/* abandoned contexts are freed without leaks (LeakSanitizer checks) */
	assert_int_equal(nv_sshsig_sign_begin(&c), 0);
	assert_int_equal(nv_sshsig_update(c, "x", 1), 0);
	nv_sshsig_ctx_free(c);
	assert_int_equal(nv_sshsig_verify_begin(&c, vec_sig512, strlen(vec_sig512), k, NS), 0);
	nv_sshsig_ctx_free(c);
	nv_sshsig_ctx_free(NULL);
	nv_sshkey_free(other);
	nv_sshkey_free(k);
}

/* Rewrites one field of vec_sig512's blob and re-armors it. */
static char *edited_sig(const char *field_old, size_t old_len, const char *field_new,
			size_t new_len)
{
	unsigned char *blob, *out, *at;
	size_t n;
	char *text;

	assert_int_equal(nv_ssh_dearmor(&blob, &n, vec_sig512, strlen(vec_sig512), SIG_BEGIN,
					SIG_END), 0);
	at = memmem(blob, n, field_old, old_len);
	assert_non_null(at);
	out = malloc(n - old_len + new_len);
	memcpy(out, blob, (size_t)(at - blob));
	memcpy(out + (at - blob), field_new, new_len);
	memcpy(out + (at - blob) + new_len, at + old_len, n - (size_t)(at - blob) - old_len);
	assert_int_equal(nv_ssh_armor(&text, out, n - old_len + new_len, SIG_BEGIN, SIG_END, 70),
			 0);
	free(out);
	free(blob);
	return text;
}

static void test_edited_fields(void **state)
{
	nv_sshkey *k = vec_key();
	char *sig;

	(void)state;
	/* reserved "" -> "x" (not covered by the signature, so refused outright) */
	sig = edited_sig("\0\0\0\0\0\0\0\x06sha512", 14, "\0\0\0\x01x\0\0\0\x06sha512", 15);
	assert_int_equal(verify(sig, k, NS, vec_msg), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "reserved"));
	free(sig);
	/* hash name sha512 -> sha384 */
	sig = edited_sig("\0\0\0\x06sha512", 10, "\0\0\0\x06sha384", 10);
	assert_int_equal(verify(sig, k, NS, vec_msg), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "unknown hash"));
	free(sig);
	/* hash name sha512 -> sha256: a valid name, but not what was signed */
	sig = edited_sig("\0\0\0\x06sha512", 10, "\0\0\0\x06sha256", 10);
	assert_int_equal(verify(sig, k, NS, vec_msg), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "bad signature"));
	free(sig);
	/* version 1 -> 2 */
	sig = edited_sig("SSHSIG\0\0\0\x01", 10, "SSHSIG\0\0\0\x02", 10);
	assert_int_equal(verify(sig, k, NS, vec_msg), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "version"));
	free(sig);
	nv_sshkey_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_sign_matches_ssh_keygen),
		cmocka_unit_test(test_verify_ssh_keygen_vectors),
		cmocka_unit_test(test_sign_needs_private_and_namespace),
		cmocka_unit_test(test_flipped_message),
		cmocka_unit_test(test_flipped_signature_text),
		cmocka_unit_test(test_flipped_signature_blob),
		cmocka_unit_test(test_other_namespace),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_swapped_embedded_key),
		cmocka_unit_test(test_malformed_armor),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_edited_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
