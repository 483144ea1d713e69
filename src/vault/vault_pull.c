/* vault_pull.c: the reader's jobs on the one worker pool (engine/pool.h):
 * check stored bytes, then decrypt, check and (for pull) restore each object.
 * Called through vault_pull.h. */
#include "vault_pull.h"
#include "engine/leftovers.h"
#include "engine/pool.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/progress.h"
#include "vault.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nv_vrun {
	const nv_vread_opts *o;
	nv_pool *pool;
	_Atomic uint64_t done, bytes, mismatched, missing, failed;
} nv_vrun;

typedef struct nv_vworker {
	nv_vrun *p;
	nv_store *vault, *target;
	unsigned char *in, *out; /* stored bytes; decrypted plaintext */
	size_t in_size;
	nv_sha256 *sha, *psha;   /* of the stored bytes; of the plaintext */
} nv_vworker;

static int nv_vread_missing(const nv_obj_rec *rec)
{
	return nv_error_set(NV_ENOTFOUND, "object %s is missing", rec->name);
}

/* Pass 1: the stored bytes, streamed, against the manifest's size and SHA-256.
 * Reads at most one byte past the recorded size, so a grown object is caught
 * without reading all of it. An object smaller than the buffer arrives in one
 * read and stays there (*held set): pass 2 decrypts those very bytes. */
static int nv_vread_check_stored(nv_vworker *w, const nv_obj_rec *rec, int *held)
{
	unsigned char sha[NV_SHA256_LEN];
	uint64_t off = 0;
	size_t got, want;
	int rc;

	*held = 0;
	for (;;) {
		want = rec->size + 1 - off < w->in_size ? (size_t)(rec->size + 1 - off)
							 : w->in_size;
		rc = nv_drv_read(w->vault, rec->name, off, w->in, want, &got);
		if (rc) {
			nv_sha256_final(w->sha, sha); /* resets the context */
			return rc == NV_ENOTFOUND ? nv_vread_missing(rec) : rc;
		}
		nv_progress_stream(got);
		nv_sha256_update(w->sha, w->in, got);
		*held = off == 0 && got < want;
		off += got;
		if (got < want || off > rec->size)
			break;
	}
	nv_sha256_final(w->sha, sha);
	return nv_vault_check_stored(rec, off, sha);
}

/* An error of the restore target is the target's, never the vault's: it must
 * not read as a missing or tampered object. */
static int nv_vread_target_err(int rc, const char *doing, const char *path)
{
	if (rc == NV_ENOTFOUND || rc == NV_EMISMATCH)
		rc = NV_ERR;
	return nv_error_wrap(rc, "%s %s", doing, path);
}

/* Plaintext released by the decryptor: hashed, counted, written if restoring. */
static int nv_vread_emit(nv_vworker *w, const nv_cat_entry *e, nv_wstream *ws,
			 uint64_t *plain, size_t len)
{
	int rc;

	if (!len)
		return 0;
	*plain += len;
	if (*plain > e->size)
		return nv_error_set(NV_EMISMATCH, "%s: the object decrypts to more than the "
				    "catalog's %llu bytes", e->path, (unsigned long long)e->size);
	nv_sha256_update(w->psha, w->out, len);
	if (ws && (rc = nv_drv_write(ws, w->out, len)))
		return nv_vread_target_err(rc, "writing", e->path);
	return 0;
}

/* An age failure on bytes the signed manifest vouches for: the object is not
 * what its recipients were sent (or not sent to us): a verification failure
 * of that object, never a usage error. */
static int nv_vread_age(const nv_obj_rec *rec, int rc)
{
	if (rc == NV_EAUTH || rc == NV_EMISMATCH)
		return nv_error_wrap(NV_EMISMATCH, "object %s", rec->name);
	return rc;
}

/* Pass 2: decrypt. A held object is decrypted from the buffer pass 1 checked.
 * A larger one is read again: a store that serves other bytes this time is
 * caught by the size and by the plaintext's SHA-256 against the signed
 * catalog before anything is committed (a second hash of the stored bytes
 * would catch nothing more, and cost a SHA-256 of every byte). */
static int nv_vread_decrypt(nv_vworker *w, const nv_obj_rec *rec, const nv_cat_entry *e,
			    nv_wstream *ws, int held)
{
	unsigned char psha[NV_SHA256_LEN];
	uint64_t off = 0, plain = 0;
	nv_age_dec *d = NULL;
	size_t got, olen;
	int rc;

	if ((rc = nv_age_dec_new(&d, w->p->o->id)))
		return rc;
	for (;;) {
		if (held)
			got = (size_t)rec->size;
		else if ((rc = nv_drv_read(w->vault, rec->name, off, w->in, w->in_size, &got))) {
			if (rc == NV_ENOTFOUND)
				rc = nv_vread_missing(rec);
			goto out;
		}
		off += got;
		if (off > rec->size) {
			rc = nv_error_set(NV_EMISMATCH, "object %s grew while being read",
					  rec->name);
			goto out;
		}
		if ((rc = nv_vread_age(rec, nv_age_dec_update(d, w->in, got, w->out, &olen))) ||
		    (rc = nv_vread_emit(w, e, ws, &plain, olen)))
			goto out;
		if (held || got < w->in_size)
			break;
	}
	if (off != rec->size) {
		rc = nv_error_set(NV_EMISMATCH, "object %s shrank while being read", rec->name);
		goto out;
	}
	if ((rc = nv_vread_age(rec, nv_age_dec_final(d, w->out, &olen))) ||
	    (rc = nv_vread_emit(w, e, ws, &plain, olen)))
		goto out;
	nv_sha256_final(w->psha, psha);
	if (plain != e->size || memcmp(psha, e->sha256, NV_SHA256_LEN) != 0)
		rc = nv_error_set(NV_EMISMATCH, "%s: object %s decrypts to %llu bytes with "
				  "another SHA-256 than the catalog's (%llu bytes)", e->path,
				  rec->name, (unsigned long long)plain, (unsigned long long)e->size);
out:
	nv_sha256_final(w->psha, psha); /* reset for the next job */
	nv_age_dec_free(d);
	return rc;
}

