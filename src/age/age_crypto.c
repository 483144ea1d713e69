/* age_crypto.c: the OpenSSL 3 primitives age needs (X25519, HKDF-SHA256,
 * HMAC-SHA256, ChaCha20-Poly1305, scrypt), behind EVP, and the wipe every layer
 * uses. The age module's bottom layer: calls no other age file. Called by
 * src/age/ only (age_crypto.h), nv_age_wipe_free by everyone (age.h). */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "age_crypto.h"
#include "age_int.h"
#include "util/error.h"
#include "util/hash.h"

struct nv_age_aead {
	EVP_CIPHER_CTX *ctx;
};

struct nv_age_xkey {
	EVP_PKEY *k;
};

/* Every file pushed or pulled is its own age file with two ChaCha20-Poly1305
 * keys and two X25519 keys made from bytes; EVP_chacha20_poly1305() and
 * EVP_PKEY_new_raw_*_key() make OpenSSL 3 look the algorithm up by name
 * (locks, a hash table) at each. So the cipher is fetched once per process,
 * each thread keeps a context that makes X25519 keys (10-15 us less per file
 * pushed), and both are released at exit (the exiting thread's context too:
 * no key destructor runs for it). HMAC and HKDF run on util/hash.h's
 * per-thread HMAC context for the same reason. */
static EVP_CIPHER *nv_age_chacha;
static pthread_key_t nv_age_keymaker; /* the thread's EVP_PKEY_CTX for X25519 fromdata */
static int nv_age_keymaker_ok;
static pthread_once_t nv_age_chacha_once = PTHREAD_ONCE_INIT;

static void nv_age_keymaker_free(void *c)
{
	EVP_PKEY_CTX_free(c);
}

static void nv_age_chacha_release(void)
{
	if (nv_age_keymaker_ok) {
		nv_age_keymaker_free(pthread_getspecific(nv_age_keymaker));
		pthread_setspecific(nv_age_keymaker, NULL);
	}
	EVP_CIPHER_free(nv_age_chacha);
	nv_age_chacha = NULL;
}

static void nv_age_chacha_fetch(void)
{
	nv_age_chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	nv_age_keymaker_ok = pthread_key_create(&nv_age_keymaker, nv_age_keymaker_free) == 0;
	atexit(nv_age_chacha_release);
}

/* An X25519 key from its raw private (EVP_PKEY_KEYPAIR) or public bytes, on
 * the thread's context; NULL on failure. */
static EVP_PKEY *nv_age_x25519_key_make(const unsigned char raw[32], int selection)
{
	OSSL_PARAM p[2];
	EVP_PKEY_CTX *c;
	EVP_PKEY *k = NULL;

	pthread_once(&nv_age_chacha_once, nv_age_chacha_fetch);
	if (!nv_age_keymaker_ok)
		return NULL;
	if (!(c = pthread_getspecific(nv_age_keymaker))) {
		if (!(c = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL)) ||
		    EVP_PKEY_fromdata_init(c) != 1 || pthread_setspecific(nv_age_keymaker, c) != 0) {
			EVP_PKEY_CTX_free(c);
			return NULL;
		}
	}
	p[0] = OSSL_PARAM_construct_octet_string(selection == EVP_PKEY_PUBLIC_KEY ?
						 OSSL_PKEY_PARAM_PUB_KEY : OSSL_PKEY_PARAM_PRIV_KEY,
						 (void *)raw, 32);
	p[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_fromdata(c, &k, selection, p) != 1) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static const EVP_CIPHER *nv_age_chacha_alg(void)
{
	pthread_once(&nv_age_chacha_once, nv_age_chacha_fetch);
	return nv_age_chacha ? nv_age_chacha : EVP_chacha20_poly1305();
}

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

