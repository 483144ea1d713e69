/* test_sshkey.c: unit tests of OpenSSH Ed25519 key files, public lines and
 * fingerprints (src/sshkey.c) and the checked buffers under them (src/sshbuf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "ssh/sshbuf.h"
#include "ssh/sshkey.h"
#include "sshsig_vectors.h"

static nv_sshkey *parse_priv(const char *text, int *rc)
{
	nv_sshkey *k = NULL;

	*rc = nv_sshkey_parse_private(&k, text, strlen(text), "test-key");
	return k;
}

static void test_generate_format_parse_roundtrip(void **state)
{
	nv_sshkey *k = NULL, *back = NULL;
	char *text = NULL, *line, *save = NULL;
	int rc;

	(void)state;
	assert_int_equal(nv_sshkey_generate(&k), 0);
	assert_true(nv_sshkey_has_private(k));
	assert_int_equal(nv_sshkey_format_private(&text, k, "a\rb"), NV_EINVAL);
	assert_null(text);
	assert_int_equal(nv_sshkey_format_private(&text, k, "navette@test"), 0);
	back = parse_priv(text, &rc);
	assert_int_equal(rc, 0);
	assert_true(nv_sshkey_has_private(back));
	assert_true(nv_sshkey_public_equal(k, back));
	/* Layout as ssh-keygen writes it: armor lines, base64 lines of 70. */
	assert_true(strncmp(text, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36) == 0);
	assert_non_null(strstr(text, "\n-----END OPENSSH PRIVATE KEY-----\n"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (line[0] != '-')
			assert_true(strlen(line) <= 70);
	free(text);
	nv_sshkey_free(back);
	nv_sshkey_free(k);
}

static void test_two_keys_differ(void **state)
{
	nv_sshkey *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(nv_sshkey_generate(&a), 0);
	assert_int_equal(nv_sshkey_generate(&b), 0);
	assert_false(nv_sshkey_public_equal(a, b));
	assert_false(nv_sshkey_public_equal(a, NULL));
	nv_sshkey_free(a);
	nv_sshkey_free(b);
}

/* The ssh-keygen key reformatted by us is byte-identical except for the
 * random check integers (bytes 0..7 of the private section). */
static void test_format_matches_ssh_keygen(void **state)
{
	nv_sshkey *k;
	char *text = NULL;
	unsigned char *ours, *theirs;
	size_t on, tn, check_off;
	int rc;

	(void)state;
	k = parse_priv(vec_priv, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(nv_sshkey_format_private(&text, k, "me@host"), 0);
	assert_int_equal(strlen(text), strlen(vec_priv));
	assert_int_equal(nv_ssh_dearmor(&ours, &on, text, strlen(text),
					"-----BEGIN OPENSSH PRIVATE KEY-----",
					"-----END OPENSSH PRIVATE KEY-----"), 0);
	assert_int_equal(nv_ssh_dearmor(&theirs, &tn, vec_priv, strlen(vec_priv),
					"-----BEGIN OPENSSH PRIVATE KEY-----",
					"-----END OPENSSH PRIVATE KEY-----"), 0);
	assert_int_equal(on, tn);
	/* magic 15, "none" 8, "none" 8, "" 4, nkeys 4, pub 4+51, priv length 4 */
	check_off = 15 + 8 + 8 + 4 + 4 + 55 + 4;
	assert_memory_equal(ours, theirs, check_off);
	assert_memory_equal(ours + check_off + 8, theirs + check_off + 8, on - check_off - 8);
	free(ours);
	free(theirs);
	free(text);
	nv_sshkey_free(k);
}

static void test_public_only_cannot_format_private(void **state)
{
	nv_sshkey *k = NULL;
	char *text = (char *)"unset";

	(void)state;
	assert_int_equal(nv_sshkey_parse_public(&k, vec_pub), 0);
	assert_false(nv_sshkey_has_private(k));
	assert_int_equal(nv_sshkey_format_private(&text, k, NULL), NV_EINVAL);
	assert_null(text);
	nv_sshkey_free(k);
}

static void test_public_line_roundtrip(void **state)
{
	nv_sshkey *k = NULL, *priv;
	char *line = NULL;
	int rc;

	(void)state;
	assert_int_equal(nv_sshkey_parse_public(&k, vec_pub), 0);
	assert_int_equal(nv_sshkey_format_public(&line, k, "me@host"), 0);
	assert_string_equal(line, vec_pub);
	free(line);
	assert_int_equal(nv_sshkey_format_public(&line, k, "two\nlines"), NV_EINVAL);
	assert_null(line);
	assert_int_equal(nv_sshkey_format_public(&line, k, NULL), 0);
	assert_int_equal(strlen(line), strlen(vec_pub) - strlen(" me@host"));
	assert_memory_equal(line, vec_pub, strlen(line));
	free(line);
	priv = parse_priv(vec_priv, &rc);
	assert_int_equal(rc, 0);
	assert_true(nv_sshkey_public_equal(k, priv));
	nv_sshkey_free(priv);
	nv_sshkey_free(k);
}

static void test_public_line_forms(void **state)
{
	static const char *good[] = {
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBUqmgkd8jAp4olzRSvOs0VgsLMSKoxiG7sI9v0eytl/",
		"  ssh-ed25519\tAAAAC3NzaC1lZDI1NTE5AAAAIBUqmgkd8jAp4olzRSvOs0VgsLMSKoxiG7sI9v0eytl/ a b c\n",
		"AAAAC3NzaC1lZDI1NTE5AAAAIBUqmgkd8jAp4olzRSvOs0VgsLMSKoxiG7sI9v0eytl/\r\n",
		"AAAAC3NzaC1lZDI1NTE5AAAAIBUqmgkd8jAp4olzRSvOs0VgsLMSKoxiG7sI9v0eytl/ comment",
	};
	nv_sshkey *ref = NULL, *k = NULL;
	size_t i;

	(void)state;
	assert_int_equal(nv_sshkey_parse_public(&ref, vec_pub), 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(nv_sshkey_parse_public(&k, good[i]), 0);
		assert_true(nv_sshkey_public_equal(ref, k));
		nv_sshkey_free(k);
	}
	nv_sshkey_free(ref);
}

static void test_public_line_refused(void **state)
{
	nv_sshkey *k = NULL;

	(void)state;
	assert_int_equal(nv_sshkey_parse_public(&k, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ x"),
			 NV_ENOTSUP);
	assert_non_null(strstr(nv_error_msg(), "ssh-rsa"));
	assert_null(k);
	assert_int_equal(nv_sshkey_parse_public(&k, ""), NV_EINVAL);
	assert_int_equal(nv_sshkey_parse_public(&k, "ssh-ed25519 !!!!"), NV_EINVAL);
	/* 31-byte key */
	assert_int_equal(nv_sshkey_parse_public(&k, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAHxUqmgkd8jAp4olzRSvOs0VgsLMSKoxiG7sI9v0eytk="),
			 NV_EINVAL);
	/* valid key followed by a stray byte in the blob */
	assert_int_equal(nv_sshkey_parse_public(&k, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBUqmgkd8jAp4olzRSvOs0VgsLMSKoxiG7sI9v0eytl/AA=="),
			 NV_EINVAL);
	/* blob says another type than the line */
	assert_int_equal(nv_sshkey_parse_public(&k, "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ"),
			 NV_ENOTSUP);
	assert_null(k);
}

/* Every one-bit flip of a public line is refused, or gives the same key when
 * it hit the comment, or another key when it hit the key bytes: never the
 * same key from another encoding (strict base64), never a crash. */
static void test_hostile_public_line(void **state)
{
	size_t len = strlen(vec_pub), comment_at = len - strlen(" me@host"), i;
	char buf[sizeof(vec_pub)];
	nv_sshkey *ref = NULL, *k;
	int same;

	(void)state;
	assert_int_equal(nv_sshkey_parse_public(&ref, vec_pub), 0);
	for (i = 0; i < len * 8; i++) {
		memcpy(buf, vec_pub, len + 1);
		buf[i / 8] ^= (char)(1 << (i % 8));
		k = NULL;
		if (nv_sshkey_parse_public(&k, buf) == 0) {
			same = nv_sshkey_public_equal(ref, k);
			nv_sshkey_free(k);
			assert_int_equal(same, i / 8 >= comment_at);
		}
	}
	nv_sshkey_free(ref);
}

static void test_fingerprint(void **state)
{
	nv_sshkey *k = NULL;
	char fp[NV_SSHKEY_FP_MAX], small[20];

	(void)state;
	assert_int_equal(nv_sshkey_parse_public(&k, vec_pub), 0);
	assert_int_equal(nv_sshkey_fingerprint(fp, sizeof(fp), k), 0);
	assert_string_equal(fp, vec_fp);
	assert_int_equal(nv_sshkey_fingerprint(small, sizeof(small), k), NV_EINVAL);
	nv_sshkey_free(k);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nv-sshkey.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_load_files(void **state)
{
	nv_sshkey *priv = NULL, *pub = NULL;
	char pubtext[256];

	(void)state;
	assert_int_equal(nv_sshkey_load_private(&priv, write_file("k", vec_priv, 0600)), 0);
	assert_true(nv_sshkey_has_private(priv));
	snprintf(pubtext, sizeof(pubtext), "# a comment\n\n%s\n", vec_pub);
	assert_int_equal(nv_sshkey_load_public(&pub, write_file("k.pub", pubtext, 0644)), 0);
	assert_false(nv_sshkey_has_private(pub));
	assert_true(nv_sshkey_public_equal(priv, pub));
	nv_sshkey_free(priv);
	nv_sshkey_free(pub);
	assert_int_equal(nv_sshkey_load_private(&priv, "/nonexistent/key"), NV_ENOTFOUND);
	assert_int_equal(nv_sshkey_load_public(&pub, write_file("e.pub", "\n# none\n", 0644)),
			 NV_EINVAL);
}

static void test_private_file_mode_refused(void **state)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0620, 0602 };
	nv_sshkey *k = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(nv_sshkey_load_private(&k, write_file("k", vec_priv, modes[i])),
				 NV_EINVAL);
		assert_null(k);
		assert_non_null(strstr(nv_error_msg(), "group or others"));
	}
}

/* An encrypted key needs its passphrase (test_bcrypt_pbkdf.c tests the rest). */
static void test_encrypted_key_needs_passphrase(void **state)
{
	nv_sshkey *k = NULL;
	const char *path = write_file("enc", vec_priv_encrypted, 0600);
	int rc;

	(void)state;
	k = parse_priv(vec_priv_encrypted, &rc);
	assert_int_equal(rc, NV_EAUTH);
	assert_null(k);
	assert_string_equal(nv_error_msg(), "test-key is passphrase-protected: a passphrase is needed");
	assert_int_equal(nv_sshkey_load_private(&k, path), NV_EAUTH);
	assert_int_equal(nv_sshkey_load_private_pass(&k, path, "wrong"), NV_EAUTH);
	assert_non_null(strstr(nv_error_msg(), ": wrong passphrase"));
	assert_int_equal(nv_sshkey_load_private_pass(&k, path, "secretpw"), 0);
	assert_true(nv_sshkey_has_private(k));
	nv_sshkey_free(k);
	chmod(path, 0640);
	assert_int_equal(nv_sshkey_load_private_pass(&k, path, "secretpw"), NV_EINVAL);
	assert_null(k);
}

static void test_other_key_types_refused(void **state)
{
	nv_sshkey *k = NULL;
	int rc;

	(void)state;
	k = parse_priv(vec_priv_ecdsa, &rc);
	assert_int_equal(rc, NV_ENOTSUP);
	assert_non_null(strstr(nv_error_msg(), "ecdsa-sha2-nistp256"));
	k = parse_priv("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n", &rc);
	assert_int_equal(rc, NV_ENOTSUP);
	k = parse_priv(vec_pub, &rc);
	assert_int_equal(rc, NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "public key"));
	k = parse_priv("", &rc);
	assert_int_equal(rc, NV_EINVAL);
	assert_null(k);
}

/* Re-armors vec_priv's blob after edit() changed it. */
static int parse_edited(void (*edit)(unsigned char *, size_t *))
{
	unsigned char *blob;
	size_t n;
	char *text;
	nv_sshkey *k = NULL;
	int rc;

	assert_int_equal(nv_ssh_dearmor(&blob, &n, vec_priv, strlen(vec_priv),
					"-----BEGIN OPENSSH PRIVATE KEY-----",
					"-----END OPENSSH PRIVATE KEY-----"), 0);
	edit(blob, &n);
	assert_int_equal(nv_ssh_armor(&text, blob, n, "-----BEGIN OPENSSH PRIVATE KEY-----",
				      "-----END OPENSSH PRIVATE KEY-----", 70), 0);
	k = parse_priv(text, &rc);
	nv_sshkey_free(k);
	free(text);
	free(blob);
	return rc;
}

#define PRIV_SECTION 98 /* offset of the private section in vec_priv's blob */

static void edit_checkint(unsigned char *b, size_t *n)
{
	(void)n;
	b[PRIV_SECTION + 7] ^= 1;
}

static void edit_seed(unsigned char *b, size_t *n)
{
	/* check 8, type 15, pk 36, length 4 */
	(void)n;
	b[PRIV_SECTION + 8 + 15 + 36 + 4] ^= 0x80;
}

static void edit_padding(unsigned char *b, size_t *n)
{
	b[*n - 1] = 7;
}

static void edit_trailing(unsigned char *b, size_t *n)
{
	b[(*n)++] = 0; /* dearmor's buffer has room for 3 more */
}

static void edit_kdf(unsigned char *b, size_t *n)
{
	(void)n;
	memcpy(b + 15 + 8 + 4, "bcry", 4);
}

static void test_damaged_private_refused(void **state)
{
	(void)state;
	assert_int_equal(parse_edited(edit_checkint), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "check integers"));
	assert_int_equal(parse_edited(edit_seed), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "disagree"));
	assert_int_equal(parse_edited(edit_padding), NV_EINVAL);
	assert_int_equal(parse_edited(edit_trailing), NV_EINVAL);
	assert_int_equal(parse_edited(edit_kdf), NV_EINVAL);
}

