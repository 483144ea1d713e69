/* push_catalog.h: what a push hands to publication, kept sorted on disk
 * (util/runs.h) rather than in memory: each file pushed by path (its catalog
 * line and its cache fact) and each object named by name (the manifest's
 * lines); and the catalog built from them as a stream. Called by
 * vault_push.c and push_publish.c; calls push_state.c. */
#ifndef NV_PUSH_CATALOG_H
#define NV_PUSH_CATALOG_H

#include "age/age.h"
#include "push_state.h"
#include "util/runs.h"

typedef struct nv_push_recs {
	nv_runs *files;  /* key: path; value: nv_push_frec, then the object name */
	nv_runs *objs;   /* key: object name; value: stored size (8), SHA-256 (32) */
	uint64_t n;      /* files added */
} nv_push_recs;

/* Two empty sorters in the state directory (nv_runs_new_state). */
int nv_push_recs_open(nv_push_recs *r);
/* Records a file pushed, with its object (f->cat and f->obj complete). Not
 * thread-safe: the caller serialises. */
int nv_push_recs_add(nv_push_recs *r, const nv_push_file *f);
/* No more files: both sorted, ready for nv_push_catalog_* and the manifest. */
int nv_push_recs_sort(nv_push_recs *r);
/* Accepts a zeroed r. */
void nv_push_recs_close(nv_push_recs *r);

/* The SHA-256 of the plaintext of the catalog headed by head (full, for its
 * object id) and of its body (every line but the header: push/<vault_id>/last),
 * and its length, in one pass over r->files. With ps, the next cache of
 * every file is written on the way (nv_push_cache_begin done by the caller). */
int nv_push_catalog_hash(const nv_catalog *head, nv_push_recs *r, nv_push_state *ps,
			 unsigned char full[NV_SHA256_LEN], unsigned char body[NV_SHA256_LEN],
			 uint64_t *plen);
/* Encrypts the same catalog to rc[0..n) into the new write-once object of s
 * named after id, as a stream (a second pass); its plaintext must hash to
 * full again, else nothing is committed. out->name malloc'd. */
int nv_push_catalog_put(const nv_catalog *head, nv_push_recs *r, nv_store *s, const char *id,
			const unsigned char full[NV_SHA256_LEN], uint64_t plen,
			const nv_age_recipient *rc, size_t n, nv_obj_rec *out);

#endif
