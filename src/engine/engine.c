/* engine.c: runs copy, sync and check: the planner on this thread feeds a
 * bounded queue; N workers, each with its own connections, transfer and verify. */
#include "engine.h"
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

typedef struct nv_job {
	nv_action act;
	char *key;         /* NV_ACT_DELETE: NULL, keys[] instead */
	nv_entry src, dst; /* .key left NULL */
	char **keys;       /* NV_ACT_DELETE: one batch (nv_drv_remove_batch keys at most) */
	size_t nkeys;
} nv_job;

typedef struct nv_run {
	const nv_engine_opts *o;
	const nv_location *src_loc, *dst_loc;
	nv_pool *pool;
	FILE *deletes;             /* dst-only keys, applied once both listings ended sorted */
	_Atomic uint64_t copied, copied_bytes, skipped, deleted;
	_Atomic uint64_t identical, differ, missing, extra;
	uint64_t unlisted;         /* source names skipped as unsafe */
	uint64_t queued;           /* jobs made by the planner (its thread only) */
	int noticed;               /* the source listed o->notice_key */
	nv_outcome out;            /* what the passes counted (failures, differences, fatal) */
} nv_run;

void nv_engine_defaults(nv_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = NV_ENGINE_SYNC;
	o->transfers = 4;
	o->buffer_size = 1 << 20;
	o->retries = 3;
}

/* One attempt at a plain job (pool.h: the pool retries it from the start). */
static int nv_job_attempt(nv_run *r, nv_xfer_ctx *x, nv_job *j)
{
	unsigned char a[NV_SHA256_LEN], b[NV_SHA256_LEN];
	uint64_t na, nb, bytes;
	nv_entry now;
	int rc;

	switch (j->act) {
	case NV_ACT_STAT:
		rc = nv_drv_stat(x->dst, j->key, &now);
		if (rc)
			return rc;
		if (!(now.flags & NV_ENTRY_HAS_MTIME) || nv_mtime_equal(&j->src, &now)) {
			atomic_fetch_add(&r->skipped, 1);
			return 0;
		}
		break;
	case NV_ACT_HASH:
		if ((rc = nv_xfer_hash(x, x->src, j->key, &na, a)) ||
		    (rc = nv_xfer_hash(x, x->dst, j->key, &nb, b)))
			return rc;
		if (na == nb && memcmp(a, b, sizeof(a)) == 0) {
			atomic_fetch_add(r->o->mode == NV_ENGINE_CHECK ? &r->identical
								   : &r->skipped, 1);
			return 0;
		}
		if (r->o->mode == NV_ENGINE_CHECK) {
			atomic_fetch_add(&r->differ, 1);
			nv_log_item(NV_LOG_WARN, "differ", j->key, "SHA-256 differs");
			return 0;
		}
		break;
	default:
		break;
	}
	rc = nv_xfer_copy(x, j->key, &j->src, &bytes, a);
	if (rc)
		return rc;
	atomic_fetch_add(&r->copied, 1);
	atomic_fetch_add(&r->copied_bytes, bytes);
	if (nv_log_json())
		nv_log_item_sha(NV_LOG_INFO, "copied", j->key, a);
	else
		nv_log_item(NV_LOG_INFO, "copied", j->key, NULL);
	return 0;
}

/* One attempt at a batch of deletions: one request where the driver batches
 * (S3 DeleteObjects), each key counted and logged as a delete of its own.
 * Keys refused for good are counted here; the ones refused with NV_ERETRY stay
 * in the job, in order, and the attempt returns NV_ERETRY so that the pool
 * sends them again after its backoff. */
