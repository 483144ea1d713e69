/* azure_request.c: the azure driver's requests: each one built, signed anew on
 * every attempt (Shared Key, azure_sign.c, or the SAS) and sent through http.c;
 * which answers are retried; the one mapping of Azure's answers to nv_err; blob
 * names, the metadata codec, the connection's read caches. Called by the other
 * drivers/azure*.c files; it calls none of them. */
#include "azure_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

/* ---- Requests ---- */

struct az_call {
	struct nv_conn *c;
	const char *method;
	const char *path;       /* URL path as sent, for the signature */
	const char *query;      /* our query without the SAS, for the signature */
	const nv_az_hdr *hdrs;
	size_t nhdrs;
	size_t body_len;
	nv_http_headers headers;
	void (*reset)(void *ctx);
	void *reset_ctx;
};

/* Rebuilds and signs the headers before each attempt: x-ms-date must be fresh. */
static int az_prepare(void *ctx, nv_http_req *req, unsigned attempt)
{
	struct az_call *k = ctx;
	nv_az_hdr sig[24];
	char date[30], clen[24], *sts = NULL, *auth = NULL;
	size_t n = 0;
	int rc = 0;

	(void)attempt;
	if (k->reset)
		k->reset(k->reset_ctx);
	nv_http_headers_clear(&k->headers);
	nv_http_fmt_rfc1123(date, time(NULL));
	sig[n++] = (nv_az_hdr){ "x-ms-date", date };
	sig[n++] = (nv_az_hdr){ "x-ms-version", NV_AZ_VERSION };
	for (size_t i = 0; i < k->nhdrs && n < 23; i++)
		sig[n++] = k->hdrs[i];
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = nv_http_header_add(&k->headers, sig[i].name, "%s", sig[i].value);
	if (rc == 0 && k->c->key) {
		/* curl sends Content-Length itself for bodies; it is signed all the same. */
		snprintf(clen, sizeof(clen), "%zu", k->body_len);
		if (req->body)
			sig[n++] = (nv_az_hdr){ "Content-Length", clen };
		rc = nv_az_string_to_sign(&sts, k->method, sig, n, k->c->account, k->path,
					  k->query);
		if (rc == 0)
			rc = nv_az_authorization(&auth, k->c->account, k->c->key, k->c->keylen,
						 sts);
		if (rc == 0)
			rc = nv_http_header_add(&k->headers, "Authorization", "%s", auth);
		free(sts);
		if (auth) {
			OPENSSL_cleanse(auth, strlen(auth)); /* a signature over the key */
			free(auth);
		}
	}
	req->headers = &k->headers;
	return rc;
}

/* A 400 refusing the body's Content-MD5: Azure's Md5Mismatch, or Azurite's
 * InvalidOperation "Provided contentMD5 doesn't match". */
static int az_md5_refused(const char *code, const char *message)
{
	return strcmp(code, "Md5Mismatch") == 0 ||
	       (strcmp(code, "InvalidOperation") == 0 && strstr(message, "contentMD5"));
}

/* Azure: 408, 500, 503 (ServerBusy) and the gateway errors; never 403. And a
 * refused Content-MD5: the body was damaged on its way; ours is in memory, whole. */
static int az_retryable(void *ctx, const nv_http_resp *r)
{
	nv_xml_error e = { 0 };

	(void)ctx;
	switch (r->status) {
	case 408: case 429: case 500: case 502: case 503: case 504:
		return 1;
	case 400:
		nv_xml_error_parse(&e, r->body, r->body_len);
		return az_md5_refused(e.code, e.message);
	default:
		return 0;
	}
}

