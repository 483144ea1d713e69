/* s3_read.c: the s3 driver's stat (HEAD) and reads: ranged GETs, and one GET kept
 * open while an object is read on sequentially. Called via s3.c's table; calls
 * down into s3_request.c only. */
#include "s3_int.h"

#include <stdlib.h>
#include <string.h>

int nv_s3_stat(struct nv_conn *c, const char *key, nv_entry *out)
{
	struct s3_call call = { .method = "HEAD", .key = key };
	nv_http_resp r;
	const char *v;
	int rc = nv_s3_call(c, c->http, &call, &r);

	if (rc)
		goto out;
	if (!nv_s3_ok(&r)) {
		rc = nv_s3_error(c, &r, "HEAD", key);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	v = nv_http_resp_header(&r, "Content-Length");
	out->size = v ? strtoull(v, NULL, 10) : 0;
	if ((v = nv_http_resp_header(&r, "x-amz-meta-mtime")) &&
	    nv_s3_parse_mtime(v, &out->mtime_sec, &out->mtime_nsec) == 0)
		out->flags |= NV_ENTRY_HAS_MTIME;
	else if ((v = nv_http_resp_header(&r, "Last-Modified")))
		nv_http_parse_time(v, &out->mtime_sec, &out->mtime_nsec);
	if ((v = nv_http_resp_header(&r, "x-amz-meta-mode")) && *v) {
		char *end;
		unsigned long m = strtoul(v, &end, 8);

		if (!*end && m <= 07777) {
			out->mode = (uint32_t)m;
			out->flags |= NV_ENTRY_HAS_MODE;
		}
	}
	nv_error_clear();
out:
	nv_http_resp_clear(&r);
	return rc;
}

struct read_sink {
	unsigned char *buf;
	size_t len;
	size_t got;
	uint64_t skip;     /* bytes to drop first (server ignored the Range) */
	uint64_t skipped;
};

static int read_sink_write(void *ctx, const void *data, size_t n)
{
	struct read_sink *s = ctx;
	const unsigned char *d = data;

	if (s->skipped < s->skip) {
		uint64_t drop = s->skip - s->skipped;

		if (drop > n)
			drop = n;
		s->skipped += drop;
		d += drop;
		n -= (size_t)drop;
	}
	if (n > s->len - s->got)
		n = s->len - s->got; /* never past the caller's buffer */
	memcpy(s->buf + s->got, d, n);
	s->got += n;
	return 0;
}

static int read_sink_reset(void *ctx)
{
	struct read_sink *s = ctx;

	s->got = 0;
	s->skipped = 0;
	return 0;
}

static int s3_read_ranged(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
			  size_t len, size_t *got);

/* Opens one GET for key from offset to the end: 1 if the stream is ready, 0 if
 * the caller should do a plain ranged read, negative for an answer to report. */
static int s3_stream_start(struct nv_conn *c, const char *key, uint64_t offset, size_t *got)
{
	nv_http_headers h = { 0 };
	struct s3_call call = { .method = "GET", .key = key, .extra = &h, .stream = &c->rs.s };
	int rc;

	if ((rc = nv_http_header_add(&h, "Range", "bytes=%llu-", (unsigned long long)offset)))
		return rc;
	rc = nv_s3_call(c, c->http, &call, &c->rs.resp);
	nv_http_headers_clear(&h);
	if (rc == 0 && c->rs.s && c->rs.resp.status == 206)
		return (rc = nv_http_seq_opened(&c->rs, key, offset)) ? rc : 1;
	if (rc == 0 && !c->rs.s && c->rs.resp.status == 416) {
		*got = 0; /* at or past the end */
		nv_http_seq_end(&c->rs);
		return -1000;
	}
	if (rc == 0 && !c->rs.s && (c->rs.resp.status == 404 || c->rs.resp.status == 403)) {
		rc = nv_s3_error(c, &c->rs.resp, "GET", key);
		nv_http_seq_end(&c->rs);
		return rc;
	}
	/* Anything else (transport trouble, a 200 ignoring the range, 5xx): the
	 * ranged read, with its retries, takes over. */
	nv_http_seq_end(&c->rs);
	nv_error_clear();
	return 0;
}

/* Sequential reads of one object: the second read onwards comes from one open
 * GET (Range: bytes=N-), not a request per buffer. Returns 1 when it served the
 * read, 0 to fall back to a ranged GET, negative on an error to report. */
static int s3_read_stream(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
			  size_t len, size_t *got)
{
	int rc;

	if (c->rs.s && !nv_http_seq_at(&c->rs, key, offset))
		nv_http_seq_end(&c->rs);
	if (!c->rs.s) {
		if (!c->stream_reads || !c->last_key || strcmp(c->last_key, key) != 0 ||
		    c->last_end != offset)
			return 0;
		rc = s3_stream_start(c, key, offset, got);
		if (rc == -1000)
			return 1;
		if (rc <= 0)
			return rc;
	}
	return nv_http_seq_read(&c->rs, buf, len, got);
}

static void s3_note_read(struct nv_conn *c, const char *key, uint64_t end)
{
	if (!c->last_key || strcmp(c->last_key, key) != 0) {
		free(c->last_key);
		c->last_key = strdup(key);
	}
	c->last_end = end;
}

int nv_s3_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf, size_t len,
	       size_t *got)
{
	int rc;

	*got = 0;
	if (len == 0)
		return 0;
	rc = s3_read_stream(c, key, offset, buf, len, got);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		rc = s3_read_ranged(c, key, offset, buf, len, got);
		if (rc)
			return rc;
	}
	s3_note_read(c, key, offset + *got);
	return 0;
}

static int s3_read_ranged(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
			  size_t len, size_t *got)
{
	struct read_sink rs = { .buf = buf, .len = len };
	nv_http_headers h = { 0 };
	struct s3_call call = {
		.method = "GET", .key = key, .extra = &h, .sink = read_sink_write,
		.sink_ctx = &rs, .reset = read_sink_reset,
	};
	nv_http_resp r;
	int rc;

	*got = 0;
	if (len == 0)
		return 0;
	if ((rc = nv_http_header_add(&h, "Range", "bytes=%llu-%llu", (unsigned long long)offset,
				     (unsigned long long)(offset + len - 1))))
		return rc;
	rc = nv_s3_call(c, c->http, &call, &r);
	if (rc)
		goto out;
	if (r.status == 416) {
		/* Offset at or past the end (or an empty object): nothing to read. */
		rc = 0;
	} else if (r.status == 200 && offset > 0) {
		/* Ignored Range: the body started at 0; the sink saw it before we
		 * knew. Read again with the skip set (rare: Range is universal). */
		nv_http_resp_clear(&r);
		rs.skip = offset;
		rs.got = 0;
		rc = nv_s3_call(c, c->http, &call, &r);
		if (!rc && !nv_s3_ok(&r))
			rc = nv_s3_error(c, &r, "GET", key);
	} else if (!nv_s3_ok(&r)) {
		rc = nv_s3_error(c, &r, "GET", key);
	}
	if (!rc)
		*got = rs.got;
out:
	nv_http_resp_clear(&r);
	nv_http_headers_clear(&h);
	return rc;
}
