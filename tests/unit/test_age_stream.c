/* test_age_stream.c: unit tests of age encryption and decryption: round trips at
 * chunk edges with random split points, several recipients and identities,
 * tampering, passphrase files, key files. Run by make check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "age/age.h"
#include "age/age_crypto.h"
#include "age/age_int.h"
#include "age/age_stanza.h"
#include "age/age_stream.h"
#include "util/b64.h"
#include "util/error.h"

typedef struct {
	nv_age_identity *id[2];
	nv_age_recipient r[2];
} keys;

/* Random update sizes, mostly around the chunk edges where bugs hide. */
static size_t rand_split(size_t left)
{
	static const size_t edges[] = {1, 15, 16, 17, 65535, 65536, 65537, 65551, 65552, 65553, 131104};
	size_t n = rand() % 3 ? edges[rand() % 11] : (size_t)rand() % 300000;

	n = n ? n : 1;
	return n < left ? n : left;
}

static unsigned char *encrypt_split(const unsigned char *in, size_t n, const nv_age_recipient *r,
				    size_t nr, size_t *outlen)
{
	nv_age_enc *e;
	unsigned char *out;
	size_t o = 0, got, take, done;

	assert_int_equal(nv_age_enc_new(&e, r, nr), 0);
	out = malloc(nv_age_ciphertext_size(n, nr));
	for (done = 0; done < n; done += take) {
		unsigned char *tmp;

		take = rand_split(n - done);
		tmp = malloc(nv_age_enc_bound(e, take));
		assert_int_equal(nv_age_enc_update(e, in + done, take, tmp, &got), 0);
		assert_true(got <= nv_age_enc_bound(e, take) + 1000);
		assert_true(o + got <= nv_age_ciphertext_size(n, nr));
		memcpy(out + o, tmp, got);
		o += got;
		free(tmp);
	}
	assert_int_equal(nv_age_enc_final(e, out + o, &got), 0);
	o += got;
	assert_int_equal(nv_age_enc_update(e, "x", 1, out, &got), NV_EINVAL);
	nv_age_enc_free(e);
	*outlen = o;
	return out;
}

/* Decrypts in random pieces; returns the error code, plaintext in *out. */
static int decrypt_split(const unsigned char *in, size_t n, const nv_age_identity *id,
			 unsigned char **out, size_t *outlen)
{
	nv_age_dec *d;
	unsigned char *buf = malloc(n + NV_AGE_CHUNK_SIZE), *tmp;
	size_t o = 0, got, take, done;
	int rc = 0;

	assert_int_equal(nv_age_dec_new(&d, id), 0);
	for (done = 0; done < n && rc == 0; done += take) {
		take = rand_split(n - done);
		tmp = malloc(nv_age_dec_bound(take));
		rc = nv_age_dec_update(d, in + done, take, tmp, &got);
		if (rc == 0) {
			assert_true(got <= nv_age_dec_bound(take));
			memcpy(buf + o, tmp, got);
			o += got;
		}
		free(tmp);
	}
	if (rc == 0 && (rc = nv_age_dec_final(d, buf + o, &got)) == 0)
		o += got;
	if (rc < 0) /* errors are sticky */
		assert_int_equal(nv_age_dec_final(d, buf, &got), rc);
	nv_age_dec_free(d);
	*out = buf;
	*outlen = o;
	return rc;
}

static int setup_keys(void **state)
{
	keys *k = calloc(1, sizeof(*k));
	int i;

	for (i = 0; i < 2; i++) {
		char *text, pub[NV_AGE_RECIPIENT_MAX];

		assert_int_equal(nv_age_keygen(&text, pub, sizeof(pub)), 0);
		assert_int_equal(nv_age_identity_parse(&k->id[i], text, strlen(text)), 0);
		assert_int_equal(nv_age_recipient_parse(&k->r[i], pub), 0);
		nv_age_wipe_free(text, strlen(text));
	}
	*state = k;
	return 0;
}

static int teardown_keys(void **state)
{
	keys *k = *state;

	nv_age_identity_free(k->id[0]);
	nv_age_identity_free(k->id[1]);
	free(k);
	return 0;
}

static void unhex(unsigned char *out, const char *hex)
{
	for (size_t i = 0; hex[2 * i]; i++)
		assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
}

/* HKDF-SHA256 is built on the thread's HMAC context (two HMACs, RFC 5869):
 * the RFC's test cases 1 (42 bytes: two blocks) and 3 (no salt, no info). */
