/* pool.c: the one worker pool (pool.h): a bounded queue, N workers with their
 * own contexts, one attempt budget per item, one classification, one stop latch.
 * Called by the engine and the vault commands. */
#include "pool.h"
#include "queue.h"
#include "util/error.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/retry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nv_pool {
	const nv_pool_ops *ops;
	void *run;
	unsigned retries;
	nv_queue *q;
	pthread_t *tids;
	unsigned started;
	atomic_int stop;         /* 0, or the error that stopped the run */
	pthread_mutex_t mu;      /* guards stop_msg */
	char stop_msg[1024];
	_Atomic uint64_t failed, differ;
};

void nv_pool_stop(nv_pool *p, int rc)
{
	pthread_mutex_lock(&p->mu);
	if (!atomic_load(&p->stop)) {
		snprintf(p->stop_msg, sizeof(p->stop_msg), "%s", nv_error_msg());
		atomic_store(&p->stop, rc ? rc : NV_ERR);
	}
	pthread_mutex_unlock(&p->mu);
}

int nv_pool_stopped(const nv_pool *p)
{
	return atomic_load(&p->stop);
}

const atomic_int *nv_pool_cancel_flag(const nv_pool *p)
{
	return &p->stop;
}

void nv_pool_count(nv_pool *p, const char *name, int rc)
{
	if (nv_err_classify(rc) != NV_CLASS_OK)
		nv_progress_error();
	switch (nv_err_classify(rc)) {
	case NV_CLASS_OK:
		return;
	case NV_CLASS_DIFF:
		atomic_fetch_add(&p->differ, 1);
		nv_log_item(NV_LOG_ERROR, "failed", name, nv_error_msg());
		return;
	case NV_CLASS_FATAL:
		/* the item that stops the run failed too: counted, as it is logged */
		atomic_fetch_add(&p->failed, 1);
		nv_log_item(NV_LOG_ERROR, "failed", name, nv_error_msg());
		nv_pool_stop(p, rc);
		return;
	default: /* an item that ran out of retries failed, as any other */
		atomic_fetch_add(&p->failed, 1);
		nv_log_item(NV_LOG_ERROR, "failed", name, nv_error_msg());
		return;
	}
}

/* Runs one item to its end: attempts while the shared budget allows. */
static int nv_pool_attempts(nv_pool *p, void *w, void *item)
{
	int rc;

	nv_retry_begin(p->retries, &p->stop);
	for (;;) {
		rc = p->ops->attempt(p->run, w, item);
		if (rc != NV_ERETRY || atomic_load(&p->stop))
			return rc;
		nv_log_item(NV_LOG_INFO, "retry", p->ops->name(p->run, item), nv_error_msg());
		if (!nv_retry_again(rc))
			return rc;
	}
}

static void nv_pool_item(nv_pool *p, void *w, void *item)
{
	int rc = atomic_load(&p->stop) ? NV_ECANCEL : nv_pool_attempts(p, w, item);

	if (rc == NV_ECANCEL && atomic_load(&p->stop)) {
		/* Stopped by another item's fatal error: not this item's failure. */
		if (p->ops->done)
			p->ops->done(p->run, w, item, rc);
	} else if (!p->ops->done || !p->ops->done(p->run, w, item, rc)) {
		nv_pool_count(p, p->ops->name(p->run, item), rc);
	}
	if (p->ops->free_item)
		p->ops->free_item(p->run, item);
}

static void *nv_pool_worker(void *arg)
{
	nv_pool *p = arg;
	void *w = NULL, *item;
	int rc = 0;

	if (p->ops->worker_open && (rc = p->ops->worker_open(p->run, &w)))
		nv_pool_stop(p, rc);
	while ((item = nv_queue_pop(p->q)))
		nv_pool_item(p, w, item);
	if (p->ops->worker_close &&
	    (rc = p->ops->worker_close(p->run, w, !atomic_load(&p->stop))))
		nv_pool_stop(p, rc);
	return NULL;
}

int nv_pool_start(nv_pool **out, const nv_pool_opts *o, const nv_pool_ops *ops, void *run)
{
	unsigned n = o->workers ? o->workers : 1;
	nv_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p || !(p->tids = calloc(n, sizeof(*p->tids))) ||
	    nv_queue_new(&p->q, o->queue_len ? o->queue_len : (size_t)n * 4)) {
		if (p)
			free(p->tids);
		free(p);
		return nv_error_set(NV_ERR, "out of memory");
	}
	p->ops = ops;
	p->run = run;
	p->retries = o->retries;
	pthread_mutex_init(&p->mu, NULL);
	for (; p->started < n; p->started++)
		if (pthread_create(&p->tids[p->started], NULL, nv_pool_worker, p))
			break;
	if (!p->started) {
		nv_queue_free(p->q);
		pthread_mutex_destroy(&p->mu);
		free(p->tids);
		free(p);
		return nv_error_set(NV_ERR, "cannot start worker threads");
	}
	*out = p;
	return 0;
}

int nv_pool_submit(nv_pool *p, void *item)
{
	if (atomic_load(&p->stop) || nv_queue_push(p->q, item) != 0)
		return NV_ECANCEL;
	return 0;
}

void nv_pool_finish(nv_pool *p, nv_outcome *out)
{
	int stop;

	nv_queue_close(p->q);
	for (unsigned i = 0; i < p->started; i++)
		pthread_join(p->tids[i], NULL);
	out->failed += atomic_load(&p->failed);
	out->differ += atomic_load(&p->differ);
	stop = atomic_load(&p->stop);
	if (stop && !out->fatal) {
		out->fatal = stop;
		nv_error_set(stop, "%s", p->stop_msg);
	}
	nv_queue_free(p->q);
	pthread_mutex_destroy(&p->mu);
	free(p->tids);
	free(p);
}
