/* s3_request.c: the s3 driver's requests: each one built, signed anew on every
 * attempt (SigV4, s3_sign.c) and sent through http.c; which answers are retried;
 * the one mapping of S3's answers to nv_err; the metadata codec. Called by the
 * other drivers/s3*.c files; it calls none of them. */
#include "s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "s3_sign.h"

#define S3_EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- signed requests ---- */

struct s3_attempt {
	struct nv_conn *c;
	const struct s3_call *call;
	nv_http_headers headers;
	const char *uri;   /* canonical URI (path part of the URL) */
	const char *query;
	char payload_hash[65];
};

static int s3_sign(struct s3_attempt *a)
{
	struct nv_conn *c = a->c;
	char date[17], *auth = NULL;
	size_t i;
	int rc = 0;
	nv_sigv4 sv = {
		.method = a->call->method, .uri = a->uri, .query = a->query,
		.headers = &a->headers, .payload_hash = a->payload_hash, .amz_date = date,
		.region = c->region, .service = "s3", .access_key = c->access_key,
		.secret_key = c->secret_key,
	};

	nv_http_headers_clear(&a->headers);
	nv_sigv4_date(date, time(NULL));
	for (i = 0; a->call->extra && i < a->call->extra->n && !rc; i++)
		rc = nv_http_header_add_line(&a->headers, a->call->extra->v[i],
					     strlen(a->call->extra->v[i]));
	if (rc || (rc = nv_http_header_add(&a->headers, "Host", "%s", c->host)) ||
	    (rc = nv_http_header_add(&a->headers, "x-amz-date", "%s", date)) ||
	    (rc = nv_http_header_add(&a->headers, "x-amz-content-sha256", "%s", a->payload_hash)))
		return rc;
	if (c->session_token &&
	    (rc = nv_http_header_add(&a->headers, "x-amz-security-token", "%s", c->session_token)))
		return rc;
	if (!c->access_key)
		return 0;
	if ((rc = nv_sigv4_authorization(&auth, &sv)))
		return rc;
	rc = nv_http_header_add(&a->headers, "Authorization", "%s", auth);
	OPENSSL_cleanse(auth, strlen(auth));
	free(auth);
	return rc;
}

static int s3_prepare(void *ctx, nv_http_req *req, unsigned attempt)
{
	struct s3_attempt *a = ctx;
	int rc;

	if (attempt && a->call->sink && a->call->reset && (rc = a->call->reset(a->call->sink_ctx)))
		return rc;
	rc = s3_sign(a);
	req->headers = &a->headers;
	return rc;
}

static int s3_retryable(void *ctx, const nv_http_resp *r)
{
	nv_xml_error e;

	(void)ctx;
	switch (r->status) {
	case 408: case 429: case 500: case 502: case 503: case 504:
		return 1;
	}
	/* BadDigest, XAmzContentSHA256Mismatch: the body we signed is not the one
	 * that arrived; ours is still in memory, whole: send it again. */
	if (r->status >= 400 && nv_xml_error_parse(&e, r->body, r->body_len))
		return strcmp(e.code, "SlowDown") == 0 || strcmp(e.code, "RequestTimeout") == 0 ||
		       strcmp(e.code, "InternalError") == 0 || strcmp(e.code, "BadDigest") == 0 ||
		       strcmp(e.code, "XAmzContentSHA256Mismatch") == 0;
	return 0;
}