static void test_hkdf_rfc5869(void **state)
{
	unsigned char ikm[22], salt[13], okm[42], want[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	unhex(salt, "000102030405060708090a0b0c");
	assert_int_equal(nv_age_hkdf(okm, 42, ikm, 22, salt, 13, "\xf0\xf1\xf2\xf3\xf4\xf5\xf6"
				     "\xf7\xf8\xf9"), 0);
	unhex(want, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		    "34007208d5b887185865");
	assert_memory_equal(okm, want, 42);
	assert_int_equal(nv_age_hkdf(okm, 42, ikm, 22, NULL, 0, ""), 0);
	unhex(want, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		    "9d201395faa4b61a96c8");
	assert_memory_equal(okm, want, 42);
	/* and HMAC-SHA256 itself (RFC 4231 case 2), which a key cleared after
	 * each use must not disturb */
	assert_int_equal(nv_age_hmac(okm, (const unsigned char *)"Jefe", 4,
				     "what do ya want for nothing?", 28), 0);
	unhex(want, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_memory_equal(okm, want, 32);
}

static void test_round_trips(void **state)
{
	static const size_t sizes[] = {0, 1, 15, 16, 65535, 65536, 65537, 131072, 131073,
				       3 * 1024 * 1024 + 5};
	keys *k = *state;
	size_t i, j, clen, plen;
	uint64_t back;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *plain = malloc(sizes[i] + 1), *c, *p;

		for (j = 0; j < sizes[i]; j++)
			plain[j] = (unsigned char)rand();
		c = encrypt_split(plain, sizes[i], k->r, 1, &clen);
		assert_int_equal(clen, nv_age_ciphertext_size(sizes[i], 1));
		assert_int_equal(nv_age_plaintext_size(&back, clen, 1), 0);
		assert_int_equal(back, sizes[i]);
		assert_int_equal(decrypt_split(c, clen, k->id[0], &p, &plen), 0);
		assert_int_equal(plen, sizes[i]);
		assert_memory_equal(p, plain, sizes[i]);
		free(p);
		/* One bit flipped in the payload of any chunk: refused. */
		c[clen - 1 - (size_t)rand() % (clen - 184)] ^= 0x10;
		assert_int_equal(decrypt_split(c, clen, k->id[0], &p, &plen), NV_EMISMATCH);
		free(p);
		free(c);
		free(plain);
	}
	/* Header and nonce take 184 bytes for one recipient; a chunk has a 16-byte tag. */
	assert_int_equal(nv_age_plaintext_size(&back, 184 + 15, 1), NV_EMISMATCH);
	assert_int_equal(nv_age_plaintext_size(&back, 184 + 65553, 1), NV_EMISMATCH);
	assert_int_equal(nv_age_plaintext_size(&back, 184 + 65552, 1), 0);
	assert_int_equal(back, 65536);
	assert_int_equal(nv_age_ciphertext_size(0, 2), 200 + 98);
}

static void test_two_recipients(void **state)
{
	keys *k = *state;
	unsigned char *c, *p;
	size_t clen, plen;
	nv_age_enc *e;

	c = encrypt_split((const unsigned char *)"two of them", 11, k->r, 2, &clen);
	assert_int_equal(clen, nv_age_ciphertext_size(11, 2));
	assert_int_equal(decrypt_split(c, clen, k->id[0], &p, &plen), 0);
	assert_int_equal(plen, 11);
	free(p);
	assert_int_equal(decrypt_split(c, clen, k->id[1], &p, &plen), 0);
	assert_memory_equal(p, "two of them", 11);
	free(p);
	free(c);
	assert_int_equal(nv_age_enc_new(&e, k->r, 0), NV_EINVAL);
}

static void test_wrong_identity(void **state)
{
	keys *k = *state;
	unsigned char *c, *p;
	size_t clen, plen;

	c = encrypt_split((const unsigned char *)"secret", 6, &k->r[1], 1, &clen);
	assert_int_equal(decrypt_split(c, clen, k->id[0], &p, &plen), NV_EAUTH);
	assert_string_equal(nv_error_msg(), "no identity matches any recipient stanza");
	assert_int_equal(plen, 0);
	free(p);
	assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, clen, k->id[0]), NV_EAUTH);
	assert_null(p);
	free(c);
}

