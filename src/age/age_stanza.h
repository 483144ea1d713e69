/* age_stanza.h: the two stanza types, each wrapping the file key: X25519
 * (age_x25519.c) and scrypt (age_scrypt.c); they call only age_crypto and
 * age_header (age_int.h). Included by src/age/. */
#ifndef NV_AGE_STANZA_H
#define NV_AGE_STANZA_H

#include "age.h"
#include "age_header.h"

/* Writes the NV_AGE_X25519_STANZA_LEN bytes of r's stanza into out. */
int nv_age_x25519_wrap(char *out, const nv_age_recipient *r, const unsigned char file_key[16]);
/* 0 and file_key set when an identity matches, 1 when none does, <0 on a
 * malformed or low-order stanza. */
int nv_age_x25519_unwrap(unsigned char file_key[16], const struct nv_age_stanza *s,
			 const nv_age_identity *id);
/* Writes the one scrypt stanza (*len bytes, at most NV_AGE_SCRYPT_STANZA_MAX)
 * for file_key into out, with a fresh salt and work factor log2n. */
int nv_age_scrypt_wrap(char *out, size_t *len, const unsigned char file_key[16],
		       const char *passphrase, int log2n);
/* h must hold exactly one scrypt stanza; its work factor above max_log2n is
 * refused before any work. A wrong passphrase is NV_EAUTH. */
int nv_age_scrypt_unwrap(unsigned char file_key[16], const struct nv_age_header *h,
			 const char *passphrase, int max_log2n);

#endif
