/* age_spool.c: a fetched age file spooled, then decrypted a chunk at a time
 * into a line buffer. Called through age_spool.h. */
#include "age_spool.h"
#include "util/error.h"
#include "util/runs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NV_SPOOL_IO (64u << 10)

struct nv_agespool {
	int fd;                  /* the spool of the stored bytes */
	uint64_t size, off;
	nv_age_dec *dec;
	unsigned char *in;
	char *buf;               /* plaintext not yet handed out: buf[pos..len) */
	size_t pos, len, cap;
	int final;               /* the last chunk was released */
	int undecryptable;       /* a pass failed to decrypt */
	char what[200];          /* for messages */
};

int nv_agespool_fetch(nv_agespool **out, nv_store *s, const char *key, uint64_t max,
		      const char *what, uint64_t *size, unsigned char sha[NV_SHA256_LEN])
{
	nv_agespool *r = calloc(1, sizeof(*r));
	nv_sha256 *h = nv_sha256_new();
	size_t got = NV_SPOOL_IO;
	int rc = 0;

	*out = NULL;
	if (!r || !h || !(r->in = malloc(NV_SPOOL_IO)))
		rc = nv_error_set(NV_ERR, "out of memory");
	if (r) {
		r->fd = -1;
		snprintf(r->what, sizeof(r->what), "%s", what);
	}
	if (!rc)
		rc = nv_runs_tmpfile(&r->fd);
	while (!rc && got == NV_SPOOL_IO && r->size <= max) {
		if ((rc = nv_drv_read(s, key, r->size, r->in, NV_SPOOL_IO, &got)))
			break;
		nv_sha256_update(h, r->in, got);
		if (pwrite(r->fd, r->in, got, (off_t)r->size) != (ssize_t)got)
			rc = nv_error_errno(errno, "spooling %s", what);
		r->size += got;
	}
	if (!rc) {
		nv_sha256_final(h, sha);
		*size = r->size;
	}
	nv_sha256_free(h);
	if (rc) {
		nv_agespool_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int nv_agespool_start(nv_agespool *r, const nv_age_identity *id)
{
	nv_age_dec_free(r->dec);
	r->dec = NULL;
	r->off = 0;
	r->pos = r->len = 0;
	r->final = 0;
	r->undecryptable = 0;
	return nv_age_dec_new(&r->dec, id);
}

/* Decrypts the next piece of the spool into buf (compacted first). */
static int nv_agespool_fill(nv_agespool *r)
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
	if (r->off < r->size && (got = pread(r->fd, r->in, NV_SPOOL_IO, (off_t)r->off)) <= 0)
		return nv_error_errno(got < 0 ? errno : EIO, "reading the spool of %s", r->what);
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
	if (got) {
		rc = nv_age_dec_update(r->dec, r->in, (size_t)got, r->buf + r->len, &n);
	} else {
		rc = nv_age_dec_final(r->dec, r->buf + r->len, &n);
		r->final = 1;
	}
	if (rc) {
		r->undecryptable = 1;
		return nv_error_wrap(rc, "decrypting %s", r->what);
	}
	r->len += n;
	return 0;
}

int nv_agespool_line(nv_agespool *r, const char **line, const char **end, int *rc)
{
	char *nl = NULL;

	*rc = 0;
	while (r->len == r->pos || !(nl = memchr(r->buf + r->pos, '\n', r->len - r->pos))) {
		if (r->final) {
			if (r->len > r->pos)
				*rc = nv_error_set(NV_EMISMATCH, "%s: a line does not end with a "
						   "newline", r->what);
			return 0;
		}
		if ((*rc = nv_agespool_fill(r)))
			return 0;
	}
	*line = r->buf + r->pos;
	*end = nl + 1;
	r->pos = (size_t)(nl + 1 - r->buf);
	return 1;
}

int nv_agespool_undecryptable(const nv_agespool *r)
{
	return r->undecryptable;
}

void nv_agespool_free(nv_agespool *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	nv_age_dec_free(r->dec);
	free(r->in);
	nv_age_wipe_free(r->buf, r->cap);
	free(r);
}
