/* test_bcrypt_pbkdf.c: unit tests of bcrypt_pbkdf (OpenBSD's regress vectors) and
 * of passphrase-protected OpenSSH keys as stock ssh-keygen writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh/bcrypt_pbkdf.h"
#include "ssh/sshbuf.h"
#include "ssh/sshkey.h"
#include "util/error.h"
#include "sshsig_vectors.h"

/* OpenBSD src/regress/lib/libutil/bcrypt_pbkdf/bcrypt_pbkdf_test.c (the
 * values other implementations, e.g. RustCrypto's bcrypt-pbkdf, test against). */
static const struct {
	const char *pass;
	size_t passlen;
	const char *salt;
	size_t saltlen;
	uint32_t rounds;
	const char *hex;
} openbsd_vectors[] = {
	{ "password", 8, "salt", 4, 4,
	  "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9" },
	{ "password", 8, "\0", 1, 4, "c12b566235eee04c212598970a579a67" },
	{ "\0", 1, "salt", 4, 4, "6051be18c2f4f82cbf0efee5471b4bb9" },
	{ "password\0", 9, "salt\0", 5, 4,
	  "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050" },
	{ "pass\0wor", 8, "sa\0l", 4, 4, "c2bffd9db38f6569efef4372f4de83c0" },
	{ "pass\0word", 9, "sa\0lt", 5, 4, "4ba4ac3925c0e8d7f0cdb6bb1684a56f" },
	{ "password", 8, "salt", 4, 8,
	  "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec76227ea66088b849b20ab"
	  "7aa478010246e74bba51723fefa9f9474d6508845e8d" },
	{ "password", 8, "salt", 4, 42, "833cf0dcf56db65608e8f0dc0ce882bd" },
	{ "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor "
	  "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
	  "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure "
	  "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. "
	  "Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt "
	  "mollit anim id est laborum.", 0, "salis\0", 6, 8, "10978b07253df57f71a162eb0e8ad30a" },
};

static void test_openbsd_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(openbsd_vectors) / sizeof(openbsd_vectors[0]); i++) {
		unsigned char got[128];
		char hex[257];
		size_t n = strlen(openbsd_vectors[i].hex) / 2;
		size_t plen = openbsd_vectors[i].passlen ? openbsd_vectors[i].passlen
							 : strlen(openbsd_vectors[i].pass);

		assert_int_equal(nv_bcrypt_pbkdf(got, n, openbsd_vectors[i].pass, plen,
						 openbsd_vectors[i].salt, openbsd_vectors[i].saltlen,
						 openbsd_vectors[i].rounds), 0);
		for (size_t j = 0; j < n; j++)
			snprintf(hex + 2 * j, 3, "%02x", got[j]);
		assert_string_equal(hex, openbsd_vectors[i].hex);
	}
}

static void test_parameters_refused(void **state)
{
	unsigned char out[NV_BCRYPT_PBKDF_MAX_OUT + 1];

	(void)state;
	assert_int_equal(nv_bcrypt_pbkdf(out, 32, "p", 1, "s", 1, 0), NV_EINVAL);
	assert_int_equal(nv_bcrypt_pbkdf(out, 32, "p", 0, "s", 1, 1), NV_EINVAL);
	assert_int_equal(nv_bcrypt_pbkdf(out, 32, "p", 1, "s", 0, 1), NV_EINVAL);
	assert_int_equal(nv_bcrypt_pbkdf(out, 0, "p", 1, "s", 1, 1), NV_EINVAL);
	assert_int_equal(nv_bcrypt_pbkdf(out, sizeof(out), "p", 1, "s", 1, 1), NV_EINVAL);
}

/* Keys made by stock OpenSSH 9.2 ssh-keygen for this test (throwaway secrets),
 * one per cipher it offers that navette reads, with their .pub lines. */