static int nv_delete_attempt(nv_run *r, nv_xfer_ctx *x, nv_job *j)
{
	size_t n = j->nkeys, left = 0, i;
	int *res = calloc(n, sizeof(*res));
	char **msgs = calloc(n, sizeof(*msgs));
	int rc;

	if (!res || !msgs) {
		free(res);
		free(msgs);
		return nv_error_set(NV_ERR, "out of memory");
	}
	rc = nv_drv_remove_many(x->dst, (const char *const *)j->keys, n, res, msgs);
	for (i = 0; !rc && i < n; i++) {
		char *key = j->keys[i];

		j->keys[i] = NULL;
		if (res[i] == NV_ERETRY) {
			nv_error_set(res[i], "%s", msgs[i] ? msgs[i] : nv_error_name(res[i]));
			j->keys[left++] = key; /* kept for the next attempt, in order */
			key = NULL;
		} else if (res[i] == 0) {
			atomic_fetch_add(&r->deleted, 1);
			nv_log_item(NV_LOG_INFO, "deleted", key, NULL);
		} else {
			nv_error_set(res[i], "%s", msgs[i] ? msgs[i] : nv_error_name(res[i]));
			nv_pool_count(r->pool, key, res[i]);
		}
		free(key);
		free(msgs[i]);
	}
	if (!rc) {
		j->nkeys = left;
		rc = left ? NV_ERETRY : 0;
	}
	free(res);
	free(msgs);
	return rc;
}

static int nv_engine_attempt(void *run, void *w, void *item)
{
	nv_job *j = item;

	return j->act == NV_ACT_DELETE ? nv_delete_attempt(run, w, j) : nv_job_attempt(run, w, j);
}

/* A batch of deletions counts its keys one by one; the rest the pool counts. */
static int nv_engine_done(void *run, void *w, void *item, int rc)
{
	nv_run *r = run;
	nv_job *j = item;

	(void)w;
	if (j->act != NV_ACT_DELETE) {
		nv_progress_done(1, j->src.size);
		return 0;
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

static void nv_job_free(nv_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nkeys; i++)
		free(j->keys[i]);
	free(j->keys);
	free(j->key);
	free(j);
}

static void nv_engine_free_item(void *run, void *item)
{
	(void)run;
	nv_job_free(item);
}

static int nv_engine_worker_open(void *run, void **out)
{
	nv_run *r = run;
	nv_xfer_ctx *x = calloc(1, sizeof(*x));
	int rc;

	*out = x;
	if (!x)
		return nv_error_set(NV_ERR, "out of memory");
	x->buf_size = r->o->buffer_size;
	x->verify_reread = r->o->verify_reread;
	x->want_sha = nv_log_json(); /* "copied" records carry the SHA-256 of what was sent */
	x->buf = malloc(x->buf_size);
	x->sha = nv_sha256_new();
	if (!x->buf || !x->sha)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_drv_open(&x->src, r->src_loc)) || (rc = nv_drv_open(&x->dst, r->dst_loc)))
		return nv_error_wrap(rc, "connecting");
	return 0;
}

static int nv_engine_worker_close(void *run, void *w, int ok)
{
	nv_run *r = run;
	nv_xfer_ctx *x = w;
	int rc = 0;

	if (!x)
		return 0;
	/* Durability barrier for what this worker wrote, before success is reported. */
	if (x->dst && ok && (rc = nv_drv_flush(x->dst)))
		nv_error_wrap(rc, "flushing %s", r->dst_loc->text);
	nv_drv_close(x->src);
	nv_drv_close(x->dst);
	nv_sha256_free(x->sha);
	free(x->buf);
	free(x);
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
	j->src.key = j->dst.key = NULL;
	r->queued++;
	nv_progress_known(0, j->src.size);
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
	if (src && o->notice_key && strcmp(key, o->notice_key) == 0)
		r->noticed = 1;
	if (o->mode == NV_ENGINE_CHECK) {
		if (act == NV_ACT_EXTRA) {
			atomic_fetch_add(&r->extra, 1);
			nv_log_item(NV_LOG_WARN, "extra", key, "only at the destination");
			return 0;
		}
		if (!dst) {
			atomic_fetch_add(&r->missing, 1);
			nv_log_item(NV_LOG_WARN, "missing", key, "not at the destination");
			return 0;
		}
		if (act == NV_ACT_COPY) {
			atomic_fetch_add(&r->differ, 1);
			nv_log_item(NV_LOG_WARN, "differ", key, "sizes differ");
			return 0;
		}
		if (o->size_only) {
			atomic_fetch_add(&r->identical, 1);
			return 0;
		}
		return nv_enqueue(r, NV_ACT_HASH, key, src, dst);
	}
	if (act == NV_ACT_SKIP) {
		atomic_fetch_add(&r->skipped, 1);
		return 0;
	}
	if (act == NV_ACT_EXTRA)
		return 0;
	if (act == NV_ACT_DELETE) {
		/* Deletes wait until both listings have ended in order. */
		if (fprintf(r->deletes, "%s\n", key) < 0)
			return nv_error_set(NV_EIO, "cannot record pending deletions");
		return 0;
	}
	if (o->dry_run) {
		nv_log_item(NV_LOG_WARN, nv_action_verb(act), key, NULL);
		if (act == NV_ACT_COPY)
			atomic_fetch_add(&r->copied, 1);
		return 0;
	}
	return nv_enqueue(r, act, key, src, dst);
}

