/* s3.c: the S3 storage driver (AWS, OVH, Scaleway, Ceph, MinIO; SigV4): settings,
 * signed requests, error mapping, stat/read/remove (batched removal: s3_delete.c).
 * No code but src/driver.c calls the slots.
 *
 * Settings (config key / environment fallback), read through nv_settings_get:
 *   endpoint            AWS_ENDPOINT_URL   https://s3.REGION.amazonaws.com by default;
 *                                          e.g. https://s3.gra.io.cloud.ovh.net,
 *                                          https://s3.fr-par.scw.cloud
 *   region              AWS_REGION         signing region; us-east-1 by default
 *   access_key_id       AWS_ACCESS_KEY_ID  none: anonymous (unsigned) requests
 *   secret_access_key   AWS_SECRET_ACCESS_KEY
 *   session_token       AWS_SESSION_TOKEN  temporary credentials (x-amz-security-token)
 *   ca_file             AWS_CA_BUNDLE      PEM bundle trusted instead of the system's
 *   path_style          -                  auto (default: on for IP/localhost endpoints
 *                                          and dotted bucket names), true or false
 *   allow_http          -                  permit plain http:// to a non-loopback host
 *   max_upload_parts    -                  provider's part-count limit: 10000 (Scaleway: 1000)
 *   part_size           -                  multipart part size, at least 5M; default 8M;
 *                                          grown so that parts <= max_upload_parts
 *   list_page_size      -                  max-keys per ListObjectsV2 page, 1..1000
 *   list_sort           -                  false (default): the server lists in byte order,
 *                                          as S3 does, and navette checks it; true: read
 *                                          the whole listing and sort it (memory grows
 *                                          with the listing; for s3rver, which walks its
 *                                          directories and skips keys past page ends)
 *   upload_concurrency  -                  parts in flight per object (default 4, max 32)
 *   conditional_writes  -                  the server honours If-None-Match: * (default
 *                                          true; false: exclusive writes check first, racy)
 *   stream_reads        -                  true (default): sequential reads of one object
 *                                          share one open GET instead of a GET each
 *   timeout             -                  seconds without progress before a request fails
 * Retries: the one policy's (util/retry.h: --retries, shared with the engine's).
 * Locations: s3://bucket/prefix, or NAME:bucket/prefix for a remote of type s3.
 * Left out: listing does not return x-amz-meta-mtime (S3 lists no user metadata):
 * entries from list carry Last-Modified without NV_ENTRY_HAS_MTIME; stat has it. */
#include "s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "s3_sign.h"

#define S3_MIN_PART (5u << 20)
#define S3_EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char *const s3_schemes[] = { "s3", NULL };

/* ---- settings ---- */

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static void s3_close(struct nv_conn *c)
{
	if (!c)
		return;
	nv_http_seq_end(&c->rs);
	free(c->last_key);
	nv_http_free(c->http);
	free(c->url_base);
	free(c->uri_base);
	free(c->host);
	free(c->bucket);
	free(c->root);
	free(c->region);
	free(c->ca_file);
	free(c->access_key);
	if (c->secret_key) {
		OPENSSL_cleanse(c->secret_key, strlen(c->secret_key));
		free(c->secret_key);
	}
	if (c->session_token) {
		OPENSSL_cleanse(c->session_token, strlen(c->session_token));
		free(c->session_token);
	}
	free(c);
}

/* Splits the location into bucket and root prefix ("a/b/"). */
static int s3_parse_location(struct nv_conn *c, const nv_location *loc)
{
	const char *p, *slash;
	nv_sb root = { 0 };
	size_t n;

	if (loc->authority) {
		c->bucket = strdup(loc->authority);
		p = loc->path;
	} else {
		p = loc->path;
		while (*p == '/')
			p++;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		c->bucket = strndup(p, n);
		p += n;
	}
	if (!c->bucket)
		return nv_error_set(NV_ERR, "out of memory");
	if (!c->bucket[0] || strchr(c->bucket, '@') || strchr(c->bucket, ':'))
		return nv_error_set(NV_EINVAL, "location '%s': expected s3://bucket/prefix or "
				    "NAME:bucket/prefix", loc->text);
	/* Normalise the prefix: no leading, doubled or trailing '/'. */
	while (*p) {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n) {
			nv_sb_addn(&root, p, n);
			nv_sb_add(&root, "/");
		}
		p += n;
	}
	c->root = root.s ? nv_sb_take(&root) : strdup("");
	if (!c->root)
		return nv_error_set(NV_ERR, "out of memory");
	if (c->root[0]) {
		char *check = strndup(c->root, strlen(c->root) - 1);
		int rc = check ? nv_key_check(check) : nv_error_set(NV_ERR, "out of memory");

		free(check);
		if (rc)
			return nv_error_wrap(rc, "location '%s'", loc->text);
	}
	return 0;
}

