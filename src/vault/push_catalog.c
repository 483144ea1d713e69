/* push_catalog.c: a push's records sorted on disk, and its catalog built from
 * them line by line: hashed in a first pass, encrypted and uploaded in a
 * second, never held whole. Called through push_catalog.h. */
#include "push_catalog.h"

#include <stdlib.h>
#include <string.h>

#define NV_CAT_IO (64u << 10) /* plaintext encrypted at a time */

/* The fixed part of a file's record; the object name follows it. */
typedef struct nv_push_frec {
	uint64_t size;
	int64_t mtime;
	int32_t mtime_ns;
	uint32_t mode;
	unsigned char sha[NV_SHA256_LEN];
	nv_cache_fact fact;
} nv_push_frec;

int nv_push_recs_open(nv_push_recs *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = nv_runs_new_state(&r->files)) || (rc = nv_runs_new_state(&r->objs)))
		nv_push_recs_close(r);
	return rc;
}

int nv_push_recs_add(nv_push_recs *r, const nv_push_file *f)
{
	size_t nlen = strlen(f->obj.name);
	unsigned char val[sizeof(nv_push_frec) + NV_OBJECT_NAME_MAX], ov[8 + NV_SHA256_LEN];
	nv_push_frec fr;
	uint64_t osize = f->obj.size;
	int rc;

	if (nlen >= NV_OBJECT_NAME_MAX)
		return nv_error_set(NV_EINVAL, "object name too long: %s", f->obj.name);
	memset(&fr, 0, sizeof(fr)); /* the padding too: the bytes go to disk */
	fr.size = f->cat.size;
	fr.mtime = f->cat.mtime;
	fr.mtime_ns = f->cat.mtime_ns;
	fr.mode = f->cat.mode;
	memcpy(fr.sha, f->cat.sha256, NV_SHA256_LEN);
	nv_push_cache_fact(&fr.fact, &f->e, f->cat.sha256);
	memcpy(val, &fr, sizeof(fr));
	memcpy(val + sizeof(fr), f->obj.name, nlen);
	memcpy(ov, &osize, 8);
	memcpy(ov + 8, f->obj.sha256, NV_SHA256_LEN);
	if ((rc = nv_runs_add(r->files, f->path, strlen(f->path), val, sizeof(fr) + nlen)) ||
	    (rc = nv_runs_add(r->objs, f->obj.name, nlen, ov, sizeof(ov))))
		return rc;
	r->n++;
	return 0;
}

int nv_push_recs_sort(nv_push_recs *r)
{
	int rc = nv_runs_sort(r->files);

	return rc ? rc : nv_runs_sort(r->objs);
}

void nv_push_recs_close(nv_push_recs *r)
{
	nv_runs_free(r->files);
	nv_runs_free(r->objs);
	memset(r, 0, sizeof(*r));
}

/* ---- the catalog as a stream of lines ---- */

typedef int (*nv_line_sink)(void *ctx, const char *path, const nv_cache_fact *fact,
			    const char *line, size_t len);

/* One pass: the header line (path NULL), then each file's line in path order. */
static int nv_catalog_pass(const nv_catalog *head, nv_runs *files, nv_line_sink sink, void *ctx)
{
	char path[4097], obj[NV_OBJECT_NAME_MAX], *line, *prev = NULL;
	nv_run_rec rec;
	nv_push_frec fr;
	nv_cat_entry e;
	int rc;

	if (!(line = nv_catalog_line(head, NULL)))
		return nv_error_set(NV_ERR, "out of memory");
	rc = sink(ctx, NULL, NULL, line, strlen(line));
	free(line);
	if (!rc)
		rc = nv_runs_rewind(files);
	while (!rc && (rc = nv_runs_next(files, &rec)) == 0) {
		size_t olen = rec.vlen - sizeof(fr);

		if (rec.klen >= sizeof(path) || rec.vlen < sizeof(fr) || olen >= sizeof(obj))
			return nv_error_set(NV_EMISMATCH, "a record of the catalog was altered");
		memcpy(path, rec.key, rec.klen);
		path[rec.klen] = '\0';
		memcpy(&fr, rec.val, sizeof(fr));
		memcpy(obj, rec.val + sizeof(fr), olen);
		obj[olen] = '\0';
		/* the walk lists each path once; a second line would make a catalog
		 * every reader refuses */
		if (prev && strcmp(prev, path) >= 0) {
			rc = nv_error_set(NV_EINVAL, "%s listed twice: no catalog written", path);
			break;
		}
		e = (nv_cat_entry){ .path = path, .size = fr.size, .mode = fr.mode,
				    .mtime = fr.mtime, .mtime_ns = fr.mtime_ns, .object = obj };
		memcpy(e.sha256, fr.sha, NV_SHA256_LEN);
		if (!(line = nv_catalog_line(head, &e))) {
			rc = nv_error_set(NV_ERR, "cannot write the catalog line of %s (out of "
					  "memory, or a name that is not UTF-8)", path);
			break;
		}
		rc = sink(ctx, path, &fr.fact, line, strlen(line));
		free(line);
		free(prev);
		if (!(prev = strdup(path)) && !rc)
			rc = nv_error_set(NV_ERR, "out of memory");
	}
	free(prev);
	return rc == NV_EOF ? 0 : rc;
}

/* ---- pass 1: hashes, length, and the next cache ---- */

typedef struct nv_cat_hash {
	nv_sha256 *full, *body;
	uint64_t len;
	nv_push_state *ps;
} nv_cat_hash;