static void test_identity_with_several_keys(void **state)
{
	keys *k = *state;
	char *t1, *t2, *both, pub[NV_AGE_RECIPIENT_MAX];
	nv_age_identity *id;
	nv_age_recipient r;
	unsigned char *c, *p;
	size_t clen, plen;

	assert_int_equal(nv_age_keygen(&t1, pub, sizeof(pub)), 0);
	assert_int_equal(nv_age_keygen(&t2, pub, sizeof(pub)), 0);
	assert_int_equal(nv_age_recipient_parse(&r, pub), 0);
	both = malloc(strlen(t1) + strlen(t2) + 1);
	strcpy(both, t1);
	strcat(both, t2);
	assert_int_equal(nv_age_identity_parse(&id, both, strlen(both)), 0);
	assert_int_equal(nv_age_identity_count(id), 2);
	/* The second key matches the second stanza. */
	nv_age_recipient rs[2] = {k->r[0], r};
	assert_int_equal(nv_age_encrypt_buf(&c, &clen, "abc", 3, rs, 2), 0);
	assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, clen, id), 0);
	assert_int_equal(plen, 3);
	nv_age_wipe_free(p, plen);
	free(c);
	nv_age_identity_free(id);
	nv_age_wipe_free(t1, strlen(t1));
	nv_age_wipe_free(t2, strlen(t2));
	nv_age_wipe_free(both, strlen(both));
}

/* Unknown stanza types (grease) are skipped; the MAC still covers them. */
static void test_unknown_stanza_ignored(void **state)
{
	keys *k = *state;
	unsigned char fk[16], *c, *p;
	char stanzas[512];
	size_t len, o, got, plen;
	nv_age_enc *e;

	assert_int_equal(nv_age_random(fk, 16), 0);
	len = (size_t)sprintf(stanzas, "-> grease-1 x y\nAAAA\n-> empty\n\n");
	assert_int_equal(nv_age_x25519_wrap(stanzas + len, &k->r[0], fk), 0);
	len += NV_AGE_X25519_STANZA_LEN;
	assert_int_equal(nv_age_enc_new_raw(&e, fk, stanzas, len), 0);
	c = malloc(nv_age_enc_bound(e, 5) + NV_AGE_CHUNK_ENC);
	assert_int_equal(nv_age_enc_update(e, "hello", 5, c, &o), 0);
	assert_int_equal(nv_age_enc_final(e, c + o, &got), 0);
	o += got;
	nv_age_enc_free(e);
	assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, o, k->id[0]), 0);
	assert_memory_equal(p, "hello", 5);
	nv_age_wipe_free(p, plen);
	/* Editing the grease stanza breaks the MAC. */
	c[NV_AGE_INTRO_LEN + 14] = 'z';
	assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, o, k->id[0]), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "MAC"));
	free(c);
}

/* An scrypt stanza beside an X25519 one is refused, as the spec asks. */
static void test_scrypt_not_alone(void **state)
{
	keys *k = *state;
	unsigned char fk[16], *c, *p;
	char stanzas[512];
	size_t len, o, plen;
	nv_age_enc *e;
	nv_age_recipient zero = {{0}};

	assert_int_equal(nv_age_random(fk, 16), 0);
	assert_int_equal(nv_age_x25519_wrap(stanzas, &k->r[0], fk), 0);
	len = NV_AGE_X25519_STANZA_LEN;
	len += (size_t)sprintf(stanzas + len, "-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\n%.43s\n",
			       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(nv_age_enc_new_raw(&e, fk, stanzas, len), 0);
	c = malloc(nv_age_enc_bound(e, 0) + NV_AGE_CHUNK_ENC);
	assert_int_equal(nv_age_enc_final(e, c, &o), 0);
	nv_age_enc_free(e);
	assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, o, k->id[0]), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "scrypt stanza must be alone"));
	assert_int_equal(nv_age_decrypt_passphrase_buf(&p, &plen, c, o, "x", 22), NV_EMISMATCH);
	free(c);
	/* Encrypting to a low-order point is refused. */
	assert_int_equal(nv_age_encrypt_buf(&c, &o, "x", 1, &zero, 1), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "low-order"));
}

/* Chunks swapped or cut at a boundary are caught, naming the chunk. */
static void test_reorder_and_cut(void **state)
{
	keys *k = *state;
	size_t n = 3 * NV_AGE_CHUNK_SIZE, clen, plen, hl = 22 + 98 + 48 + 16;
	unsigned char *plain = calloc(1, n), *c, *p, *tmp = malloc(NV_AGE_CHUNK_ENC);

	c = encrypt_split(plain, n, k->r, 1, &clen);
	memcpy(tmp, c + hl, NV_AGE_CHUNK_ENC);
	memmove(c + hl, c + hl + NV_AGE_CHUNK_ENC, NV_AGE_CHUNK_ENC);
	memcpy(c + hl + NV_AGE_CHUNK_ENC, tmp, NV_AGE_CHUNK_ENC);
	assert_int_equal(decrypt_split(c, clen, k->id[0], &p, &plen), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "chunk 0"));
	free(p);
	free(c);
	c = encrypt_split(plain, n, k->r, 1, &clen);
	assert_int_equal(decrypt_split(c, clen - NV_AGE_CHUNK_ENC, k->id[0], &p, &plen), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "last chunk missing"));
	free(p);
	/* A last chunk passed off as a middle one (flag byte) fails too. */
	assert_int_equal(decrypt_split(c, clen - 1, k->id[0], &p, &plen), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "chunk 2"));
	free(p);
	free(c);
	free(tmp);
	free(plain);
}

