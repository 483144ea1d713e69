/* s3_write.c: the s3 driver's writer: one PUT for small objects, multipart upload
 * with a few worker threads (own curl handle each) for large ones. Called via s3.c's table. */
#include "s3_int.h"
#include "util/b64.h"
#include "util/retry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct part {
	unsigned char *buf;
	size_t len;
	size_t cap;
	unsigned number; /* 1-based part number */
};

struct nv_writer {
	struct nv_conn *c;
	char *key;
	nv_write_opts opts;
	nv_http_headers meta;   /* x-amz-meta-* headers for PUT / CreateMultipartUpload */
	size_t part_size;
	struct part *fill;      /* the buffer being filled */
	uint64_t total;
	/* multipart */
	char *upload_id;
	unsigned parts;         /* parts submitted so far */
	char **etags;           /* etags[number - 1] as the server returned them */
	size_t etags_cap;
	int md5_all;            /* every part's ETag equals the MD5 we sent */
	/* worker pool */
	pthread_t *threads;
	unsigned nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct part **queue;    /* submitted parts waiting for a worker (FIFO) */
	size_t qhead, qlen;
	struct part **spare;    /* buffers free for filling */
	size_t nspare;
	unsigned nbufs;         /* buffers allocated (at most concurrency + 1) */
	unsigned busy;          /* parts being uploaded */
	int stop;
	int err;                /* first worker error, message in errmsg */
	char errmsg[1024];
};

static void part_free(struct part *p)
{
	if (p) {
		free(p->buf);
		free(p);
	}
}

static int add_meta(struct nv_writer *w)
{
	char mtime[32];
	int rc = 0;

	if (w->opts.flags & NV_WRITE_HAS_MTIME) {
		nv_s3_fmt_mtime(mtime, w->opts.mtime_sec, w->opts.mtime_nsec);
		rc = nv_http_header_add(&w->meta, "x-amz-meta-mtime", "%s", mtime);
	}
	if (!rc && (w->opts.flags & NV_WRITE_HAS_MODE))
		rc = nv_http_header_add(&w->meta, "x-amz-meta-mode", "%o",
					(unsigned)(w->opts.mode & 07777));
	return rc;
}

