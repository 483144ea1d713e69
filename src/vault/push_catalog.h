/* push_catalog.h: what a push hands to publication, kept sorted on disk
 * (util/runs.h) rather than in memory: each file pushed by path (its catalog
 * line, its object's record and its cache fact) and each object named by name
 * (the manifest's lines); and the catalog built from them as a stream. Called
 * by vault_push.c, push_publish.c, partial.c and publish.c (which merges the
 * shards' files into them); calls push_state.c. */
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
/* Records a file pushed, with its object (f->cat and f->obj complete; the
 * cache fact from f->e). Not thread-safe: the caller serialises. */
int nv_push_recs_add(nv_push_recs *r, const nv_push_file *f);
/* The file alone, its object not among r->objs (publish adds those once it
 * knows which object each file names). */
int nv_push_recs_add_file(nv_push_recs *r, const nv_push_file *f);
/* No more files: both sorted, ready for the passes below and the manifest. */
int nv_push_recs_sort(nv_push_recs *r);
/* Accepts a zeroed r. */
void nv_push_recs_close(nv_push_recs *r);

/* One file as read back from r->files. */
typedef struct nv_push_rec {
	nv_cat_entry cat;     /* .path and .object point at path and name below */
	nv_obj_rec obj;       /* its object: .name is name; stored size, SHA-256 */
	nv_cache_fact fact;   /* what the next cache says of it */
	char path[4097];
	char name[NV_OBJECT_NAME_MAX];
} nv_push_rec;
/* A pass over the files (sorted) in path order: fn on each, until an error
 * (which it returns). The walk lists each path once: a path seen twice is
 * NV_EINVAL. */
int nv_push_recs_each(nv_push_recs *r, int (*fn)(void *ctx, const nv_push_rec *rec), void *ctx);

/* The SHA-256 of the plaintext of the catalog headed by head (full, for its
 * object id) and of its body (every line but the header: push/<vault_id>/last),
 * and its length, in one pass over r->files. With ps, the next cache of
 * every file is written on the way (nv_push_cache_begin done by the caller).
 * With check, each line is parsed back as every reader parses it (FORMAT.md
 * 3, rule 4): files merged from several hosts could name one path as a file
 * and a directory. */
int nv_push_catalog_hash(const nv_catalog *head, nv_push_recs *r, nv_push_state *ps, int check,
			 unsigned char full[NV_SHA256_LEN], unsigned char body[NV_SHA256_LEN],
			 uint64_t *plen);
/* Encrypts the same catalog to rc[0..n) into the new write-once object of s
 * named after id, as a stream (a second pass); its plaintext must hash to
 * full again, else nothing is committed. out->name malloc'd. */
int nv_push_catalog_put(const nv_catalog *head, nv_push_recs *r, nv_store *s, const char *id,
			const unsigned char full[NV_SHA256_LEN], uint64_t plen,
			const nv_age_recipient *rc, size_t n, nv_obj_rec *out);

#endif
