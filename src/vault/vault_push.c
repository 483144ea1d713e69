/* vault_push.c: push — lister over the local tree, N workers that hash (only
 * files whose size/mtime/ctime/inode changed), deduplicate by keyed id and
 * encrypt+upload the rest, then catalog, manifest, signature, heartbeat. */
#include "vault_push.h"
#include "engine/lister.h"
#include "util/log.h"
#include "engine/queue.h"
#include "ssh/sshsig.h"
#include "util/state.h"
#include "engine/transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One cached fact about a source file: unchanged size, mtime, ctime and inode
 * mean unchanged contents, so the file is not read again. */
typedef struct nv_cache_rec {
	char *path;
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
	unsigned char sha[NV_SHA256_LEN];
} nv_cache_rec;

/* An object uploaded by an earlier, interrupted push of this host. */
typedef struct nv_landed {
	char id[NV_SHA256_HEX];
	nv_obj_rec rec;
} nv_landed;

typedef struct nv_pjob {
	char *path;
	nv_entry e;            /* .key NULL */
	int done, failed;
	nv_cat_entry cat;      /* result */
	nv_obj_rec obj;        /* result: the object holding the contents */
} nv_pjob;

typedef struct nv_push {
	nv_vault *v;
	const nv_location *src;
	const nv_engine_opts *o;
	unsigned char kid[NV_KID_LEN];
	const nv_age_recipient *recips;
	size_t n_recips;
	nv_manifest prev;
	nv_cache_rec *cache;
	size_t n_cache;
	nv_landed *landed;     /* grows as this run uploads */
	size_t n_landed, cap_landed;
	size_t *landed_ix;     /* open-addressing index by id: slot = position + 1 */
	size_t ix_cap;         /* a power of two, at least twice n_landed */
	FILE *landed_log;
	pthread_mutex_t mu;
	pthread_cond_t landed_cv;  /* an in-flight upload finished */
	char (*inflight)[NV_SHA256_HEX]; /* ids being uploaded now, one slot per worker */
	unsigned n_workers, n_slots_taken;
	nv_queue *q;
	atomic_int fatal;
	char fatal_msg[1024];
	_Atomic uint64_t hashed, uploaded, uploaded_bytes, reused, failed;
} nv_push;

/* ---- state files ---- */

static int nv_push_state_file(nv_push *p, char *out, size_t cap, nv_vstate which)
{
	return nv_vstate_path(out, cap, which, nv_vault_descriptor(p->v)->vault_id);
}