static int nv_hash_sink(void *ctx, const char *path, const nv_cache_fact *fact,
			const char *line, size_t len)
{
	nv_cat_hash *h = ctx;

	nv_sha256_update(h->full, line, len);
	if (path)
		nv_sha256_update(h->body, line, len);
	h->len += len;
	return path && h->ps ? nv_push_cache_put(h->ps, path, fact) : 0;
}

int nv_push_catalog_hash(const nv_catalog *head, nv_push_recs *r, nv_push_state *ps,
			 unsigned char full[NV_SHA256_LEN], unsigned char body[NV_SHA256_LEN],
			 uint64_t *plen)
{
	nv_cat_hash h = { .full = nv_sha256_new(), .body = nv_sha256_new(), .ps = ps };
	int rc = h.full && h.body ? 0 : nv_error_set(NV_ERR, "out of memory");

	if (!rc)
		rc = nv_catalog_pass(head, r->files, nv_hash_sink, &h);
	if (!rc) {
		nv_sha256_final(h.full, full);
		nv_sha256_final(h.body, body);
		*plen = h.len;
	}
	nv_sha256_free(h.full);
	nv_sha256_free(h.body);
	return rc;
}

/* ---- pass 2: encrypted into the object, as it streams ---- */

typedef struct nv_cat_put {
	nv_age_enc *enc;
	nv_wstream *ws;
	nv_sha256 *plain, *stored;
	unsigned char *pbuf, *ct;
	size_t pn;
	uint64_t stored_n;
} nv_cat_put;

/* Encrypts what pbuf holds (ct has room for NV_CAT_IO of it) and writes it. */
static int nv_put_flush(nv_cat_put *w)
{
	size_t n;
	int rc = nv_age_enc_update(w->enc, w->pbuf, w->pn, w->ct, &n);

	w->pn = 0;
	if (rc)
		return rc;
	nv_sha256_update(w->stored, w->ct, n);
	w->stored_n += n;
	return n ? nv_drv_write(w->ws, w->ct, n) : 0;
}

static int nv_put_sink(void *ctx, const char *path, const nv_cache_fact *fact,
		       const char *line, size_t len)
{
	nv_cat_put *w = ctx;
	int rc = 0;

	(void)path;
	(void)fact;
	nv_sha256_update(w->plain, line, len);
	while (len && !rc) {
		size_t k = len < NV_CAT_IO - w->pn ? len : NV_CAT_IO - w->pn;

		memcpy(w->pbuf + w->pn, line, k);
		w->pn += k;
		line += k;
		len -= k;
		if (w->pn == NV_CAT_IO)
			rc = nv_put_flush(w);
	}
	return rc;
}

/* The end of the stream: the last chunk, the plaintext checked against pass
 * 1, the object committed and checked. */
static int nv_put_finish(nv_cat_put *w, const char *name,
			 const unsigned char full[NV_SHA256_LEN], nv_obj_rec *out)
{
	unsigned char sha[NV_SHA256_LEN];
	nv_commit_info ci;
	size_t n;
	int rc;

	if ((rc = nv_put_flush(w)) || (rc = nv_age_enc_final(w->enc, w->ct, &n)))
		return rc;
	nv_sha256_update(w->stored, w->ct, n);
	w->stored_n += n;
	if (n && (rc = nv_drv_write(w->ws, w->ct, n)))
		return rc;
	nv_sha256_final(w->plain, sha);
	if (memcmp(sha, full, NV_SHA256_LEN) != 0)
		return nv_error_set(NV_EMISMATCH, "the catalog read back from its sort runs is "
				    "not the one hashed: not stored");
	rc = nv_drv_write_commit(w->ws, &ci);
	w->ws = NULL;
	if (rc)
		return rc;
	if ((ci.confirmed & NV_CONFIRM_SIZE) && ci.size != w->stored_n)
		return nv_error_set(NV_EMISMATCH, "%s: the store holds %llu bytes, %llu were sent",
				    name, (unsigned long long)ci.size,
				    (unsigned long long)w->stored_n);
	nv_sha256_final(w->stored, out->sha256);
	out->size = w->stored_n;
	return (out->name = strdup(name)) ? 0 : nv_error_set(NV_ERR, "out of memory");
}

int nv_push_catalog_put(const nv_catalog *head, nv_push_recs *r, nv_store *s, const char *id,
			const unsigned char full[NV_SHA256_LEN], uint64_t plen,
			const nv_age_recipient *rc_, size_t n, nv_obj_rec *out)
{
	char name[NV_OBJECT_NAME_MAX];
	nv_write_opts wo = { .flags = NV_WRITE_EXCLUSIVE };
	nv_cat_put w = { .plain = nv_sha256_new(), .stored = nv_sha256_new() };
	int rc;

	memset(out, 0, sizeof(*out));
	wo.size = (int64_t)nv_age_ciphertext_size(plen, n);
	if (!w.plain || !w.stored || !(w.pbuf = malloc(NV_CAT_IO)))
		rc = nv_error_set(NV_ERR, "out of memory");
	else if (!(rc = nv_object_name_new(name, id)) && !(rc = nv_age_enc_new(&w.enc, rc_, n)) &&
		 !(w.ct = malloc(nv_age_enc_bound(w.enc, NV_CAT_IO))))
		rc = nv_error_set(NV_ERR, "out of memory");
	if (!rc && !(rc = nv_drv_write_open(&w.ws, s, name, &wo)) &&
	    !(rc = nv_catalog_pass(head, r->files, nv_put_sink, &w)))
		rc = nv_put_finish(&w, name, full, out);
	nv_drv_write_abort(w.ws);
	nv_age_enc_free(w.enc);
	nv_sha256_free(w.plain);
	nv_sha256_free(w.stored);
	free(w.pbuf);
	free(w.ct);
	return rc;
}
