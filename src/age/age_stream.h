/* age_stream.h: the streams' constructors that age.h does not offer, for the
 * whole-buffer layer and tests (age_int.h): an encryptor with a ready-made
 * header, a decryptor that opens with a passphrase. Included by src/age/. */
#ifndef NV_AGE_STREAM_H
#define NV_AGE_STREAM_H

#include <stddef.h>

#include "age.h"

/* age_enc.c: the header's stanzas (before the MAC line) are given, len bytes. */
int nv_age_enc_new_raw(nv_age_enc **out, const unsigned char file_key[16],
		       const char *stanzas, size_t len);
/* age_dec.c: the header must hold one scrypt stanza; see nv_age_scrypt_unwrap. */
int nv_age_dec_new_passphrase(nv_age_dec **out, const char *passphrase, int max_log2n);

#endif
