/* vault_pull.c: the reader's jobs on the one worker pool (engine/pool.h):
 * each object read once (object_read.h): stored bytes checked, decrypted,
 * checked and (for pull) restored in one pass. Called through vault_pull.h. */
#include "vault_pull.h"
#include "engine/leftovers.h"
#include "engine/pool.h"
#include "object_read.h"
#include "util/log.h"
#include "util/progress.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nv_vrun {
	const nv_vread_opts *o;
	const nv_vread_feed *feed;
	nv_pool *pool;
	_Atomic uint64_t done, bytes, mismatched, missing, failed, stopped;
} nv_vrun;

typedef struct nv_vworker {
	nv_vrun *p;
	nv_store *vault, *target;
	nv_objread *rd; /* the one pass over each object (object_read.h) */
} nv_vworker;

static int nv_vread_job_once(nv_vworker *w, const nv_vread_job *j)
{
	const nv_vread_opts *o = w->p->o;
	const nv_cat_entry *e = j->entry;
	nv_write_opts wo;

	/* One read of each object: hashed, decrypted and (restore) written to a
	 * temporary file in the same pass, committed only when both hashes match. */
	if (!e || o->mode == NV_VREAD_HASH)
		return nv_objread_check(w->rd, w->vault, j->rec, NULL, NULL);
	if (o->mode == NV_VREAD_DEEP)
		return nv_objread_check(w->rd, w->vault, j->rec, o->id, e);
	wo = (nv_write_opts){
		.size = (int64_t)e->size,
		.mtime_sec = e->mtime,
		.mtime_nsec = e->mtime_ns,
		.mode = e->mode & (o->keep_modes ? 07777u : 0777u),
		.flags = NV_WRITE_HAS_MTIME | NV_WRITE_HAS_MODE,
	};
	return nv_objread_restore(w->rd, w->vault, j->rec, o->id, e, w->target, &wo);
}

static int nv_vread_attempt(void *run, void *w, void *item)
{
	(void)run;
	return nv_vread_job_once(w, item);
}

static const char *nv_vread_name(void *run, void *item)
{
	const nv_vread_job *j = item;

	(void)run;
	return j->entry ? j->entry->path : j->rec->name;
}

/* The bytes a job checks: the plaintext, or (stored bytes only) the object's. */
static uint64_t nv_vread_size(const nv_vread_opts *o, const nv_vread_job *j)
{
	return j->entry && o->mode != NV_VREAD_HASH ? j->entry->size : j->rec->size;
}

/* Counts and logs a job's result in the reader's words: a tampered object is
 * a "mismatch", an absent one "missing" (both differences: the store does
 * not hold what the signed manifest says), anything else "failed"; an error
 * the one classification calls fatal stops the run. */
static int nv_vread_done(void *run, void *wp, void *item, int rc)
{
	nv_vrun *p = run;
	const nv_vread_job *j = item;
	const char *what = nv_vread_name(run, item), *msg, *event = "failed";
	size_t nl = strlen(j->rec->name);

	(void)wp;
	if (rc == NV_ECANCEL && nv_pool_stopped(p->pool))
		return 1; /* never attempted: another job's fatal error stopped the run */
	nv_progress_done(1, nv_vread_size(p->o, j));
	if (!rc) {
		atomic_fetch_add(&p->done, 1);
		atomic_fetch_add(&p->bytes, nv_vread_size(p->o, j));
		/* the SHA-256 checked last: the plaintext's, or the stored bytes' */
		nv_log_item_sha(NV_LOG_INFO, p->o->mode == NV_VREAD_RESTORE && j->entry ?
				"restored" : "verified", what,
				j->entry && p->o->mode != NV_VREAD_HASH ? j->entry->sha256
									: j->rec->sha256);
		return 1;
	}
	nv_progress_error();
	msg = nv_error_msg();
	/* A line about an object need not name it twice. */
	if (!j->entry && strncmp(msg, "object ", 7) == 0 &&
	    strncmp(msg + 7, j->rec->name, nl) == 0 && msg[7 + nl])
		msg += 7 + nl + (msg[7 + nl] == ':' ? 2 : 1);
	if (rc == NV_EMISMATCH) {
		atomic_fetch_add(&p->mismatched, 1);
		event = "mismatch";
	} else if (rc == NV_ENOTFOUND) {
		atomic_fetch_add(&p->missing, 1);
		event = "missing";
	} else {
		atomic_fetch_add(&p->failed, 1); /* also the job that stops the run */
		if (nv_err_classify(rc) == NV_CLASS_FATAL)
			atomic_fetch_add(&p->stopped, 1);
	}
	nv_log_item(NV_LOG_ERROR, event, what, msg);
	if (p->o->note)
		p->o->note(p->o->note_ctx, event, what, msg);
	if (nv_err_classify(rc) == NV_CLASS_FATAL)
		nv_pool_stop(p->pool, rc);
	return 1;
}