int nv_s3_call(struct nv_conn *c, nv_http *h, const struct s3_call *call, nv_http_resp *resp)
{
	struct s3_attempt a = { .c = c, .call = call };
	nv_sb uri = { 0 }, url = { 0 };
	char *query = NULL;
	int rc;
	nv_http_req req = {
		.method = call->method, .body = call->body, .body_len = call->body_len,
		.sink = call->sink, .sink_ctx = call->sink_ctx, .max_body = call->max_body,
		.prepare = s3_prepare, .retryable = s3_retryable, .ctx = &a,
	};

	memset(resp, 0, sizeof(*resp));
	nv_sb_add(&uri, c->uri_base);
	if (call->key) {
		nv_sb_add(&uri, "/");
		nv_sb_add_urlenc(&uri, c->root, strlen(c->root), 1);
		nv_sb_add_urlenc(&uri, call->key, strlen(call->key), 1);
	} else if (!uri.len) {
		nv_sb_add(&uri, "/");
	}
	if ((rc = nv_sigv4_query(&query, call->query, call->nquery)) || (rc = nv_sb_ok(&uri)))
		goto out;
	/* url_base already ends with the bucket's path (path style) or has none. */
	nv_sb_add(&url, c->url_base);
	nv_sb_add(&url, uri.s + strlen(c->uri_base));
	if (query[0])
		nv_sb_addf(&url, "?%s", query);
	if ((rc = nv_sb_ok(&url)))
		goto out;
	a.uri = uri.s;
	a.query = query;
	if (call->payload_hash)
		snprintf(a.payload_hash, sizeof(a.payload_hash), "%s", call->payload_hash);
	else if (call->body_len)
		nv_sha256_hex(a.payload_hash, call->body, call->body_len);
	else
		snprintf(a.payload_hash, sizeof(a.payload_hash), "%s", S3_EMPTY_SHA);
	req.url = url.s;
	if (call->stream)
		rc = nv_http_stream_open(call->stream, h, &req, resp);
	else
		rc = nv_http_send(h, &req, resp);
out:
	nv_http_headers_clear(&a.headers);
	nv_sb_free(&uri);
	nv_sb_free(&url);
	free(query);
	return rc;
}

/* ---- the one error mapping ---- */

static int s3_code_to_err(long status, const char *code)
{
	static const struct { const char *code; int err; } map[] = {
		{ "SignatureDoesNotMatch", NV_EAUTH }, { "InvalidAccessKeyId", NV_EAUTH },
		{ "ExpiredToken", NV_EAUTH }, { "InvalidToken", NV_EAUTH },
		{ "TokenRefreshRequired", NV_EAUTH }, { "AuthorizationHeaderMalformed", NV_EAUTH },
		{ "RequestTimeTooSkewed", NV_EAUTH }, { "AccessDenied", NV_EPERM },
		{ "AllAccessDisabled", NV_EPERM }, { "AccountProblem", NV_EPERM },
		{ "NoSuchBucket", NV_ENOTFOUND }, { "NoSuchKey", NV_ENOTFOUND },
		{ "NoSuchUpload", NV_ENOTFOUND }, { "PreconditionFailed", NV_EEXISTS },
		{ "ConditionalRequestConflict", NV_ERETRY }, { "BadDigest", NV_ERETRY },
		{ "InvalidDigest", NV_EMISMATCH }, { "XAmzContentSHA256Mismatch", NV_ERETRY },
		{ "IncompleteBody", NV_ERETRY }, { "SlowDown", NV_ERETRY },
		{ "RequestTimeout", NV_ERETRY }, { "InternalError", NV_ERETRY },
		{ "ServiceUnavailable", NV_ERETRY }, { "EntityTooLarge", NV_ENOSPC },
		{ "QuotaExceeded", NV_ENOSPC }, { "NotImplemented", NV_ENOTSUP },
		{ "MethodNotAllowed", NV_ENOTSUP }, { "InvalidBucketName", NV_EINVAL },
		{ "KeyTooLongError", NV_EINVAL }, { "InvalidPart", NV_EMISMATCH },
		{ "InvalidPartOrder", NV_EINVAL }, { "EntityTooSmall", NV_EINVAL },
		{ "PermanentRedirect", NV_EINVAL }, { "IllegalLocationConstraintException", NV_EINVAL },
	};
	size_t i;

	for (i = 0; code[0] && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].err;
	switch (status) {
	case 401: return NV_EAUTH;
	case 403: return NV_EPERM;
	case 404: return NV_ENOTFOUND;
	case 405: case 501: return NV_ENOTSUP;
	case 412: return NV_EEXISTS;
	case 408: case 429: return NV_ERETRY;
	default: return status >= 500 ? NV_ERETRY : NV_ERR;
	}
}

