/* push_catalog.c: a push's records sorted on disk, and its catalog built from
 * them line by line: hashed in a first pass, encrypted and uploaded in a
 * second (enc_put.h), never held whole. Called through push_catalog.h. */
#include "push_catalog.h"
#include "catalog_read.h"
#include "enc_put.h"

#include <stdlib.h>
#include <string.h>

/* The fixed part of a file's record; the object name follows it. */
typedef struct nv_push_frec {
	uint64_t size;
	int64_t mtime;
	int32_t mtime_ns;
	uint32_t mode;
	unsigned char sha[NV_SHA256_LEN];
	uint64_t osize;                    /* its object's stored size */
	unsigned char osha[NV_SHA256_LEN]; /* and SHA-256 */
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

int nv_push_recs_add_file(nv_push_recs *r, const nv_push_file *f)
{
	size_t nlen = strlen(f->obj.name);
	unsigned char val[sizeof(nv_push_frec) + NV_OBJECT_NAME_MAX];
	nv_push_frec fr;
	int rc;

	if (nlen >= NV_OBJECT_NAME_MAX)
		return nv_error_set(NV_EINVAL, "object name too long: %s", f->obj.name);
	memset(&fr, 0, sizeof(fr)); /* the padding too: the bytes go to disk */
	fr.size = f->cat.size;
	fr.mtime = f->cat.mtime;
	fr.mtime_ns = f->cat.mtime_ns;
	fr.mode = f->cat.mode;
	memcpy(fr.sha, f->cat.sha256, NV_SHA256_LEN);
	fr.osize = f->obj.size;
	memcpy(fr.osha, f->obj.sha256, NV_SHA256_LEN);
	nv_push_cache_fact(&fr.fact, &f->e, f->cat.sha256);
	memcpy(val, &fr, sizeof(fr));
	memcpy(val + sizeof(fr), f->obj.name, nlen);
	if ((rc = nv_runs_add(r->files, f->path, strlen(f->path), val, sizeof(fr) + nlen)))
		return rc;
	r->n++;
	return 0;
}

int nv_push_recs_add(nv_push_recs *r, const nv_push_file *f)
{
	unsigned char ov[8 + NV_SHA256_LEN];
	uint64_t osize = f->obj.size;
	int rc = nv_push_recs_add_file(r, f);

	memcpy(ov, &osize, 8);
	memcpy(ov + 8, f->obj.sha256, NV_SHA256_LEN);
	return rc ? rc : nv_runs_add(r->objs, f->obj.name, strlen(f->obj.name), ov, sizeof(ov));
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

/* The next file of a pass into out (which holds the one before, if any). */
static int nv_push_recs_next(nv_push_recs *r, nv_push_rec *out)
{
	nv_run_rec rec;
	nv_push_frec fr;
	size_t olen;
	int rc = nv_runs_next(r->files, &rec);

	if (rc)
		return rc;
	olen = rec.vlen - sizeof(fr);
	if (rec.klen >= sizeof(out->path) || rec.vlen < sizeof(fr) || olen >= sizeof(out->name))
		return nv_error_set(NV_EMISMATCH, "a record of the catalog was altered");
	/* the walk lists each path once; a second line would make a catalog
	 * every reader refuses */
	if (out->cat.path == out->path && strlen(out->path) == rec.klen &&
	    memcmp(out->path, rec.key, rec.klen) == 0)
		return nv_error_set(NV_EINVAL, "%s listed twice: no catalog written", out->path);
	memcpy(out->path, rec.key, rec.klen);
	out->path[rec.klen] = '\0';
	memcpy(&fr, rec.val, sizeof(fr));
	memcpy(out->name, rec.val + sizeof(fr), olen);
	out->name[olen] = '\0';
	out->cat = (nv_cat_entry){ .path = out->path, .size = fr.size, .mode = fr.mode,
				   .mtime = fr.mtime, .mtime_ns = fr.mtime_ns, .object = out->name };
	memcpy(out->cat.sha256, fr.sha, NV_SHA256_LEN);
	out->obj = (nv_obj_rec){ .name = out->name, .size = fr.osize };
	memcpy(out->obj.sha256, fr.osha, NV_SHA256_LEN);
	out->fact = fr.fact;
	return 0;
}

int nv_push_recs_each(nv_push_recs *r, int (*fn)(void *ctx, const nv_push_rec *rec), void *ctx)
{
	nv_push_rec *rec = calloc(1, sizeof(*rec)); /* cat.path NULL: no path seen yet */
	int rc = rec ? nv_runs_rewind(r->files) : nv_error_set(NV_ERR, "out of memory");

	while (!rc && (rc = nv_push_recs_next(r, rec)) == 0)
		rc = fn(ctx, rec);
	free(rec);
	return rc == NV_EOF ? 0 : rc;
}

/* ---- the catalog as a stream of lines ---- */

typedef int (*nv_line_sink)(void *ctx, const nv_push_rec *rec, const char *line, size_t len);

typedef struct nv_cat_pass {
	const nv_catalog *head;
	nv_line_sink sink;
	void *ctx;
} nv_cat_pass;

static int nv_catalog_file(void *ctx, const nv_push_rec *rec)
{
	nv_cat_pass *cp = ctx;
	char *line = nv_catalog_line(cp->head, &rec->cat);
	int rc;

	if (!line)
		return nv_error_set(NV_ERR, "cannot write the catalog line of %s (out of memory, "
				    "or a name that is not UTF-8)", rec->path);
	rc = cp->sink(cp->ctx, rec, line, strlen(line));
	free(line);
	return rc;
}

/* One pass: the header line (rec NULL), then each file's line in path order. */
static int nv_catalog_pass(const nv_catalog *head, nv_push_recs *r, nv_line_sink sink, void *ctx)
{
	nv_cat_pass cp = { .head = head, .sink = sink, .ctx = ctx };
	char *line = nv_catalog_line(head, NULL);
	int rc;

	if (!line)
		return nv_error_set(NV_ERR, "out of memory");
	rc = sink(ctx, NULL, line, strlen(line));
	free(line);
	return rc ? rc : nv_push_recs_each(r, nv_catalog_file, &cp);
}

/* ---- pass 1: hashes, length, the next cache, and the reader's check ---- */

typedef struct nv_cat_hash {
	nv_sha256 *full, *body;
	uint64_t len;
	nv_push_state *ps;
	int check;
	int headed;            /* check: the header was parsed back */
	nv_catcheck cc;
} nv_cat_hash;

/* The line as a reader parses it: its own checks, then the clash of a file
 * with a directory that other lines (other shards') may make. */
static int nv_hash_check(nv_cat_hash *h, const char *line, size_t len)
{
	const char *p = line;
	nv_cat_entry e;
	nv_catalog head;

	if (!h->headed++)
		return nv_catalog_parse_head(&head, &p, line + len, NV_CATALOG_TYPE);
	return nv_catcheck_entry(&h->cc, line, line + len, &e);
}

static int nv_hash_sink(void *ctx, const nv_push_rec *rec, const char *line, size_t len)
{
	nv_cat_hash *h = ctx;
	int rc;

	if (h->check && (rc = nv_hash_check(h, line, len)))
		return nv_error_wrap(rc, "the merged catalog would not be readable: nothing "
				     "published");
	nv_sha256_update(h->full, line, len);
	if (rec)
		nv_sha256_update(h->body, line, len);
	h->len += len;
	return rec && h->ps ? nv_push_cache_put(h->ps, rec->path, &rec->fact) : 0;
}

int nv_push_catalog_hash(const nv_catalog *head, nv_push_recs *r, nv_push_state *ps, int check,
			 unsigned char full[NV_SHA256_LEN], unsigned char body[NV_SHA256_LEN],
			 uint64_t *plen)
{
	nv_cat_hash h = { .full = nv_sha256_new(), .body = nv_sha256_new(), .ps = ps,
			  .check = check };
	int rc = h.full && h.body ? 0 : nv_error_set(NV_ERR, "out of memory");

	if (!rc)
		rc = nv_catalog_pass(head, r, nv_hash_sink, &h);
	if (!rc) {
		nv_sha256_final(h.full, full);
		nv_sha256_final(h.body, body);
		*plen = h.len;
	}
	nv_sha256_free(h.full);
	nv_sha256_free(h.body);
	nv_catcheck_clear(&h.cc);
	return rc;
}

/* ---- pass 2: encrypted into the object, as it streams ---- */

static int nv_put_sink(void *ctx, const nv_push_rec *rec, const char *line, size_t len)
{
	(void)rec;
	return nv_encput_write(ctx, line, len);
}

int nv_push_catalog_put(const nv_catalog *head, nv_push_recs *r, nv_store *s, const char *id,
			const unsigned char full[NV_SHA256_LEN], uint64_t plen,
			const nv_age_recipient *rc_, size_t n, nv_obj_rec *out)
{
	char name[NV_OBJECT_NAME_MAX];
	nv_encput *w = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = nv_object_name_new(name, id)) ||
	    (rc = nv_encput_open(&w, s, name, 1, plen, rc_, n)))
		return rc;
	if ((rc = nv_catalog_pass(head, r, nv_put_sink, w))) {
		nv_encput_abort(w);
		return rc;
	}
	if ((rc = nv_encput_commit(w, full, out)))
		return rc;
	return (out->name = strdup(name)) ? 0 : nv_error_set(NV_ERR, "out of memory");
}
