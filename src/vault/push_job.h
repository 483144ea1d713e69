/* push_job.h: one file of a push, as a job on the one worker pool
 * (engine/pool.h): its listing, the cache, one or two reads, dedup by keyed
 * id, encryption and upload. Called by vault_push.c only (the walk and the
 * whole push), which owns the run these jobs share. */
#ifndef NV_PUSH_JOB_H
#define NV_PUSH_JOB_H

#include "engine/engine.h"
#include "engine/pool.h"
#include "canary_push.h"
#include "objindex.h"
#include "push_catalog.h"
#include "push_state.h"
#include "run_key.h"
#include "vault.h"

#include <pthread.h>
#include <stdatomic.h>

/* One push: what the walk sets up and every job reads, counts and shares. */
typedef struct nv_push {
	nv_vault *v;
	const nv_location *src;
	const nv_engine_opts *o;
	const nv_age_recipient *recips;
	size_t n_recips;
	nv_push_state *ps;
	nv_canary_set *canary; /* NULL: the vault has no drill recipient */
	nv_run_doc run;        /* a shard (o->shard): its run's key, which its */
	nv_age_recipient run_key; /* partial catalog is encrypted to */
	nv_objindex *prev;     /* the generation this push chains from, by object id */
	nv_pool *pool;
	int retarget;          /* the vault's driver can name an object after its last
	                        * byte (never in a dry run, which writes no object) */
	pthread_mutex_t mu;    /* ps's landed objects and sizes, and inflight */
	pthread_cond_t landed_cv;  /* an in-flight upload finished */
	char (*inflight)[NV_OBJECT_ID_HEX]; /* ids being uploaded now, one slot per worker */
	unsigned n_workers;
	atomic_uint n_slots_taken;
	_Atomic uint64_t hashed, uploaded, uploaded_bytes, reused;
	uint64_t unlisted;     /* names the listing skipped as unsafe */
	uint64_t listed;       /* files the walk took (this shard's, filters passed) */
	nv_push_recs recs;     /* the files done, sorted on disk (push_catalog.h) */
	pthread_mutex_t recs_mu;
} nv_push;

/* The pool's operations for a push; run is the nv_push, items its
 * nv_push_file jobs, each freed by the pool once done: what publication
 * needs of a file done went to p->recs. */
extern const nv_pool_ops nv_push_ops;

/* The file of a no-change push, done on the walk's thread: the cache vouches
 * for its contents and the generation chained from holds their object, so
 * nothing is read or stored and handing it to a worker would cost more than
 * the work (two thread switches a file). 1 when done (j recorded and freed),
 * 0 when it goes to the pool; an error (j still the caller's) stops the walk. */
int nv_push_unchanged(nv_push *p, nv_push_file *j);
/* Frees a job (its path and object name). */
void nv_push_file_free(nv_push_file *j);

#endif
