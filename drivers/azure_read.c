/* azure_read.c: the azure driver's stat (Get Blob Properties) and reads: a blob's
 * first read whole, then one Get Blob kept open for sequential reads, ranged reads
 * elsewhere through a read-ahead. Called via azure.c's table; calls down into
 * azure_request.c only. */
#include "azure_int.h"
#include "util/membudget.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nv_az_stat(struct nv_conn *c, const char *key, nv_entry *out)
{
	nv_http_resp resp = { 0 };
	char *blob = nv_az_blob_name(c, key);
	const char *v;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!blob)
		return NV_ERR;
	if (c->props_key && strcmp(c->props_key, key) == 0) {
		/* once only: a later stat asks the service again */
		*out = c->props;
		nv_az_readahead_drop(c);
		free(blob);
		return 0;
	}
	rc = nv_az_send(c, c->http, "HEAD", blob, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL,
			&resp);
	if (rc == 0 && resp.status / 100 != 2)
		rc = nv_az_error(c, &resp, "HEAD", blob);
	if (rc == 0) {
		v = nv_http_resp_header(&resp, "Content-Length");
		out->size = v ? strtoull(v, NULL, 10) : 0;
		nv_az_entry_times(out, nv_http_resp_header(&resp, "x-ms-meta-mtime"),
			       nv_http_resp_header(&resp, "x-ms-meta-mode"),
			       nv_http_resp_header(&resp, "Last-Modified"));
	}
	nv_http_resp_clear(&resp);
	free(blob);
	return rc;
}

struct az_read {
	unsigned char *buf;
	size_t len, got;
	int cut;  /* stop the transfer once buf is full (else drop what is past it) */
	int more; /* it was stopped: the blob holds more than len bytes */
};

static void az_read_reset(void *ctx)
{
	((struct az_read *)ctx)->got = 0;
	((struct az_read *)ctx)->more = 0;
}

static int az_read_sink(void *ctx, const void *data, size_t len)
{
	struct az_read *r = ctx;
	size_t n = len < r->len - r->got ? len : r->len - r->got;

	memcpy(r->buf + r->got, data, n);
	r->got += n;
	if (n < len && r->cut) {
		r->more = 1;
		return NV_ECANCEL;
	}
	return 0; /* bytes past a range (a server ignoring it) are dropped */
}

/* A Get Blob answer describes the blob as it was when those bytes were sent
 * (one response is atomic): the stat the engine makes right after reading, to
 * see whether the source changed meanwhile, is answered from the last one. */
static void az_remember_props(struct nv_conn *c, const char *key, const nv_http_resp *resp)
{
	const char *cr = nv_http_resp_header(resp, "Content-Range");
	const char *slash = cr ? strrchr(cr, '/') : NULL;
	/* a range answer names the total after '/'; a whole blob's length is its size */
	const char *total = resp->status == 200 ? nv_http_resp_header(resp, "Content-Length")
				: slash ? slash + 1 : NULL;

	free(c->props_key);
	c->props_key = NULL;
	if (!total || !isdigit((unsigned char)total[0]))
		return;
	memset(&c->props, 0, sizeof(c->props));
	c->props.size = strtoull(total, NULL, 10);
	nv_az_entry_times(&c->props, nv_http_resp_header(resp, "x-ms-meta-mtime"),
		       nv_http_resp_header(resp, "x-ms-meta-mode"),
		       nv_http_resp_header(resp, "Last-Modified"));
	c->props_key = strdup(key);
}

/* One ranged Get Blob into buf; *got < len only at the end of the blob. */
static int az_get_range(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
			size_t len, size_t *got)
{
	struct az_read r = { .buf = buf, .len = len };
	char range[64];
	nv_az_hdr h = { "x-ms-range", range };
	nv_http_resp resp = { 0 };
	char *blob;
	int rc;

	*got = 0;
	if (!(blob = nv_az_blob_name(c, key)))
		return NV_ERR;
	snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)offset,
		 (unsigned long long)(offset + len - 1));
	rc = nv_az_send(c, c->http, "GET", blob, NULL, &h, 1, NULL, 0, az_read_sink, &r,
			az_read_reset, &resp);
	if (rc == 0 && resp.status == 416)
		r.got = 0; /* at or past the end (also any range of an empty blob) */
	else if (rc == 0 && resp.status / 100 != 2)
		rc = nv_az_error(c, &resp, "GET", blob);
	else if (rc == 0 && resp.status != 206 && offset > 0)
		rc = nv_error_set(NV_ERR, "azure: GET %s/%s: the server ignored x-ms-range "
				  "(HTTP %ld)", c->container, blob, resp.status);
	if (rc == 0)
		*got = r.got;
	if (rc == 0 && resp.status == 206)
		az_remember_props(c, key, &resp);
	nv_http_resp_clear(&resp);
	free(blob);
	return rc;
}

/* Opens one Get Blob of key from offset to its end, kept open across reads:
 * 1 when it is ready, 0 when the caller should fall back to ranged reads. */
