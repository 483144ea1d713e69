/* catalog_read.c: the catalog's stored bytes spooled and checked, then
 * decrypted a chunk at a time into a line buffer. Called through
 * catalog_read.h. */
#include "catalog_read.h"
#include "util/runs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NV_CREAD_IO (64u << 10)

struct nv_cread {
	int fd;                  /* the spool of the stored bytes */
	uint64_t size, off;
	nv_age_dec *dec;
	unsigned char *in, *out;
	char *buf;               /* plaintext not yet parsed: buf[pos..len) */
	size_t pos, len, cap;
	int final;               /* the last chunk was released */
	nv_cat_entry cur;        /* the entry handed out last */
	char **stack;            /* earlier paths that are prefixes of the last one */
	size_t depth, stack_cap;
	uint64_t n;
	char name[NV_OBJECT_NAME_MAX]; /* for messages */
};

/* The stored bytes into an anonymous file, checked as they arrive. */
static int nv_cread_spool(nv_cread *r, nv_vault *v, const nv_obj_rec *rec)
{
	nv_sha256 *h = nv_sha256_new();
	unsigned char sha[NV_SHA256_LEN];
	size_t got = NV_CREAD_IO;
	int rc = h ? nv_runs_tmpfile(&r->fd) : nv_error_set(NV_ERR, "out of memory");

	while (!rc && got == NV_CREAD_IO && r->size <= rec->size) {
		if ((rc = nv_drv_read(nv_vault_store(v), rec->name, r->size, r->in, NV_CREAD_IO,
				      &got)))
			break;
		nv_sha256_update(h, r->in, got);
		if (pwrite(r->fd, r->in, got, (off_t)r->size) != (ssize_t)got)
			rc = nv_error_errno(errno, "spooling the catalog %s", rec->name);
		r->size += got;
	}
	if (rc == NV_ENOTFOUND)
		rc = nv_error_set(NV_ENOTFOUND, "object %s is missing", rec->name);
	if (!rc) {
		nv_sha256_final(h, sha);
		rc = nv_vault_check_stored(rec, r->size, sha);
	}
	nv_sha256_free(h);
	return rc;
}

/* Decrypts the next piece of the spool into buf (compacted first). */
static int nv_cread_fill(nv_cread *r)
{
	size_t n = 0;
	ssize_t got = 0;
	int rc;

	if (r->pos && r->len > r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	} else if (r->pos) {
		r->len = r->pos = 0;
	}
	if (r->off < r->size &&
	    (got = pread(r->fd, r->in, NV_CREAD_IO, (off_t)r->off)) <= 0)
		return nv_error_errno(got < 0 ? errno : EIO, "reading the catalog's spool");
	r->off += (uint64_t)got;
	if (r->len + nv_age_dec_bound((size_t)got) > r->cap) {
		size_t cap = (r->len + nv_age_dec_bound((size_t)got)) * 2;
		char *g = malloc(cap);

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		if (r->len)
			memcpy(g, r->buf, r->len);
		nv_age_wipe_free(r->buf, r->cap);
		r->buf = g;
		r->cap = cap;
	}
	if (got)
		rc = nv_age_dec_update(r->dec, r->in, (size_t)got, r->buf + r->len, &n);
	else {
		rc = nv_age_dec_final(r->dec, r->buf + r->len, &n);
		r->final = 1;
	}
	if (rc)
		return nv_error_wrap(rc, "decrypting the catalog %s", r->name);
	r->len += n;
	return 0;
}

/* The next complete line (with its '\n') at buf + pos: 1, or 0 at the end. */
static int nv_cread_line(nv_cread *r, const char **p, const char **end, int *rc)
{
	char *nl = NULL;

	while (r->len == r->pos || !(nl = memchr(r->buf + r->pos, '\n', r->len - r->pos))) {
		if (r->final) {
			if (r->len > r->pos)
				*rc = nv_error_set(NV_EMISMATCH, "catalog: a line does not end "
						   "with a newline");
			return 0;
		}
		if ((*rc = nv_cread_fill(r)))
			return 0;
	}
	*p = r->buf + r->pos;
	*end = nl + 1;
	return 1;
}

