/* bcrypt_pbkdf.c: bcrypt_pbkdf (SHA-512 + Eksblowfish), for passphrase-protected
 * OpenSSH keys. Callers: src/ssh/ only (see bcrypt_pbkdf.h).
 *
 * Written from the public descriptions: Blowfish, B. Schneier, "Description of
 * a New Variable-Length Key, 64-Bit Block Cipher (Blowfish)", Fast Software
 * Encryption 1993; Eksblowfish's expensive key schedule, N. Provos and D.
 * Mazieres, "A Future-Adaptable Password Scheme", USENIX 1999; and bcrypt_pbkdf
 * as OpenBSD's bcrypt_pbkdf(3) and T. Unangst's "bcrypt_pbkdf" note describe
 * it: PBKDF2's structure with bcrypt_hash (64 bcrypt key expansions of the
 * SHA-512 of the passphrase and of the salt, then 64 encryptions of the 32-byte
 * "OxychromaticBlowfishSwatDynamite") in place of HMAC, and the output bytes
 * spread across the blocks rather than concatenated. OpenSSL offers Blowfish,
 * but not its key schedule with a salt, hence this file. */
#include "bcrypt_pbkdf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "blowfish_tables.h"
#include "util/error.h"

#define BHASH_WORDS 8
#define BHASH_LEN (BHASH_WORDS * 4) /* bcrypt_hash's output */
#define SHA512_LEN 64

typedef struct {
	uint32_t p[18];
	uint32_t s[4][256];
} bf_state;

static uint32_t bf_f(const bf_state *c, uint32_t x)
{
	return ((c->s[0][x >> 24] + c->s[1][(x >> 16) & 0xff]) ^ c->s[2][(x >> 8) & 0xff]) +
	       c->s[3][x & 0xff];
}

/* One 64-bit block, 16 Feistel rounds. */
static void bf_encipher(const bf_state *c, uint32_t *xl, uint32_t *xr)
{
	uint32_t l = *xl, r = *xr, t;

	for (int i = 0; i < 16; i++) {
		l ^= c->p[i];
		r ^= bf_f(c, l);
		t = l;
		l = r;
		r = t;
	}
	*xl = r ^ c->p[17];
	*xr = l ^ c->p[16];
}

/* The next 4 bytes of data as a big-endian word, wrapping around at its end
 * (the key schedule cycles through short keys). */
static uint32_t bf_word(const unsigned char *data, size_t len, size_t *pos)
{
	uint32_t w = 0;

	for (int i = 0; i < 4; i++) {
		w = (w << 8) | data[*pos];
		*pos = (*pos + 1) % len;
	}
	return w;
}

/* Eksblowfish's ExpandKey(state, salt, key): XOR the key into P, then
 * replace P and the S-boxes by successive encryptions, each block first
 * XORed with the salt's next 64 bits. salt NULL: the plain Blowfish schedule
 * (ExpandKey(state, 0, key)). */
static void bf_expand(bf_state *c, const unsigned char *salt, size_t saltlen,
		      const unsigned char *key, size_t keylen)
{
	uint32_t l = 0, r = 0, *words[4 + 1];
	size_t kp = 0, sp = 0;

	for (int i = 0; i < 18; i++)
		c->p[i] ^= bf_word(key, keylen, &kp);
	words[0] = c->p;
	for (int b = 0; b < 4; b++)
		words[b + 1] = c->s[b];
	for (int t = 0; t < 5; t++) {
		int n = t == 0 ? 18 : 256;

		for (int i = 0; i < n; i += 2) {
			if (salt) {
				l ^= bf_word(salt, saltlen, &sp);
				r ^= bf_word(salt, saltlen, &sp);
			}
			bf_encipher(c, &l, &r);
			words[t][i] = l;
			words[t][i + 1] = r;
		}
	}
}

/* bcrypt_hash(SHA512(pass), SHA512(salt)) into out; the words come out
 * little-endian, as OpenBSD writes them. */
