/* vault_push.c: push — the walk over the source tree, and jobs on the one
 * worker pool (engine/pool.h) that hash (only files the cache cannot vouch
 * for), deduplicate by keyed id and encrypt+upload the rest; then publication
 * (push_publish.c). The host's state is push_state.c's. Called by cmd_push.c. */
#include "vault_push.h"
#include "engine/dest_lock.h"
#include "engine/leftovers.h"
#include "engine/lister.h"
#include "engine/pool.h"
#include "engine/transfer.h"
#include "canary_push.h"
#include "objindex.h"
#include "push_publish.h"
#include "push_state.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/retry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nv_push {
	nv_vault *v;
	const nv_location *src;
	const nv_engine_opts *o;
	const nv_age_recipient *recips;
	size_t n_recips;
	nv_push_state *ps;
	nv_canary_set *canary; /* NULL: the vault has no drill recipient */
	nv_objindex *prev;     /* the generation this push chains from, by object id */
	nv_pool *pool;
	pthread_mutex_t mu;    /* ps's landed objects and inflight */
	pthread_cond_t landed_cv;  /* an in-flight upload finished */
	char (*inflight)[NV_OBJECT_ID_HEX]; /* ids being uploaded now, one slot per worker */
	unsigned n_workers;
	atomic_uint n_slots_taken;
	_Atomic uint64_t hashed, uploaded, uploaded_bytes, reused;
	uint64_t unlisted;     /* names the listing skipped as unsafe */
	uint64_t listed;       /* files the walk handed to the pool */
	nv_push_recs recs;     /* the files done, sorted on disk (push_catalog.h) */
	pthread_mutex_t recs_mu;
} nv_push;

/* ---- dedup ---- */

/* Marks id as being uploaded by worker slot (or clears the slot with NULL). */
static void nv_push_inflight(nv_push *p, unsigned slot, const char *id)
{
	pthread_mutex_lock(&p->mu);
	if (id)
		memcpy(p->inflight[slot], id, NV_OBJECT_ID_HEX);
	else
		p->inflight[slot][0] = '\0';
	pthread_cond_broadcast(&p->landed_cv);
	pthread_mutex_unlock(&p->mu);
}

/* An existing object with this id: in the manifest we chain from, uploaded by
 * this run, or landed by an interrupted one (checked present, right size). */
