/* enc_put.h: a new object written as a stream of plaintext pieces, encrypted
 * with age as they come, so that a catalog of a million files (or a shard's
 * partial catalog) is never held whole. Called by push_catalog.c and
 * partial.c. */
#ifndef NV_ENC_PUT_H
#define NV_ENC_PUT_H

#include "age/age.h"
#include "driver/driver.h"
#include "vault_doc.h"

typedef struct nv_encput nv_encput;

/* Opens key through s for plen bytes of plaintext encrypted to rc[0..n):
 * write-once when exclusive, else replacing what is there (atomically). */
int nv_encput_open(nv_encput **out, nv_store *s, const char *key, int exclusive, uint64_t plen,
		   const nv_age_recipient *rc, size_t n);
/* The next piece of plaintext. */
int nv_encput_write(nv_encput *w, const void *buf, size_t len);
/* The last chunk, then the object committed: refused (nothing committed)
 * unless the plaintext written hashes to want_sha (when not NULL); its
 * stored size and SHA-256 go to out (out->name untouched), checked against
 * what the store confirms. Frees w either way. */
int nv_encput_commit(nv_encput *w, const unsigned char *want_sha, nv_obj_rec *out);
/* Nothing committed. Accepts NULL. */
void nv_encput_abort(nv_encput *w);

#endif