static int nv_vread_restore(nv_vworker *w, const nv_obj_rec *rec, const nv_cat_entry *e,
			    int held)
{
	const nv_vread_opts *o = w->p->o;
	nv_write_opts wo = {
		.size = (int64_t)e->size,
		.mtime_sec = e->mtime,
		.mtime_nsec = e->mtime_ns,
		.mode = e->mode & (o->keep_modes ? 07777u : 0777u),
		.flags = NV_WRITE_HAS_MTIME | NV_WRITE_HAS_MODE,
	};
	nv_wstream *ws;
	int rc;

	if ((rc = nv_drv_write_open(&ws, w->target, e->path, &wo)))
		return nv_vread_target_err(rc, "restoring", e->path);
	if ((rc = nv_vread_decrypt(w, rec, e, ws, held))) {
		nv_drv_write_abort(ws); /* the temporary file goes; nothing partial stays */
		return rc;
	}
	if ((rc = nv_drv_write_commit(ws, NULL)))
		return nv_vread_target_err(rc, "restoring", e->path);
	return 0;
}

static int nv_vread_job_once(nv_vworker *w, const nv_vread_job *j)
{
	nv_vread_mode mode = j->entry ? w->p->o->mode : NV_VREAD_HASH;
	int rc, held;

	/* Verify, then trust: nothing is decrypted before the stored bytes match
	 * the signed manifest. An object larger than the buffer is read twice:
	 * at little cost from a local vault; a remote one pays two downloads
	 * (spooling the first read to a local temporary file is the later
	 * optimisation). */
	if ((rc = nv_vread_check_stored(w, j->rec, &held)) || mode == NV_VREAD_HASH)
		return rc;
	if (mode == NV_VREAD_DEEP)
		return nv_vread_decrypt(w, j->rec, j->entry, NULL, held);
	return nv_vread_restore(w, j->rec, j->entry, held);
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
	} else if (nv_err_classify(rc) != NV_CLASS_FATAL) {
		atomic_fetch_add(&p->failed, 1);
	}
	nv_log_item(NV_LOG_ERROR, event, what, msg);
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
	nv_sha256_free(w->sha);
	nv_sha256_free(w->psha);
	free(w->in);
	if (w->out)
		nv_age_wipe_free(w->out, nv_age_dec_bound(w->in_size));
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
	w->in_size = o->buf_size ? o->buf_size : (1u << 20);
	w->in = malloc(w->in_size);
	w->out = malloc(nv_age_dec_bound(w->in_size));
	w->sha = nv_sha256_new();
	w->psha = nv_sha256_new();
	if (!w->in || !w->out || !w->sha || !w->psha)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_drv_open(&w->vault, o->vault)))
		return nv_error_wrap(rc, "connecting to %s", o->vault->text);
	if (o->mode == NV_VREAD_RESTORE && (rc = nv_drv_open(&w->target, o->target)))
		return nv_error_wrap(rc, "opening %s", o->target->text);
	return 0;
}

static const nv_pool_ops nv_vread_ops = {
	.worker_open = nv_vworker_open,
	.worker_close = nv_vworker_close,
	.attempt = nv_vread_attempt,
	.done = nv_vread_done,
	.name = nv_vread_name,
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

int nv_vread_run(const nv_vread_opts *o, const nv_vread_job *jobs, size_t n,
		 nv_vread_stats *st)
{
	nv_pool_opts po = { .workers = o->workers ? o->workers : 1, .retries = o->retries };
	nv_vrun p = { .o = o };
	int rc;

	memset(st, 0, sizeof(*st));
	if ((size_t)po.workers > n)
		po.workers = n ? (unsigned)n : 1;
	if (o->mode == NV_VREAD_RESTORE)
		nv_vread_clean_target(o);
	if ((rc = nv_pool_start(&p.pool, &po, &nv_vread_ops, &p)))
		return rc;
	for (size_t i = 0; i < n; i++)
		nv_progress_known(1, nv_vread_size(o, &jobs[i]));
	nv_progress_listed();
	/* The jobs are the caller's (the catalog and manifest are in memory): the
	 * pool's bounded queue only hands them out. */
	for (size_t i = 0; i < n; i++)
		if (nv_pool_submit(p.pool, (void *)&jobs[i]) != 0)
			break; /* stopped: the rest is never attempted */
	nv_pool_finish(p.pool, &st->out);
	if (st->out.fatal)
		snprintf(st->fatal_msg, sizeof(st->fatal_msg), "%s", nv_error_msg());
	st->done = p.done;
	st->bytes = p.bytes;
	st->mismatched = p.mismatched;
	st->missing = p.missing;
	st->failed = p.failed;
	st->out.failed += p.failed;
	st->out.differ += p.mismatched + p.missing;
	return 0;
}
