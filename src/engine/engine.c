/* engine.c: runs copy, sync and check: the planner on this thread feeds a
 * bounded queue; N workers, each with its own connections, transfer and verify. */
#include "engine.h"
#include "engine_int.h"
#include "backup.h"
#include "dest_lock.h"
#include "leftovers.h"
#include "report.h"
#include "util/exit.h"
#include "lister.h"
#include "util/log.h"
#include "util/progress.h"
#include "planner.h"
#include "pool.h"
#include "transfer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


void nv_engine_defaults(nv_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = NV_ENGINE_SYNC;
	o->transfers = 4;
	o->buffer_size = 1 << 20;
	o->retries = 3;
	o->guard.max_count = -1;
	o->guard.max_pct = -1; /* NV_GUARD_DEFAULT_PCT applies */
}

/* A lease that could not be renewed stops the run: another host may be
 * writing to the destination by now. */
static int nv_engine_lost(nv_run *r)
{
	if (!nv_dest_lock_lost(r->lock))
		return 0;
	nv_error_set(NV_ECANCEL, "the lease at %s was lost (not renewed in time): stopping, "
		     "nothing deleted", r->dst_loc->text);
	if (r->pool)
		nv_pool_stop(r->pool, NV_ECANCEL);
	return NV_ECANCEL;
}

/* --backup-dir: the destination's version of j's key goes to the backup, made
 * durable, before the new version can replace it. */
static int nv_job_backup(nv_run *r, nv_worker *w, nv_job *j, const nv_entry *old)
{
	int rc;

	if (!w->bak || !j->has_dst || j->backed_up)
		return 0;
	rc = nv_backup_one(&w->x, w->bak, j->key, old);
	if (rc == NV_ENOTFOUND) { /* gone meanwhile: nothing to keep */
		nv_error_clear();
		return 0;
	}
	if (rc || (rc = nv_drv_flush(w->bak)))
		return rc;
	j->backed_up = 1;
	atomic_fetch_add(&r->backed_up, 1);
	nv_log_item(NV_LOG_INFO, "backed up", j->key, NULL);
	return 0;
}

/* check found a difference: counted, logged, and an error of the progress
 * report (progress.h: an item that failed or differed), as verify's are. Returns 0. */
static int nv_check_found(_Atomic uint64_t *counter, const char *verb, const char *key,
			  const char *why)
{
	atomic_fetch_add(counter, 1);
	nv_log_item(NV_LOG_WARN, verb, key, why);
	nv_progress_error();
	return 0;
}

/* One attempt at a plain job (pool.h: the pool retries it from the start). */
static int nv_job_attempt(nv_run *r, nv_worker *w, nv_job *j)
{
	unsigned char a[NV_SHA256_LEN], b[NV_SHA256_LEN];
	nv_xfer_ctx *x = &w->x;
	const nv_entry *old = &j->dst;
	uint64_t na, nb;
	nv_entry now;
	int rc, rec;

	switch (j->act) {
	case NV_ACT_STAT:
		rc = nv_drv_stat(x->dst, j->key, &now);
		if (rc)
			return rc;
		if (!(now.flags & NV_ENTRY_HAS_MTIME) || nv_mtime_equal(&j->src, &now)) {
			atomic_fetch_add(&r->skipped, 1);
			nv_report_sizes(r->o->report, j->key, "unchanged", &j->src, &now);
			return 0;
		}
		old = &now;
		break;
	case NV_ACT_HASH:
		/* --hashes-from spares a read of the source unchanged since its copy */
		j->reading_dst = 0;
		if (!(rec = nv_hashbook_find(r->o->recorded, j->key, &j->src, a)) &&
		    (rc = nv_xfer_hash(x, x->src, j->key, &na, a)))
			return rc;
		na = rec ? j->src.size : na;
		j->reading_dst = 1;
		if ((rc = nv_xfer_hash(x, x->dst, j->key, &nb, b)))
			return rc;
		if (na == nb && memcmp(a, b, sizeof(a)) == 0) {
			atomic_fetch_add(r->o->mode == NV_ENGINE_CHECK ? &r->identical
								   : &r->skipped, 1);
			nv_report_hashes(r->o->report, j->key, r->o->mode == NV_ENGINE_CHECK ?
					 "identical" : "unchanged", &j->src, a, rec, &j->dst, b);
			return 0;
		}
		if (r->o->mode == NV_ENGINE_CHECK) {
			nv_report_hashes(r->o->report, j->key, "differ", &j->src, a, rec, &j->dst, b);
			return nv_check_found(&r->differ, "differ", j->key, "SHA-256 differs");
		}
		break;
	default:
		break;
	}
	if ((rc = nv_job_backup(r, w, j, old)))
		return rc;
	if ((rc = nv_xfer_copy(x, j->key, &j->src, &j->res)))
		return rc;
	nv_xfer_report(&r->copies, j->key, 0, &j->res);
	nv_report_copied(r->o->report, j->key, &j->src, &j->res);
	return 0;
}