static int nv_push_find(nv_push *p, unsigned slot, nv_store *dst, const char *id,
			nv_obj_rec *out, char name[NV_OBJECT_NAME_MAX])
{
	nv_entry e;

	if (nv_objindex_find_id(p->prev, id, out, name))
		return 1;
	pthread_mutex_lock(&p->mu);
	/* Equal contents met by two workers at once: wait for the first upload. */
	for (int busy = 1; busy;) {
		busy = 0;
		for (unsigned i = 0; i < p->n_workers; i++)
			busy |= strcmp(p->inflight[i], id) == 0;
		if (busy)
			pthread_cond_wait(&p->landed_cv, &p->mu);
	}
	if (nv_push_landed_find(p->ps, id, out, name)) {
		pthread_mutex_unlock(&p->mu);
		if (strcmp(out->name, NV_PUSH_DRY_NAME) == 0)
			return 1;
		if (nv_drv_stat(dst, out->name, &e) == 0 && e.size == out->size)
			return 1;
		nv_error_clear();
		nv_push_inflight(p, slot, id);
		return 0;
	}
	/* Not stored anywhere: this worker uploads it; others with the same id wait. */
	memcpy(p->inflight[slot], id, NV_OBJECT_ID_HEX);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* ---- the worker's job ---- */

typedef struct nv_pworker {
	nv_push *p;
	unsigned slot;
	nv_store *src, *dst;
	unsigned char *buf, *ct;
	size_t buf_size, ct_size;
	nv_sha256 *sha, *sha2, *sha_ct;
} nv_pworker;

/* Encrypts j's plaintext (read to its end, w->buf at a time) into the open
 * object ws; *plain and *stored count the bytes, w->sha2 and w->sha_ct hash
 * them. */
static int nv_encrypt_stream(nv_pworker *w, const nv_push_file *j, nv_age_enc *enc,
			     nv_wstream *ws, uint64_t *plain, uint64_t *stored)
{
	size_t got, n;
	int rc;

	for (;;) {
		if ((rc = nv_drv_read(w->src, j->path, *plain, w->buf, w->buf_size, &got)))
			return rc;
		nv_progress_stream(got);
		nv_sha256_update(w->sha2, w->buf, got);
		*plain += got;
		if ((rc = nv_age_enc_update(enc, w->buf, got, w->ct, &n)))
			return rc;
		nv_sha256_update(w->sha_ct, w->ct, n);
		*stored += n;
		if (n && (rc = nv_drv_write(ws, w->ct, n)))
			return rc;
		if (got < w->buf_size)
			break;
	}
	if ((rc = nv_age_enc_final(enc, w->ct, &n)))
		return rc;
	nv_sha256_update(w->sha_ct, w->ct, n);
	*stored += n;
	return n ? nv_drv_write(ws, w->ct, n) : 0;
}

/* Encrypts j into a new write-once object, re-hashing the plaintext on the
 * way: contents that changed since they were hashed are never stored under
 * the old id. */
static int nv_upload(nv_pworker *w, nv_push_file *j, const char *id, nv_obj_rec *out)
{
	nv_push *p = w->p;
	unsigned char sha2[NV_SHA256_LEN];
	char name[NV_OBJECT_NAME_MAX];
	nv_write_opts wo = { .flags = NV_WRITE_EXCLUSIVE };
	nv_age_enc *enc = NULL;
	nv_wstream *ws = NULL;
	nv_commit_info ci;
	uint64_t plain = 0, stored = 0;
	int rc;

	if ((rc = nv_object_name_new(name, id)))
		return rc;
	wo.size = (int64_t)nv_age_ciphertext_size(j->cat.size, p->n_recips);
	if ((rc = nv_age_enc_new(&enc, p->recips, p->n_recips)) ||
	    (rc = nv_drv_write_open(&ws, w->dst, name, &wo)) ||
	    (rc = nv_encrypt_stream(w, j, enc, ws, &plain, &stored)))
		goto out;
	nv_sha256_final(w->sha2, sha2);
	if (plain != j->cat.size || memcmp(sha2, j->cat.sha256, NV_SHA256_LEN) != 0) {
		rc = nv_error_set(NV_ERETRY, "%s changed while being pushed: not stored", j->path);
		goto out;
	}
	nv_sha256_final(w->sha_ct, out->sha256);
	rc = nv_drv_write_commit(ws, &ci);
	ws = NULL;
	if (rc)
		goto out;
	if ((ci.confirmed & NV_CONFIRM_SIZE) && ci.size != stored) {
		rc = nv_error_set(NV_EMISMATCH, "%s: the store holds %llu bytes, %llu were sent",
				  name, (unsigned long long)ci.size, (unsigned long long)stored);
		goto out;
	}
	out->size = stored;
	if (!(out->name = strdup(name))) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	pthread_mutex_lock(&p->mu);
	rc = nv_push_landed_add(p->ps, id, out);
	pthread_mutex_unlock(&p->mu);
	atomic_fetch_add(&p->uploaded, 1);
	atomic_fetch_add(&p->uploaded_bytes, stored);
out:
	if (rc) {
		unsigned char scratch[NV_SHA256_LEN];

		nv_sha256_final(w->sha2, scratch); /* reset for the next job */
		nv_sha256_final(w->sha_ct, scratch);
	}
	nv_drv_write_abort(ws);
	nv_age_enc_free(enc);
	return rc;
}

/* A dry run's upload: counted and said, nothing written. The bytes are those
 * the object would hold (age's exact ciphertext size). */
static int nv_dry_upload(nv_pworker *w, nv_push_file *j, const char *id, nv_obj_rec *out)
{
	nv_push *p = w->p;
	uint64_t stored = nv_age_ciphertext_size(j->cat.size, p->n_recips);
	int rc;

	memset(out, 0, sizeof(*out));
	out->size = stored;
	if (!(out->name = strdup(NV_PUSH_DRY_NAME)))
		return nv_error_set(NV_ERR, "out of memory");
	pthread_mutex_lock(&p->mu);
	rc = nv_push_landed_add(p->ps, id, out);
	pthread_mutex_unlock(&p->mu);
	atomic_fetch_add(&p->uploaded, 1);
	atomic_fetch_add(&p->uploaded_bytes, stored);
	return rc;
}

/* j's catalog line from its listing (all but the SHA-256 and the object). */
static int nv_pjob_catalog_fields(nv_push_file *j)
{
	/* The catalog is JSON, which holds UTF-8 only: such a name would make a
	 * generation that no reader can open. */
	if (!nv_utf8_valid(j->path, strlen(j->path)))
		return nv_error_set(NV_EINVAL, "the name is not valid UTF-8, which a vault's "
				    "catalog (JSON) cannot hold: not pushed");
	/* push reads local directories only (cmd_push.c): their listings carry
	 * mode and mtime */
	j->cat.path = j->path;
	j->cat.size = j->e.size;
	j->cat.mode = j->e.mode & 07777;
	j->cat.mtime = j->e.mtime_sec;
	j->cat.mtime_ns = j->e.mtime_nsec;
	return 0;
}

/* The catalog line of j from its listing, and its plaintext SHA-256: from
 * the cache when the listing shows the very file cached, else read. A retry
 * (attempt > 0) first asks the source again: the file changed since it was
 * listed. */
static int nv_pjob_describe(nv_pworker *w, nv_push_file *j, unsigned attempt)
{
	uint64_t n;
	int rc;

	if (attempt && (rc = nv_drv_stat(w->src, j->path, &j->e)))
		return rc;
	if ((rc = nv_pjob_catalog_fields(j)))
		return rc;
	if (nv_push_cache_match(&j->cached, &j->e, j->cat.sha256))
		return 0;
	if ((rc = nv_xfer_hash(&(nv_xfer_ctx){ .src = w->src, .buf = w->buf,
					       .buf_size = w->buf_size, .sha = w->sha },
			       w->src, j->path, &n, j->cat.sha256)))
		return rc;
	atomic_fetch_add(&w->p->hashed, 1);
	if (n != j->cat.size)
		return nv_error_set(NV_ERETRY, "%s changed while being read", j->path);
	return 0;
}

static int nv_pjob_run_once(nv_pworker *w, nv_push_file *j, unsigned attempt)
{
	nv_push *p = w->p;
	char id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	int rc;

	if ((rc = nv_pjob_describe(w, j, attempt)))
		return rc;
	nv_push_object_id(p->ps, j->cat.sha256, id);
	if (nv_push_find(p, w->slot, w->dst, id, &j->obj, name)) {
		if (!(j->obj.name = strdup(j->obj.name)))
			return nv_error_set(NV_ERR, "out of memory");
		atomic_fetch_add(&p->reused, 1);
	} else {
		rc = p->o->dry_run ? nv_dry_upload(w, j, id, &j->obj) : nv_upload(w, j, id, &j->obj);
		nv_push_inflight(p, w->slot, NULL);
		if (rc)
			return rc;
		if (p->o->dry_run)
			nv_log_item_sha(NV_LOG_WARN, "would upload", j->path, j->cat.sha256);
		else
			nv_log_item_sha(NV_LOG_INFO, "pushed", j->path, j->cat.sha256);
	}
	j->cat.object = j->obj.name;
	return 0;
}

static int nv_push_attempt(void *run, void *w, void *item)
{
	(void)run;
	/* a retry starts from the file as it is now */
	return nv_pjob_run_once(w, item, nv_retry_taken());
}

/* A file done goes to the sorted records publication reads (push_catalog.h):
 * nothing of it stays in memory. One that cannot be recorded (a full disk
 * under the state directory) stops the run. */
static int nv_push_done(void *run, void *w, void *item, int rc)
{
	nv_push *p = run;
	nv_push_file *j = item;

	(void)w;
	j->failed = rc != 0;
	nv_progress_done(1, j->e.size);
	if (!rc) {
		pthread_mutex_lock(&p->recs_mu);
		rc = nv_push_recs_add(&p->recs, j);
		pthread_mutex_unlock(&p->recs_mu);
		if (rc)
			nv_pool_stop(p->pool, rc);
	}
	return 0; /* counted and logged by the pool, by the one classification */
}

static void nv_push_file_free(nv_push_file *j)
{
	free(j->path);
	free(j->obj.name);
	free(j);
}

static void nv_push_free_item(void *run, void *item)
{
	(void)run;
	nv_push_file_free(item);
}

static const char *nv_push_name(void *run, void *item)
{
	(void)run;
	return ((const nv_push_file *)item)->path;
}

static int nv_push_worker_close(void *run, void *wp, int ok)
{
	nv_pworker *w = wp;

	/* No flush here: publication flushes the vault's store before the
	 * manifest names any object (push_publish.c). */
	(void)run;
	(void)ok;
	if (!w)
		return 0;
	nv_drv_close(w->src);
	nv_drv_close(w->dst);
	nv_sha256_free(w->sha);
	nv_sha256_free(w->sha2);
	nv_sha256_free(w->sha_ct);
	free(w->buf);
	free(w->ct);
	free(w);
	return 0;
}

static int nv_push_worker_open(void *run, void **out)
{
	nv_push *p = run;
	nv_pworker *w = calloc(1, sizeof(*w));
	nv_age_enc *probe = NULL;
	int rc;

	*out = w;
	if (!w)
		return nv_error_set(NV_ERR, "out of memory");
	w->p = p;
	w->slot = atomic_fetch_add(&p->n_slots_taken, 1);
	w->buf_size = p->o->buffer_size;
	w->buf = malloc(w->buf_size);
	w->sha = nv_sha256_new();
	w->sha2 = nv_sha256_new();
	w->sha_ct = nv_sha256_new();
	if (!w->buf || !w->sha || !w->sha2 || !w->sha_ct)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_drv_open(&w->src, p->src)) ||
	    (rc = nv_drv_open(&w->dst, nv_vault_location(p->v))) ||
	    (rc = nv_age_enc_new(&probe, p->recips, p->n_recips)))
		return rc;
	w->ct_size = nv_age_enc_bound(probe, w->buf_size);
	nv_age_enc_free(probe);
	if (!(w->ct = malloc(w->ct_size)))
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