/* One request, sent whole (stream NULL) or opened as a stream (*stream). */
static int az_request(struct nv_conn *c, nv_http *http, const char *method, const char *blob,
		      const char *query, const nv_az_hdr *hdrs, size_t nhdrs, const void *body,
		      size_t body_len, nv_http_sink sink, void *sink_ctx,
		      void (*reset)(void *ctx), nv_http_stream **stream, nv_http_resp *resp)
{
	nv_sb path = { 0 }, url = { 0 };
	struct az_call k = { .c = c, .method = method, .query = query, .hdrs = hdrs,
			     .nhdrs = nhdrs, .body_len = body_len, .reset = reset,
			     .reset_ctx = sink_ctx };
	nv_http_req req = { .method = method, .body = body, .body_len = body_len,
			    .sink = sink, .sink_ctx = sink_ctx, .prepare = az_prepare,
			    .retryable = az_retryable, .ctx = &k };
	int rc;

	nv_sb_add(&path, c->endpoint_path);
	nv_sb_add(&path, "/");
	nv_sb_add(&path, c->container);
	if (blob) {
		nv_sb_add(&path, "/");
		nv_sb_add_urlenc(&path, blob, strlen(blob), 1);
	}
	nv_sb_addn(&url, c->endpoint, (size_t)(c->endpoint_path - c->endpoint));
	nv_sb_addn(&url, path.s, path.len);
	if (query && *query)
		nv_sb_addf(&url, "?%s", query);
	if (c->sas)
		nv_sb_addf(&url, "%c%s", query && *query ? '&' : '?', c->sas);
	rc = nv_sb_ok(&path);
	if (rc == 0)
		rc = nv_sb_ok(&url);
	if (rc == 0) {
		k.path = path.s;
		req.url = url.s;
		rc = stream ? nv_http_stream_open(stream, http, &req, resp)
			    : nv_http_send(http, &req, resp);
	}
	nv_http_headers_clear(&k.headers);
	nv_sb_free(&path);
	nv_sb_free_secret(&url); /* it may hold the SAS */
	return rc;
}

int nv_az_send(struct nv_conn *c, nv_http *http, const char *method, const char *blob,
	       const char *query, const nv_az_hdr *hdrs, size_t nhdrs, const void *body,
	       size_t body_len, nv_http_sink sink, void *sink_ctx,
	       void (*reset)(void *ctx), nv_http_resp *resp)
{
	return az_request(c, http, method, blob, query, hdrs, nhdrs, body, body_len, sink,
			  sink_ctx, reset, NULL, resp);
}

int nv_az_get_stream(struct nv_conn *c, const char *blob, const nv_az_hdr *hdrs, size_t nhdrs,
		     nv_http_stream **stream, nv_http_resp *resp)
{
	return az_request(c, c->http, "GET", blob, NULL, hdrs, nhdrs, NULL, 0, NULL, NULL, NULL,
			  stream, resp);
}

static int az_code_is(const char *code, const char *want)
{
	return strcmp(code, want) == 0;
}

