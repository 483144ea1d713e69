/* s3.c: the S3 storage driver (AWS, OVH, Scaleway, Ceph, MinIO; SigV4): its table,
 * settings, open and close. No code but src/driver.c calls the slots.
 * The other files call down, never back here: s3_list.c, s3_read.c, s3_write.c,
 * s3_delete.c and s3_uploads.c use s3_request.c (signed requests, the one error mapping), which uses
 * s3_sign.c (SigV4) and http.c.
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
 *   upload_concurrency  -                  parts uploading at once per object (default 4,
 *                                          max 32): the first part buffer is the
 *                                          writer's, the others come from the run's
 *                                          budget while it has room (--max-memory)
 *   conditional_writes  -                  the server honours If-None-Match: * (default
 *                                          true; false: exclusive writes check first, racy)
 *   stream_reads        -                  true (default): sequential reads of one object
 *                                          share one open GET instead of a GET each
 *   timeout             -                  seconds without progress before a request fails
 * Retries: the one policy's (util/retry.h: --retries, shared with the engine's).
 * Locations: s3://bucket/prefix, or NAME:bucket/prefix for a remote of type s3.
 * Left out: listing does not return x-amz-meta-mtime (S3 lists no user metadata):
 * entries from list carry Last-Modified without NV_ENTRY_HAS_MTIME; stat has it. */
#include "s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#define S3_MIN_PART (5u << 20)

static const char *const s3_schemes[] = { "s3", NULL };

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
	nv_http_spares_free(&c->spares);
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
	if (c->concurrency < 1 || c->concurrency > NV_S3_MAX_CONCURRENCY)
		return nv_error_set(NV_EINVAL, "s3 upload_concurrency must be between 1 and %u",
				    NV_S3_MAX_CONCURRENCY);
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
	.stat = nv_s3_stat,
	.read = nv_s3_read,
	.write_open = nv_s3_write_open,
	.write = nv_s3_write,
	.write_commit = nv_s3_write_commit,
	.write_abort = nv_s3_write_abort,
	.remove = nv_s3_remove,
	.flush = NULL,
	/* version 2: DeleteObjects, at most 1000 keys a request (S3's limit) */
	.max_remove_batch = NV_S3_DELETE_MAX,
	.remove_many = nv_s3_remove_many,
	/* version 4: incomplete multipart uploads (ListMultipartUploads, Abort) */
	.leftovers_open = nv_s3_leftovers_open,
	.leftovers_next = nv_s3_leftovers_next,
	.leftovers_close = nv_s3_leftovers_close,
	.leftover_remove = nv_s3_leftover_remove,
};