/* Every truncation and every one-bit flip of the file text is either refused
 * or (inside the comment) gives back the very same key: never a crash, an
 * over-read (ASan) or a different key. */
static void test_hostile_private_text(void **state)
{
	size_t len = strlen(vec_priv), i;
	char *buf = malloc(len + 1);
	nv_sshkey *ref, *k;
	int rc;

	(void)state;
	ref = parse_priv(vec_priv, &rc);
	assert_int_equal(rc, 0);
	for (i = 0; i + 1 < len; i++) { /* only the final newline may go */
		memcpy(buf, vec_priv, i);
		k = NULL;
		assert_int_not_equal(nv_sshkey_parse_private(&k, buf, i, "cut"), 0);
		assert_null(k);
	}
	for (i = 0; i < len * 8; i++) {
		memcpy(buf, vec_priv, len + 1);
		buf[i / 8] ^= (char)(1 << (i % 8));
		k = NULL;
		if (nv_sshkey_parse_private(&k, buf, len, "flip") == 0)
			assert_true(nv_sshkey_public_equal(ref, k));
		nv_sshkey_free(k);
	}
	free(buf);
	nv_sshkey_free(ref);
}

static void test_base64(void **state)
{
	static const struct { const char *plain, *b64; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	static const char *bad[] = { "Zg=", "Zh==", "Zm9=", "Z", "Zg==Zg==", "Zm9v!", "Zg===" };
	unsigned char *d;
	size_t n, i;
	char *e;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(nv_base64_encode(&e, v[i].plain, strlen(v[i].plain)), 0);
		assert_string_equal(e, v[i].b64);
		free(e);
		assert_int_equal(nv_base64_decode(&d, &n, v[i].b64, strlen(v[i].b64)), 0);
		assert_int_equal(n, strlen(v[i].plain));
		assert_memory_equal(d, v[i].plain, n);
		free(d);
	}
	assert_int_equal(nv_base64_decode(&d, &n, "Zm9v\nYg", 7), 0); /* unpadded, wrapped */
	assert_memory_equal(d, "foob", 4);
	free(d);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nv_base64_decode(&d, &n, bad[i], strlen(bad[i])), NV_EINVAL);
}