static int az_stream_start(struct nv_conn *c, const char *key, uint64_t offset)
{
	char range[40], *blob = nv_az_blob_name(c, key);
	nv_az_hdr h = { "x-ms-range", range };
	int rc;

	if (!blob)
		return 0;
	snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)offset);
	rc = nv_az_get_stream(c, blob, &h, 1, &c->rs.s, &c->rs.resp);
	free(blob);
	if (rc == 0 && c->rs.s && c->rs.resp.status == 206 &&
	    nv_http_seq_opened(&c->rs, key, offset) == 0) {
		az_remember_props(c, key, &c->rs.resp);
		return 1;
	}
	/* Anything else (an error, the end, a 200 ignoring the range): the ranged
	 * reads, with their retries and error mapping, take over. */
	nv_http_seq_end(&c->rs);
	nv_error_clear();
	return 0;
}

/* Reads continuing the previous one of the same blob come from one open Get
 * Blob rather than a request per buffer. 1 when served, 0 to fall back. */
static int az_read_stream(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
			  size_t len, size_t *got)
{
	if (c->rs.s && !nv_http_seq_at(&c->rs, key, offset))
		nv_http_seq_end(&c->rs);
	if (!c->rs.s && !az_stream_start(c, key, offset))
		return 0;
	return nv_http_seq_read(&c->rs, buf, len, got);
}

static int az_readahead_hit(const struct nv_conn *c, const char *key, uint64_t offset,
			    size_t len)
{
	return c->ra_key && strcmp(c->ra_key, key) == 0 && offset >= c->ra_off &&
	       (offset + len <= c->ra_off + c->ra_len || c->ra_eof);
}

/* The first read of a blob: one Get Blob without a range (Azurite spends ~35 ms of
 * CPU on each ranged one). A blob larger than len is cut off after len bytes,
 * and the next read, at len, opens one Get Blob for all the rest. */
static int az_get_first(struct nv_conn *c, const char *key, void *buf, size_t len, size_t *got)
{
	struct az_read f = { .buf = buf, .len = len, .cut = 1 };
	nv_http_resp resp = { 0 };
	char *blob;
	int rc;

	nv_az_readahead_drop(c);
	if (!(blob = nv_az_blob_name(c, key)))
		return NV_ERR;
	rc = nv_az_send(c, c->http, "GET", blob, NULL, NULL, 0, NULL, 0, az_read_sink, &f,
			az_read_reset, &resp);
	if (rc == NV_ECANCEL && f.more) {
		nv_error_clear();
		resp.status = 200; /* only a 2xx body reaches the sink */
		rc = (c->cont_key = strdup(key)) ? 0 : nv_error_set(NV_ERR, "out of memory");
		c->cont_off = len;
	} else if (rc == 0 && resp.status / 100 != 2) {
		rc = nv_az_error(c, &resp, "GET", blob);
	}
	if (rc == 0) {
		*got = f.got;
		az_remember_props(c, key, &resp);
	}
	nv_http_resp_clear(&resp);
	free(blob);
	return rc;
}

/* The engine reads sequentially in buffers of about 1 MiB: one Get Blob of
 * NV_AZ_READAHEAD serves several of them (fewer requests, and Azure bills
 * per request). Reads of that size or more go straight to the service. */
int nv_az_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf, size_t len,
	       size_t *got)
{
	uint64_t end;
	size_t n;
	int rc;

	*got = 0;
	if (len == 0) {
		nv_entry e;

		return nv_az_stat(c, key, &e);
	}
	/* A read from a blob's start is one plain Get Blob (a small blob whole, on
	 * the kept-alive connection); reading on from where that stopped, one Get
	 * Blob kept open for the rest. Other reads are ranged. */
	if (nv_http_seq_at(&c->rs, key, offset) ||
	    (c->cont_key && strcmp(c->cont_key, key) == 0 && c->cont_off == offset)) {
		free(c->cont_key);
		c->cont_key = NULL;
		if (az_read_stream(c, key, offset, buf, len, got))
			return 0;
	}
	if (offset == 0)
		return az_get_first(c, key, buf, len, got);
	/* The read-ahead buffer is optional: made only while the run's memory
	 * budget has room for it (kept until the connection closes). */
	if (len >= NV_AZ_READAHEAD || (!c->ra_buf && !nv_mem_try(NV_AZ_READAHEAD)))
		return az_get_range(c, key, offset, buf, len, got);
	if (!az_readahead_hit(c, key, offset, len)) {
		nv_az_readahead_drop(c);
		if (!c->ra_buf && !(c->ra_buf = malloc(NV_AZ_READAHEAD))) {
			nv_mem_release(NV_AZ_READAHEAD);
			return nv_error_set(NV_ERR, "out of memory");
		}
		rc = az_get_range(c, key, offset, c->ra_buf, NV_AZ_READAHEAD, &n);
		if (rc < 0)
			return rc;
		if (!(c->ra_key = strdup(key)))
			return nv_error_set(NV_ERR, "out of memory");
		c->ra_off = offset;
		c->ra_len = n;
		c->ra_eof = n < NV_AZ_READAHEAD;
		/* a read on past it is streamed from there */
		if (!c->ra_eof && !(c->cont_key = strdup(key)))
			return nv_error_set(NV_ERR, "out of memory");
		c->cont_off = offset + n;
	}
	end = c->ra_off + c->ra_len;
	n = offset >= end ? 0 : (size_t)(end - offset) < len ? (size_t)(end - offset) : len;
	memcpy(buf, c->ra_buf + (offset - c->ra_off), n);
	*got = n;
	return 0;
}
