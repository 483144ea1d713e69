/* publish_merge.h: the files of a sharded push's partial catalogs merged on
 * disk (util/runs.h) into the records a push publishes from (push_catalog.h),
 * never all in memory: each partial catalog read as a stream (partial.h),
 * two records of one object compared, contents two shards both stored named
 * once as a single push would store them, and every object read back from
 * the store (vault_pull.h) before any manifest names it. Called by publish.c. */
#ifndef NV_PUBLISH_MERGE_H
#define NV_PUBLISH_MERGE_H

#include "objindex.h"
#include "partial.h"
#include "push_catalog.h"
#include "vault_pull.h"

typedef struct nv_pmerge nv_pmerge;

/* An empty merge of the n shards of a run whose generation chains from prev
 * (an object it names is never renamed: it is stored already). */
int nv_pmerge_new(nv_pmerge **out, unsigned n, const nv_objindex *prev);
/* Every file of shard k's opened partial catalog (its own checks made as it
 * is read: NV_EMISMATCH names the line); *files counts them. */
int nv_pmerge_add(nv_pmerge *m, nv_partial *pc, unsigned k, uint64_t *files);
/* No more shards: the objects compared. Two records of one object name must
 * agree (else NV_EMISMATCH naming both shards); the objects of one id stored
 * under two names (two shards pushed equal contents) are named by the first,
 * unless a manifest already names the other. */
int nv_pmerge_sort(nv_pmerge *m);
/* How many files were added. */
uint64_t nv_pmerge_files(const nv_pmerge *m);
/* Reads every object the merged files name back on the reader pool (o:
 * NV_VREAD_HASH, o->note unused), its stored size and SHA-256 compared with
 * the record; st as nv_vread_run_feed gives it. The shards whose objects
 * differ or are missing are written to bad ("0/3, 2/3", the first few). */
int nv_pmerge_check(nv_pmerge *m, const nv_vread_opts *o, nv_vread_stats *st, char *bad,
		    size_t cap);
/* The merged files, each naming the object it is published with, into out
 * (opened by the caller), sorted. */
int nv_pmerge_recs(nv_pmerge *m, nv_push_recs *out);
/* Removes through s the objects that contents another shard stored too left
 * named by nothing (a failure is a warning: one unnamed object, as a killed
 * push leaves). Only once a generation is published. */
void nv_pmerge_drop_dups(nv_pmerge *m, nv_store *s);
/* Accepts NULL. */
void nv_pmerge_free(nv_pmerge *m);

#endif