static int nv_vworker_close(void *run, void *wp, int ok)
{
	nv_vrun *p = run;
	nv_vworker *w = wp;
	int rc = 0;

	if (!w)
		return 0;
	/* Durability barrier for what this worker restored, before success. */
	if (w->target && ok && (rc = nv_drv_flush(w->target)))
		nv_error_wrap(rc, "flushing %s", p->o->target->text);
	nv_drv_close(w->vault);
	nv_drv_close(w->target);
	nv_objread_free(w->rd);
	free(w);
	return rc;
}

static int nv_vworker_open(void *run, void **out)
{
	nv_vworker *w = calloc(1, sizeof(*w));
	const nv_vread_opts *o;
	int rc;

	*out = w;
	if (!w)
		return nv_error_set(NV_ERR, "out of memory");
	w->p = run;
	o = w->p->o;
	if ((rc = nv_objread_new(&w->rd, o->buf_size)))
		return rc;
	if ((rc = nv_drv_open(&w->vault, o->vault)))
		return nv_error_wrap(rc, "connecting to %s", o->vault->text);
	if (o->mode == NV_VREAD_RESTORE && (rc = nv_drv_open(&w->target, o->target)))
		return nv_error_wrap(rc, "opening %s", o->target->text);
	return 0;
}

static void nv_vread_free_item(void *run, void *item)
{
	nv_vrun *p = run;

	if (p->feed->free)
		p->feed->free(p->feed->ctx, item);
}

static const nv_pool_ops nv_vread_ops = {
	.worker_open = nv_vworker_open,
	.worker_close = nv_vworker_close,
	.attempt = nv_vread_attempt,
	.done = nv_vread_done,
	.name = nv_vread_name,
	.free_item = nv_vread_free_item,
};

/* What interrupted pulls left in the target, before this one writes there:
 * a pull takes no lease, so the local driver's locks and the age decide
 * (engine/leftovers.h). A target that cannot be opened fails in the workers. */
static void nv_vread_clean_target(const nv_vread_opts *o)
{
	nv_store *s;

	if (nv_drv_open(&s, o->target) == 0) {
		nv_leftovers_clean(s, NULL);
		nv_drv_close(s);
	}
	nv_error_clear();
}

int nv_vread_run_feed(const nv_vread_opts *o, const nv_vread_feed *feed, nv_vread_stats *st)
{
	nv_pool_opts po = { .workers = o->workers ? o->workers : 1, .retries = o->retries };
	nv_vrun p = { .o = o, .feed = feed };
	nv_vread_job *j;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((uint64_t)po.workers > feed->n)
		po.workers = feed->n ? (unsigned)feed->n : 1;
	if (o->mode == NV_VREAD_RESTORE)
		nv_vread_clean_target(o);
	if ((rc = nv_pool_start(&p.pool, &po, &nv_vread_ops, &p)))
		return rc;
	/* the pool's bounded queue hands the jobs out as the feed makes them */
	while ((rc = feed->next(feed->ctx, &j)) == 0) {
		if (nv_pool_submit(p.pool, j) != 0) {
			if (feed->free)
				feed->free(feed->ctx, j);
			break; /* stopped: the rest is never attempted */
		}
	}
	if (rc != NV_EOF && rc)
		nv_pool_stop(p.pool, rc);
	nv_pool_finish(p.pool, &st->out);
	if (st->out.fatal)
		snprintf(st->fatal_msg, sizeof(st->fatal_msg), "%s", nv_error_msg());
	st->done = p.done;
	st->bytes = p.bytes;
	st->mismatched = p.mismatched;
	st->missing = p.missing;
	st->failed = p.failed;
	st->stopped = p.stopped;
	st->out.failed += p.failed;
	st->out.differ += p.mismatched + p.missing;
	return 0;
}

/* The jobs of an array, the caller's: nothing to free. */
typedef struct nv_vread_array {
	const nv_vread_job *jobs;
	size_t n, i;
} nv_vread_array;

static int nv_vread_array_next(void *ctx, nv_vread_job **out)
{
	nv_vread_array *a = ctx;

	if (a->i >= a->n)
		return NV_EOF;
	*out = (nv_vread_job *)&a->jobs[a->i++];
	return 0;
}

int nv_vread_run(const nv_vread_opts *o, const nv_vread_job *jobs, size_t n,
		 nv_vread_stats *st)
{
	nv_vread_array a = { .jobs = jobs, .n = n };
	nv_vread_feed f = { .next = nv_vread_array_next, .ctx = &a, .n = n };

	for (size_t i = 0; i < n; i++)
		nv_progress_known(1, nv_vread_size(o, &jobs[i]));
	nv_progress_listed();
	return nv_vread_run_feed(o, &f, st);
}

uint64_t nv_vread_job_size(const nv_vread_opts *o, const nv_vread_job *j)
{
	return nv_vread_size(o, j);
}

size_t nv_vread_shard(nv_vread_job *jobs, size_t n, const nv_shard *s)
{
	size_t keep = 0;

	for (size_t i = 0; i < n; i++) {
		const char *key = jobs[i].entry ? jobs[i].entry->path : jobs[i].rec->name;

		if (nv_shard_mine(s, key))
			jobs[keep++] = jobs[i];
	}
	return keep;
}