static int nv_engine_attempt(void *run, void *w, void *item)
{
	nv_job *j = item;
	int rc;

	if ((rc = nv_engine_lost(run)))
		return rc;
	return j->act == NV_ACT_DELETE ? nv_delete_attempt(run, w, j) : nv_job_attempt(run, w, j);
}

/* The bytes a job reads, for the progress report: a comparison by SHA-256
 * reads both sides (check showed "3.0 MiB of 2.0 MiB" counting one). */
static uint64_t nv_job_bytes(const nv_job *j)
{
	return j->act == NV_ACT_HASH ? j->src.size + j->dst.size : j->src.size;
}

/* A batch of deletions counts its keys one by one; the rest the pool counts. */
static int nv_engine_done(void *run, void *w, void *item, int rc)
{
	nv_run *r = run;
	nv_job *j = item;

	(void)w;
	if (j->act != NV_ACT_DELETE) {
		nv_progress_done(1, nv_job_bytes(j));
		if (rc && !(rc == NV_ECANCEL && nv_pool_stopped(r->pool)))
			nv_report_failed(r->o->report, j->key, &j->src,
					 r->o->mode == NV_ENGINE_CHECK ? 1 + j->reading_dst : 0);
		/* a stored copy read back different, or the pool's to count */
		return rc == NV_EMISMATCH && nv_xfer_report(&r->copies, j->key, rc, &j->res);
	}
	if (rc && !(rc == NV_ECANCEL && nv_pool_stopped(r->pool))) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", nv_error_msg());
		for (size_t i = 0; i < j->nkeys; i++) {
			nv_error_set(rc, "%s", msg);
			nv_pool_count(r->pool, j->keys[i], rc);
		}
	}
	return 1;
}

static const char *nv_engine_name(void *run, void *item)
{
	nv_job *j = item;

	(void)run;
	return j->act == NV_ACT_DELETE ? (j->nkeys ? j->keys[0] : "") : j->key;
}

static void nv_engine_free_item(void *run, void *item)
{
	(void)run;
	nv_job_free(item);
}

static int nv_engine_worker_open(void *run, void **out)
{
	nv_run *r = run;
	nv_worker *w = calloc(1, sizeof(*w));
	nv_xfer_ctx *x = &w->x;
	int rc;

	*out = w;
	if (!w)
		return nv_error_set(NV_ERR, "out of memory");
	x->verify_reread = r->o->verify_reread;
	if ((rc = nv_xfer_buf_new(x, r->o->buffer_size)))
		return rc;
	if (!(x->sha = nv_sha256_new()))
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_drv_open(&x->src, r->src_loc)) || (rc = nv_drv_open(&x->dst, r->dst_loc)))
		return nv_error_wrap(rc, "connecting");
	if (r->o->backup && (rc = nv_drv_open(&w->bak, r->o->backup)))
		return nv_error_wrap(rc, "connecting to --backup-dir %s", r->o->backup->text);
	return 0;
}