static int nv_push_load_kid(nv_push *p)
{
	char path[4200], *buf;
	size_t len;
	int rc;

	if ((rc = nv_push_state_file(p, path, sizeof(path), NV_VSTATE_KID)))
		return rc;
	rc = nv_state_read(path, &buf, &len);
	if (rc == NV_ENOTFOUND)
		return nv_error_set(NV_EINVAL, "this host holds no K_id for vault %s: push from "
				    "the host that ran init", nv_vault_descriptor(p->v)->vault_id);
	if (rc)
		return rc;
	buf[strcspn(buf, "\n")] = '\0';
	rc = nv_unhex(p->kid, sizeof(p->kid), buf) ? nv_error_set(NV_EINVAL, "%s is malformed",
								     path) : 0;
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

/* cache.tsv: path size mtime_ns ctime_ns inode sha256, sorted by path. */
static int nv_push_load_cache(nv_push *p)
{
	char path[4200], *buf, *line, *save = NULL;
	size_t len, cap = 0;
	int rc;

	if ((rc = nv_push_state_file(p, path, sizeof(path), NV_VSTATE_CACHE)))
		return rc;
	if ((rc = nv_state_read(path, &buf, &len))) {
		nv_error_clear();
		return 0; /* no cache: every file is hashed */
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[4096], hex[NV_SHA256_HEX + 1];
		unsigned long long size, ino;
		long long mt, ct;
		nv_cache_rec *r;

		if (sscanf(line, "%4095[^\t]\t%llu\t%lld\t%lld\t%llu\t%64s", name, &size, &mt, &ct,
			   &ino, hex) != 6)
			continue;
		if (p->n_cache == cap) {
			nv_cache_rec *g = realloc(p->cache, (cap = cap ? cap * 2 : 256) * sizeof(*g));

			if (!g)
				break;
			p->cache = g;
		}
		r = &p->cache[p->n_cache];
		if (nv_unhex(r->sha, sizeof(r->sha), hex) || !(r->path = strdup(name)))
			continue;
		r->size = size;
		r->ino = ino;
		r->mtime_ns = mt;
		r->ctime_ns = ct;
		if (p->n_cache && strcmp(p->cache[p->n_cache - 1].path, r->path) >= 0) {
			free(r->path); /* out of order: ignore the rest, it is only a cache */
			break;
		}
		p->n_cache++;
	}
	free(buf);
	return 0;
}

static const nv_cache_rec *nv_cache_find(const nv_push *p, const char *path)
{
	size_t lo = 0, hi = p->n_cache;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(p->cache[mid].path, path);

		if (c == 0)
			return &p->cache[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The first 16 hex digits of an id (an HMAC output) are already uniform. */
static size_t nv_id_slot(const char *id, size_t cap)
{
	return (size_t)strtoull((char[17]){ id[0], id[1], id[2], id[3], id[4], id[5], id[6],
					   id[7], id[8], id[9], id[10], id[11], id[12], id[13],
					   id[14], id[15], 0 }, NULL, 16) & (cap - 1);
}

static void nv_landed_index(nv_push *p, size_t pos)
{
	size_t i = nv_id_slot(p->landed[pos].id, p->ix_cap);

	/* the latest upload of an id replaces an earlier one */
	while (p->landed_ix[i] && strcmp(p->landed[p->landed_ix[i] - 1].id, p->landed[pos].id))
		i = (i + 1) & (p->ix_cap - 1);
	p->landed_ix[i] = pos + 1;
}

static const nv_landed *nv_landed_lookup(const nv_push *p, const char *id)
{
	size_t i;

	if (!p->ix_cap)
		return NULL;
	for (i = nv_id_slot(id, p->ix_cap); p->landed_ix[i]; i = (i + 1) & (p->ix_cap - 1))
		if (strcmp(p->landed[p->landed_ix[i] - 1].id, id) == 0)
			return &p->landed[p->landed_ix[i] - 1];
	return NULL;
}

static int nv_landed_add(nv_push *p, const char *id, const nv_obj_rec *rec)
{
	nv_landed *l;

	if (p->n_landed == p->cap_landed) {
		size_t cap = p->cap_landed ? p->cap_landed * 2 : 64;
		nv_landed *g = realloc(p->landed, cap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		p->landed = g;
		p->cap_landed = cap;
	}
	l = &p->landed[p->n_landed];
	memcpy(l->id, id, NV_SHA256_HEX);
	l->rec = *rec;
	if (!(l->rec.name = strdup(rec->name)))
		return nv_error_set(NV_ERR, "out of memory");
	p->n_landed++;
	if (p->n_landed * 2 > p->ix_cap) {
		size_t cap = p->ix_cap ? p->ix_cap * 2 : 256, *ix = calloc(cap, sizeof(*ix));

		if (!ix)
			return nv_error_set(NV_ERR, "out of memory");
		free(p->landed_ix);
		p->landed_ix = ix;
		p->ix_cap = cap;
		for (size_t i = 0; i < p->n_landed; i++)
			nv_landed_index(p, i);
	} else {
		nv_landed_index(p, p->n_landed - 1);
	}
	return 0;
}

/* landed.tsv: id name size sha256 — objects that reached the store but no
 * published manifest yet; appended as they land, so a killed push loses none. */
static int nv_push_load_landed(nv_push *p)
{
	char path[4200], *buf, *line, *save = NULL;
	size_t len;
	int rc;

	if ((rc = nv_push_state_file(p, path, sizeof(path), NV_VSTATE_LANDED)))
		return rc;
	if (nv_state_read(path, &buf, &len) == 0) {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char id[NV_SHA256_HEX + 1], name[256], hex[NV_SHA256_HEX + 1];
			unsigned long long size;
			nv_obj_rec r;

			if (sscanf(line, "%64s\t%255s\t%llu\t%64s", id, name, &size, hex) != 4 ||
			    nv_unhex(r.sha256, sizeof(r.sha256), hex))
				continue;
			r.name = name;
			r.size = size;
			nv_landed_add(p, id, &r);
		}
		free(buf);
	}
	nv_error_clear();
	{
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		p->landed_log = fd >= 0 ? fdopen(fd, "a") : NULL;
		if (!p->landed_log) {
			if (fd >= 0)
				close(fd);
			return nv_error_errno(errno, "opening %s", path);
		}
	}
	return 0;
}

/* ---- dedup ---- */

/* Marks id as being uploaded by worker slot (or clears the slot with NULL). */
static void nv_push_inflight(nv_push *p, unsigned slot, const char *id)
{
	pthread_mutex_lock(&p->mu);
	if (id)
		memcpy(p->inflight[slot], id, NV_SHA256_HEX);
	else
		p->inflight[slot][0] = '\0';
	pthread_cond_broadcast(&p->landed_cv);
	pthread_mutex_unlock(&p->mu);
}

/* An existing object with this id: in the manifest we chain from, uploaded by
 * this run, or landed by an interrupted one (checked present, right size). */
static int nv_push_find(nv_push *p, unsigned slot, nv_store *dst, const char *id,
			nv_obj_rec *out)
{
	const nv_obj_rec *r = nv_manifest_find_id(&p->prev, id);
	const nv_landed *l;
	nv_entry e;

	if (r) {
		*out = *r;
		return 1;
	}
	pthread_mutex_lock(&p->mu);
	/* Equal contents met by two workers at once: wait for the first upload. */
	for (int busy = 1; busy;) {
		busy = 0;
		for (unsigned i = 0; i < p->n_workers; i++)
			busy |= strcmp(p->inflight[i], id) == 0;
		if (busy)
			pthread_cond_wait(&p->landed_cv, &p->mu);
	}
	if ((l = nv_landed_lookup(p, id))) {
		*out = l->rec;
		pthread_mutex_unlock(&p->mu);
		if (nv_drv_stat(dst, out->name, &e) == 0 && e.size == out->size)
			return 1;
		nv_error_clear();
		nv_push_inflight(p, slot, id);
		return 0;
	}
	/* Not stored anywhere: this worker uploads it; others with the same id wait. */
	memcpy(p->inflight[slot], id, NV_SHA256_HEX);
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

static int nv_hash_file(nv_pworker *w, const char *key, uint64_t *n,
			unsigned char out[NV_SHA256_LEN])
{
	nv_xfer_ctx x = { .src = w->src, .buf = w->buf, .buf_size = w->buf_size, .sha = w->sha };

	return nv_xfer_hash(&x, w->src, key, n, out);
}

/* Encrypts key into a new write-once object, re-hashing the plaintext on the
 * way: contents that changed since they were hashed are never stored under
 * the old id. */
static int nv_upload(nv_pworker *w, nv_pjob *j, const char *id, nv_obj_rec *out)
{
	nv_push *p = w->p;
	unsigned char sha2[NV_SHA256_LEN];
	char name[NV_OBJECT_NAME_MAX];
	nv_write_opts wo = { .flags = NV_WRITE_EXCLUSIVE };
	nv_age_enc *enc = NULL;
	nv_wstream *ws = NULL;
	nv_commit_info ci;
	uint64_t off = 0, ctbytes = 0;
	size_t got, n;
	int rc;

	if ((rc = nv_object_name_new(name, id)))
		return rc;
	wo.size = (int64_t)nv_age_ciphertext_size(j->cat.size, p->n_recips);
	if ((rc = nv_age_enc_new(&enc, p->recips, p->n_recips)))
		return rc;
	if ((rc = nv_drv_write_open(&ws, w->dst, name, &wo)))
		goto out;
	for (;;) {
		if ((rc = nv_drv_read(w->src, j->path, off, w->buf, w->buf_size, &got)))
			goto out;
		nv_sha256_update(w->sha2, w->buf, got);
		off += got;
		if ((rc = nv_age_enc_update(enc, w->buf, got, w->ct, &n)))
			goto out;
		if (n) {
			nv_sha256_update(w->sha_ct, w->ct, n);
			ctbytes += n;
			if ((rc = nv_drv_write(ws, w->ct, n)))
				goto out;
		}
		if (got < w->buf_size)
			break;
	}
	if ((rc = nv_age_enc_final(enc, w->ct, &n)))
		goto out;
	nv_sha256_update(w->sha_ct, w->ct, n);
	ctbytes += n;
	if (n && (rc = nv_drv_write(ws, w->ct, n)))
		goto out;
	nv_sha256_final(w->sha2, sha2);
	if (off != j->cat.size || memcmp(sha2, j->cat.sha256, NV_SHA256_LEN) != 0) {
		rc = nv_error_set(NV_ERETRY, "%s changed while being pushed: not stored", j->path);
		goto out;
	}
	nv_sha256_final(w->sha_ct, out->sha256);
	rc = nv_drv_write_commit(ws, &ci);
	ws = NULL;
	if (rc)
		goto out;
	if ((ci.confirmed & NV_CONFIRM_SIZE) && ci.size != ctbytes) {
		rc = nv_error_set(NV_EMISMATCH, "%s: the store holds %llu bytes, %llu were sent",
				  name, (unsigned long long)ci.size, (unsigned long long)ctbytes);
		goto out;
	}
	out->size = ctbytes;
	out->name = strdup(name);
	if (!out->name) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	pthread_mutex_lock(&p->mu);
	rc = nv_landed_add(p, id, out);
	if (!rc) {
		char hex[NV_SHA256_HEX];

		nv_hex(hex, out->sha256, NV_SHA256_LEN);
		fprintf(p->landed_log, "%s\t%s\t%llu\t%s\n", id, name,
			(unsigned long long)ctbytes, hex);
		fflush(p->landed_log);
	}
	pthread_mutex_unlock(&p->mu);
	atomic_fetch_add(&p->uploaded, 1);
	atomic_fetch_add(&p->uploaded_bytes, ctbytes);
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

static int nv_pjob_run_once(nv_pworker *w, nv_pjob *j)
{
	nv_push *p = w->p;
	char full[8192], id[NV_SHA256_HEX];
	const nv_cache_rec *c;
	struct stat st;
	uint64_t n;
	int rc;

	snprintf(full, sizeof(full), "%s/%s", p->src->path, j->path);
	if (lstat(full, &st) != 0)
		return nv_error_errno(errno, "%s", j->path);
	if (!S_ISREG(st.st_mode))
		return nv_error_set(NV_ERETRY, "%s is no longer a regular file", j->path);
	j->cat.path = j->path;
	j->cat.size = (uint64_t)st.st_size;
	j->cat.mode = (uint32_t)(st.st_mode & 07777);
	j->cat.mtime = st.st_mtim.tv_sec;
	j->cat.mtime_ns = (int32_t)st.st_mtim.tv_nsec;
	c = nv_cache_find(p, j->path);
	if (c && c->size == (uint64_t)st.st_size && c->ino == (uint64_t)st.st_ino &&
	    c->mtime_ns == (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec &&
	    c->ctime_ns == (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec) {
		memcpy(j->cat.sha256, c->sha, NV_SHA256_LEN);
	} else {
		if ((rc = nv_hash_file(w, j->path, &n, j->cat.sha256)))
			return rc;
		atomic_fetch_add(&p->hashed, 1);
		if (n != j->cat.size)
			return nv_error_set(NV_ERETRY, "%s changed while being read", j->path);
	}
	/* ctime and inode for the next run's cache */
	j->e.mtime_sec = st.st_ctim.tv_sec;
	j->e.mtime_nsec = (int32_t)st.st_ctim.tv_nsec;
	j->e.size = (uint64_t)st.st_ino;
	nv_object_id(id, p->kid, j->cat.sha256);
	if (nv_push_find(p, w->slot, w->dst, id, &j->obj)) {
		if (!(j->obj.name = strdup(j->obj.name)))
			return nv_error_set(NV_ERR, "out of memory");
		atomic_fetch_add(&p->reused, 1);
	} else {
		rc = nv_upload(w, j, id, &j->obj);
		nv_push_inflight(p, w->slot, NULL);
		if (rc)
			return rc;
		nv_log_item(NV_LOG_INFO, "pushed", j->path, NULL);
	}
	j->cat.object = j->obj.name;
	return 0;
}

static void nv_push_fatal(nv_push *p, int rc)
{
	pthread_mutex_lock(&p->mu);
	if (!atomic_load(&p->fatal)) {
		snprintf(p->fatal_msg, sizeof(p->fatal_msg), "%s", nv_error_msg());
		atomic_store(&p->fatal, rc ? rc : NV_ERR);
	}
	pthread_mutex_unlock(&p->mu);
}

static void nv_pjob_run(nv_pworker *w, nv_pjob *j)
{
	unsigned attempt = 0;
	int rc;

	for (;;) {
		rc = nv_pjob_run_once(w, j);
		if (rc != NV_ERETRY || attempt++ >= w->p->o->retries || atomic_load(&w->p->fatal))
			break;
		nv_log_item(NV_LOG_INFO, "retry", j->path, nv_error_msg());
		usleep(200000u << (attempt < 5 ? attempt : 5));
	}
	if (!rc)
		return;
	j->failed = 1;
	nv_log_item(NV_LOG_ERROR, "failed", j->path, nv_error_msg());
	if (rc == NV_EAUTH || rc == NV_ENOSPC || rc == NV_EPERM)
		nv_push_fatal(w->p, rc);
	else
		atomic_fetch_add(&w->p->failed, 1);
}

static void *nv_push_worker(void *arg)
{
	nv_push *p = arg;
	nv_pworker w = { .p = p, .buf_size = p->o->buffer_size };
	nv_pjob *j;
	int rc;

	pthread_mutex_lock(&p->mu);
	w.slot = p->n_slots_taken++;
	pthread_mutex_unlock(&p->mu);
	w.buf = malloc(w.buf_size);
	w.sha = nv_sha256_new();
	w.sha2 = nv_sha256_new();
	w.sha_ct = nv_sha256_new();
	if (!w.buf || !w.sha || !w.sha2 || !w.sha_ct) {
		nv_error_set(NV_ERR, "out of memory");
		nv_push_fatal(p, NV_ERR);
	} else if ((rc = nv_drv_open(&w.src, p->src)) ||
		   (rc = nv_drv_open(&w.dst, nv_vault_location(p->v)))) {
		nv_push_fatal(p, rc);
	} else {
		nv_age_enc *probe = NULL;

		if (nv_age_enc_new(&probe, p->recips, p->n_recips) == 0) {
			w.ct_size = nv_age_enc_bound(probe, w.buf_size);
			w.ct = malloc(w.ct_size);
		}
		nv_age_enc_free(probe);
		if (!w.ct) {
			nv_error_set(NV_ERR, "out of memory");
			nv_push_fatal(p, NV_ERR);
		}
	}
	while ((j = nv_queue_pop(p->q))) {
		if (!atomic_load(&p->fatal))
			nv_pjob_run(&w, j);
		else
			j->failed = 1;
		__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	}
	nv_drv_close(w.src);
	nv_drv_close(w.dst);
	nv_sha256_free(w.sha);
	nv_sha256_free(w.sha2);
	nv_sha256_free(w.sha_ct);
	free(w.buf);
	free(w.ct);
	return NULL;
}

/* ---- walking the tree ---- */

typedef struct nv_joblist {
	nv_pjob **j;
	size_t n, cap;
} nv_joblist;

static int nv_push_walk(nv_push *p, nv_joblist *jl)
{
	nv_store *s = NULL;
	nv_sorted *l = NULL;
	nv_entry e;
	int rc;

	if ((rc = nv_drv_open(&s, p->src)) || (rc = nv_sorted_open(&l, s, "", 0)))
		goto out;
	while (!atomic_load(&p->fatal) && (rc = nv_sorted_next(l, &e)) == 0) {
		nv_pjob *j = calloc(1, sizeof(*j));

		if (jl->n == jl->cap) {
			size_t cap = jl->cap ? jl->cap * 2 : 1024;
			nv_pjob **g = realloc(jl->j, cap * sizeof(*g));

			if (!g) {
				free(j);
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			jl->j = g;
			jl->cap = cap;
		}
		if (!j || !(j->path = strdup(e.key))) {
			free(j);
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
		jl->j[jl->n++] = j;
		if (nv_queue_push(p->q, j) != 0)
			break;
	}
	if (rc == NV_EOF)
		rc = 0;
	if (!rc && nv_sorted_skipped(l))
		atomic_fetch_add(&p->failed, nv_sorted_skipped(l));
out:
	if (rc)
		nv_error_wrap(rc, "listing %s", p->src->text);
	nv_sorted_close(l);
	nv_drv_close(s);
	return rc;
}

/* ---- publication ---- */

static int nv_put_object_buf(nv_push *p, nv_store *s, const unsigned char *plain,
			     size_t plen, nv_obj_rec *out)
{
	unsigned char sha[NV_SHA256_LEN], *ct;
	char id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	size_t clen;
	int rc;

	nv_sha256_buf(sha, plain, plen);
	nv_object_id(id, p->kid, sha);
	if ((rc = nv_object_name_new(name, id)) || (rc = nv_age_encrypt_buf(&ct, &clen, plain, plen, p->recips, p->n_recips)))
		return rc;
	rc = nv_drv_put_buf(s, name, ct, clen, NV_WRITE_EXCLUSIVE);
	if (!rc) {
		nv_sha256_buf(out->sha256, ct, clen);
		out->size = clen;
		out->name = strdup(name);
		if (!out->name)
			rc = nv_error_set(NV_ERR, "out of memory");
	}
	free(ct);
	return rc;
}

static int nv_push_heartbeat(nv_push *p, nv_store *s, const nv_sshkey *sk, uint64_t gen,
			     const unsigned char msha[NV_SHA256_LEN])
{
	nv_heartbeat h;
	char *buf;
	size_t len;
	int rc;

	memset(&h, 0, sizeof(h));
	memcpy(h.vault_id, nv_vault_descriptor(p->v)->vault_id, NV_VAULT_ID_HEX);
	h.generation = gen;
	nv_hex(h.manifest_sha256, msha, NV_SHA256_LEN);
	nv_time_format(h.time, time(NULL));
	if ((rc = nv_heartbeat_format(&buf, &len, &h)))
		return rc;
	/* signature first: a reader may briefly see the old heartbeat with the new
	 * signature, which fails verification (retry), never a forged freshness */
	rc = nv_vault_put_signature(p->v, sk, NV_VAULT_HEARTBEAT, NV_SSHSIG_NS_MANIFEST, buf, len);
	if (!rc)
		rc = nv_drv_put_buf(s, NV_VAULT_HEARTBEAT, buf, len, 0);
	free(buf);
	return rc;
}

/* The body of a catalog (every line but the header) identifies a tree state:
 * equal bodies mean nothing changed since the last generation. */
static int nv_last_body(nv_push *p, char hex[NV_SHA256_HEX], uint64_t *gen, int save)
{
	char path[4200], *buf, line[128];
	size_t len;
	unsigned long long g;
	int rc;

	if ((rc = nv_push_state_file(p, path, sizeof(path), NV_VSTATE_LAST)))
		return rc;
	if (save) {
		snprintf(line, sizeof(line), "%llu %s\n", (unsigned long long)*gen, hex);
		return nv_state_write(path, line, strlen(line));
	}
	hex[0] = '\0';
	*gen = 0;
	if (nv_state_read(path, &buf, &len)) {
		nv_error_clear();
		return 0;
	}
	if (sscanf(buf, "%llu %64s", &g, hex) == 2)
		*gen = g;
	free(buf);
	return 0;
}

static int nv_save_cache(nv_push *p, const nv_joblist *jl)
{
	char path[4200], final[4200], hex[NV_SHA256_HEX];
	FILE *f;
	int rc;

	if ((rc = nv_push_state_file(p, final, sizeof(final), NV_VSTATE_CACHE)))
		return rc;
	if ((size_t)snprintf(path, sizeof(path), "%s.new", final) >= sizeof(path))
		return nv_error_set(NV_EINVAL, "state path too long");
	f = fopen(path, "w");
	if (!f)
		return nv_error_errno(errno, "writing %s", path);
	fchmod(fileno(f), 0600);
	for (size_t i = 0; i < jl->n; i++) {
		const nv_pjob *j = jl->j[i];

		if (j->failed)
			continue;
		nv_hex(hex, j->cat.sha256, NV_SHA256_LEN);
		fprintf(f, "%s\t%llu\t%lld\t%lld\t%llu\t%s\n", j->path,
			(unsigned long long)j->cat.size,
			(long long)j->cat.mtime * 1000000000 + j->cat.mtime_ns,
			(long long)j->e.mtime_sec * 1000000000 + j->e.mtime_nsec,
			(unsigned long long)j->e.size, hex);
	}
	if (fclose(f) != 0)
		return nv_error_errno(errno, "writing %s", path);
	if (rename(path, final) != 0)
		return nv_error_errno(errno, "renaming %s", path);
	return 0;
}

static int nv_obj_name_cmp(const void *a, const void *b)
{
	return strcmp(((const nv_obj_rec *)a)->name, ((const nv_obj_rec *)b)->name);
}

/* If the newest manifest is ours but unsigned (a push killed between the
 * manifest and its signature), finish it: only when its bytes are exactly the
 * manifest this host recorded as pending. */
static int nv_push_complete_pending(nv_push *p, nv_store *s, const nv_sshkey *sk)
{
	char path[4200], *pend, key[NV_MANIFEST_NAME_MAX], hex[NV_SHA256_HEX],
	     want[NV_SHA256_HEX + 1];
	unsigned char *buf, sha[NV_SHA256_LEN];
	unsigned long long gen;
	size_t len, plen;
	int rc;

	if ((rc = nv_push_state_file(p, path, sizeof(path), NV_VSTATE_PENDING)))
		return rc;
	if (nv_state_read(path, &pend, &plen)) {
		nv_error_clear();
		return 0;
	}
	rc = sscanf(pend, "%llu %64s", &gen, want) == 2 ? 0 : NV_EINVAL;
	free(pend);
	if (rc)
		return unlink(path), 0;
	nv_manifest_name(key, gen);
	if (nv_drv_get_buf(s, key, NV_VAULT_MANIFEST_MAX, &buf, &len)) {
		nv_error_clear();
		unlink(path); /* never published: the objects are in landed.tsv */
		return 0;
	}
	nv_sha256_buf(sha, buf, len);
	nv_hex(hex, sha, sizeof(sha));
	if (strcmp(hex, want) == 0 &&
	    nv_vault_check_signature(p->v, key, NV_SSHSIG_NS_MANIFEST, buf, len) != 0) {
		nv_log(NV_LOG_NOTICE, "completing generation %llu, interrupted before its "
		       "signature", gen);
		rc = nv_vault_put_signature(p->v, sk, key, NV_SSHSIG_NS_MANIFEST, buf, len);
		if (!rc)
			rc = nv_push_heartbeat(p, s, sk, gen, sha);
		if (!rc)
			rc = nv_drv_flush(s);
	}
	nv_error_clear();
	free(buf);
	if (!rc)
		unlink(path);
	return rc;
}

static int nv_push_publish(nv_push *p, nv_store *s, const nv_sshkey *sk, nv_joblist *jl,
			   uint64_t prev_gen, const unsigned char prev_sha[NV_SHA256_LEN],
			   nv_push_stats *st)
{
	nv_catalog head;
	nv_manifest m;
	char *cat = NULL, *line, *mbuf = NULL, *catname = NULL, key[NV_MANIFEST_NAME_MAX],
	     body_hex[NV_SHA256_HEX],
	     last_hex[NV_SHA256_HEX + 1], path[4200], pend[128];
	unsigned char body_sha[NV_SHA256_LEN], msha[NV_SHA256_LEN];
	size_t clen = 0, ccap = 0, mlen;
	uint64_t last_gen = 0, gen = prev_gen + 1;
	nv_sha256 *h = nv_sha256_new();
	int rc = 0;

	memset(&m, 0, sizeof(m));
	memset(&head, 0, sizeof(head));
	memcpy(head.vault_id, nv_vault_descriptor(p->v)->vault_id, NV_VAULT_ID_HEX);
	head.generation = gen;
	m.objs = calloc(jl->n + 1, sizeof(*m.objs));
	if (!h || !m.objs) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	/* catalog: header, then one line per file in path order */
	for (size_t i = 0; i <= jl->n && !rc; i++) {
		size_t n;

		line = nv_catalog_line(&head, i ? &jl->j[i - 1]->cat : NULL);
		if (!line) {
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
		n = strlen(line);
		if (clen + n + 1 > ccap) {
			char *g = realloc(cat, ccap = (clen + n + 1) * 2);

			if (!g) {
				free(line);
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			cat = g;
		}
		memcpy(cat + clen, line, n + 1);
		if (i)
			nv_sha256_update(h, line, n);
		clen += n;
		free(line);
		if (i) {
			m.objs[m.n] = jl->j[i - 1]->obj;
			m.n++;
		}
	}
	if (rc)
		goto out;
	nv_sha256_final(h, body_sha);
	nv_hex(body_hex, body_sha, sizeof(body_sha));
	nv_last_body(p, last_hex, &last_gen, 0);
	if (prev_gen && last_gen == prev_gen && strcmp(last_hex, body_hex) == 0) {
		/* nothing changed: no new generation, only a fresh heartbeat */
		st->generation = prev_gen;
		rc = nv_push_heartbeat(p, s, sk, prev_gen, prev_sha);
		if (!rc)
			rc = nv_drv_flush(s);
		goto out;
	}
	/* one line per object, even when several files share it */
	qsort(m.objs, m.n, sizeof(*m.objs), nv_obj_name_cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < m.n; i++)
			if (!k || strcmp(m.objs[k - 1].name, m.objs[i].name) != 0)
				m.objs[k++] = m.objs[i];
		m.n = k;
	}
	if ((rc = nv_put_object_buf(p, s, (unsigned char *)cat, clen, &m.objs[m.n])))
		goto out;
	m.catalog = catname = m.objs[m.n].name;
	m.n++;
	/* every object durable before anything names it */
	if ((rc = nv_drv_flush(s)))
		goto out;
	memcpy(m.vault_id, head.vault_id, NV_VAULT_ID_HEX);
	m.generation = gen;
	nv_time_format(m.time, time(NULL));
	if (prev_gen)
		nv_hex(m.previous, prev_sha, NV_SHA256_LEN);
	if ((rc = nv_manifest_format(&mbuf, &mlen, &m)))
		goto out;
	nv_sha256_buf(msha, mbuf, mlen);
	nv_manifest_name(key, gen);
	{
		char hex[NV_SHA256_HEX];

		nv_hex(hex, msha, sizeof(msha));
		snprintf(pend, sizeof(pend), "%llu %s\n", (unsigned long long)gen, hex);
	}
	if ((rc = nv_push_state_file(p, path, sizeof(path), NV_VSTATE_PENDING)) ||
	    (rc = nv_state_write(path, pend, strlen(pend))))
		goto out;
	rc = nv_drv_put_buf(s, key, mbuf, mlen, NV_WRITE_EXCLUSIVE);
	if (rc == NV_EEXISTS) {
		unlink(path);
		rc = nv_error_set(NV_EEXISTS, "generation %llu was published by another pusher "
				  "meanwhile: run push again", (unsigned long long)gen);
		goto out;
	}
	if (rc || (rc = nv_vault_put_signature(p->v, sk, key, NV_SSHSIG_NS_MANIFEST, mbuf, mlen)) ||
	    (rc = nv_push_heartbeat(p, s, sk, gen, msha)) || (rc = nv_drv_flush(s)))
		goto out;
	unlink(path);
	st->generation = gen;
	st->published = 1;
	nv_vault_set_seen(head.vault_id, gen);
	nv_last_body(p, body_hex, &gen, 1);
	/* the landed objects are now named by a published manifest */
	if (p->landed_log && ftruncate(fileno(p->landed_log), 0) != 0)
		nv_log(NV_LOG_WARN, "cannot reset landed.tsv");
out:
	free(catname);
	nv_sha256_free(h);
	free(m.objs);
	free(cat);
	free(mbuf);
	return rc;
}

int nv_vault_push(nv_vault *v, const nv_location *src, const nv_sshkey *sk,
		  const nv_engine_opts *o, nv_push_stats *st)
{
	nv_push *p = calloc(1, sizeof(*p));
	nv_joblist jl = { 0 };
	unsigned char prev_sha[NV_SHA256_LEN];
	uint64_t prev_gen = 0;
	unsigned n = o->transfers ? o->transfers : 1, started = 0;
	pthread_t *tids = calloc(n, sizeof(*tids));
	char lockpath[4200], *line = NULL;
	struct timespec t0, t1;
	nv_store *s = NULL;
	int lockfd = -1, rc;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!p || !tids) {
		free(p);
		free(tids);
		return nv_error_set(NV_ERR, "out of memory");
	}
	p->v = v;
	p->src = src;
	p->o = o;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->landed_cv, NULL);
	p->n_workers = n;
	p->inflight = calloc(n, sizeof(*p->inflight));
	if (!p->inflight) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	nv_vault_recipients(v, &p->recips, &p->n_recips);
	/* the key must be the vault's own: a reader would reject anything else */
	if ((rc = nv_sshkey_format_public(&line, sk, NULL)))
		goto out;
	if (strcmp(line, nv_vault_descriptor(v)->signing_key) != 0) {
		rc = nv_error_set(NV_EINVAL, "this signing key is not the vault's (the "
				  "descriptor names %s)", nv_vault_descriptor(v)->signing_key);
		goto out;
	}
	if ((rc = nv_push_state_file(p, lockpath, sizeof(lockpath), NV_VSTATE_LOCK)) ||
	    (rc = nv_state_lock(&lockfd, lockpath, nv_vault_location(v)->text)) ||
	    (rc = nv_push_load_kid(p)) || (rc = nv_drv_open(&s, nv_vault_location(v))) ||
	    (rc = nv_push_complete_pending(p, s, sk)) ||
	    (rc = nv_vault_current(v, -1, &p->prev, prev_sha, &prev_gen)) ||
	    (rc = nv_push_load_cache(p)) || (rc = nv_push_load_landed(p)) ||
	    (rc = nv_queue_new(&p->q, (size_t)n * 4)))
		goto out;
	for (; started < n; started++)
		if (pthread_create(&tids[started], NULL, nv_push_worker, p))
			break;
	rc = nv_push_walk(p, &jl);
	nv_queue_close(p->q);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (!rc && atomic_load(&p->fatal)) {
		rc = atomic_load(&p->fatal);
		nv_error_set(rc, "%s", p->fatal_msg);
	}
	if (!rc && atomic_load(&p->failed))
		rc = nv_error_set(NV_EIO, "%llu file(s) could not be pushed: no generation "
				  "published (what landed is kept for the next push)",
				  (unsigned long long)atomic_load(&p->failed));
	if (!rc)
		rc = nv_push_publish(p, s, sk, &jl, prev_gen, prev_sha, st);
	if (!rc)
		rc = nv_save_cache(p, &jl);
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	st->files = jl.n;
	st->hashed = p->hashed;
	st->uploaded = p->uploaded;
	st->uploaded_bytes = p->uploaded_bytes;
	st->reused = p->reused;
	st->failed = p->failed;
	for (size_t i = 0; i < jl.n; i++) {
		free(jl.j[i]->path);
		free(jl.j[i]->obj.name);
		free(jl.j[i]);
	}
	free(jl.j);
	for (size_t i = 0; i < p->n_cache; i++)
		free(p->cache[i].path);
	free(p->cache);
	for (size_t i = 0; i < p->n_landed; i++)
		free(p->landed[i].rec.name);
	free(p->landed);
	free(p->landed_ix);
	if (p->landed_log)
		fclose(p->landed_log);
	nv_manifest_clear(&p->prev);
	nv_queue_free(p->q);
	OPENSSL_cleanse(p->kid, sizeof(p->kid));
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->landed_cv);
	free(p->inflight);
	nv_drv_close(s);
	nv_state_unlock(lockfd);
	free(line);
	free(tids);
	free(p);
	return rc;
}
