/* replicate_copy.c: the replication's workers: each object streamed from the
 * source to the destination while hashed, committed only when its size and
 * SHA-256 are the signed manifest's. Called by replicate.c. */
#include "replicate.h"
#include "replicate_int.h"
#include "engine/pool.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/membudget.h"
#include "util/progress.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct nv_rcopy {
	const nv_location *src, *dst;
	const nv_replicate_opts *o;
	_Atomic uint64_t copied, copied_bytes, present, repaired;
} nv_rcopy;

typedef struct nv_rworker {
	nv_store *src, *dst;
	unsigned char *buf;
	size_t buf_size;
	nv_sha256 *sha;
} nv_rworker;

static int nv_rw_open(void *run, void **out)
{
	nv_rcopy *c = run;
	nv_rworker *w = calloc(1, sizeof(*w));
	int rc;

	*out = w;
	if (!w)
		return nv_error_set(NV_ERR, "out of memory");
	/* the worker's buffer: its first draw on the run's budget (its seat) */
	w->buf_size = c->o->buffer_size ? c->o->buffer_size : (1u << 20);
	w->buf = nv_mem_alloc(w->buf_size);
	w->sha = nv_sha256_new();
	if (!w->buf || !w->sha)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_drv_open(&w->src, c->src)) || (rc = nv_drv_open(&w->dst, c->dst)))
		return nv_error_wrap(rc, "connecting");
	return 0;
}

static int nv_rw_close(void *run, void *wp, int ok)
{
	nv_rcopy *c = run;
	nv_rworker *w = wp;
	int rc = 0;

	if (!w)
		return 0;
	/* Objects must be durable before any manifest naming them is published. */
	if (ok && w->dst && (rc = nv_drv_flush(w->dst)))
		nv_error_wrap(rc, "flushing %s", c->dst->text);
	nv_drv_close(w->src);
	nv_drv_close(w->dst);
	nv_sha256_free(w->sha);
	nv_mem_free(w->buf, w->buf_size);
	free(w);
	return rc;
}

/* SHA-256 and size of what s holds under rec's name, reading at most one
 * byte past the manifest's size. */
static int nv_rw_hash(nv_rworker *w, nv_store *s, const nv_obj_rec *rec, uint64_t *size,
		      unsigned char sha[NV_SHA256_LEN])
{
	uint64_t off = 0;
	size_t got, want;
	int rc;

	for (;;) {
		want = rec->size + 1 - off < w->buf_size ? (size_t)(rec->size + 1 - off)
							  : w->buf_size;
		if ((rc = nv_drv_read(s, rec->name, off, w->buf, want, &got))) {
			nv_sha256_final(w->sha, sha); /* resets the context */
			return rc;
		}
		nv_sha256_update(w->sha, w->buf, got);
		off += got;
		if (got < want || off > rec->size)
			break;
	}
	nv_sha256_final(w->sha, sha);
	*size = off;
	return 0;
}

/* Streams rec from the source to the destination. Nothing is committed unless
 * the bytes read are exactly the ones the signed manifest names. */
static int nv_rw_copy(nv_rcopy *c, nv_rworker *w, const nv_obj_rec *rec)
{
	nv_write_opts wo = { .size = (int64_t)rec->size, .flags = NV_WRITE_EXCLUSIVE };
	unsigned char sha[NV_SHA256_LEN];
	nv_commit_info ci = { 0 };
	nv_wstream *ws = NULL;
	uint64_t off = 0;
	size_t got, want;
	int rc;

	if ((rc = nv_drv_write_open(&ws, w->dst, rec->name, &wo)))
		return nv_error_wrap(rc, "writing %s", rec->name);
	for (;;) {
		want = rec->size + 1 - off < w->buf_size ? (size_t)(rec->size + 1 - off)
							  : w->buf_size;
		if ((rc = nv_drv_read(w->src, rec->name, off, w->buf, want, &got)))
			goto fail;
		nv_progress_stream(got);
		nv_sha256_update(w->sha, w->buf, got);
		off += got;
		if (off > rec->size)
			break;
		if (got && (rc = nv_drv_write(ws, w->buf, got)))
			goto fail;
		if (got < want)
			break;
	}
	nv_sha256_final(w->sha, sha);
	if ((rc = nv_vault_check_stored(rec, off, sha))) {
		nv_drv_write_abort(ws);
		return nv_error_wrap(rc, "at the source (not copied)");
	}
	rc = nv_drv_write_commit(ws, &ci);
	if (rc == NV_EEXISTS) { /* another run committed it meanwhile: its size says */
		nv_entry e;

		if ((rc = nv_drv_stat(w->dst, rec->name, &e)))
			return rc;
		ci.size = e.size;
		ci.confirmed = NV_CONFIRM_SIZE;
	} else if (rc) {
		return nv_error_wrap(rc, "committing %s", rec->name);
	}
	if ((ci.confirmed & NV_CONFIRM_SIZE) && ci.size != rec->size)
		return nv_error_set(NV_EMISMATCH, "%s: the destination holds %llu bytes, the "
				    "manifest says %llu", rec->name, (unsigned long long)ci.size,
				    (unsigned long long)rec->size);
	if (c->o->verify == NV_RVERIFY_REREAD) {
		if ((rc = nv_rw_hash(w, w->dst, rec, &off, sha)))
			return nv_error_wrap(rc, "reading back %s", rec->name);
		if ((rc = nv_vault_check_stored(rec, off, sha)))
			return nv_error_wrap(rc, "read back from the destination");
	}
	return 0;
fail:
	nv_sha256_final(w->sha, sha);
	nv_drv_write_abort(ws);
	return rc == NV_ENOTFOUND ? nv_error_set(NV_EMISMATCH, "object %s is missing at the "
						 "source", rec->name) : rc;
}