int nv_age_xkey_new(nv_age_xkey **out, const unsigned char sk[32], unsigned char pub[32])
{
	nv_age_xkey *x = calloc(1, sizeof(*x));
	size_t len = 32;

	*out = NULL;
	/* The import computes the public key (a scalar multiplication): taken from
	 * there rather than computed a second time. */
	if (!x || !(x->k = nv_age_x25519_key_make(sk, EVP_PKEY_KEYPAIR)) ||
	    (pub && (EVP_PKEY_get_raw_public_key(x->k, pub, &len) != 1 || len != 32))) {
		nv_age_xkey_free(x);
		return nv_error_set(NV_ERR, "age: X25519 key setup failed");
	}
	*out = x;
	return 0;
}

void nv_age_xkey_free(nv_age_xkey *x)
{
	if (!x)
		return;
	EVP_PKEY_free(x->k);
	free(x);
}

int nv_age_xkey_derive(unsigned char out[32], const nv_age_xkey *x, const unsigned char peer[32])
{
	static const unsigned char zero[32];
	EVP_PKEY *p = nv_age_x25519_key_make(peer, EVP_PKEY_PUBLIC_KEY);
	/* A key shared by threads only ever read: OpenSSL 3 allows that. */
	EVP_PKEY_CTX *c = p ? EVP_PKEY_CTX_new(x->k, NULL) : NULL;
	size_t len = 32;
	int ok;

	if (!c) {
		ok = -1;
	} else {
		/* OpenSSL fails the derivation itself when the result is all zero. */
		ok = EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, p) == 1 &&
		     EVP_PKEY_derive(c, out, &len) == 1 && len == 32 &&
		     CRYPTO_memcmp(out, zero, 32) != 0;
	}
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(p);
	if (ok < 0)
		return nv_error_set(NV_ERR, "age: X25519 key setup failed");
	if (!ok) {
		OPENSSL_cleanse(out, 32);
		return nv_error_set(NV_EMISMATCH,
				    "age: X25519 share has low order (all-zero shared secret)");
	}
	return 0;
}

int nv_age_x25519_public(unsigned char pub[32], const unsigned char sk[32])
{
	nv_age_xkey *x;
	int rc = nv_age_xkey_new(&x, sk, pub);

	nv_age_xkey_free(x);
	return rc;
}

int nv_age_x25519(unsigned char out[32], const unsigned char sk[32], const unsigned char peer[32],
		  unsigned char pub_out[32])
{
	nv_age_xkey *x;
	int rc = nv_age_xkey_new(&x, sk, pub_out);

	if (rc == 0)
		rc = nv_age_xkey_derive(out, x, peer);
	nv_age_xkey_free(x);
	return rc;
}

int nv_age_hkdf(unsigned char *out, size_t outlen, const void *ikm, size_t ikmlen,
		const void *salt, size_t saltlen, const char *info)
{
	unsigned char prk[32], t[32], ctr = 1;
	const void *msg[3] = { t, info, &ctr };
	size_t len[3] = { 0, strlen(info), 1 }, done;
	int rc;

	if (outlen > 255 * 32)
		return nv_error_set(NV_ERR, "age: HKDF-SHA256 output too long");
	/* Extract. An empty salt is HashLen zero bytes (RFC 5869), which HMAC pads
	 * the empty key to anyway. */
	rc = nv_hmac_sha256_v(prk, salt, saltlen, &ikm, &ikmlen, 1);
	/* Expand: T(i) = HMAC(PRK, T(i-1) | info | i), T(0) empty. */
	for (done = 0; rc == 0 && done < outlen; ctr++) {
		size_t take = outlen - done < 32 ? outlen - done : 32;

		if ((rc = nv_hmac_sha256_v(t, prk, 32, msg, len, 3)) == 0)
			memcpy(out + done, t, take);
		done += take;
		len[0] = 32;
	}
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(t, sizeof(t));
	return rc ? nv_error_set(NV_ERR, "age: HKDF-SHA256 failed") : 0;
}

int nv_age_hmac(unsigned char out[32], const unsigned char *key, size_t keylen,
		const void *msg, size_t len)
{
	if (nv_hmac_sha256_v(out, key, keylen, &msg, &len, 1) < 0)
		return nv_error_set(NV_ERR, "age: HMAC-SHA256 failed");
	return 0;
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
	    EVP_CipherInit_ex2(a->ctx, nv_age_chacha_alg(), key, NULL, -1, NULL) != 1) {
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
