/* s3_write.c: the s3 driver's writer: one PUT for an object that fits in a part,
 * else a multipart upload whose parts go up in parallel through part_upload.c, each
 * with its Content-MD5 and signed SHA-256. Called via s3.c's table; calls down into
 * s3_request.c and part_upload.c only. */
#include "s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "part_upload.h"
#include "util/b64.h"
#include "util/retry.h"

_Static_assert(NV_S3_MAX_CONCURRENCY <= NV_PU_MAX_THREADS, "one part thread per part in flight");

struct nv_writer {
	struct nv_conn *c;
	char *key;
	nv_write_opts opts;
	nv_http_headers meta;   /* x-amz-meta-* headers for PUT / CreateMultipartUpload */
	size_t part_size;
	uint64_t total;
	nv_pu *pu;
	int rc;                 /* the first failure: later calls return it */
	/* multipart */
	char *upload_id;
	nv_http *http[NV_PU_MAX_THREADS]; /* one client per part thread, from c->spares */
	char **etags;           /* etags[i]: part i + 1's ETag; max_parts slots, each
	                         * written by the one thread that uploads that part */
	unsigned char *md5_ok;  /* md5_ok[i]: that ETag is the MD5 we sent */
};

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

/* ---- one part ---- */

/* The part_upload callback: PUT ?partNumber=index+1 on this thread's client. */
static int upload_part(void *ctx, unsigned thread, nv_part *p)
{
	struct nv_writer *w = ctx;
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

	snprintf(num, sizeof(num), "%u", p->index + 1);
	nv_md5(raw, p->buf, p->len);
	nv_b64_pad_encode(md5, raw, 16);
	nv_hex(hexmd5, raw, 16);
	nv_sha256_hex(hash, p->buf, p->len);
	if ((rc = nv_http_header_add(&hd, "Content-MD5", "%s", md5)))
		return rc;
	rc = nv_s3_call(w->c, w->http[thread], &call, &r);
	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(w->c, &r, "PUT (part)", w->key);
	if (!rc && !(etag = nv_http_resp_header(&r, "ETag")))
		rc = nv_error_set(NV_ERR, "s3: part %u of %s: no ETag in the response",
				  p->index + 1, w->key);
	if (!rc && !(w->etags[p->index] = strdup(etag)))
		rc = nv_error_set(NV_ERR, "out of memory");
	if (!rc) {
		el = strlen(etag);
		w->md5_ok[p->index] =
			(el == 34 && etag[0] == '"' && strncasecmp(etag + 1, hexmd5, 32) == 0) ||
			strcasecmp(etag, hexmd5) == 0;
	}
	nv_http_resp_clear(&r);
	nv_http_headers_clear(&hd);
	return rc;
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
	if (!rc && (rc = nv_xml_parse(r.body ? r.body : "", r.body_len, upload_id_xml,
				      &w->upload_id)))
		nv_error_wrap(rc, "s3: CreateMultipartUpload of %s at %s: its answer is refused",
			      w->key, w->c->host);
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
	for (i = 0; i < nv_pu_submitted(w->pu); i++)
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

/* A full part and more to come: the object goes multipart (once), and the
 * part goes to the upload threads. */
static int submit(struct nv_writer *w)
{
	struct nv_conn *c = w->c;
	unsigned i;
	int rc;

	if (nv_pu_submitted(w->pu) >= c->max_parts)
		return nv_error_set(NV_ENOSPC, "s3: %s: more than max_upload_parts (%llu) parts of "
				    "%zu bytes; pass the size when writing, or raise part_size",
				    w->key, (unsigned long long)c->max_parts, w->part_size);
	if (!w->upload_id) {
		w->etags = calloc(c->max_parts, sizeof(*w->etags));
		w->md5_ok = calloc(c->max_parts, 1);
		if (!w->etags || !w->md5_ok)
			return nv_error_set(NV_ERR, "out of memory");
		for (i = 0; i < c->concurrency; i++)
			if ((rc = nv_http_spare_take(&c->spares, &c->hopts, &w->http[i])))
				return rc;
		if ((rc = create_upload(w)))
			return rc;
	}
	return nv_pu_submit(w->pu);
}

/* ---- the slots ---- */

static void writer_free(struct nv_writer *w)
{
	nv_pu_free(w->pu); /* the part threads are gone: their clients may be kept */
	for (unsigned i = 0; i < NV_PU_MAX_THREADS; i++)
		nv_http_spare_give(&w->c->spares, w->http[i]);
	for (size_t i = 0; w->etags && i < w->c->max_parts; i++)
		free(w->etags[i]);
	free(w->etags);
	free(w->md5_ok);
	free(w->upload_id);
	free(w->key);
	nv_http_headers_clear(&w->meta);
	free(w);
}

int nv_s3_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
		     const nv_write_opts *opts)
{
	struct nv_writer *w = calloc(1, sizeof(*w));
	uint64_t ps = c->part_size;
	nv_pu_opts po = { .name = "s3", .threads = (unsigned)c->concurrency, .upload = upload_part };
	int rc;

	*out = NULL;
	if (!w || !(w->key = strdup(key))) {
		free(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	w->c = c;
	w->opts = *opts;
	/* Grow parts so a known size fits in max_upload_parts (rounded to 1 MiB). */
	if (opts->size > 0 && (uint64_t)opts->size / c->max_parts >= ps) {
		ps = ((uint64_t)opts->size + c->max_parts - 1) / c->max_parts;
		ps = (ps + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	}
	if (ps > (5ull << 30)) {
		rc = nv_error_set(NV_ENOSPC, "s3: %s: %lld bytes do not fit in %llu parts of at "
				  "most 5 GiB", key, (long long)opts->size,
				  (unsigned long long)c->max_parts);
		writer_free(w);
		return rc;
	}
	w->part_size = (size_t)ps;
	po.part_size = w->part_size;
	po.ctx = w;
	/* Small objects get small buffers: the announced size. */
	if (opts->size > 0 && (uint64_t)opts->size < w->part_size)
		po.first_cap = (size_t)opts->size;
	if ((rc = nv_pu_new(&w->pu, &po)) || (rc = add_meta(w))) {
		writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

static int submit_step(void *ctx)
{
	return submit(ctx);
}

static void count_bytes(void *ctx, nv_part *p, const unsigned char *d, size_t n)
{
	struct nv_writer *w = ctx;

	(void)p;
	(void)d;
	w->total += n;
}

int nv_s3_write(struct nv_writer *w, const void *buf, size_t len)
{
	int rc;

	if (w->rc)
		return w->rc;
	if ((rc = nv_pu_write(w->pu, buf, len, submit_step, count_bytes, w)))
		return w->rc = rc;
	return 0;
}

static int put_single(struct nv_writer *w, nv_commit_info *out)
{
	char md5[25], hexmd5[33];
	unsigned char raw[16];
	nv_http_headers h = { 0 };
	nv_part *p = nv_pu_current(w->pu);
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

/* After a failure: the part threads stopped first, so that no part lands after it. */
static int fail_multipart(struct nv_writer *w, int rc)
{
	nv_pu_free(w->pu);
	w->pu = NULL;
	abort_upload(w);
	return rc;
}

int nv_s3_write_commit(struct nv_writer *w, nv_commit_info *out)
{
	nv_part *p = nv_pu_current(w->pu);
	int rc = w->rc, md5_all = 1;

	memset(out, 0, sizeof(*out));
	if (rc) {
		/* A failed write: never publish what came before it. */
		if (w->upload_id)
			fail_multipart(w, rc);
		writer_free(w);
		return rc;
	}
	if (w->opts.size >= 0 && (uint64_t)w->opts.size != w->total) {
		rc = nv_error_set(NV_EMISMATCH, "s3: %s: %llu bytes written, %lld announced",
				  w->key, (unsigned long long)w->total, (long long)w->opts.size);
		if (w->upload_id)
			fail_multipart(w, rc);
		writer_free(w);
		return rc;
	}
	if (!w->upload_id) {
		rc = put_single(w, out);
		writer_free(w);
		return rc;
	}
	if (p && p->len)
		rc = submit(w);
	if (!rc)
		rc = nv_pu_finish(w->pu);
	if (!rc)
		rc = complete_upload(w);
	if (rc) {
		fail_multipart(w, rc);
	} else {
		out->size = w->total;
		for (unsigned i = 0; i < nv_pu_submitted(w->pu); i++)
			md5_all &= w->md5_ok[i];
		if (md5_all) /* each part's stored bytes are the ones sent */
			out->confirmed |= NV_CONFIRM_MD5 | NV_CONFIRM_SIZE;
	}
	writer_free(w);
	return rc;
}

void nv_s3_write_abort(struct nv_writer *w)
{
	if (!w)
		return;
	if (w->upload_id)
		fail_multipart(w, 0);
	writer_free(w);
}
