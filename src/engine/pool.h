/* pool.h: the one worker pool every command runs on: N workers each with
 * their own driver connections, a bounded queue, the one retry policy
 * (util/retry.h), the one error classification (util/exit.h), cancellation.
 * Called by the engine (copy, sync, check) and the vault (push, pull, verify). */
#ifndef NV_POOL_H
#define NV_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/exit.h"

typedef struct nv_pool nv_pool;

/* What a command plugs in. `run` is the caller's context given to
 * nv_pool_start; `w` a worker's own context made by worker_open. */
typedef struct nv_pool_ops {
	/* may be NULL. On the worker's thread, before its first item: connections,
	 * buffers. A failure stops the run (it is fatal). *w belongs to the worker. */
	int (*worker_open)(void *run, void **w);
	/* may be NULL. On the worker's thread after its last item, also after a
	 * failed worker_open (w then as it was left). ok is 1 when the run was not
	 * stopped: a durability barrier (nv_drv_flush) goes here; its error
	 * stops the run. Frees w. */
	int (*worker_close)(void *run, void *w, int ok);
	/* must provide. One attempt at one item; 0 or a negative nv_err with the
	 * thread's message set. Called again (after a backoff) on NV_ERETRY while
	 * the item's attempt budget lasts, so an attempt must start the item over. */
	int (*attempt)(void *run, void *w, void *item);
	/* may be NULL. The item's final result (0, or the error after the last
	 * attempt), on the worker's thread, before the pool counts and logs it.
	 * Returning 1 means "counted and logged by the caller": the pool then
	 * does neither. Also called with NV_ECANCEL for items never attempted
	 * because the run was stopped. */
	int (*done)(void *run, void *w, void *item, int rc);
	/* must provide. The item's name for logs ("retry", "failed"). */
	const char *(*name)(void *run, void *item);
	/* may be NULL. Frees an item after done(). */
	void (*free_item)(void *run, void *item);
} nv_pool_ops;

typedef struct nv_pool_opts {
	unsigned workers;   /* at least 1 */
	size_t queue_len;   /* bounded queue; 0: 4 per worker */
	unsigned retries;   /* retries per item, shared with the drivers (retry.h) */
} nv_pool_opts;

/* Starts the workers. *out belongs to the caller until nv_pool_finish. */
int nv_pool_start(nv_pool **out, const nv_pool_opts *o, const nv_pool_ops *ops, void *run);
/* Hands an item to the workers; blocks while the queue is full. NV_ECANCEL
 * when the run was stopped: the item was not taken (still the caller's). */
int nv_pool_submit(nv_pool *p, void *item);
/* No more items: waits for every worker, adds the pool's counts to *out
 * (failed: every item logged as failed, also one whose fatal error stopped the
 * run; differ; fatal: the first fatal error), frees the pool. The first
 * fatal error's message is the thread's message on return. */
void nv_pool_finish(nv_pool *p, nv_outcome *out);

/* Stops the run with rc (fatal): queued items are not attempted, retries end.
 * The first stop wins; its message (the calling thread's) is kept. */
void nv_pool_stop(nv_pool *p, int rc);
/* 0, or the error that stopped the run. */
int nv_pool_stopped(const nv_pool *p);
/* Counts (and logs, with what = "failed" or "differ") a part of an item that
 * failed on its own (one key of a batch of deletions), classified as items are:
 * a fatal rc stops the run. */
void nv_pool_count(nv_pool *p, const char *name, int rc);
/* The flag retries poll; set once the run is stopped. */
const atomic_int *nv_pool_cancel_flag(const nv_pool *p);

#endif