int nv_s3_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
		     const nv_write_opts *opts)
{
	struct nv_writer *w = calloc(1, sizeof(*w));
	uint64_t ps = c->part_size;
	int rc;

	*out = NULL;
	if (!w || !(w->key = strdup(key))) {
		free(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	w->c = c;
	w->opts = *opts;
	w->md5_all = 1;
	/* Grow parts so a known size fits in max_upload_parts (rounded to 1 MiB). */
	if (opts->size > 0 && (uint64_t)opts->size / c->max_parts >= ps) {
		ps = ((uint64_t)opts->size + c->max_parts - 1) / c->max_parts;
		ps = (ps + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	}
	if (ps > (5ull << 30)) {
		free(w->key);
		free(w);
		return nv_error_set(NV_ENOSPC, "s3: %s: %lld bytes do not fit in %llu parts of at "
				    "most 5 GiB", key, (long long)opts->size,
				    (unsigned long long)c->max_parts);
	}
	w->part_size = (size_t)ps;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rc = add_meta(w))) {
		nv_s3_write_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* ---- worker pool ---- */

static void record_error(struct nv_writer *w, int code)
{
	pthread_mutex_lock(&w->mu);
	if (!w->err) {
		w->err = code;
		snprintf(w->errmsg, sizeof(w->errmsg), "%s", nv_error_msg());
	}
	pthread_mutex_unlock(&w->mu);
}

static int upload_part(struct nv_writer *w, nv_http *h, struct part *p)
{
	char num[16], md5[25], hexmd5[33], hash[65];
	unsigned char raw[16];
	const char *q[] = { "partNumber", num, "uploadId", w->upload_id };
	nv_http_headers hd = { 0 };
	struct s3_call call = { .method = "PUT", .key = w->key, .query = q, .nquery = 2,
				.extra = &hd, .body = p->buf, .body_len = p->len,
				.payload_hash = hash };
	nv_http_resp r;
	const char *etag;
	size_t el;
	int rc;

	snprintf(num, sizeof(num), "%u", p->number);
	nv_md5(raw, p->buf, p->len);
	nv_b64_pad_encode(md5, raw, 16);
	nv_hex(hexmd5, raw, 16);
	nv_sha256_hex(hash, p->buf, p->len);
	if ((rc = nv_http_header_add(&hd, "Content-MD5", "%s", md5)))
		return rc;
	rc = nv_s3_call(w->c, h, &call, &r);
	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(w->c, &r, "PUT (part)", w->key);
	if (!rc && !(etag = nv_http_resp_header(&r, "ETag")))
		rc = nv_error_set(NV_ERR, "s3: part %u of %s: no ETag in the response", p->number,
				  w->key);
	if (!rc) {
		char *copy = strdup(etag);

		pthread_mutex_lock(&w->mu);
		w->etags[p->number - 1] = copy;
		el = strlen(etag);
		if (!(el == 34 && etag[0] == '"' && strncasecmp(etag + 1, hexmd5, 32) == 0) &&
		    strcasecmp(etag, hexmd5) != 0)
			w->md5_all = 0;
		pthread_mutex_unlock(&w->mu);
		if (!copy)
			rc = nv_error_set(NV_ERR, "out of memory");
	}
	nv_http_resp_clear(&r);
	nv_http_headers_clear(&hd);
	return rc;
}

static void *worker(void *arg)
{
	struct nv_writer *w = arg;
	nv_http *h = NULL;
	int rc = nv_http_new(&h, &w->c->hopts);

	if (rc)
		record_error(w, rc);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct part *p;

		while (!w->stop && !w->qlen)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->qlen)
			break;
		p = w->queue[w->qhead];
		w->qhead = (w->qhead + 1) % (w->nthreads + 1);
		w->qlen--;
		w->busy++;
		if (!w->err) {
			pthread_mutex_unlock(&w->mu);
			rc = upload_part(w, h, p);
			if (rc)
				record_error(w, rc);
			pthread_mutex_lock(&w->mu);
		}
		p->len = 0;
		w->spare[w->nspare++] = p;
		w->busy--;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	nv_http_free(h);
	return NULL;
}

static int pool_start(struct nv_writer *w)
{
	unsigned n = (unsigned)w->c->concurrency, i;

	w->threads = calloc(n, sizeof(*w->threads));
	w->queue = calloc(n + 1, sizeof(*w->queue));
	w->spare = calloc(n + 2, sizeof(*w->spare));
	if (!w->threads || !w->queue || !w->spare)
		return nv_error_set(NV_ERR, "out of memory");
	for (i = 0; i < n; i++) {
		if (pthread_create(&w->threads[i], NULL, worker, w) != 0)
			break;
		w->nthreads++;
	}
	if (!w->nthreads)
		return nv_error_set(NV_ERR, "s3: cannot start upload threads");
	return 0;
}

/* Makes the workers drop queued parts instead of uploading them. */
static void pool_cancel(struct nv_writer *w)
{
	pthread_mutex_lock(&w->mu);
	if (!w->err) {
		w->err = NV_ECANCEL;
		snprintf(w->errmsg, sizeof(w->errmsg), "upload cancelled");
	}
	pthread_mutex_unlock(&w->mu);
}

static void pool_stop(struct nv_writer *w)
{
	unsigned i;

	if (!w->nthreads)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	w->nthreads = 0;
}

/* Waits until every submitted part is uploaded; the first worker error, if any. */
static int pool_drain(struct nv_writer *w)
{
	int err;

	pthread_mutex_lock(&w->mu);
	while (w->qlen || w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	err = w->err;
	pthread_mutex_unlock(&w->mu);
	return err ? nv_error_set(err, "%s", w->errmsg) : 0;
}

/* Hands w->fill to the workers and takes an empty buffer (blocking while all
 * concurrency + 1 buffers are in use: this bounds memory). */
static int submit(struct nv_writer *w, int last)
{
	struct part *p = w->fill;
	int err;

	if (w->parts >= w->c->max_parts)
		return nv_error_set(NV_ENOSPC, "s3: %s: more than max_upload_parts (%llu) parts of "
				    "%zu bytes; pass the size when writing, or raise part_size",
				    w->key, (unsigned long long)w->c->max_parts, w->part_size);
	if (w->parts >= w->etags_cap) {
		size_t cap = w->etags_cap ? 2 * w->etags_cap : 64;
		char **e;

		pthread_mutex_lock(&w->mu); /* workers write into etags */
		e = realloc(w->etags, cap * sizeof(*e));
		if (e) {
			memset(e + w->etags_cap, 0, (cap - w->etags_cap) * sizeof(*e));
			w->etags = e;
			w->etags_cap = cap;
		}
		pthread_mutex_unlock(&w->mu);
		if (!e)
			return nv_error_set(NV_ERR, "out of memory");
	}
	p->number = ++w->parts;
	pthread_mutex_lock(&w->mu);
	w->queue[(w->qhead + w->qlen) % (w->nthreads + 1)] = p;
	w->qlen++;
	w->fill = NULL;
	pthread_cond_broadcast(&w->cv);
	while (!last && !w->err && !w->nspare && w->nbufs > w->nthreads)
		pthread_cond_wait(&w->cv, &w->mu);
	if (!last && !w->err && w->nspare)
		w->fill = w->spare[--w->nspare];
	err = w->err;
	pthread_mutex_unlock(&w->mu);
	if (err)
		return nv_error_set(err, "%s", w->errmsg);
	return 0;
}

/* ---- multipart calls ---- */

static int upload_id_xml(void *ctx, const char *path, const char *text, size_t len)
{
	char **id = ctx;

	if (strcmp(path, "InitiateMultipartUploadResult/UploadId") == 0 && !*id &&
	    !(*id = strndup(text, len)))
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

static int create_upload(struct nv_writer *w)
{
	const char *q[] = { "uploads", NULL };
	struct s3_call call = { .method = "POST", .key = w->key, .query = q, .nquery = 1,
				.extra = &w->meta };
	nv_http_resp r;
	int rc = nv_s3_call(w->c, w->c->http, &call, &r);

	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(w->c, &r, "POST (create multipart upload)", w->key);
	if (!rc)
		rc = nv_xml_parse(r.body ? r.body : "", r.body_len, upload_id_xml, &w->upload_id);
	if (!rc && !w->upload_id)
		rc = nv_error_set(NV_ERR, "s3: %s: no UploadId in the answer to "
				  "CreateMultipartUpload", w->key);
	nv_http_resp_clear(&r);
	return rc;
}

static void abort_upload(struct nv_writer *w)
{
	const char *q[] = { "uploadId", w->upload_id };
	struct s3_call call = { .method = "DELETE", .key = w->key, .query = q, .nquery = 1 };
	nv_http_resp r;
	char saved[1024];
	int code = nv_error_code();

	/* Best effort, and the caller's error is what matters: keep its message.
	 * (s3rver answers 405: it has no AbortMultipartUpload.) */
	snprintf(saved, sizeof(saved), "%s", nv_error_msg());
	if (nv_s3_call(w->c, w->c->http, &call, &r) == 0)
		nv_http_resp_clear(&r);
	nv_error_set(code, "%s", saved);
}

/* Create-if-absent without server support: a check, then the write (a race
 * window remains; only used when conditional_writes = false). */
static int check_absent(struct nv_writer *w)
{
	struct s3_call call = { .method = "HEAD", .key = w->key };
	nv_http_resp r;
	int rc = nv_s3_call(w->c, w->c->http, &call, &r);

	if (!rc && nv_s3_ok(&r))
		rc = nv_error_set(NV_EEXISTS, "s3: s3://%s/%s%s already exists", w->c->bucket,
				  w->c->root, w->key);
	else if (!rc && r.status != 404)
		rc = nv_s3_error(w->c, &r, "HEAD", w->key);
	nv_http_resp_clear(&r);
	return rc;
}

static int exclusive_headers(struct nv_writer *w, nv_http_headers *h)
{
	if (!(w->opts.flags & NV_WRITE_EXCLUSIVE))
		return 0;
	if (!w->c->conditional_writes)
		return check_absent(w);
	return nv_http_header_add(h, "If-None-Match", "*");
}

static int complete_upload(struct nv_writer *w)
{
	const char *q[] = { "uploadId", w->upload_id };
	nv_http_headers h = { 0 };
	struct s3_call call = { .method = "POST", .key = w->key, .query = q, .nquery = 1,
				.extra = &h };
	nv_xml_error e;
	nv_http_resp r = { 0 };
	nv_sb body = { 0 };
	unsigned i;
	int rc;

	nv_sb_add(&body, "<CompleteMultipartUpload>");
	for (i = 0; i < w->parts; i++)
		nv_sb_addf(&body, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1,
			   w->etags[i]);
	nv_sb_add(&body, "</CompleteMultipartUpload>");
	if ((rc = nv_sb_ok(&body)) || (rc = exclusive_headers(w, &h)))
		goto out;
	call.body = body.s;
	call.body_len = body.len;
	/* A 200 may still carry an <Error> (S3 sends the status before the work
	 * is done); InternalError/SlowDown there ask for the whole call again,
	 * under the same attempt budget as every request (util/retry.h). */
	for (;;) {
		rc = nv_s3_call(w->c, w->c->http, &call, &r);
		if (rc)
			break;
		if (!nv_s3_ok(&r) || nv_xml_error_parse(&e, r.body, r.body_len)) {
			rc = nv_s3_error(w->c, &r, "POST (complete multipart upload)", w->key);
			if (nv_s3_ok(&r) && nv_retry_again(rc)) {
				nv_http_resp_clear(&r);
				continue;
			}
		}
		break;
	}
out:
	nv_http_resp_clear(&r);
	nv_http_headers_clear(&h);
	nv_sb_free(&body);
	return rc;
}

/* ---- the slots ---- */

static int fill_reserve(struct nv_writer *w, size_t want)
{
	struct part *p = w->fill;
	size_t cap;
	unsigned char *b;

	if (!p) {
		if (!(p = w->fill = calloc(1, sizeof(*p))))
			return nv_error_set(NV_ERR, "out of memory");
		w->nbufs++;
	}
	if (p->cap >= want)
		return 0;
	/* Small objects get small buffers: the announced size, or 64 KiB doubling
	 * up to the part size. */
	cap = p->cap ? 2 * p->cap : 64 * 1024;
	if (!p->cap && w->opts.size > 0 && (uint64_t)w->opts.size < w->part_size)
		cap = (size_t)w->opts.size;
	while (cap < want)
		cap *= 2;
	if (cap > w->part_size)
		cap = w->part_size;
	if (!(b = realloc(p->buf, cap)))
		return nv_error_set(NV_ERR, "out of memory");
	p->buf = b;
	p->cap = cap;
	return 0;
}

int nv_s3_write(struct nv_writer *w, const void *buf, size_t len)
{
	const unsigned char *d = buf;
	int rc;

	while (len) {
		size_t flen = w->fill ? w->fill->len : 0, want, n;

		if (flen == w->part_size) {
			/* A full part and more to come: this object goes multipart. */
			if (!w->upload_id && ((rc = create_upload(w)) || (rc = pool_start(w))))
				return rc;
			if ((rc = submit(w, 0)))
				return rc;
			continue;
		}
		want = len < w->part_size - flen ? flen + len : w->part_size;
		if ((rc = fill_reserve(w, want)))
			return rc;
		n = w->fill->cap - w->fill->len;
		if (n > len)
			n = len;
		memcpy(w->fill->buf + w->fill->len, d, n);
		w->fill->len += n;
		w->total += n;
		d += n;
		len -= n;
	}
	return 0;
}

static int put_single(struct nv_writer *w, nv_commit_info *out)
{
	char md5[25], hexmd5[33];
	unsigned char raw[16];
	nv_http_headers h = { 0 };
	struct part *p = w->fill;
	struct s3_call call = { .method = "PUT", .key = w->key, .extra = &h,
				.body = p ? p->buf : NULL, .body_len = p ? p->len : 0 };
	nv_http_resp r = { 0 };
	const char *etag;
	size_t i;
	int rc = 0;

	nv_md5(raw, call.body ? call.body : "", call.body_len);
	nv_b64_pad_encode(md5, raw, 16);
	nv_hex(hexmd5, raw, 16);
	for (i = 0; i < w->meta.n && !rc; i++)
		rc = nv_http_header_add_line(&h, w->meta.v[i], strlen(w->meta.v[i]));
	if (rc || (rc = nv_http_header_add(&h, "Content-MD5", "%s", md5)) ||
	    (rc = exclusive_headers(w, &h)))
		goto out;
	rc = nv_s3_call(w->c, w->c->http, &call, &r);
	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(w->c, &r, "PUT", w->key);
	if (!rc) {
		out->size = w->total;
		etag = nv_http_resp_header(&r, "ETag");
		/* The ETag of a plain PUT is the MD5 of what the server stored: equal
		 * to ours, the server holds exactly the bytes sent, length included. */
		if (etag && strlen(etag) == 34 && strncasecmp(etag + 1, hexmd5, 32) == 0)
			out->confirmed |= NV_CONFIRM_MD5 | NV_CONFIRM_SIZE;
	}
out:
	nv_http_resp_clear(&r);
	nv_http_headers_clear(&h);
	return rc;
}

static void writer_free(struct nv_writer *w)
{
	size_t i;

	pool_stop(w);
	part_free(w->fill);
	for (i = 0; i < w->nspare; i++)
		part_free(w->spare[i]);
	for (i = 0; i < w->qlen; i++)
		part_free(w->queue[(w->qhead + i) % (w->nthreads + 1)]);
	for (i = 0; i < w->etags_cap; i++)
		free(w->etags[i]);
	free(w->etags);
	free(w->threads);
	free(w->queue);
	free(w->spare);
	free(w->upload_id);
	free(w->key);
	nv_http_headers_clear(&w->meta);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

int nv_s3_write_commit(struct nv_writer *w, nv_commit_info *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (w->opts.size >= 0 && (uint64_t)w->opts.size != w->total) {
		rc = nv_error_set(NV_EMISMATCH, "s3: %s: %llu bytes written, %lld announced",
				  w->key, (unsigned long long)w->total, (long long)w->opts.size);
		if (w->upload_id) {
			pool_cancel(w);
			pool_stop(w);
			abort_upload(w);
		}
		writer_free(w);
		return rc;
	}
	if (!w->upload_id) {
		rc = put_single(w, out);
		writer_free(w);
		return rc;
	}
	rc = 0;
	if (w->fill && w->fill->len)
		rc = submit(w, 1);
	if (!rc)
		rc = pool_drain(w);
	pool_stop(w);
	if (!rc)
		rc = complete_upload(w);
	if (rc) {
		abort_upload(w);
	} else {
		out->size = w->total;
		if (w->md5_all) /* each part's stored bytes are the ones sent */
			out->confirmed |= NV_CONFIRM_MD5 | NV_CONFIRM_SIZE;
	}
	writer_free(w);
	return rc;
}

void nv_s3_write_abort(struct nv_writer *w)
{
	if (!w)
		return;
	pool_cancel(w);
	pool_stop(w);
	if (w->upload_id)
		abort_upload(w);
	writer_free(w);
}