static const nv_pool_ops nv_push_ops = {
	.worker_open = nv_push_worker_open,
	.worker_close = nv_push_worker_close,
	.attempt = nv_push_attempt,
	.done = nv_push_done,
	.name = nv_push_name,
	.free_item = nv_push_free_item,
};

/* ---- walking the tree ---- */

/* A new job for a listed entry, with what the cache says of it (the cache is
 * read beside the walk, in the same order). */
static int nv_push_job(nv_push *p, const nv_entry *e, nv_push_file **out)
{
	nv_push_file *j;

	if (!(j = calloc(1, sizeof(*j))) || !(j->path = strdup(e->key))) {
		free(j);
		return nv_error_set(NV_ERR, "out of memory");
	}
	/* size, times, inode and mode as the source driver listed them */
	j->e = *e;
	j->e.key = NULL;
	nv_push_cache_seek(p->ps, j->path, &j->cached);
	*out = j;
	return 0;
}

/* The file of a no-change push, done on the walk's thread: the cache vouches
 * for its contents and the generation chained from holds their object, so
 * nothing is read or stored and handing it to a worker would cost more than
 * the work (two thread switches a file). 1 when done (j recorded and freed),
 * 0 when it goes to the pool; an error (j still the caller's) stops the walk. */
static int nv_push_unchanged(nv_push *p, nv_push_file *j)
{
	char id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	int rc;

	if (!nv_push_cache_match(&j->cached, &j->e, j->cat.sha256) || nv_pjob_catalog_fields(j)) {
		nv_error_clear();
		return 0;
	}
	nv_push_object_id(p->ps, j->cat.sha256, id);
	if (!nv_objindex_find_id(p->prev, id, &j->obj, name))
		return 0;
	if (!(j->obj.name = strdup(name)))
		return nv_error_set(NV_ERR, "out of memory");
	j->cat.object = j->obj.name;
	atomic_fetch_add(&p->reused, 1);
	nv_progress_done(1, j->e.size);
	pthread_mutex_lock(&p->recs_mu);
	rc = nv_push_recs_add(&p->recs, j);
	pthread_mutex_unlock(&p->recs_mu);
	if (rc)
		return rc; /* j stays the caller's */
	nv_push_file_free(j);
	return 1;
}

