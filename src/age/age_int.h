/* age_int.h: constants of the age v1 format and the identity's layout, shared by
 * the age module's files (src/age/) and its tests; no OpenSSL types, no functions.
 *
 * The module's files call downwards only, one layer to those below it:
 *   age_crypto.c  (age_crypto.h)  OpenSSL primitives, wipe       calls nothing here
 *   age_header.c  (age_header.h)  header text, MAC, STREAM nonce  crypto
 *   age_x25519.c, age_scrypt.c (age_stanza.h)  the stanza types   crypto, header
 *   age_enc.c, age_dec.c (age.h, age_stream.h)  streams           the three above
 *   age_buf.c     (age.h)         whole buffers, armor, age -p    streams and below
 *   age_keys.c    (age.h)         keys, key files, identity load  buffers and below
 * A file includes the headers of the layers it calls, never one above it. */
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
/* Room for "-> scrypt " + 22 + " " + 2 digits + "\n" + 43 + "\n" (80 bytes). */
#define NV_AGE_SCRYPT_STANZA_MAX 128
/* "--- " + 43 + "\n" */
#define NV_AGE_MAC_LINE_LEN 48
/* A header larger than this is refused: it bounds a decryptor's memory. */
#define NV_AGE_HEADER_MAX (1u << 20)
#define NV_AGE_X25519_LABEL "age-encryption.org/v1/X25519"
#define NV_AGE_SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define NV_AGE_SCRYPT_SALT 16

/* Made and freed by age_keys.c; read by the X25519 stanza and the decryptor.
 * xk holds each key imported once (age_crypto.h), for all the files a pull
 * decrypts with it. */
struct nv_age_identity {
	size_t n;
	unsigned char (*sk)[32];
	unsigned char (*pk)[32];
	struct nv_age_xkey **xk;
};

#endif