static const struct {
	const char *cipher, *priv, *pub;
} keygen_keys[] = {
	/* ssh-keygen -t ed25519 -N 'correct horse' (default: aes256-ctr, 16 rounds) */
	{ "aes256-ctr",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBf/g58IP\n"
	  "MObYqHli6a1V0WAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIBkCSKh64+p/JNYb\n"
	  "IXZI/HDSwamQZ0wPpUBZzQtXP649AAAAkJjt8G3o73IremRiR2N05pzE5K6IMzUy0GUwUC\n"
	  "ooS/4L2F9U2r92SA9r4LitukgZpmH8NWvfX+E/NcQsSS95FOKrvS5PLjVt1MiiehV6DLYI\n"
	  "EMAESVTiS5gzxs7uQs+E3uQM/bXnCTBk8SwM2iabqjKctUnNHeB2bxB/UAola33vI37+f5\n"
	  "eP51ra9B8a0fwO9Q==\n"
	  "-----END OPENSSH PRIVATE KEY-----\n"
	  ,
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkCSKh64+p/JNYbIXZI/HDSwamQZ0wPpUBZzQtXP649 default" },
	/* ssh-keygen -t ed25519 -N 'correct horse' -a 4 -Z aes128-cbc */
	{ "aes128-cbc",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAACmFlczEyOC1jYmMAAAAGYmNyeXB0AAAAGAAAABBS1tfNXh\n"
	  "IoZZpf/T2/aMJOAAAABAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIOF/yOu77o+RCgjv\n"
	  "4hIYC4b9APE+mYABuAYVT0ZJHqzeAAAAkKwAd/8nBov8fv+yroFYaeo+R+/0R+Mm1kAeJp\n"
	  "qqYrGPJDm5SUyTqqClnUUlD4X5FnUa5obWYrC45IjnslaGMd1DTJ+NxOrKs/rYy0WiklAp\n"
	  "rEv9hw7tD2jDqKIK51/7pPS8fcX5ebTC+9QBShIj9Aoxpu5VnVvgDnItbuR0V/MApE8Han\n"
	  "rsAqulHg83IxF3rQ==\n"
	  "-----END OPENSSH PRIVATE KEY-----\n"
	  ,
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOF/yOu77o+RCgjv4hIYC4b9APE+mYABuAYVT0ZJHqze aes128-cbc" },
	/* ssh-keygen -t ed25519 -N 'correct horse' -a 4 -Z aes256-cbc */
	{ "aes256-cbc",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jYmMAAAAGYmNyeXB0AAAAGAAAABDKox4hi4\n"
	  "S7UvOdZifaj/cqAAAABAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIC0X7I5tm1MCxF1A\n"
	  "2/eMa1QaY3cAxW8c/yTSgFsP8oDzAAAAkPA7b84G4vPqdExgw4j6K93/NfHGCSbaCNfKH3\n"
	  "xPev1iVwcdFSGM8EEWD62ZN0Ta03AJm/kTCXcL5KNIAbM0ogjnNoPpdTczjcb9KIjOn5SM\n"
	  "UVefZDqptYc7465wiRkUEsRxPi2FDnlkhYS5TU7blc+OFgo0j/p4Xve6HQQ7bTpnTFb8gG\n"
	  "JnPPAf8n3upwDQFw==\n"
	  "-----END OPENSSH PRIVATE KEY-----\n"
	  ,
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0X7I5tm1MCxF1A2/eMa1QaY3cAxW8c/yTSgFsP8oDz aes256-cbc" },
	/* ssh-keygen -t ed25519 -N 'correct horse' -a 4 -Z aes256-gcm@openssh.com */
	{ "aes256-gcm@openssh.com",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAAFmFlczI1Ni1nY21Ab3BlbnNzaC5jb20AAAAGYmNyeXB0AA\n"
	  "AAGAAAABAJ9lwj/bXpTIlbgiN/s9ouAAAABAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAA\n"
	  "IOrmHOUPAO9GfJ64k4rKckfxT30ycRbZ31dFbi0s79lyAAAAoK79legOuDRehWkHHqZMH/\n"
	  "1v+RVYtzrSqWdy1DqcWFXxAJC1xWtZ5EX6dHZasxtE1Xb1ihSEtSTysph4q7/yU3TUA9wK\n"
	  "jjsv8hJfDj8d2rhLpvTj+TX7SQGOLuuzsUxqX5gn6Ez3xgaKUqhQXxG7gceJG0HYtn1fkS\n"
	  "lvKG7ZlTlAT9xGjlFQ58+yYFQoVSmcfZHbS5lrqTUhP5QP+L35tKzzGC76DyAbauqU40ap\n"
	  "VAKv\n"
	  "-----END OPENSSH PRIVATE KEY-----\n"
	  ,
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrmHOUPAO9GfJ64k4rKckfxT30ycRbZ31dFbi0s79ly aes256-gcm@openssh.com" },
	/* ssh-keygen -t ed25519 -N 'correct horse' -a 4 -Z aes128-gcm@openssh.com */
	{ "aes128-gcm@openssh.com",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAAFmFlczEyOC1nY21Ab3BlbnNzaC5jb20AAAAGYmNyeXB0AA\n"
	  "AAGAAAABBCu11H6KJyUhpG7qwHZRnIAAAABAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAA\n"
	  "ICC06sp03ha80rrzHgVQxQmLpZARmmYYbXinKZn60s7MAAAAoPlP+PyJiN+J2zEgJ3mq0K\n"
	  "Ie5xbvAoujHU9MHverK6z7iyuO9zdp9Fp57ChgLl69qcsErHqQVu5msxwXrn+rhwTIc7KX\n"
	  "mWmIMe2opdKE28DfkwfnyDgSftboxPfrMVmab7aAp3VWBrtEUxuolxNH1J4j+NRBNjRf4M\n"
	  "oFG/T/ju/nq3axEupylDzRsA45JKZQ9sbvhn6uGV42MDClQUpYbQXbSRQcvPSw4308Wms+\n"
	  "77Qd\n"
	  "-----END OPENSSH PRIVATE KEY-----\n"
	  ,
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICC06sp03ha80rrzHgVQxQmLpZARmmYYbXinKZn60s7M aes128-gcm@openssh.com" },
	/* ssh-keygen -t ed25519 -N 'correct horse' -a 4 -Z chacha20-poly1305@openssh.com */
	{ "chacha20-poly1305@openssh.com",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAAHWNoYWNoYTIwLXBvbHkxMzA1QG9wZW5zc2guY29tAAAABm\n"
	  "JjcnlwdAAAABgAAAAQl1vMehxuqvKIDeyvBeaREAAAAAQAAAABAAAAMwAAAAtzc2gtZWQy\n"
	  "NTUxOQAAACAZaFkci/6UHep4t+gdCq5dlfn9c3IYDxy1W+PyvnN/oQAAAKDvZip/oe930T\n"
	  "avHHDG81sVT8E7PPiD/hxeUT3puZw0PHV/VR/of2Rk9vjH5h0+cXQgNYCrw8k3Lm3/Q05L\n"
	  "dSMYRK70QECzEr/FBCldY3uvJbO6NPgHTOglrWqwCniZuAWhw1bzNx68XluWmf9+agMxdh\n"
	  "j7B87gkol7TYgSmB2ubopeXMQ7dd3uBNIHBkhswfB35pC0XTEGItftuHcxKK2I/MvT1ZRI\n"
	  "n4FJQkMD4L1cMw==\n"
	  "-----END OPENSSH PRIVATE KEY-----\n"
	  ,
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBloWRyL/pQd6ni36B0Krl2V+f1zchgPHLVb4/K+c3+h chacha20-poly1305@openssh.com" },
};

#define BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define END "-----END OPENSSH PRIVATE KEY-----"
#define ROUNDS_AT 63 /* magic 15, "aes256-ctr" 4+10, "bcrypt" 4+6, options 4, salt 4+16 */

/* The default key (aes256-ctr) with from replaced by to at byte at of its
 * binary form: what a hostile or damaged file would hold. */
static char *patched(size_t at, const void *from, const void *to, size_t n)
{
	const char *text = keygen_keys[0].priv;
	unsigned char *blob;
	size_t len;
	char *out = NULL;

	assert_int_equal(nv_ssh_dearmor(&blob, &len, text, strlen(text), BEGIN, END), 0);
	assert_true(at + n <= len);
	assert_memory_equal(blob + at, from, n);
	memcpy(blob + at, to, n);
	assert_int_equal(nv_ssh_armor(&out, blob, len, BEGIN, END, 70), 0);
	free(blob);
	return out;
}

#define PASS "correct horse"

static int parse(nv_sshkey **k, const char *text, const char *pass)
{
	return nv_sshkey_parse_private_pass(k, text, strlen(text), "test-key", pass);
}

/* Each decrypts to the key of its .pub line; a wrong passphrase is told apart
 * by the tag (gcm, chacha20-poly1305) or the check integers (ctr, cbc). */
static void test_keygen_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(keygen_keys) / sizeof(keygen_keys[0]); i++) {
		nv_sshkey *k = NULL, *pub = NULL;

		assert_int_equal(nv_sshkey_parse_public(&pub, keygen_keys[i].pub), 0);
		if (parse(&k, keygen_keys[i].priv, PASS) != 0)
			fail_msg("%s: %s", keygen_keys[i].cipher, nv_error_msg());
		assert_true(nv_sshkey_has_private(k));
		assert_true(nv_sshkey_public_equal(k, pub));
		nv_sshkey_free(k);
		k = NULL;
		assert_int_equal(parse(&k, keygen_keys[i].priv, "correct horse "), NV_EAUTH);
		assert_null(k);
		assert_string_equal(nv_error_msg(), "test-key: wrong passphrase");
		assert_int_equal(parse(&k, keygen_keys[i].priv, ""), NV_EAUTH);
		assert_int_equal(parse(&k, keygen_keys[i].priv, NULL), NV_EAUTH);
		assert_string_equal(nv_error_msg(),
				    "test-key is passphrase-protected: a passphrase is needed");
		assert_null(k);
		nv_sshkey_free(pub);
	}
}

static void test_signs_like_plain_key(void **state)
{
	nv_sshkey *k = NULL;
	unsigned char sig[64];

	(void)state;
	assert_int_equal(parse(&k, vec_priv_encrypted, "secretpw"), 0);
	assert_int_equal(nv_sshkey_sign_raw(sig, k, "m", 1), 0);
	assert_int_equal(nv_sshkey_verify_raw(k, sig, "m", 1), 0);
	nv_sshkey_free(k);
	/* A plain key ignores a passphrase given anyway. */
	assert_int_equal(parse(&k, vec_priv, "unused"), 0);
	nv_sshkey_free(k);
}

static void test_hostile_headers(void **state)
{
	nv_sshkey *k = NULL;
	char *vec_many_rounds = patched(ROUNDS_AT, "\0\0\0\x10", "\0\0\x27\x11", 4);
	char *vec_other_cipher = patched(19, "aes256-ctr", "aes256-xyz", 10);

	(void)state;
	assert_int_equal(parse(&k, vec_many_rounds, PASS), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "asks for 10001 bcrypt rounds; at most 10000"));
	assert_int_equal(parse(&k, vec_other_cipher, PASS), NV_ENOTSUP);
	assert_non_null(strstr(nv_error_msg(), "cipher aes256-xyz, which navette does not support"));
	/* Without a passphrase, an unknown cipher is named before one is asked for. */
	assert_int_equal(parse(&k, vec_other_cipher, NULL), NV_ENOTSUP);
	assert_null(k);
	free(vec_many_rounds);
	free(vec_other_cipher);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openbsd_vectors),
		cmocka_unit_test(test_parameters_refused),
		cmocka_unit_test(test_keygen_keys),
		cmocka_unit_test(test_signs_like_plain_key),
		cmocka_unit_test(test_hostile_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