static int nv_engine_worker_close(void *run, void *wk, int ok)
{
	nv_run *r = run;
	nv_worker *w = wk;
	nv_xfer_ctx *x = w ? &w->x : NULL;
	int rc = 0;

	if (!w)
		return 0;
	/* Durability barrier for what this worker wrote, before success is reported. */
	if (x->dst && ok && (rc = nv_drv_flush(x->dst)))
		nv_error_wrap(rc, "flushing %s", r->dst_loc->text);
	nv_drv_close(x->src);
	nv_drv_close(x->dst);
	nv_drv_close(w->bak);
	nv_sha256_free(x->sha);
	nv_xfer_buf_free(x);
	free(w);
	return rc;
}

static const nv_pool_ops nv_engine_ops = {
	.worker_open = nv_engine_worker_open,
	.worker_close = nv_engine_worker_close,
	.attempt = nv_engine_attempt,
	.done = nv_engine_done,
	.name = nv_engine_name,
	.free_item = nv_engine_free_item,
};

static int nv_enqueue(nv_run *r, nv_action act, const char *key, const nv_entry *src,
		      const nv_entry *dst)
{
	nv_job *j = calloc(1, sizeof(*j));

	if (!j || !(j->key = strdup(key))) {
		free(j);
		return nv_error_set(NV_ERR, "out of memory");
	}
	j->act = act;
	if (src)
		j->src = *src;
	if (dst)
		j->dst = *dst;
	j->has_dst = dst != NULL;
	j->src.key = j->dst.key = NULL;
	r->queued++;
	nv_progress_known(0, nv_job_bytes(j));
	if (!r->pool || nv_pool_submit(r->pool, j) != 0) {
		nv_job_free(j);
		return NV_ECANCEL;
	}
	return 0;
}

static const char *nv_action_verb(nv_action act)
{
	switch (act) {
	case NV_ACT_COPY: return "would copy";
	case NV_ACT_DELETE: return "would delete";
	case NV_ACT_HASH: return "would compare";
	case NV_ACT_STAT: return "would check mtime of";
	default: return NULL;
	}
}

/* One planned key, on the main thread. */
static int nv_plan_one(void *ctx, nv_action act, const char *key, const nv_entry *src,
		       const nv_entry *dst)
{
	nv_run *r = ctx;
	const nv_engine_opts *o = r->o;

	if (r->pool && nv_pool_stopped(r->pool))
		return NV_ECANCEL;
	if (nv_engine_lost(r))
		return NV_ECANCEL;
	r->src_files += src != NULL;
	r->dst_files += dst != NULL;
	if (src && o->notice_key && strcmp(key, o->notice_key) == 0)
		r->noticed = 1;
	if (!r->mine) { /* another shard's: counted for the guard only */
		r->ndeletes += act == NV_ACT_DELETE;
		return 0;
	}
	if (o->mode == NV_ENGINE_CHECK) {
		if (act == NV_ACT_EXTRA) {
			nv_report_sizes(o->report, key, "extra", NULL, dst);
			return nv_check_found(&r->extra, "extra", key, "only at the destination");
		}
		if (!dst) {
			nv_report_sizes(o->report, key, "missing", src, NULL);
			return nv_check_found(&r->missing, "missing", key, "not at the destination");
		}
		if (act == NV_ACT_COPY) {
			nv_report_sizes(o->report, key, "differ", src, dst);
			return nv_check_found(&r->differ, "differ", key, "sizes differ");
		}
		if (o->size_only) {
			atomic_fetch_add(&r->identical, 1);
			nv_report_sizes(o->report, key, "identical", src, dst);
			return 0;
		}
		return nv_enqueue(r, NV_ACT_HASH, key, src, dst);
	}
	if (act == NV_ACT_SKIP) {
		atomic_fetch_add(&r->skipped, 1);
		nv_report_sizes(o->report, key, "unchanged", src, dst);
		return 0;
	}
	if (act == NV_ACT_EXTRA)
		return 0;
	if (act == NV_ACT_DELETE) {
		/* Deletes wait until both listings have ended in order. */
		if (fprintf(r->deletes, "%s\n", key) < 0)
			return nv_error_set(NV_EIO, "cannot record pending deletions");
		r->ndeletes++;
		return 0;
	}
	if (o->dry_run) {
		nv_log_item(NV_LOG_WARN, nv_action_verb(act), key, NULL);
		if (act == NV_ACT_COPY)
			atomic_fetch_add(&r->copies.copied, 1);
		return 0;
	}
	return nv_enqueue(r, act, key, src, dst);
}