int nv_az_error(const struct nv_conn *c, const nv_http_resp *resp, const char *method,
		const char *what)
{
	nv_xml_error e = { 0 };
	const char *hcode = nv_http_resp_header(resp, "x-ms-error-code");
	const char *rid = nv_http_resp_header(resp, "x-ms-request-id");
	const char *code;
	char msg[512];
	long st = resp->status;
	int nv;

	if (resp->body)
		nv_xml_error_parse(&e, resp->body, resp->body_len);
	code = e.code[0] ? e.code : hcode ? hcode : "";
	if (!rid)
		rid = e.request_id;
	/* Azure appends "\nRequestId:...\nTime:..." to messages: keep the first
	 * line. Only Code and Message are shown: AuthenticationErrorDetail can
	 * quote the signature, which is derived from the key. */
	snprintf(msg, sizeof(msg), "%.*s", (int)strcspn(e.message, "\r\n"), e.message);
	if (st == 404)
		nv = NV_ENOTFOUND;
	else if ((st == 409 && az_code_is(code, "BlobAlreadyExists")) || st == 412)
		nv = NV_EEXISTS;
	else if (st == 401 || (st == 403 && (az_code_is(code, "AuthenticationFailed") ||
					     az_code_is(code, "AuthorizationFailure") ||
					     !code[0])))
		nv = NV_EAUTH;
	else if (st == 403)
		nv = NV_EPERM; /* AuthorizationPermissionMismatch and the like */
	else if (st == 400 && az_md5_refused(code, e.message))
		nv = NV_ERETRY; /* damaged on its way: sent again while the budget lasts */
	else if (st == 400 && az_code_is(code, "InvalidMd5"))
		nv = NV_EMISMATCH;
	else if (st == 400 || st == 413 || st == 416)
		nv = NV_EINVAL;
	else if (st == 408 || st == 429 || st >= 500)
		nv = NV_ERETRY;
	else
		nv = NV_ERR;
	if (nv == NV_ENOTFOUND && az_code_is(code, "ContainerNotFound"))
		return nv_error_set(nv, "azure: container '%s' does not exist in account '%s' "
				    "(request id %s)", c->container, c->account,
				    rid && *rid ? rid : "none");
	if (nv == NV_EAUTH && c->sas)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			 "%scheck sas_token (expiry, permissions)", msg[0] ? "; " : "");
	else if (nv == NV_EAUTH)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			 "%scheck the account key", msg[0] ? "; " : "");
	return nv_error_set(nv, "azure: %s %s/%s: HTTP %ld%s%s%s%s (request id %s)", method,
			    c->container, what ? what : "", st, code[0] ? " " : "", code,
			    msg[0] ? ": " : "", msg, rid && *rid ? rid : "none");
}

char *nv_az_blob_name(const struct nv_conn *c, const char *key)
{
	size_t a = strlen(c->prefix), b = strlen(key);
	char *s = malloc(a + b + 1);

	if (!s) {
		nv_error_set(NV_ERR, "out of memory");
		return NULL;
	}
	memcpy(s, c->prefix, a);
	memcpy(s + a, key, b + 1);
	return s;
}

/* ---- Times ---- */

void nv_az_fmt_mtime(char *out, size_t cap, int64_t sec, int32_t nsec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	/* nv_drv_write_open passes only times in range (util/times.h); never an unset tm */
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)nsec);
}

/* RFC 3339 with optional fraction and Z or +hh:mm (rclone's "mtime" metadata). */
static int az_parse_mtime(const char *s, int64_t *sec, int32_t *nsec)
{
	struct tm tm = { 0 };
	int n = 0, y, mo, d, h, mi, se;
	long frac = 0, scale = 1000000000L;
	int64_t off = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
	    n != 19)
		return -1;
	s += n;
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++)
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
	}
	if (*s == '+' || *s == '-') {
		int oh, om;

		if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		off = (*s == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
	} else if (*s != 'Z') {
		return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*sec = (int64_t)timegm(&tm) - off;
	*nsec = (int32_t)frac;
	return 0;
}

/* Fills what an entry gets from a blob's metadata and Last-Modified. */
void nv_az_entry_times(nv_entry *e, const char *meta_mtime, const char *meta_mode,
		       const char *last_modified)
{
	if (meta_mtime && az_parse_mtime(meta_mtime, &e->mtime_sec, &e->mtime_nsec) == 0)
		e->flags |= NV_ENTRY_HAS_MTIME;
	else if (last_modified)
		nv_http_parse_time(last_modified, &e->mtime_sec, &e->mtime_nsec);
	if (meta_mode) {
		char *end;
		unsigned long m = strtoul(meta_mode, &end, 8);

		if (end != meta_mode && !*end && m <= 07777) {
			e->mode = (uint32_t)m;
			e->flags |= NV_ENTRY_HAS_MODE;
		}
	}
}

/* ---- The connection's caches ---- */

/* Here, with the requests, because a write, a remove or a listing anywhere in
 * the driver must drop what reads cached. */
void nv_az_readahead_drop(struct nv_conn *c)
{
	nv_http_seq_end(&c->rs);
	free(c->cont_key);
	c->cont_key = NULL;
	free(c->ra_key);
	c->ra_key = NULL;
	free(c->props_key);
	c->props_key = NULL;
}
