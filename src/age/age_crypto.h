/* age_crypto.h: the OpenSSL primitives age needs, behind small functions that
 * each set the error message; the bottom layer (age_int.h). Included by src/age/. */
#ifndef NV_AGE_CRYPTO_H
#define NV_AGE_CRYPTO_H

#include <stddef.h>

int nv_age_random(void *buf, size_t n);
/* An X25519 private key imported once (an identity's), for many derivations:
 * the import costs a scalar multiplication, as much as a derivation. pub gets
 * its public key (or NULL). May be used by several threads at once. */
typedef struct nv_age_xkey nv_age_xkey;
int nv_age_xkey_new(nv_age_xkey **out, const unsigned char sk[32], unsigned char pub[32]);
/* Refuses (NV_EMISMATCH) an all-zero result: the peer share has low order. */
int nv_age_xkey_derive(unsigned char out[32], const nv_age_xkey *x, const unsigned char peer[32]);
void nv_age_xkey_free(nv_age_xkey *x);
int nv_age_x25519_public(unsigned char pub[32], const unsigned char sk[32]);
/* Refuses (NV_EMISMATCH) an all-zero result: the peer share has low order. */
int nv_age_x25519(unsigned char out[32], const unsigned char sk[32], const unsigned char peer[32],
		  unsigned char pub_out[32]); /* pub_out: sk's public key, or NULL */
int nv_age_hkdf(unsigned char *out, size_t outlen, const void *ikm, size_t ikmlen,
		const void *salt, size_t saltlen, const char *info);
int nv_age_hmac(unsigned char out[32], const unsigned char *key, size_t keylen,
		const void *msg, size_t len);
int nv_age_scrypt(unsigned char out[32], const char *pass, const unsigned char *salt,
		  size_t saltlen, int log2n);

/* ChaCha20-Poly1305 with one key, reused across chunks. */
typedef struct nv_age_aead nv_age_aead;
int nv_age_aead_new(nv_age_aead **out, const unsigned char key[32]);
/* out gets inlen + NV_AGE_TAG bytes. */
int nv_age_aead_seal(nv_age_aead *a, const unsigned char nonce[12], const unsigned char *in,
		     size_t inlen, unsigned char *out);
/* inlen >= NV_AGE_TAG; out gets inlen - NV_AGE_TAG bytes. 1 when the tag does not
 * verify (no message set, the caller names the check), <0 on other errors. */
int nv_age_aead_open(nv_age_aead *a, const unsigned char nonce[12], const unsigned char *in,
		     size_t inlen, unsigned char *out);
void nv_age_aead_free(nv_age_aead *a);
/* One-shot forms with an all-zero nonce, for wrapping file keys in stanzas. */
int nv_age_wrap(unsigned char *out, const unsigned char key[32], const unsigned char *in, size_t inlen);
int nv_age_unwrap(unsigned char *out, const unsigned char key[32], const unsigned char *in, size_t inlen);

#endif