/* The planner's callback: nv_plan_one, counted for the progress report (a
 * source file that goes to no worker is done once planned; another shard's
 * file is not this run's to report). */
static int nv_on_plan(void *ctx, nv_action act, const char *key, const nv_entry *src,
		      const nv_entry *dst)
{
	nv_run *r = ctx;
	uint64_t queued = r->queued;
	int rc;

	r->mine = nv_shard_mine(r->o->shard, key);
	if (src && r->mine)
		nv_progress_known(1, 0);
	rc = nv_plan_one(ctx, act, key, src, dst);
	if (src && r->mine && r->queued == queued)
		nv_progress_done(1, 0);
	return rc;
}

/* Plans the whole tree (and records deletions), with workers consuming. */
static int nv_engine_plan(nv_run *r)
{
	nv_plan_rules rules = {
		.checksum = r->o->checksum || r->o->mode == NV_ENGINE_CHECK,
		.deleting = r->o->mode == NV_ENGINE_SYNC && r->o->delete_extra,
		.copying = 1,
		.filter = r->o->filter,
		.hide = r->hide,
	};
	rules.keep_excluded_dst = rules.deleting && r->o->delete_excluded;
	nv_store *ls = NULL, *ld = NULL;
	nv_sorted *s = NULL, *d = NULL;
	int rc;

	if ((rc = nv_drv_open(&ls, r->src_loc)) ||
	    (rc = nv_sorted_open(&s, ls, "", 0))) {
		nv_error_wrap(rc, "listing %s", r->src_loc->text);
		goto out;
	}
	if ((rc = nv_drv_open(&ld, r->dst_loc)) ||
	    (rc = nv_sorted_open(&d, ld, "", 1))) {
		nv_error_wrap(rc, "listing %s", r->dst_loc->text);
		goto out;
	}
	nv_report_observe(r->o->report, s, d, r->o->filter); /* what no file is */
	rc = nv_plan_run(s, d, &rules, nv_on_plan, r);
	if (rc == NV_ECANCEL && r->pool && nv_pool_stopped(r->pool))
		rc = 0; /* a worker's error, reported as such */
	if (!rc)
		r->unlisted += nv_sorted_skipped(s);
	nv_sorted_close(d);
	d = NULL;
	/* What interrupted runs left at the destination, while the lease is ours:
	 * the listing just noted their temp files, so nothing is walked again
	 * (engine/leftovers.h; this run's own temp files carry its run id). */
	if (!rc && r->lock)
		nv_leftovers_clean(ld, NULL);
out:
	nv_sorted_close(s);
	nv_sorted_close(d);
	nv_drv_close(ls);
	nv_drv_close(ld);
	return rc;
}

/* Starts the pool, feeds it with fill(), waits for it; counts go to r->out.
 * A dry run starts no workers: it plans and says what it would do. */
static void nv_engine_pass(nv_run *r, int (*fill)(nv_run *))
{
	nv_pool_opts po = { .workers = r->o->transfers, .retries = r->o->retries };
	int rc;

	if (!r->o->dry_run && (rc = nv_pool_start(&r->pool, &po, &nv_engine_ops, r))) {
		r->out.fatal = rc;
		return;
	}
	rc = fill(r);
	nv_progress_listed();
	if (r->pool)
		nv_pool_finish(r->pool, &r->out);
	r->pool = NULL;
	if (rc && !r->out.fatal)
		r->out.fatal = rc;
}