static int nv_push_walk(nv_push *p)
{
	nv_store *s = NULL;
	nv_sorted *l = NULL;
	nv_push_file *j = NULL;
	nv_entry e;
	int rc, listing = 1;

	if ((rc = nv_drv_open(&s, p->src)) || (rc = nv_sorted_open(&l, s, "", 0)))
		goto out;
	while (!nv_pool_stopped(p->pool) && (rc = nv_sorted_next(l, &e)) == 0) {
		/* A filtered push publishes the files that pass, as a push of the
		 * smaller tree would (README.md, "Filters"). */
		if (!nv_filter_entry(p->o->filter, &e))
			continue;
		if ((rc = nv_push_job(p, &e, &j)))
			break;
		nv_progress_known(1, e.size);
		p->listed++;
		if ((rc = nv_push_unchanged(p, j)) < 0) {
			nv_push_file_free(j);
			listing = 0; /* not the listing's error: its message stands */
			break;
		}
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (nv_pool_submit(p->pool, j) != 0) {
			nv_push_file_free(j); /* the run stopped: never attempted */
			break;
		}
	}
	if (rc == NV_EOF)
		rc = 0;
	nv_progress_listed();
	if (!rc)
		p->unlisted = nv_sorted_skipped(l);
out:
	if (rc && listing)
		nv_error_wrap(rc, "listing %s", p->src->text);
	nv_sorted_close(l);
	nv_drv_close(s);
	return rc;
}

