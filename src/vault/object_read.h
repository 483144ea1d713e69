/* object_read.h: one vault object read exactly once: its stored bytes hashed
 * against the verified manifest and, in the same pass, decrypted and the
 * plaintext hashed against the signed catalog (FORMAT.md section 3, rule 2).
 * Called by vault_pull.c (pull, verify) and by any other reader of objects. */
#ifndef NV_VAULT_OBJECT_READ_H
#define NV_VAULT_OBJECT_READ_H

#include "age/age.h"
#include "driver/driver.h"
#include "vault_doc.h"

/* A reader: buf_size bytes of stored bytes at a time (0: 1 MiB), their
 * plaintext, their two SHA-256 side by side (util/sha_pair.h). One per thread,
 * reused object after object; memory is that, whatever the size of the objects. */
typedef struct nv_objread nv_objread;

int nv_objread_new(nv_objread **out, size_t buf_size);
/* Wipes the plaintext buffer. Accepts NULL. */
void nv_objread_free(nv_objread *r);

/* Reads rec's stored bytes from vault once, from its first byte to one past
 * the manifest's size, checking their size and SHA-256 against rec. With id
 * and e, decrypts the same bytes as they arrive and checks the plaintext's
 * size and SHA-256 against e; the plaintext is discarded (verify --level deep).
 * Returns 0 only when every check held; NV_ENOTFOUND for an absent object,
 * NV_EMISMATCH for bytes that are not what the manifest or the catalog says
 * (a stored-bytes mismatch is reported in preference to the decryption error
 * it causes), or the store's error. */
int nv_objread_check(nv_objread *r, nv_store *vault, const nv_obj_rec *rec,
		     const nv_age_identity *id, const nv_cat_entry *e);

/* The same single pass with id and e, restoring e->path beneath target with
 * wo: each chunk's plaintext goes to the target's temporary file once its
 * AEAD tag verified, and the file is committed (renamed into place) only when
 * the stored bytes' size and SHA-256 equal rec's and the plaintext's equal
 * e's; otherwise it is removed and nothing is committed. An error of the
 * target is never NV_ENOTFOUND or NV_EMISMATCH (those speak of the vault). */
int nv_objread_restore(nv_objread *r, nv_store *vault, const nv_obj_rec *rec,
		       const nv_age_identity *id, const nv_cat_entry *e,
		       nv_store *target, const nv_write_opts *wo);

#endif