static void test_passphrase(void **state)
{
	keys *k = *state;
	char *text, pub[NV_AGE_RECIPIENT_MAX];
	unsigned char *c, *p;
	size_t clen, plen;
	nv_age_identity *id;

	(void)k;
	assert_int_equal(nv_age_keygen(&text, pub, sizeof(pub)), 0);
	assert_int_equal(nv_age_encrypt_passphrase_buf(&c, &clen, text, strlen(text), "pw 1", 10), 0);
	assert_non_null(strstr((char *)c, "\n-> scrypt "));
	assert_int_equal(nv_age_identity_from_bytes(&id, c, clen, "pw 1"), 0);
	assert_int_equal(nv_age_identity_count(id), 1);
	nv_age_identity_free(id);
	assert_int_equal(nv_age_identity_from_bytes(&id, c, clen, "pw 2"), NV_EAUTH);
	assert_string_equal(nv_error_msg(), "wrong passphrase");
	assert_int_equal(nv_age_identity_from_bytes(&id, c, clen, NULL), NV_EAUTH);
	/* A work factor above the caller's cap is refused before any scrypt work. */
	assert_int_equal(nv_age_decrypt_passphrase_buf(&p, &plen, c, clen, "pw 1", 9), NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "work factor 10"));
	/* An X25519 identity does not open a passphrase file. */
	assert_int_equal(nv_age_decrypt_buf(&p, &plen, c, clen, k->id[0]), NV_EAUTH);
	free(c);
	assert_int_equal(nv_age_encrypt_passphrase_buf(&c, &clen, "x", 1, "pw", 9), NV_EINVAL);
	assert_int_equal(nv_age_encrypt_passphrase_buf(&c, &clen, "x", 1, "pw", 23), NV_EINVAL);
	/* A passphrase does not open an X25519 file. */
	assert_int_equal(nv_age_encrypt_buf(&c, &clen, "x", 1, k->r, 1), 0);
	assert_int_equal(nv_age_decrypt_passphrase_buf(&p, &plen, c, clen, "pw", 22), NV_EAUTH);
	free(c);
	nv_age_wipe_free(text, strlen(text));
}

/* An `age -a -p` style identity file: armored, 64-column padded base64. */
static void test_armored_passphrase_identity(void **state)
{
	char *text, pub[NV_AGE_RECIPIENT_MAX], *b64, *armor;
	unsigned char *c;
	size_t clen, i, o;
	nv_age_identity *id;

	(void)state;
	assert_int_equal(nv_age_keygen(&text, pub, sizeof(pub)), 0);
	assert_int_equal(nv_age_encrypt_passphrase_buf(&c, &clen, text, strlen(text), "pw", 10), 0);
	b64 = malloc(nv_b64_pad_len(clen) + 1);
	nv_b64_pad_encode(b64, c, clen);
	armor = malloc(strlen(b64) * 2 + 128);
	o = (size_t)sprintf(armor, "\n-----BEGIN AGE ENCRYPTED FILE-----\n");
	for (i = 0; i < strlen(b64); i += 64)
		o += (size_t)sprintf(armor + o, "%.64s\n", b64 + i);
	sprintf(armor + o, "-----END AGE ENCRYPTED FILE-----\n");
	assert_int_equal(nv_age_identity_from_bytes(&id, armor, strlen(armor), "pw"), 0);
	nv_age_identity_free(id);
	/* A line of 63 columns in the middle is not an armor age writes. */
	memmove(armor + 36 + 63, armor + 36 + 64, strlen(armor + 36 + 64) + 1);
	assert_int_equal(nv_age_identity_from_bytes(&id, armor, strlen(armor), "pw"), NV_EMISMATCH);
	free(armor);
	free(b64);
	free(c);
	nv_age_wipe_free(text, strlen(text));
}

