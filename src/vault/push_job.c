/* push_job.c: one file of a push on the worker pool: the catalog line from
 * its listing, its plaintext hash from the cache or a read, dedup by keyed id
 * among the objects stored and in flight, and encryption into a new object.
 * A new file is read once where that is safe (nv_pjob_plan). Called by
 * vault_push.c through push_job.h. */
#include "push_job.h"
#include "engine/transfer.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/membudget.h"
#include "util/progress.h"
#include "util/retry.h"
#include "util/sha_pair.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
 * this run, or landed by an interrupted one (checked present, right size).
 * out->name is name. */
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

/* j names the object found (out->name in a caller's buffer): a copy of its own. */
static int nv_push_reuse(nv_push *p, nv_push_file *j)
{
	if (!(j->obj.name = strdup(j->obj.name)))
		return nv_error_set(NV_ERR, "out of memory");
	atomic_fetch_add(&p->reused, 1);
	return 0;
}

/* ---- the worker's job ---- */

typedef struct nv_pworker {
	nv_push *p;
	unsigned slot;
	nv_store *src, *dst;
	unsigned char *buf, *ct;
	size_t buf_size, ct_size;
	size_t held;           /* w->buf holds the whole file (this many bytes) */
	nv_sha256 *sha;        /* the first of two reads */
	nv_sha_pair *pair;     /* a plaintext and its ciphertext, side by side */
} nv_pworker;

/* How a file's contents are read (nv_pjob_plan). */
enum nv_pread {
	NV_PREAD_TWICE,  /* hash, and if no object holds it, read again to encrypt */
	NV_PREAD_HELD,   /* smaller than the buffer: read once, hash and encrypt it there */
	NV_PREAD_ONCE,   /* hash and encrypt in one read, named when hashed */
};

/* A file changed less than this many seconds before its read may change
 * again within the same tick of the file system's clock (a coarse clock ticks
 * every few ms, FAT keeps even seconds) and still show its listed size and
 * times: such a file is read twice and its two hashes compared, as every file
 * was before. */
#define NV_PUSH_RACY_SEC 2

/* What an object's encryption wrote: its byte counts and digests. */
typedef struct nv_enc_out {
	uint64_t plain, stored;
	unsigned char plain_sha[NV_SHA256_LEN];  /* of what was read (nothing when held) */
	unsigned char stored_sha[NV_SHA256_LEN];
} nv_enc_out;

/* Encrypts j's plaintext (w->held bytes already in w->buf, else read to its
 * end, w->buf at a time) into the open object ws; counts the bytes in eo,
 * w->pair hashes what is read and what is stored. */
static int nv_encrypt_stream(nv_pworker *w, const nv_push_file *j, nv_age_enc *enc,
			     nv_wstream *ws, nv_enc_out *eo)
{
	size_t got = w->held, fresh, n;
	int rc;

	for (;;) {
		fresh = 0;
		if (got == SIZE_MAX) {
			if ((rc = nv_drv_read(w->src, j->path, eo->plain, w->buf, w->buf_size,
					      &got)))
				return rc;
			nv_progress_stream(got);
			fresh = got;
		}
		eo->plain += got;
		if ((rc = nv_age_enc_update(enc, w->buf, got, w->ct, &n)))
			return rc;
		nv_sha_pair_update(w->pair, fresh ? w->buf : NULL, fresh, n ? w->ct : NULL, n);
		eo->stored += n;
		if (n && (rc = nv_drv_write(ws, w->ct, n)))
			return rc;
		if (got < w->buf_size)
			break;
		got = SIZE_MAX;
	}
	if ((rc = nv_age_enc_final(enc, w->ct, &n)))
		return rc;
	nv_sha_pair_update(w->pair, NULL, 0, w->ct, n);
	eo->stored += n;
	return n ? nv_drv_write(ws, w->ct, n) : 0;
}

/* Opens a new object for j's ciphertext under name and encrypts j into it;
 * its digests in eo (w->pair starts afresh, also after a failure). */
