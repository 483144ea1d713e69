/* vault_pull.c: the reader's worker pool: check stored bytes, then decrypt,
 * check and (for pull) restore each object. Called through vault_pull.h. */
#include "vault_pull.h"
#include "util/exit.h"
#include "util/hash.h"
#include "util/log.h"
#include "vault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct nv_vpool {
	const nv_vread_opts *o;
	const nv_vread_job *jobs;
	size_t n;
	/* The jobs are an array the caller already holds (the catalog and manifest
	 * are in memory), so a shared index hands them out: memory stays bounded
	 * by the workers' buffers without a queue between two threads. */
	atomic_size_t next;
	atomic_int fatal;
	pthread_mutex_t mu;
	nv_vread_stats *st;
	_Atomic uint64_t done, bytes, mismatched, missing, failed;
} nv_vpool;

typedef struct nv_vworker {
	nv_vpool *p;
	nv_store *vault, *target;
	unsigned char *in, *out; /* stored bytes; decrypted plaintext */
	size_t in_size;
	nv_sha256 *sha, *psha;   /* of the stored bytes; of the plaintext */
} nv_vworker;

static void nv_vpool_fatal(nv_vpool *p, int code)
{
	pthread_mutex_lock(&p->mu);
	if (!atomic_load(&p->fatal)) {
		snprintf(p->st->fatal_msg, sizeof(p->st->fatal_msg), "%s", nv_error_msg());
		atomic_store(&p->fatal, code ? code : NV_ERR);
	}
	pthread_mutex_unlock(&p->mu);
}

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

static void nv_vread_one(nv_vworker *w, const nv_vread_job *j)
{
	nv_vpool *p = w->p;
	const char *what = j->entry ? j->entry->path : j->rec->name;
	unsigned attempt = 0;
	int rc;

	while ((rc = nv_vread_job_once(w, j)) == NV_ERETRY && attempt < p->o->retries &&
	       !atomic_load(&p->fatal)) {
		nv_log_item(NV_LOG_INFO, "retry", what, nv_error_msg());
		usleep(200000u << (attempt < 4 ? attempt : 4));
		attempt++;
	}
	if (!rc) {
		atomic_fetch_add(&p->done, 1);
		atomic_fetch_add(&p->bytes, j->entry && p->o->mode != NV_VREAD_HASH ?
					    j->entry->size : j->rec->size);
		nv_log_item(NV_LOG_INFO, p->o->mode == NV_VREAD_RESTORE && j->entry ?
			    "restored" : "verified", what, NULL);
		return;
	}
	const char *msg = nv_error_msg(), *event = "failed";
	size_t nl = strlen(j->rec->name);

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
	} else if (rc == NV_EAUTH || rc == NV_ENOSPC || rc == NV_ECANCEL) {
		nv_vpool_fatal(p, rc);
	} else {
		atomic_fetch_add(&p->failed, 1);
	}
	nv_log_item(NV_LOG_ERROR, event, what, msg);
}

static int nv_vworker_setup(nv_vworker *w)
{
	const nv_vread_opts *o = w->p->o;
	int rc;

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

static void *nv_vworker_main(void *arg)
{
	nv_vworker w = { .p = arg };
	nv_vpool *p = w.p;
	size_t i;
	int rc;

	if ((rc = nv_vworker_setup(&w)))
		nv_vpool_fatal(p, rc);
	while (!atomic_load(&p->fatal) && (i = atomic_fetch_add(&p->next, 1)) < p->n)
		nv_vread_one(&w, &p->jobs[i]);
	/* Durability barrier for what this worker restored, before success. */
	if (w.target && !atomic_load(&p->fatal) && (rc = nv_drv_flush(w.target))) {
		nv_error_wrap(rc, "flushing %s", p->o->target->text);
		nv_vpool_fatal(p, rc);
	}
	nv_drv_close(w.vault);
	nv_drv_close(w.target);
	nv_sha256_free(w.sha);
	nv_sha256_free(w.psha);
	free(w.in);
	if (w.out)
		nv_age_wipe_free(w.out, nv_age_dec_bound(w.in_size));
	return NULL;
}

int nv_vread_run(const nv_vread_opts *o, const nv_vread_job *jobs, size_t n,
		 nv_vread_stats *st)
{
	unsigned nw = o->workers ? o->workers : 1, started = 0;
	pthread_t *tids;
	nv_vpool p;

	memset(st, 0, sizeof(*st));
	memset(&p, 0, sizeof(p));
	if ((size_t)nw > n)
		nw = n ? (unsigned)n : 1;
	p.o = o;
	p.jobs = jobs;
	p.n = n;
	p.st = st;
	pthread_mutex_init(&p.mu, NULL);
	tids = calloc(nw, sizeof(*tids));
	if (!tids)
		return nv_error_set(NV_ERR, "out of memory");
	for (; started < nw; started++)
		if (pthread_create(&tids[started], NULL, nv_vworker_main, &p))
			break;
	if (!started) {
		nv_error_set(NV_ERR, "cannot start a worker thread");
		nv_vpool_fatal(&p, NV_ERR);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_mutex_destroy(&p.mu);
	st->done = p.done;
	st->bytes = p.bytes;
	st->mismatched = p.mismatched;
	st->missing = p.missing;
	st->failed = p.failed;
	st->fatal = atomic_load(&p.fatal);
	return 0;
}

int nv_vread_exit(const nv_vread_stats *st)
{
	if (st->fatal)
		return st->fatal == NV_EINVAL ? NV_EXIT_USAGE : NV_EXIT_FATAL;
	if (st->mismatched || st->missing)
		return NV_EXIT_DIFF;
	if (st->failed)
		return NV_EXIT_PARTIAL;
	return NV_EXIT_OK;
}