static void bcrypt_hash(unsigned char out[BHASH_LEN], bf_state *c,
			const unsigned char hpass[SHA512_LEN], const unsigned char hsalt[SHA512_LEN])
{
	static const char magic[BHASH_LEN + 1] = "OxychromaticBlowfishSwatDynamite";
	uint32_t cdata[BHASH_WORDS];
	size_t pos = 0;

	memcpy(c->p, nv_blowfish_p_init, sizeof(c->p));
	memcpy(c->s, nv_blowfish_s_init, sizeof(c->s));
	bf_expand(c, hsalt, SHA512_LEN, hpass, SHA512_LEN);
	for (int i = 0; i < 64; i++) {
		bf_expand(c, NULL, 0, hsalt, SHA512_LEN);
		bf_expand(c, NULL, 0, hpass, SHA512_LEN);
	}
	for (int i = 0; i < BHASH_WORDS; i++)
		cdata[i] = bf_word((const unsigned char *)magic, BHASH_LEN, &pos);
	for (int i = 0; i < 64; i++)
		for (int j = 0; j < BHASH_WORDS; j += 2)
			bf_encipher(c, &cdata[j], &cdata[j + 1]);
	for (int i = 0; i < BHASH_WORDS; i++)
		for (int b = 0; b < 4; b++)
			out[4 * i + b] = (unsigned char)(cdata[i] >> (8 * b));
	OPENSSL_cleanse(cdata, sizeof(cdata));
}

static int sha512(unsigned char out[SHA512_LEN], const void *a, size_t alen, const void *b,
		  size_t blen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, EVP_sha512(), NULL) == 1 &&
		 EVP_DigestUpdate(md, a, alen) == 1 && (!blen || EVP_DigestUpdate(md, b, blen) == 1) &&
		 EVP_DigestFinal_ex(md, out, NULL) == 1;

	EVP_MD_CTX_free(md);
	return ok ? 0 : nv_error_set(NV_ERR, "SHA-512 failed in OpenSSL");
}

/* Block number count (from 1): T = bcrypt_hash(U_1) ^ ... ^ bcrypt_hash(U_rounds). */
static int pbkdf_block(unsigned char out[BHASH_LEN], bf_state *c,
		       const unsigned char hpass[SHA512_LEN], const void *salt, size_t saltlen,
		       uint32_t count, uint32_t rounds)
{
	unsigned char be[4] = { (unsigned char)(count >> 24), (unsigned char)(count >> 16),
				(unsigned char)(count >> 8), (unsigned char)count };
	unsigned char hsalt[SHA512_LEN], tmp[BHASH_LEN];
	int rc;

	if ((rc = sha512(hsalt, salt, saltlen, be, sizeof(be))))
		return rc;
	bcrypt_hash(tmp, c, hpass, hsalt);
	memcpy(out, tmp, BHASH_LEN);
	for (uint32_t r = 1; r < rounds && !rc; r++) {
		if ((rc = sha512(hsalt, tmp, BHASH_LEN, NULL, 0)))
			break;
		bcrypt_hash(tmp, c, hpass, hsalt);
		for (int i = 0; i < BHASH_LEN; i++)
			out[i] ^= tmp[i];
	}
	OPENSSL_cleanse(hsalt, sizeof(hsalt));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return rc;
}

int nv_bcrypt_pbkdf(unsigned char *key, size_t keylen, const void *pass, size_t passlen,
		    const void *salt, size_t saltlen, uint32_t rounds)
{
	unsigned char hpass[SHA512_LEN], block[BHASH_LEN];
	size_t stride, amt;
	bf_state *c;
	int rc;

	if (!rounds || !passlen || !saltlen || !keylen || keylen > NV_BCRYPT_PBKDF_MAX_OUT ||
	    saltlen > (1u << 20))
		return nv_error_set(NV_EINVAL, "bcrypt_pbkdf: parameters out of range");
	/* Byte i of block b lands at key[i * stride + b]: every block feeds the
	 * whole key, so no part of it is cheaper to find than the rest. */
	stride = (keylen + BHASH_LEN - 1) / BHASH_LEN;
	amt = (keylen + stride - 1) / stride;
	if (!(c = OPENSSL_malloc(sizeof(*c))))
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = sha512(hpass, pass, passlen, NULL, 0)))
		goto out;
	for (uint32_t count = 1; (size_t)(count - 1) < stride; count++) {
		if ((rc = pbkdf_block(block, c, hpass, salt, saltlen, count, rounds)))
			goto out;
		for (size_t i = 0; i < amt; i++) {
			size_t dest = i * stride + (count - 1);

			if (dest >= keylen)
				break;
			key[dest] = block[i];
		}
	}
out:
	OPENSSL_cleanse(hpass, sizeof(hpass));
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_clear_free(c, sizeof(*c));
	return rc;
}
