/* engine_int.h: the run, worker and job of copy/sync/check, shared by engine.c
 * and engine_delete.c only (nothing outside src/engine/ includes it). */
#ifndef NV_ENGINE_INT_H
#define NV_ENGINE_INT_H

#include "engine.h"
#include "dest_lock.h"
#include "planner.h"
#include "pool.h"
#include "transfer.h"
#include "util/exit.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

typedef struct nv_job {
	nv_action act;
	char *key;         /* NV_ACT_DELETE: NULL, keys[] instead */
	nv_entry src, dst; /* .key left NULL */
	char **keys;       /* NV_ACT_DELETE: one batch (nv_drv_remove_batch keys at most) */
	size_t nkeys;
	int has_dst;       /* the key exists at the destination: an overwrite */
	int backed_up;     /* its old version is in --backup-dir: not again on a retry,
			    * which could copy the new version over it */
	int reading_dst;   /* check: the side being read, for a report of its failure */
	nv_xfer_result res; /* of its copy, for nv_xfer_report */
} nv_job;

/* A worker's own context: the transfer's, and its --backup-dir connection. */
typedef struct nv_worker {
	nv_xfer_ctx x;
	nv_store *bak;     /* NULL without --backup-dir */
} nv_worker;

typedef struct nv_run {
	const nv_engine_opts *o;
	const nv_location *src_loc, *dst_loc;
	nv_pool *pool;
	FILE *deletes;             /* dst-only keys, applied once both listings ended sorted */
	uint64_t src_files, dst_files, ndeletes; /* as planned, filters applied: the guard's */
	nv_dest_lock *lock;        /* copy, sync: the destination's lock and lease */
	char hide[4200];           /* a --backup-dir inside DST: its key prefix there */
	nv_xfer_tally copies;      /* what the copies did (and a dry run's "would copy") */
	_Atomic uint64_t skipped, deleted, backed_up;
	_Atomic uint64_t identical, differ, missing, extra;
	uint64_t unlisted;         /* source names skipped as unsafe */
	uint64_t queued;           /* jobs made by the planner (its thread only) */
	int noticed;               /* the source listed o->notice_key */
	int mine;                  /* the key being planned is this shard's */
	nv_outcome out;            /* what the passes counted (failures, differences, fatal) */
} nv_run;

void nv_job_free(nv_job *j); /* engine_delete.c */
/* One attempt at a batch of deletions (an NV_ACT_DELETE job). */
int nv_delete_attempt(nv_run *r, nv_worker *w, nv_job *j);
/* Queues the deletions recorded in r->deletes, in driver-sized batches. */
int nv_apply_deletes(nv_run *r);

#endif