/* Endpoint scheme://authority[/path] and addressing style -> url_base, uri_base, host. */
static int s3_parse_endpoint(struct nv_conn *c, const nv_settings *s, const char *endpoint)
{
	const char *auth, *end, *ps;
	char hostname[256];
	size_t alen, plen;
	int path_style, rc;
	nv_sb url = { 0 }, uri = { 0 };

	auth = strstr(endpoint, "://");
	if (!auth)
		return nv_error_set(NV_EINVAL, "s3 endpoint '%s' must start with https:// "
				    "(or http://)", endpoint);
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	alen = (size_t)(end - auth);
	plen = strcspn(end, "?#");
	while (plen && end[plen - 1] == '/')
		plen--;
	if (!alen || memchr(auth, '@', alen))
		return nv_error_set(NV_EINVAL, "s3 endpoint '%s': no host, or credentials in "
				    "the URL (use access_key_id and secret_access_key)", endpoint);
	/* Host name without port or brackets, for the path-style choice. */
	if (*auth == '[') {
		const char *rb = memchr(auth, ']', alen);

		snprintf(hostname, sizeof(hostname), "%.*s", rb ? (int)(rb - auth - 1) : 0, auth + 1);
	} else {
		snprintf(hostname, sizeof(hostname), "%.*s", (int)strcspn(auth, ":/?#"), auth);
	}
	ps = nv_settings_get(s, "path_style", NULL);
	if (!ps || strcasecmp(ps, "auto") == 0)
		path_style = nv_http_host_is_ip_or_localhost(hostname) || strchr(c->bucket, '.');
	else if ((rc = nv_settings_get_bool(s, "path_style", NULL, 0, &path_style)))
		return rc;
	if (path_style) {
		nv_sb_addf(&url, "%.*s%.*s", (int)(end - endpoint), endpoint, (int)plen, end);
		nv_sb_addf(&uri, "%.*s", (int)plen, end);
		nv_sb_add(&uri, "/");
		nv_sb_add_urlenc(&uri, c->bucket, strlen(c->bucket), 0);
		nv_sb_add(&url, uri.s + plen);
		c->host = strndup(auth, alen);
	} else {
		nv_sb_addf(&url, "%.*s%s.%.*s%.*s", (int)(auth - endpoint), endpoint, c->bucket,
			   (int)alen, auth, (int)plen, end);
		nv_sb_addf(&uri, "%.*s", (int)plen, end);
		c->host = malloc(strlen(c->bucket) + alen + 2);
		if (c->host)
			sprintf(c->host, "%s.%.*s", c->bucket, (int)alen, auth);
	}
	c->url_base = nv_sb_take(&url);
	c->uri_base = nv_sb_take(&uri);
	if (!c->url_base || !c->uri_base || !c->host)
		return nv_error_set(NV_ERR, "out of memory");
	return nv_http_check_url(c->url_base, c->hopts.allow_http);
}

