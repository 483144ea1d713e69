/* partial.h: a shard's partial catalog (docs/FORMAT.md 2.9): the catalog lines
 * of its files with their objects' stored size and SHA-256, authenticated by
 * an HMAC under K_id and encrypted to the run's key, stored as
 * runs/<run>/shard-<K>-of-<N>.age. Written by a shard (vault_push.c), opened
 * and checked by publish (publish.c). */
#ifndef NV_PARTIAL_H
#define NV_PARTIAL_H

#include "push_catalog.h"
#include "run_doc.h"

/* Writes the partial catalog of shard h->shard of h->shards: the files of
 * recs (sorted: nv_push_recs_sort; none failed), the MAC under kid's partial
 * key, encrypted to r (the run's key), as a stream through s (two passes
 * over recs: the MAC, then the bytes); it replaces one an earlier run of the
 * same shard wrote. With ps, the next cache of each file is written in the
 * first pass (nv_push_cache_begin done by the caller). The caller flushed the
 * objects first. */
int nv_partial_write(nv_store *s, const unsigned char kid[NV_KID_LEN], const nv_partial_head *h,
		     const nv_age_recipient *r, nv_push_recs *recs, nv_push_state *ps);

typedef struct nv_partial nv_partial;

/* Fetches the partial catalog at key into a spool (age_spool.h) and checks,
 * before any of it is used: it decrypts with id; its last line's MAC under
 * kid's partial key is that of every byte before it (else NV_EMISMATCH:
 * forged or altered); its header is want's (vault, run, run key, shard K of
 * N). *bytes gets the stored size. */
int nv_partial_open(nv_partial **out, nv_store *s, const char *key,
		    const unsigned char kid[NV_KID_LEN], const nv_partial_head *want,
		    const nv_age_identity *id, uint64_t *bytes);
/* The next file line, checked: its path a safe key of shard K (FORMAT.md
 * 14), after the one before in byte order; its object named after the
 * contents the line claims (its id the HMAC of the SHA-256 under K_id).
 * 0 with *e and *obj (e->object is obj->name; both valid until the next
 * call), NV_EOF after the last. */
int nv_partial_next(nv_partial *p, nv_cat_entry *e, nv_obj_rec *obj);
/* Wipes what was decrypted. Accepts NULL. */
void nv_partial_close(nv_partial *p);

#endif
