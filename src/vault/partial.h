/* partial.h: a shard's partial catalog (docs/FORMAT.md 2.9): the catalog lines
 * of its files with their objects' stored size and SHA-256, authenticated by
 * an HMAC under K_id and encrypted to the run's key, stored as
 * runs/<run>/shard-<K>-of-<N>.age. Written by a shard (vault_push.c), opened
 * and checked by publish (publish.c). */
#ifndef NV_PARTIAL_H
#define NV_PARTIAL_H

#include "push_state.h"
#include "run_doc.h"

/* Writes the partial catalog of shard h->shard of h->shards: files[0..n)
 * (sorted by path, none failed), the MAC under kid's partial key, encrypted to
 * r (the run's key), through s; it replaces one an earlier run of the same
 * shard wrote. The caller flushed the objects first. */
int nv_partial_write(nv_store *s, const unsigned char kid[NV_KID_LEN], const nv_partial_head *h,
		     const nv_age_recipient *r, nv_push_file *const *files, size_t n);

/* Reads the partial catalog at key and checks, before any of it is used: it
 * decrypts with id; its last line's MAC under kid's partial key is that of
 * every byte before it (else NV_EMISMATCH: forged or altered); its header is
 * want's (vault, run, run key, shard K of N); each path is a safe key of
 * shard K (FORMAT.md 14), in strictly increasing byte order; each object is
 * named after the contents its line claims (its id the HMAC of the SHA-256
 * under K_id). Appends the files to out (.cat.path and .cat.object point at
 * their .path and .obj.name). *bytes gets the stored size. */
int nv_partial_read(nv_store *s, const char *key, const unsigned char kid[NV_KID_LEN],
		    const nv_partial_head *want, const nv_age_identity *id, nv_push_list *out,
		    uint64_t *bytes);

#endif