static int nv_encrypt_open(nv_pworker *w, const nv_push_file *j, const char *name,
			   nv_wstream **ws, nv_enc_out *eo)
{
	nv_push *p = w->p;
	nv_write_opts wo = { .flags = NV_WRITE_EXCLUSIVE };
	nv_age_enc *enc = NULL;
	int rc;

	eo->plain = eo->stored = 0;
	wo.size = (int64_t)nv_age_ciphertext_size(j->cat.size, p->n_recips);
	if (!(rc = nv_age_enc_new(&enc, p->recips, p->n_recips)) &&
	    !(rc = nv_drv_write_open(ws, w->dst, name, &wo)))
		rc = nv_encrypt_stream(w, j, enc, *ws, eo);
	nv_age_enc_free(enc);
	nv_sha_pair_final(w->pair, eo->plain_sha, eo->stored_sha);
	return rc;
}

/* Records out (out->size set) as the object of id named name, landed by this
 * push (a dry run: would be), and counts its upload. */
static int nv_push_landed(nv_push *p, const char *id, const char *name, nv_obj_rec *out)
{
	int rc;

	if (!(out->name = strdup(name)))
		return nv_error_set(NV_ERR, "out of memory");
	pthread_mutex_lock(&p->mu);
	rc = nv_push_landed_add(p->ps, id, out);
	pthread_mutex_unlock(&p->mu);
	atomic_fetch_add(&p->uploaded, 1);
	atomic_fetch_add(&p->uploaded_bytes, out->size);
	return rc;
}

/* Commits the object ws (eo: what it holds) under name, the new object of id,
 * and records it as landed in out. */
static int nv_upload_commit(nv_pworker *w, nv_wstream *ws, const char *name, const char *id,
			    const nv_enc_out *eo, nv_obj_rec *out)
{
	nv_push *p = w->p;
	nv_commit_info ci;
	int rc;

	memcpy(out->sha256, eo->stored_sha, NV_SHA256_LEN);
	if ((rc = nv_drv_write_commit(ws, &ci)))
		return rc;
	if ((ci.confirmed & NV_CONFIRM_SIZE) && ci.size != eo->stored)
		return nv_error_set(NV_EMISMATCH, "%s: the store holds %llu bytes, %llu were sent",
				    name, (unsigned long long)ci.size,
				    (unsigned long long)eo->stored);
	out->size = eo->stored;
	return nv_push_landed(p, id, name, out);
}

/* Encrypts j into a new write-once object. Read again from the file, the
 * plaintext is hashed again: contents that changed since they were hashed are
 * never stored under the old id. Held in w->buf, it is what was hashed. */
static int nv_upload(nv_pworker *w, nv_push_file *j, const char *id, nv_obj_rec *out)
{
	char name[NV_OBJECT_NAME_MAX];
	nv_wstream *ws = NULL;
	nv_enc_out eo;
	int rc;

	if ((rc = nv_object_name_new(name, id)) ||
	    (rc = nv_encrypt_open(w, j, name, &ws, &eo)))
		goto out;
	if (eo.plain != j->cat.size ||
	    (w->held == SIZE_MAX && memcmp(eo.plain_sha, j->cat.sha256, NV_SHA256_LEN) != 0)) {
		rc = nv_error_set(NV_ERETRY, "%s changed while being pushed: not stored", j->path);
		goto out;
	}
	rc = nv_upload_commit(w, ws, name, id, &eo, out);
	ws = NULL;
out:
	nv_drv_write_abort(ws);
	return rc;
}

/* A dry run's upload: counted and said, nothing written. The bytes are those
 * the object would hold (age's exact ciphertext size). */
static int nv_dry_upload(nv_pworker *w, nv_push_file *j, const char *id, nv_obj_rec *out)
{
	nv_push *p = w->p;
	uint64_t stored = nv_age_ciphertext_size(j->cat.size, p->n_recips);

	memset(out, 0, sizeof(*out));
	out->size = stored;
	return nv_push_landed(p, id, NV_PUSH_DRY_NAME, out);
}