static void test_reader_bounds(void **state)
{
	static const unsigned char data[] = { 0, 0, 0, 5, 'a', 'b', 0xff, 0xff, 0xff, 0xff, 1 };
	const unsigned char *p;
	size_t n;
	uint32_t u;
	nv_sshrd r;

	(void)state;
	nv_sshrd_init(&r, data, 6); /* string claims 5, only 2 present */
	assert_int_equal(nv_sshrd_string(&r, &p, &n), NV_EINVAL);
	assert_int_equal(nv_sshrd_left(&r), 6); /* did not move */
	nv_sshrd_init(&r, data + 6, 5); /* 4 GiB length */
	assert_int_equal(nv_sshrd_string(&r, &p, &n), NV_EINVAL);
	nv_sshrd_init(&r, data, 3);
	assert_int_equal(nv_sshrd_u32(&r, &u), NV_EINVAL);
	nv_sshrd_init(&r, data, 4);
	assert_int_equal(nv_sshrd_u32(&r, &u), 0);
	assert_int_equal(u, 5);
	assert_int_equal(nv_sshrd_left(&r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_format_parse_roundtrip),
		cmocka_unit_test(test_two_keys_differ),
		cmocka_unit_test(test_format_matches_ssh_keygen),
		cmocka_unit_test(test_public_only_cannot_format_private),
		cmocka_unit_test(test_public_line_roundtrip),
		cmocka_unit_test(test_public_line_forms),
		cmocka_unit_test(test_public_line_refused),
		cmocka_unit_test(test_hostile_public_line),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_private_file_mode_refused),
		cmocka_unit_test(test_encrypted_key_needs_passphrase),
		cmocka_unit_test(test_other_key_types_refused),
		cmocka_unit_test(test_damaged_private_refused),
		cmocka_unit_test(test_hostile_private_text),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_reader_bounds),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