/* ---- the whole push ---- */

/* The walk feeds the pool; 0 when every file is ready to publish. A file
 * that failed (or differed) fails the push: no generation is published, what
 * landed is kept. out gets the pool's counts. */
static int nv_push_files(nv_push *p, nv_outcome *out)
{
	nv_pool_opts po = { .workers = p->n_workers, .retries = p->o->retries };
	int rc;

	if ((rc = nv_pool_start(&p->pool, &po, &nv_push_ops, p)))
		return rc;
	rc = nv_push_walk(p);
	nv_pool_finish(p->pool, out); /* its fatal error's message, if any, is ours now */
	p->pool = NULL;
	out->failed += p->unlisted;
	if (out->fatal)
		return out->fatal;
	if (rc)
		return rc;
	if (out->failed || out->differ)
		return nv_error_set(NV_EIO, "%llu file(s) could not be pushed: no generation "
				    "published (what landed is kept for the next push)",
				    (unsigned long long)(out->failed + out->differ));
	return nv_push_recs_sort(&p->recs);
}

static void nv_push_stats_fill(const nv_push *p, nv_push_stats *st)
{
	st->files = p->listed;
	st->hashed = p->hashed;
	st->uploaded = p->uploaded;
	st->uploaded_bytes = p->uploaded_bytes;
	st->reused = p->reused;
	if (p->canary) {
		size_t nc = 0;

		nv_canary_files(p->canary, &nc);
		st->canaries = nc;
		st->canaries_uploaded = nv_canary_uploaded(p->canary);
	}
}

/* This host's locks on the vault (its location's and push/<vault_id>/lock,
 * which guards this host's files of the vault), then the lease there: two
 * hosts pushing to one vault never interleave, even on a store that does not
 * enforce create-if-absent. A dry run takes none: it writes nothing. */
static int nv_push_lock(nv_push *p, nv_dest_lock **lock)
{
	const char *vid = nv_vault_descriptor(p->v)->vault_id;
	char path[4200], what[80];
	nv_dest_lock_opts lo = { .command = "push", .wait_ms = p->o->wait_lock_ms,
				 .also_path = path, .also_what = what, .probe = 1 };
	int rc;

	*lock = NULL;
	if (p->o->dry_run)
		return 0;
	if ((rc = nv_vstate_path(path, sizeof(path), NV_VSTATE_LOCK, vid)))
		return rc;
	snprintf(what, sizeof(what), "vault %s", vid);
	return nv_dest_lock_take_opts(lock, nv_vault_location(p->v), &lo);
}