/* The file as listed is the file read: same size, times and inode now that
 * its read ended. What changed meanwhile is never stored (the pool retries it
 * from a new listing). */
static int nv_pjob_unchanged(nv_pworker *w, const nv_push_file *j, uint64_t read)
{
	nv_entry now;
	int rc;

	if (read != j->e.size)
		return nv_error_set(NV_ERETRY, "%s changed while being read", j->path);
	if ((rc = nv_drv_stat(w->src, j->path, &now)))
		return nv_error_wrap(rc, "%s: checking the file after reading it", j->path);
	if (now.size != j->e.size || now.inode != j->e.inode || now.dev != j->e.dev ||
	    now.mtime_sec != j->e.mtime_sec || now.mtime_nsec != j->e.mtime_nsec ||
	    now.ctime_sec != j->e.ctime_sec || now.ctime_nsec != j->e.ctime_nsec)
		return nv_error_set(NV_ERETRY, "%s changed while being pushed: not stored", j->path);
	return 0;
}

/* One read where it is safe: a file whose listing vouches for it (size,
 * times and inode, checked again after the read) and that did not change
 * just before its read. Read once, a small file is held whole; a bigger one
 * is encrypted as it is hashed when the vault's driver can name an object
 * after its last byte and no object of its stored size exists (equal
 * contents have equal sizes: it cannot be a duplicate of a stored one). */
static enum nv_pread nv_pjob_plan(nv_pworker *w, const nv_push_file *j)
{
	const unsigned need = NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_CTIME | NV_ENTRY_HAS_INODE;
	nv_push *p = w->p;
	struct timespec now;
	int seen;