/* The planner's callback: nv_plan_one, counted for the progress report (a
 * source file that goes to no worker is done once planned). */
static int nv_on_plan(void *ctx, nv_action act, const char *key, const nv_entry *src,
		      const nv_entry *dst)
{
	nv_run *r = ctx;
	uint64_t queued = r->queued;
	int rc;

	if (src)
		nv_progress_known(1, 0);
	rc = nv_plan_one(ctx, act, key, src, dst);
	if (src && r->queued == queued)
		nv_progress_done(1, 0);
	return rc;
}

/* Hands a batch of deletions to the workers; *j is theirs (or freed) after. */
static int nv_push_deletes(nv_run *r, nv_job **j)
{
	int rc = 0;

	if (*j && (*j)->nkeys && nv_pool_submit(r->pool, *j) == 0)
		*j = NULL;
	else if (*j && (*j)->nkeys)
		rc = NV_ECANCEL;
	nv_job_free(*j);
	*j = NULL;
	return rc;
}

/* Queues the recorded deletions in batches as large as the destination's
 * driver removes in one request (1 for drivers without remove_many). */
static int nv_apply_deletes(nv_run *r)
{
	size_t batch = nv_drv_remove_batch(r->dst_loc->driver);
	nv_job *j = NULL;
	char line[4096];
	int rc = 0;

	rewind(r->deletes);
	while (!rc && fgets(line, sizeof(line), r->deletes)) {
		line[strcspn(line, "\n")] = '\0';
		if (r->o->dry_run) {
			nv_log_item(NV_LOG_WARN, "would delete", line, NULL);
			atomic_fetch_add(&r->deleted, 1);
			continue;
		}
		if (!j && (j = calloc(1, sizeof(*j))))
			j->keys = calloc(batch, sizeof(*j->keys));
		if (!j || !j->keys || !(j->keys[j->nkeys] = strdup(line))) {
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
		j->act = NV_ACT_DELETE;
		if (++j->nkeys == batch)
			rc = nv_push_deletes(r, &j);
	}
	if (!rc)
		rc = nv_push_deletes(r, &j);
	nv_job_free(j);
	return rc;
}

/* Plans the whole tree (and records deletions), with workers consuming. */
static int nv_engine_plan(nv_run *r)
{
	nv_plan_rules rules = {
		.checksum = r->o->checksum || r->o->mode == NV_ENGINE_CHECK,
		.deleting = r->o->mode == NV_ENGINE_SYNC && r->o->delete_extra,
		.copying = 1,
	};
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
	rc = nv_plan_run(s, d, &rules, nv_on_plan, r);
	if (rc == NV_ECANCEL && r->pool && nv_pool_stopped(r->pool))
		rc = 0; /* a worker's error, reported as such */
	if (!rc)
		r->unlisted += nv_sorted_skipped(s);
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
	st->copied = r->copied;
	st->copied_bytes = r->copied_bytes;
	st->skipped = r->skipped;
	st->deleted = r->deleted;
	st->failed = r->out.failed + r->unlisted;
	st->mismatched = r->out.differ;
	st->identical = r->identical;
	st->differ = r->differ;
	st->missing = r->missing;
	st->extra = r->extra;
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
	nv_engine_pass(r, nv_engine_plan);
	/* Deleting only after a clean pass: an I/O error or a listing that went out
	 * of order must never turn into deletions. */
	if (!r->out.fatal && !r->out.failed && !r->out.differ && !r->unlisted) {
		if (ftell(r->deletes) > 0)
			nv_engine_pass(r, nv_apply_deletes);
	} else if (o->delete_extra && ftell(r->deletes) > 0) {
		nv_log(NV_LOG_WARN, "not deleting anything: there were errors");
	}
	nv_engine_report(r, st, &t0);
	code = nv_engine_exit(r, st);
	fclose(r->deletes);
	free(r);
	return code;
}
