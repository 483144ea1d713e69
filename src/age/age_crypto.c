/* age_crypto.c: the OpenSSL 3 primitives age needs (X25519, HKDF-SHA256,
 * HMAC-SHA256, ChaCha20-Poly1305, scrypt), behind EVP, and the wipe every layer
 * uses. The age module's bottom layer: calls no other age file. Called by
 * src/age/ only (age_crypto.h), nv_age_wipe_free by everyone (age.h). */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "age_crypto.h"
#include "age_int.h"
#include "util/error.h"

struct nv_age_aead {
	EVP_CIPHER_CTX *ctx;
};

void nv_age_wipe_free(void *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

int nv_age_random(void *buf, size_t n)
{
	if (RAND_bytes(buf, (int)n) != 1)
		return nv_error_set(NV_ERR, "age: random generator failed");
	return 0;
}

int nv_age_x25519_public(unsigned char pub[32], const unsigned char sk[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
	size_t len = 32;
	int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32;

	EVP_PKEY_free(k);
	return ok ? 0 : nv_error_set(NV_ERR, "age: X25519 public key computation failed");
}

int nv_age_x25519(unsigned char out[32], const unsigned char sk[32], const unsigned char peer[32],
		  unsigned char pub_out[32])
{
	static const unsigned char zero[32];
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	size_t len = 32, plen = 32;
	int ok;

	/* Importing sk already computed its public key: take it from there rather
	 * than paying a second scalar multiplication (one per file pushed). */
	if (!k || !p || !c ||
	    (pub_out && (EVP_PKEY_get_raw_public_key(k, pub_out, &plen) != 1 || plen != 32))) {
		ok = -1;
	} else {
		/* OpenSSL fails the derivation itself when the result is all zero. */
		ok = EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, p) == 1 &&
		     EVP_PKEY_derive(c, out, &len) == 1 && len == 32 &&
		     CRYPTO_memcmp(out, zero, 32) != 0;
	}
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	if (ok < 0)
		return nv_error_set(NV_ERR, "age: X25519 key setup failed");
	if (!ok) {
		OPENSSL_cleanse(out, 32);
		return nv_error_set(NV_EMISMATCH,
				    "age: X25519 share has low order (all-zero shared secret)");
	}
	return 0;
}

int nv_age_hkdf(unsigned char *out, size_t outlen, const void *ikm, size_t ikmlen,
		const void *salt, size_t saltlen, const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5], *q = p;
	int ok;

	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	/* An empty salt means HashLen zero bytes (RFC 5869), which OpenSSL does too. */
	if (saltlen)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*q = OSSL_PARAM_construct_end();
	ok = c && EVP_KDF_derive(c, out, outlen, p) == 1;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	return ok ? 0 : nv_error_set(NV_ERR, "age: HKDF-SHA256 failed");
}

int nv_age_hmac(unsigned char out[32], const unsigned char *key, size_t keylen,
		const void *msg, size_t len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM p[2];
	size_t olen = 0;
	int ok;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	ok = c && EVP_MAC_init(c, key, keylen, p) == 1 && EVP_MAC_update(c, msg, len) == 1 &&
	     EVP_MAC_final(c, out, &olen, 32) == 1 && olen == 32;
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	return ok ? 0 : nv_error_set(NV_ERR, "age: HMAC-SHA256 failed");
}

int nv_age_scrypt(unsigned char out[32], const char *pass, const unsigned char *salt,
		  size_t saltlen, int log2n)
{
	uint64_t n = (uint64_t)1 << log2n;
	/* scrypt needs 128 * r * N bytes for V plus a little; allow exactly that. */
	uint64_t maxmem = 128 * 8 * n + 1024 * 1024;

	if (EVP_PBE_scrypt(pass, strlen(pass), salt, saltlen, n, 8, 1, maxmem, out, 32) != 1)
		return nv_error_set(NV_ERR, "age: scrypt (work factor %d) failed", log2n);
	return 0;
}

int nv_age_aead_new(nv_age_aead **out, const unsigned char key[32])
{
	nv_age_aead *a = calloc(1, sizeof(*a));

	if (!a || !(a->ctx = EVP_CIPHER_CTX_new()) ||
	    EVP_CipherInit_ex(a->ctx, EVP_chacha20_poly1305(), NULL, key, NULL, -1) != 1) {
		nv_age_aead_free(a);
		return nv_error_set(NV_ERR, "age: ChaCha20-Poly1305 setup failed");
	}
	*out = a;
	return 0;
}

int nv_age_aead_seal(nv_age_aead *a, const unsigned char nonce[12], const unsigned char *in,
		     size_t inlen, unsigned char *out)
{
	int l1 = 0, l2 = 0;

	if (EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, nonce, 1) != 1 ||
	    (inlen && EVP_CipherUpdate(a->ctx, out, &l1, in, (int)inlen) != 1) ||
	    EVP_CipherFinal_ex(a->ctx, out + l1, &l2) != 1 ||
	    (size_t)(l1 + l2) != inlen ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, NV_AGE_TAG, out + inlen) != 1)
		return nv_error_set(NV_ERR, "age: ChaCha20-Poly1305 encryption failed");
	return 0;
}

int nv_age_aead_open(nv_age_aead *a, const unsigned char nonce[12], const unsigned char *in,
		     size_t inlen, unsigned char *out)
{
	size_t clen = inlen - NV_AGE_TAG;
	int l1 = 0, l2 = 0;

	if (EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, nonce, 0) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, NV_AGE_TAG,
				(void *)(in + clen)) != 1 ||
	    (clen && EVP_CipherUpdate(a->ctx, out, &l1, in, (int)clen) != 1))
		return nv_error_set(NV_ERR, "age: ChaCha20-Poly1305 decryption failed");
	if (EVP_CipherFinal_ex(a->ctx, out + l1, &l2) != 1) {
		/* Never hand out unauthenticated plaintext, even in a buffer the caller drops. */
		OPENSSL_cleanse(out, clen);
		return 1;
	}
	return 0;
}

void nv_age_aead_free(nv_age_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx);
	free(a);
}

static int nv_age_oneshot(unsigned char *out, const unsigned char key[32],
			  const unsigned char *in, size_t inlen, int enc)
{
	static const unsigned char zero_nonce[12];
	nv_age_aead *a = NULL;
	int rc;

	if ((rc = nv_age_aead_new(&a, key)) < 0)
		return rc;
	rc = enc ? nv_age_aead_seal(a, zero_nonce, in, inlen, out)
		 : nv_age_aead_open(a, zero_nonce, in, inlen, out);
	nv_age_aead_free(a);
	return rc;
}

int nv_age_wrap(unsigned char *out, const unsigned char key[32], const unsigned char *in, size_t inlen)
{
	return nv_age_oneshot(out, key, in, inlen, 1);
}

int nv_age_unwrap(unsigned char *out, const unsigned char key[32], const unsigned char *in, size_t inlen)
{
	return nv_age_oneshot(out, key, in, inlen, 0);
}