static void nv_engine_report(const nv_run *r, nv_engine_stats *st, const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->copied = r->copies.copied;
	st->hashed = r->o->dry_run ? 0 : st->copied; /* every copy is hashed */
	st->copied_bytes = r->copies.bytes;
	st->size_confirmed = r->copies.size;
	st->md5_confirmed = r->copies.md5;
	st->reread = r->copies.reread;
	st->skipped = r->skipped;
	st->deleted = r->deleted;
	st->failed = r->out.failed + r->unlisted;
	st->mismatched = r->out.differ + r->copies.differs;
	st->identical = r->identical;
	st->differ = r->differ;
	st->missing = r->missing;
	st->extra = r->extra;
	st->backed_up = r->backed_up;
	st->noticed = r->noticed;
	st->seconds = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The run's outcome under the one exit rule (util/exit.h). */
static int nv_engine_exit(const nv_run *r, const nv_engine_stats *st)
{
	nv_outcome o = {
		.fatal = r->out.fatal,
		.failed = st->failed,
		.differ = st->mismatched + st->differ + st->missing + st->extra,
	};

	if (o.fatal)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return nv_exit_code(&o);
}

/* The delete guard (guard.h), once the deletions are known and before any is
 * sent; a dry run says what a real run would. 0, or NV_ERR with the reason. */
static int nv_engine_guard(nv_run *r)
{
	nv_guard_counts c = { r->src_files, r->dst_files, r->ndeletes };
	char msg[9000];

	if (!nv_guard_check(&r->o->guard, &c, r->src_loc->text, r->dst_loc->text, msg,
			    sizeof(msg)))
		return 0;
	return nv_error_set(NV_ERR, "%ssync --delete refused: %s; nothing %sdeleted",
			    r->o->dry_run ? "dry run: " : "", msg,
			    r->o->dry_run ? "would be " : "");
}

/* Everything a run does once its options are checked and its lock held. */
static void nv_engine_passes(nv_run *r)
{
	int rc;

	nv_engine_pass(r, nv_engine_plan);
	/* Deleting only after a clean pass: an I/O error or a listing that went out
	 * of order must never turn into deletions. */
	if (!r->out.fatal && !r->out.failed && !r->out.differ && !r->copies.differs &&
	    !r->unlisted) {
		if (!r->ndeletes)
			return;
		if ((rc = nv_engine_guard(r)) || (rc = nv_engine_lost(r)))
			r->out.fatal = rc;
		else
			nv_engine_pass(r, nv_apply_deletes);
	} else if (r->o->delete_extra && r->ndeletes) {
		nv_log(NV_LOG_WARN, "not deleting anything: there were errors");
	}
}

/* Where the backup may lie, then the destination's lock and lease. */
static int nv_engine_prepare(nv_run *r)
{
	const nv_engine_opts *o = r->o;
	int rc;

	if (o->backup &&
	    (rc = nv_backup_place(r->dst_loc, o->backup, r->hide, sizeof(r->hide))))
		return rc;
	if (!o->lock || o->dry_run || o->mode == NV_ENGINE_CHECK)
		return 0;
	return nv_dest_lock_take_opts(&r->lock, r->dst_loc, &(nv_dest_lock_opts){
		.command = o->lock, .wait_ms = o->wait_lock_ms, .shard = o->shard });
}

int nv_engine_run(const nv_location *src, const nv_location *dst, const nv_engine_opts *o,
		  nv_engine_stats *st)
{
	nv_run *r = calloc(1, sizeof(*r));
	struct timespec t0;
	int code;

	memset(st, 0, sizeof(*st));
	if (!r) {
		nv_log(NV_LOG_ERROR, "out of memory");
		return NV_EXIT_FATAL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->o = o;
	r->src_loc = src;
	r->dst_loc = dst;
	r->deletes = tmpfile();
	if (!r->deletes) {
		nv_log(NV_LOG_ERROR, "cannot create a temporary file for pending deletions");
		free(r);
		return NV_EXIT_FATAL;
	}
	if (!(r->out.fatal = nv_engine_prepare(r)))
		nv_engine_passes(r);
	/* A lost lease also stops a run whose last item was already done. */
	if (!r->out.fatal && nv_engine_lost(r))
		r->out.fatal = NV_ECANCEL;
	if (r->out.fatal) { /* the message must survive the release's own errors */
		char msg[9000];

		snprintf(msg, sizeof(msg), "%s", nv_error_msg());
		nv_dest_lock_release(r->lock);
		nv_error_set(r->out.fatal, "%s", msg);
	} else {
		nv_dest_lock_release(r->lock);
	}
	nv_engine_report(r, st, &t0);
	code = nv_engine_exit(r, st);
	fclose(r->deletes);
	free(r);
	return code;
}