static int nv_rw_attempt(void *run, void *wp, void *item)
{
	nv_rcopy *c = run;
	nv_rworker *w = wp;
	nv_robj *j = item;
	unsigned char sha[NV_SHA256_LEN];
	uint64_t size;
	int rc;

	if (j->act == NV_ROBJ_CHECK) {
		rc = nv_rw_hash(w, w->dst, j->rec, &size, sha);
		if (rc == 0 && nv_vault_check_stored(j->rec, size, sha) == 0) {
			atomic_fetch_add(&c->present, 1);
			return 0;
		}
		if (rc && rc != NV_ENOTFOUND)
			return rc;
		nv_log_item(NV_LOG_WARN, "repairing", j->rec->name,
			    rc ? "missing at the destination" : nv_error_msg());
		j->act = NV_ROBJ_REPAIR;
	}
	if (j->act == NV_ROBJ_REPAIR) {
		/* The signed manifest fixes the bytes of this write-once name. */
		if ((rc = nv_drv_remove(w->dst, j->rec->name)))
			return rc;
		j->act = NV_ROBJ_COPY;
		atomic_fetch_add(&c->repaired, 1);
	}
	if ((rc = nv_rw_copy(c, w, j->rec)))
		return rc;
	atomic_fetch_add(&c->copied, 1);
	atomic_fetch_add(&c->copied_bytes, j->rec->size);
	nv_log_item_sha(NV_LOG_INFO, "replicated", j->rec->name, j->rec->sha256);
	return 0;
}

static const char *nv_rw_name(void *run, void *item)
{
	(void)run;
	return ((nv_robj *)item)->rec->name;
}

/* Every object counts once for the progress report; the pool logs failures. */
static int nv_rw_done(void *run, void *w, void *item, int rc)
{
	(void)run;
	(void)w;
	(void)rc;
	nv_progress_done(1, ((nv_robj *)item)->rec->size);
	return 0;
}

static const nv_pool_ops nv_rcopy_ops = {
	.worker_open = nv_rw_open,
	.worker_close = nv_rw_close,
	.attempt = nv_rw_attempt,
	.done = nv_rw_done,
	.name = nv_rw_name,
};

int nv_replicate_objects(const nv_location *src, const nv_location *dst, nv_robj *objs,
			 size_t n, const nv_replicate_opts *o, nv_replicate_stats *st,
			 nv_outcome *out)
{
	nv_rcopy c = { .src = src, .dst = dst, .o = o };
	nv_pool_opts po = { .workers = o->transfers, .retries = o->retries };
	nv_pool *p;
	size_t i;
	int rc;

	if (!n)
		return 0;
	if ((rc = nv_pool_start(&p, &po, &nv_rcopy_ops, &c)))
		return rc;
	for (i = 0; i < n; i++)
		nv_progress_known(1, objs[i].rec->size);
	nv_progress_listed();
	for (i = 0; i < n; i++)
		if (nv_pool_submit(p, &objs[i]))
			break;
	nv_pool_finish(p, out);
	st->copied += c.copied;
	st->copied_bytes += c.copied_bytes;
	st->present += c.present;
	st->repaired += c.repaired;
	return 0;
}