static void test_keygen_format(void **state)
{
	char *text, pub[NV_AGE_RECIPIENT_MAX], line2[128], fmt[128];
	nv_age_identity *id;
	nv_age_recipient r;
	int y, mo, d, h, mi, s, consumed = 0;

	(void)state;
	assert_int_equal(nv_age_keygen(&text, pub, sizeof(pub)), 0);
	assert_int_equal(sscanf(text, "# created: %4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
				&consumed), 6);
	assert_true(text[consumed] == 'Z' || text[consumed] == '+' || text[consumed] == '-');
	snprintf(line2, sizeof(line2), "\n# public key: %s\nAGE-SECRET-KEY-1", pub);
	assert_non_null(strstr(text, line2));
	snprintf(fmt, sizeof(fmt), "%s", strstr(text, "AGE-SECRET-KEY-1"));
	assert_int_equal(strlen(fmt), 74 + 1);
	assert_int_equal(fmt[74], '\n');
	assert_int_equal(strlen(pub), 62);
	assert_int_equal(nv_age_identity_parse(&id, text, strlen(text)), 0);
	assert_int_equal(nv_age_identity_recipient(id, &r), 0);
	assert_int_equal(nv_age_recipient_format(line2, sizeof(line2), &r), 0);
	assert_string_equal(line2, pub);
	nv_age_identity_free(id);
	nv_age_wipe_free(text, strlen(text));
	assert_int_equal(nv_age_keygen(&text, pub, 10), NV_EINVAL);
	assert_null(text);
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_key_files(void **state)
{
	keys *k = *state;
	char dir[] = "/tmp/nv-age-test.XXXXXX", path[256], pub[2][NV_AGE_RECIPIENT_MAX], text[512];
	nv_age_recipient *r;
	nv_age_identity *id;
	unsigned char *c;
	size_t n, clen;
	char *kt;

	assert_non_null(mkdtemp(dir));
	nv_age_recipient_format(pub[0], sizeof(pub[0]), &k->r[0]);
	nv_age_recipient_format(pub[1], sizeof(pub[1]), &k->r[1]);
	snprintf(text, sizeof(text), "# team\n\n  %s  \n# backup key\n%s\n", pub[0], pub[1]);
	snprintf(path, sizeof(path), "%s/recipients", dir);
	write_file(path, text, strlen(text), 0644);
	assert_int_equal(nv_age_recipients_load(&r, &n, path), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(r[1].pub, k->r[1].pub, 32);
	free(r);
	write_file(path, "# nothing\n", 10, 0644);
	assert_int_equal(nv_age_recipients_load(&r, &n, path), NV_EINVAL);
	write_file(path, "age1nope\n", 9, 0644);
	assert_int_equal(nv_age_recipients_load(&r, &n, path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "line 1"));
	unlink(path);
	assert_int_equal(nv_age_recipients_load(&r, &n, path), NV_ENOTFOUND);

	assert_int_equal(nv_age_keygen(&kt, pub[0], sizeof(pub[0])), 0);
	snprintf(path, sizeof(path), "%s/key.txt", dir);
	write_file(path, kt, strlen(kt), 0600);
	assert_int_equal(nv_age_identity_load(&id, path, NULL), 0);
	nv_age_identity_free(id);
	/* A secret file others may read is refused. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_true(nv_age_identity_load(&id, path, NULL) < 0);
	assert_null(id);
	assert_int_equal(nv_age_encrypt_passphrase_buf(&c, &clen, kt, strlen(kt), "pass", 10), 0);
	write_file(path, c, clen, 0600);
	assert_int_equal(nv_age_identity_load(&id, path, "pass"), 0);
	nv_age_identity_free(id);
	assert_int_equal(nv_age_identity_load(&id, path, NULL), NV_EAUTH);
	assert_non_null(strstr(nv_error_msg(), "passphrase"));
	unlink(path);
	rmdir(dir);
	free(c);
	nv_age_wipe_free(kt, strlen(kt));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_two_recipients),
		cmocka_unit_test(test_wrong_identity),
		cmocka_unit_test(test_identity_with_several_keys),
		cmocka_unit_test(test_unknown_stanza_ignored),
		cmocka_unit_test(test_scrypt_not_alone),
		cmocka_unit_test(test_reorder_and_cut),
		cmocka_unit_test(test_passphrase),
		cmocka_unit_test(test_armored_passphrase_identity),
		cmocka_unit_test(test_keygen_format),
		cmocka_unit_test(test_key_files),
	};

	/* Split points are random; the seed is printed so a failure can be replayed. */
	const char *env = getenv("NV_TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);

	printf("# NV_TEST_SEED=%u\n", seed);
	srand(seed);
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