	if ((j->e.flags & need) != need || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return NV_PREAD_TWICE;
	now.tv_sec -= NV_PUSH_RACY_SEC;
	if (j->e.ctime_sec > (int64_t)now.tv_sec ||
	    (j->e.ctime_sec == (int64_t)now.tv_sec && j->e.ctime_nsec >= now.tv_nsec))
		return NV_PREAD_TWICE;
	if (j->e.size < w->buf_size)
		return NV_PREAD_HELD;
	if (!p->retarget)
		return NV_PREAD_TWICE;
	pthread_mutex_lock(&p->mu);
	seen = nv_push_size_seen(p->ps, nv_age_ciphertext_size(j->e.size, p->n_recips));
	pthread_mutex_unlock(&p->mu);
	return seen ? NV_PREAD_TWICE : NV_PREAD_ONCE;
}

/* NV_PREAD_HELD: the whole file into w->buf, and its hash. */
static int nv_pjob_read_held(nv_pworker *w, nv_push_file *j)
{
	size_t got;
	int rc;

	if ((rc = nv_drv_read(w->src, j->path, 0, w->buf, w->buf_size, &got)))
		return rc;
	nv_progress_stream(got);
	if ((rc = nv_pjob_unchanged(w, j, got)))
		return rc;
	nv_sha256_buf(j->cat.sha256, w->buf, got);
	w->held = got;
	return 0;
}

/* NV_PREAD_ONCE: j encrypted into an object opened before its id is known,
 * then named by it, or dropped when an object with that id is found by then
 * (a file of equal contents pushed at the same time). */
static int nv_pjob_once(nv_pworker *w, nv_push_file *j)
{
	nv_push *p = w->p;
	char id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	nv_wstream *ws = NULL;
	nv_enc_out eo;
	int rc;

	if ((rc = nv_encrypt_open(w, j, NV_OBJECT_UNNAMED, &ws, &eo)) ||
	    (rc = nv_pjob_unchanged(w, j, eo.plain)))
		goto out;
	memcpy(j->cat.sha256, eo.plain_sha, NV_SHA256_LEN);
	atomic_fetch_add(&p->hashed, 1);
	nv_push_object_id(p->ps, j->cat.sha256, id);
	if (nv_push_find(p, w->slot, w->dst, id, &j->obj, name)) {
		nv_drv_write_abort(ws);
		return nv_push_reuse(p, j);
	}
	if (!(rc = nv_object_name_new(name, id)) && !(rc = nv_drv_write_retarget(ws, name))) {
		rc = nv_upload_commit(w, ws, name, id, &eo, &j->obj);
		ws = NULL;
	}
	nv_push_inflight(p, w->slot, NULL);
	if (!rc)
		nv_log_item_sha(NV_LOG_INFO, "pushed", j->path, j->cat.sha256);
out:
	nv_drv_write_abort(ws);
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

/* The catalog line of j from its listing; *known when the cache vouches for
 * its plaintext SHA-256 (the listing shows the very file cached). A retry
 * (attempt > 0) first asks the source again: the file changed since it was
 * listed. */
static int nv_pjob_describe(nv_pworker *w, nv_push_file *j, unsigned attempt, int *known)
{
	int rc;

	*known = 0;
	if (attempt && (rc = nv_drv_stat(w->src, j->path, &j->e)))
		return rc;
	if ((rc = nv_pjob_catalog_fields(j)))
		return rc;
	*known = nv_push_cache_match(&j->cached, &j->e, j->cat.sha256);
	return 0;
}

/* NV_PREAD_TWICE: the first read, which hashes. */
static int nv_pjob_hash(nv_pworker *w, nv_push_file *j)
{
	uint64_t n;
	int rc;

	if ((rc = nv_xfer_hash(&(nv_xfer_ctx){ .src = w->src, .buf = w->buf,
					       .buf_size = w->buf_size, .sha = w->sha },
			       w->src, j->path, &n, j->cat.sha256)))
		return rc;
	if (n != j->cat.size)
		return nv_error_set(NV_ERETRY, "%s changed while being read", j->path);
	return 0;
}

static int nv_pjob_run_once(nv_pworker *w, nv_push_file *j, unsigned attempt)
{
	nv_push *p = w->p;
	char id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	int known = 0, rc;

	w->held = SIZE_MAX;
	if ((rc = nv_pjob_describe(w, j, attempt, &known)))
		return rc;
	if (!known) {
		switch (nv_pjob_plan(w, j)) {
		case NV_PREAD_ONCE:
			if ((rc = nv_pjob_once(w, j)))
				return rc;
			j->cat.object = j->obj.name;
			return 0;
		case NV_PREAD_HELD:
			rc = nv_pjob_read_held(w, j);
			break;
		case NV_PREAD_TWICE:
			rc = nv_pjob_hash(w, j);
			break;
		}
		if (rc)
			return rc;
		atomic_fetch_add(&p->hashed, 1);
	}
	nv_push_object_id(p->ps, j->cat.sha256, id);
	if (nv_push_find(p, w->slot, w->dst, id, &j->obj, name)) {
		if ((rc = nv_push_reuse(p, j)))
			return rc;
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

void nv_push_file_free(nv_push_file *j)
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

int nv_push_unchanged(nv_push *p, nv_push_file *j)
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
	nv_sha_pair_free(w->pair);
	nv_mem_free(w->buf, w->buf_size);
	nv_mem_free(w->ct, w->ct_size);
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
	w->buf = nv_mem_alloc(w->buf_size); /* both from the run's budget (util/membudget.h) */
	w->sha = nv_sha256_new();
	w->pair = nv_sha_pair_new(0);
	if (!w->buf || !w->sha || !w->pair)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_drv_open(&w->src, p->src)) ||
	    (rc = nv_drv_open(&w->dst, nv_vault_location(p->v))) ||
	    (rc = nv_age_enc_new(&probe, p->recips, p->n_recips)))
		return rc;
	w->ct_size = nv_age_enc_bound(probe, w->buf_size);
	nv_age_enc_free(probe);
	if (!(w->ct = nv_mem_alloc(w->ct_size)))
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

const nv_pool_ops nv_push_ops = {
	.worker_open = nv_push_worker_open,
	.worker_close = nv_push_worker_close,
	.attempt = nv_push_attempt,
	.done = nv_push_done,
	.name = nv_push_name,
	.free_item = nv_push_free_item,
};
