/* hash.h: streaming SHA-256 and hex helpers over OpenSSL, with no OpenSSL
 * types in sight. Everyone may call. */
#ifndef NV_HASH_H
#define NV_HASH_H

#include <stddef.h>
#include <stdint.h>

#define NV_SHA256_LEN 32
#define NV_SHA256_HEX 65 /* 64 hex digits + NUL */

typedef struct nv_sha256 nv_sha256;

nv_sha256 *nv_sha256_new(void);
void nv_sha256_update(nv_sha256 *h, const void *buf, size_t len);
/* Writes the digest and resets h for reuse. */
void nv_sha256_final(nv_sha256 *h, unsigned char out[NV_SHA256_LEN]);
void nv_sha256_free(nv_sha256 *h);
void nv_sha256_buf(unsigned char out[NV_SHA256_LEN], const void *buf, size_t len);
/* HMAC-SHA256 of the concatenation of n pieces (msg[i], len[i] bytes), on a
 * context the calling thread keeps: 0, or -1 when OpenSSL failed. */
int nv_hmac_sha256_v(unsigned char out[NV_SHA256_LEN], const void *key, size_t keylen,
		     const void *const *msg, const size_t *len, size_t n);

void nv_hex(char *out, const unsigned char *in, size_t len); /* out: 2*len+1 */
int nv_unhex(unsigned char *out, size_t outlen, const char *hex); /* exact length */

#endif