int nv_cread_open(nv_cread **out, nv_vault *v, const nv_obj_rec *rec, const char *type,
		  const nv_age_identity *id, uint64_t gen)
{
	nv_cread *r = calloc(1, sizeof(*r));
	nv_catalog head;
	const char *p, *end;
	int rc = 0;

	*out = NULL;
	if (!r)
		return nv_error_set(NV_ERR, "out of memory");
	r->fd = -1;
	snprintf(r->name, sizeof(r->name), "%s", rec->name);
	if (!(r->in = malloc(NV_CREAD_IO)))
		rc = nv_error_set(NV_ERR, "out of memory");
	if (!rc && !(rc = nv_cread_spool(r, v, rec)) && !(rc = nv_age_dec_new(&r->dec, id)) &&
	    nv_cread_line(r, &p, &end, &rc)) {
		if (!(rc = nv_catalog_parse_head(&head, &p, end, type)))
			r->pos = (size_t)(p - r->buf);
		if (!rc && (strcmp(head.vault_id, nv_vault_descriptor(v)->vault_id) ||
			    head.generation != gen))
			rc = nv_error_set(NV_EMISMATCH, "the catalog belongs to another vault or "
					  "generation");
	} else if (!rc) {
		rc = nv_error_set(NV_EMISMATCH, "catalog: empty");
	}
	if (rc) {
		nv_cread_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int nv_cread_open_catalog(nv_cread **out, nv_vault *v, nv_mread *mr, const nv_manifest *head,
			  const nv_age_identity *id)
{
	nv_obj_rec rec;
	int rc;

	*out = NULL;
	if ((rc = nv_mread_rewind(mr)))
		return rc;
	while ((rc = nv_mread_next(mr, &rec)) == 0)
		if (strcmp(rec.name, head->catalog) == 0)
			return nv_cread_open(out, v, &rec, NV_CATALOG_TYPE, id, head->generation);
	/* nv_mread_next checked at the end that the catalog is listed */
	return rc == NV_EOF ? nv_error_set(NV_EMISMATCH, "catalog %s not in the manifest",
					   head->catalog) : rc;
}

/* A file/directory clash need not be adjacent ("a", "a-b", "a/c"): every
 * path between a file "a" and a path "a/..." starts with "a", so a stack of
 * the earlier paths that prefix the current one holds every candidate. */
static int nv_cread_clash(nv_cread *r, const char *path)
{
	while (r->depth && strncmp(r->stack[r->depth - 1], path,
				   strlen(r->stack[r->depth - 1])) != 0)
		free(r->stack[--r->depth]);
	if (r->depth) {
		const char *top = r->stack[r->depth - 1];

		if (path[strlen(top)] == '/')
			return nv_error_set(NV_EMISMATCH, "catalog: '%s' is a file and a "
					    "directory", top);
	}
	if (r->depth == r->stack_cap) {
		size_t cap = r->stack_cap ? r->stack_cap * 2 : 16;
		char **g = realloc(r->stack, cap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		r->stack = g;
		r->stack_cap = cap;
	}
	if (!(r->stack[r->depth] = strdup(path)))
		return nv_error_set(NV_ERR, "out of memory");
	r->depth++;
	return 0;
}

int nv_cread_next(nv_cread *r, nv_cat_entry *out)
{
	const char *p, *end;
	nv_cat_entry e;
	int rc = 0;

	if (!nv_cread_line(r, &p, &end, &rc))
		return rc ? rc : NV_EOF;
	if ((rc = nv_catalog_parse_entry(&p, end, &e, r->cur.path, (size_t)r->n + 1)))
		return rc;
	r->pos = (size_t)(p - r->buf);
	if ((rc = nv_cread_clash(r, e.path))) {
		free(e.path);
		free(e.object);
		return rc;
	}
	free(r->cur.path);
	free(r->cur.object);
	r->cur = e;
	r->n++;
	*out = e;
	return 0;
}

void nv_cread_close(nv_cread *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	nv_age_dec_free(r->dec);
	free(r->in);
	nv_age_wipe_free(r->buf, r->cap);
	free(r->cur.path);
	free(r->cur.object);
	while (r->depth)
		free(r->stack[--r->depth]);
	free(r->stack);
	free(r);
}