/* After the files: publish, or for a dry run say whether it would. */
static int nv_push_finish(nv_push *p, nv_publisher *pb, uint64_t prev_gen,
			  const unsigned char prev_sha[NV_SHA256_LEN], nv_dest_lock *lock,
			  nv_push_stats *st)
{
	int rc;

	if (p->o->dry_run) {
		st->generation = prev_gen;
		st->would_publish = 1;
		/* an object to upload, a canary's too, is a new generation; else the
		 * catalogs (the canary one included) say whether anything changed */
		if (!p->uploaded && !(p->canary && nv_canary_uploaded(p->canary)) &&
		    (rc = nv_push_would_publish(pb, &p->recs, prev_gen, &st->would_publish)))
			return rc;
		if (st->would_publish)
			st->generation = prev_gen + 1;
		return 0;
	}
	if (nv_dest_lock_lost(lock))
		return nv_error_set(NV_ECANCEL, "the lease at %s was lost (not renewed in time): "
				    "nothing published", nv_vault_location(p->v)->text);
	return nv_push_publish(pb, &p->recs, prev_gen, prev_sha, &st->generation,
			       &st->published);
}

/* The generation this push chains from (its number and the SHA-256 of its
 * manifest), read as a stream into an index by object id: a million objects
 * cost 8 MiB here, not the manifest parsed whole. */
static int nv_push_prev(nv_push *p, unsigned char sha[NV_SHA256_LEN], uint64_t *gen)
{
	nv_mread *r = NULL;
	nv_manifest head;
	int rc = nv_vault_current_read(p->v, -1, &r, &head, sha, gen);

	if (!rc)
		rc = nv_objindex_build(&p->prev, r);
	nv_mread_close(r);
	nv_manifest_clear(&head);
	return rc;
}

/* Releases the locks; the message of an error that stopped the push survives. */
static void nv_push_unlock(nv_dest_lock *lock, int rc)
{
	char msg[9000];

	snprintf(msg, sizeof(msg), "%s", rc ? nv_error_msg() : "");
	nv_dest_lock_release(lock);
	if (rc)
		nv_error_set(rc, "%s", msg);
}

int nv_vault_push(nv_vault *v, const nv_location *src, const nv_sshkey *sk,
		  const nv_engine_opts *o, nv_push_stats *st)
{
	nv_push *p = calloc(1, sizeof(*p));
	nv_publisher pb = { .v = v, .sk = sk };
	nv_dest_lock *lock = NULL;
	unsigned char prev_sha[NV_SHA256_LEN];
	uint64_t prev_gen = 0;
	struct timespec t0, t1;
	int rc;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!p)
		return nv_error_set(NV_ERR, "out of memory");
	p->v = v;
	p->src = src;
	p->o = o;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->landed_cv, NULL);
	pthread_mutex_init(&p->recs_mu, NULL);
	p->n_workers = o->transfers ? o->transfers : 1;
	if (!(p->inflight = calloc(p->n_workers, sizeof(*p->inflight)))) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	nv_vault_recipients(v, &p->recips, &p->n_recips);
	if ((rc = nv_vault_check_signing_key(v, sk)) || (rc = nv_push_lock(p, &lock)) ||
	    (rc = nv_push_state_open(&p->ps, nv_vault_descriptor(v)->vault_id, o->dry_run)) ||
	    (rc = nv_drv_open(&pb.s, nv_vault_location(v))))
		goto out;
	pb.ps = p->ps;
	/* What interrupted pushes left, before this one writes (engine/leftovers.h:
	 * holding the vault's lease, the local driver's locks and the age tell). */
	if (!o->dry_run)
		nv_leftovers_clean(pb.s, NULL);
	if ((!o->dry_run && (rc = nv_push_complete_pending(&pb))) ||
	    (rc = nv_push_prev(p, prev_sha, &prev_gen)) ||
	    (rc = nv_canary_prepare(&p->canary, v, p->ps, pb.s, src, p->prev, o->dry_run)))
		goto out;
	pb.canary = p->canary;
	if ((rc = nv_push_recs_open(&p->recs)) || (rc = nv_push_files(p, &st->out)))
		goto out;
	rc = nv_push_finish(p, &pb, prev_gen, prev_sha, lock, st);
out:
	if (rc && !st->out.fatal && !st->out.failed && !st->out.differ)
		st->out.fatal = rc;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	nv_push_stats_fill(p, st);
	nv_push_recs_close(&p->recs);
	nv_canary_free(p->canary);
	nv_objindex_free(p->prev);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->landed_cv);
	pthread_mutex_destroy(&p->recs_mu);
	free(p->inflight);
	nv_drv_close(pb.s);
	nv_push_state_close(p->ps);
	nv_push_unlock(lock, rc);
	free(p);
	return rc;
}