int nv_s3_error_of(const struct nv_conn *c, long status, const nv_xml_error *e,
		   const char *region, const char *method, const char *key)
{
	const char *hint = "";
	char what[1400], region_hint[160], shown[16] = "";
	int err = s3_code_to_err(status, e->code);

	if (key)
		snprintf(what, sizeof(what), "s3://%s/%s%s", c->bucket, c->root, key);
	else
		snprintf(what, sizeof(what), "s3://%s/%s", c->bucket, c->root);
	if (status)
		snprintf(shown, sizeof(shown), " %ld", status);
	if (region && *region && strcmp(region, c->region) != 0) {
		/* AWS says where the bucket lives (301 PermanentRedirect, or 400
		 * AuthorizationHeaderMalformed): the fix is one setting. */
		snprintf(region_hint, sizeof(region_hint),
			 " (the bucket is in region %.64s: set region = %.64s)", region, region);
		hint = region_hint;
	} else if (err == NV_EAUTH)
		hint = " (check access_key_id, secret_access_key and region)";
	else if (strcmp(e->code, "NoSuchBucket") == 0)
		hint = " (the bucket does not exist: create it first)";
	else if (err == NV_EPERM)
		hint = " (the credentials lack permission, or they are wrong)";
	return nv_error_set(err, "s3: %s %s:%s%s%s%s%s%s%s%s%s", method, what, shown,
			    e->code[0] ? " " : "", e->code, e->message[0] ? ": " : "", e->message,
			    hint, e->request_id[0] ? " (request id " : "", e->request_id,
			    e->request_id[0] ? ")" : "");
}

int nv_s3_error(const struct nv_conn *c, const nv_http_resp *r, const char *method,
		const char *key)
{
	nv_xml_error e;
	const char *rid;

	if (!nv_xml_error_parse(&e, r->body, r->body_len)) {
		/* HEAD responses and proxies carry no XML error body. */
		rid = nv_http_resp_header(r, "x-amz-request-id");
		snprintf(e.request_id, sizeof(e.request_id), "%s", rid ? rid : "");
		snprintf(e.message, sizeof(e.message), "%s",
			 r->status == 404 ? "not found" : r->status == 403 ? "access refused" : "");
	}
	return nv_s3_error_of(c, r->status, &e, nv_http_resp_header(r, "x-amz-bucket-region"),
			      method, key);
}

/* ---- metadata ---- */

void nv_s3_fmt_mtime(char out[32], int64_t sec, int32_t nsec)
{
	if (sec < 0 && nsec > 0) /* "-1.5" is -1.5 s: fold the fraction's sign in */
		snprintf(out, 32, "-%lld.%09d", (long long)(-sec - 1), 1000000000 - nsec);
	else
		snprintf(out, 32, "%lld.%09d", (long long)sec, (int)nsec);
}

int nv_s3_parse_mtime(const char *s, int64_t *sec, int32_t *nsec)
{
	long long whole = 0;
	int32_t frac = 0;
	int neg = 0, digits = 0, any = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	for (; *s >= '0' && *s <= '9'; s++, any = 1) {
		if (whole > 100000000000LL)
			return NV_EINVAL;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 9)
				frac = frac * 10 + (*s - '0');
	if (!any || *s)
		return NV_EINVAL;
	for (; digits < 9; digits++)
		frac *= 10;
	if (neg && frac) {
		*sec = -whole - 1;
		*nsec = 1000000000 - frac;
	} else {
		*sec = neg ? -whole : whole;
		*nsec = frac;
	}
	return 0;
}