static int s3_settings(struct nv_conn *c, const nv_settings *s)
{
	uint64_t timeout;
	const char *endpoint, *region;
	char defep[128];
	int rc;

	region = nv_settings_get(s, "region", "AWS_REGION");
	if (!region || !*region)
		region = "us-east-1";
	c->region = strdup(region);
	c->access_key = dup_or_null(nv_settings_get(s, "access_key_id", "AWS_ACCESS_KEY_ID"));
	c->secret_key = dup_or_null(nv_settings_get(s, "secret_access_key", "AWS_SECRET_ACCESS_KEY"));
	c->session_token = dup_or_null(nv_settings_get(s, "session_token", "AWS_SESSION_TOKEN"));
	if (!c->region)
		return nv_error_set(NV_ERR, "out of memory");
	if (c->access_key && !c->secret_key)
		return nv_error_set(NV_EINVAL, "s3: access_key_id is set but secret_access_key "
				    "is not");
	if ((rc = nv_settings_get_bool(s, "allow_http", NULL, 0, &c->hopts.allow_http)) ||
	    (rc = nv_settings_get_bool(s, "conditional_writes", NULL, 1, &c->conditional_writes)) ||
	    (rc = nv_settings_get_bool(s, "list_sort", NULL, 0, &c->list_sort)) ||
	    (rc = nv_settings_get_bool(s, "stream_reads", NULL, 1, &c->stream_reads)) ||
	    (rc = nv_settings_get_u64(s, "max_upload_parts", NULL, 10000, &c->max_parts)) ||
	    (rc = nv_settings_get_size(s, "part_size", NULL, 8u << 20, &c->part_size)) ||
	    (rc = nv_settings_get_u64(s, "list_page_size", NULL, 1000, &c->page_size)) ||
	    (rc = nv_settings_get_u64(s, "upload_concurrency", NULL, 4, &c->concurrency)) ||
	    (rc = nv_settings_get_u64(s, "timeout", NULL, 120, &timeout)))
		return rc;
	if (c->part_size < S3_MIN_PART || c->part_size > (5ull << 30))
		return nv_error_set(NV_EINVAL, "s3 part_size must be between 5M and 5G");
	if (c->max_parts < 1 || c->max_parts > 10000)
		return nv_error_set(NV_EINVAL, "s3 max_upload_parts must be between 1 and 10000");
	if (c->page_size < 1 || c->page_size > 1000)
		return nv_error_set(NV_EINVAL, "s3 list_page_size must be between 1 and 1000");
	if (c->concurrency < 1 || c->concurrency > 32)
		return nv_error_set(NV_EINVAL, "s3 upload_concurrency must be between 1 and 32");
	c->hopts.name = "s3";
	c->ca_file = dup_or_null(nv_settings_get(s, "ca_file", "AWS_CA_BUNDLE"));
	c->hopts.ca_file = c->ca_file;
	c->hopts.timeout = timeout > 86400 ? 86400 : (unsigned)timeout;
	endpoint = nv_settings_get(s, "endpoint", "AWS_ENDPOINT_URL");
	if (!endpoint || !*endpoint) {
		snprintf(defep, sizeof(defep), "https://s3.%s.amazonaws.com", c->region);
		endpoint = defep;
	}
	return s3_parse_endpoint(c, s, endpoint);
}

static int s3_open(struct nv_conn **out, const nv_location *loc)
{
	struct nv_conn *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = s3_parse_location(c, loc)) || (rc = s3_settings(c, loc->settings)) ||
	    (rc = nv_http_new(&c->http, &c->hopts)) || (rc = nv_s3_list_probe(c))) {
		s3_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

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
	if (r->status >= 400 && nv_xml_error_parse(&e, r->body, r->body_len))
		return strcmp(e.code, "SlowDown") == 0 || strcmp(e.code, "RequestTimeout") == 0 ||
		       strcmp(e.code, "InternalError") == 0;
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
		{ "ConditionalRequestConflict", NV_ERETRY }, { "BadDigest", NV_EMISMATCH },
		{ "InvalidDigest", NV_EMISMATCH }, { "XAmzContentSHA256Mismatch", NV_EMISMATCH },
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

/* ---- stat, read, remove ---- */

static int s3_stat(struct nv_conn *c, const char *key, nv_entry *out)
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

static int s3_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf, size_t len,
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

int nv_s3_remove(struct nv_conn *c, const char *key)
{
	struct s3_call call = { .method = "DELETE", .key = key };
	nv_http_resp r;
	int rc = nv_s3_call(c, c->http, &call, &r);

	if (!rc && !nv_s3_ok(&r) && r.status != 404)
		rc = nv_s3_error(c, &r, "DELETE", key);
	nv_http_resp_clear(&r);
	return rc;
}

const nv_driver nv_driver_s3 = {
	.version = NV_DRIVER_VERSION,
	.name = "s3",
	.schemes = s3_schemes,
	/* EXCLUSIVE: If-None-Match: * (conditional_writes); MTIME/MODE: kept as
	 * x-amz-meta-mtime/-mode and read back by stat, not by list; SERVER_MD5:
	 * S3 rejects a part whose Content-MD5 differs; DURABLE: a 200 is durable. */
	.caps = NV_CAP_EXCLUSIVE | NV_CAP_MTIME | NV_CAP_MODE | NV_CAP_SERVER_MD5 |
		NV_CAP_DURABLE,
	.min_part_size = S3_MIN_PART,
	.open = s3_open,
	.close = s3_close,
	.list_open = nv_s3_list_open,
	.list_next = nv_s3_list_next,
	.list_close = nv_s3_list_close,
	.stat = s3_stat,
	.read = s3_read,
	.write_open = nv_s3_write_open,
	.write = nv_s3_write,
	.write_commit = nv_s3_write_commit,
	.write_abort = nv_s3_write_abort,
	.remove = nv_s3_remove,
	.flush = NULL,
	/* version 2: DeleteObjects, at most 1000 keys a request (S3's limit) */
	.max_remove_batch = NV_S3_DELETE_MAX,
	.remove_many = nv_s3_remove_many,
};
