/* age_int.h: constants and helpers shared by the age module's files (crypto
 * wrappers, header model). Included by src/age*.c only; no OpenSSL types. */
#ifndef NV_AGE_INT_H
#define NV_AGE_INT_H

#include <stddef.h>

#include "age.h"

#define NV_AGE_INTRO "age-encryption.org/v1\n"
#define NV_AGE_INTRO_LEN 22
#define NV_AGE_VERSION_PREFIX "age-encryption.org/"
#define NV_AGE_TAG 16
#define NV_AGE_CHUNK_ENC (NV_AGE_CHUNK_SIZE + NV_AGE_TAG)
#define NV_AGE_FILE_KEY 16
#define NV_AGE_NONCE 16
#define NV_AGE_STANZA_COLS 64
/* "-> X25519 " + 43 + "\n" + 43 + "\n" */
#define NV_AGE_X25519_STANZA_LEN 98
/* "--- " + 43 + "\n" */
#define NV_AGE_MAC_LINE_LEN 48
/* A header larger than this is refused: it bounds a decryptor's memory. */
#define NV_AGE_HEADER_MAX (1u << 20)
#define NV_AGE_X25519_LABEL "age-encryption.org/v1/X25519"
#define NV_AGE_SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define NV_AGE_SCRYPT_SALT 16

struct nv_age_identity {
	size_t n;
	unsigned char (*sk)[32];
	unsigned char (*pk)[32];
};

/* age_crypto.c: OpenSSL behind small functions; each sets the error message. */
int nv_age_random(void *buf, size_t n);
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

/* age_header.c: the text header. */
struct nv_age_stanza {
	char *type;
	char **args;
	size_t nargs;
	unsigned char *body;
	size_t bodylen;
};
struct nv_age_header {
	struct nv_age_stanza *st;
	size_t n;
	size_t mac_off; /* bytes covered by the MAC: up to and including "---" */
	unsigned char mac[32];
};
/* Where the header ends in buf: its length including the MAC line's '\n', 0 when
 * more bytes are needed, <0 (message set) when buf cannot start an age v1 file. */
/* *scanned (start at 0) remembers how far earlier calls looked. */
long nv_age_header_end(const unsigned char *buf, size_t len, size_t *scanned);
/* Parses exactly len bytes (as measured by nv_age_header_end). */
int nv_age_header_parse(struct nv_age_header *h, const unsigned char *buf, size_t len);
void nv_age_header_clear(struct nv_age_header *h);
/* Writes one stanza "-> args...\n" + wrapped body into out (NULL: only measures). */
size_t nv_age_stanza_write(char *out, const char *const *args, size_t nargs,
			   const unsigned char *body, size_t bodylen);
/* Appends "--- <mac>\n" after hdr[0..len) (which ends before "---"), keyed by
 * file_key; returns the new length. hdr must have NV_AGE_MAC_LINE_LEN spare. */
int nv_age_header_seal(unsigned char *hdr, size_t *len, const unsigned char file_key[16]);
/* Checks h's MAC over buf[0..h->mac_off) with file_key. */
int nv_age_header_verify(const struct nv_age_header *h, const unsigned char *buf,
			 const unsigned char file_key[16]);
/* Payload key from the file key and the 16-byte nonce. */
int nv_age_payload_key(unsigned char key[32], const unsigned char file_key[16],
		       const unsigned char nonce[16]);
/* STREAM nonce: 11-byte big-endian counter, then the last-chunk flag. */
void nv_age_stream_nonce(unsigned char nonce[12], unsigned long long counter, int last);

/* age_x25519.c: X25519 stanzas. */
int nv_age_x25519_wrap(char *out, const nv_age_recipient *r, const unsigned char file_key[16]);
/* 0 and file_key set when an identity matches, 1 when none does, <0 on a
 * malformed or low-order stanza. */
int nv_age_x25519_unwrap(unsigned char file_key[16], const struct nv_age_stanza *s,
			 const nv_age_identity *id);
/* age_scrypt.c: a header with one scrypt stanza. */
int nv_age_scrypt_unwrap(unsigned char file_key[16], const struct nv_age_header *h,
			 const char *passphrase, int max_log2n);

/* age_dec.c: decryptor whose header stage is pluggable (X25519 or passphrase). */
int nv_age_dec_new_passphrase(nv_age_dec **out, const char *passphrase, int max_log2n);
/* age_enc.c: encryptor with a ready-made header (stanzas, before the MAC line). */
int nv_age_enc_new_raw(nv_age_enc **out, const unsigned char file_key[16],
		       const char *stanzas, size_t len);
/* age_buf.c: runs e over the whole of in; *out malloc'd. */
int nv_age_enc_run(unsigned char **out, size_t *outlen, nv_age_enc *e, const void *in,
		   size_t inlen);

#endif
