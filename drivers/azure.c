/* azure.c: the Azure Blob Storage driver (Shared Key or SAS, REST over libcurl
 * through drivers/http.h). No code but src/driver.c calls these slots.
 *
 * Locations: az://ACCOUNT/CONTAINER[/PREFIX], or NAME:CONTAINER[/PREFIX] for a
 * remote of type "azure". Settings (config key, then the environment variable
 * that fills it when unset):
 *   account            AZURE_STORAGE_ACCOUNT   storage account (URL form: the authority)
 *   key                AZURE_STORAGE_KEY       account key, base64 (Shared Key auth)
 *   sas_token          AZURE_STORAGE_SAS_TOKEN SAS query string (used when no key)
 *   connection_string  AZURE_STORAGE_CONNECTION_STRING  AccountName, AccountKey,
 *                      SharedAccessSignature, BlobEndpoint, DefaultEndpointsProtocol,
 *                      EndpointSuffix, UseDevelopmentStorage; the keys above win
 *                      over it, and it is ignored when it names another account
 *   endpoint           blob service URL (default https://ACCOUNT.blob.core.windows.net;
 *                      Azurite: http://127.0.0.1:PORT/devstoreaccount1)
 *   ca_file            PEM bundle trusted instead of the system's
 *   allow_http         plain http:// to a non-loopback host (default false)
 *   block_size         block size for Put Block (default 4M; part_size is an alias;
 *                      grown when a known size would need more than 50,000 blocks)
 *   upload_concurrency blocks in flight per object (default 4; memory is this
 *                      times block_size per writer)
 *   list_page_size     List Blobs maxresults, 1..5000 (default 5000)
 *   timeout            seconds without progress before a request fails (default 120)
 * Retries: 408, 429, 500, 502, 503, 504 and connection errors (never 403) are
 * sent again under the one policy (util/retry.h: --retries, shared with the engine's).
 * What it leaves out: containers are never created or deleted; uncommitted
 * blocks of an aborted write are left for the service to collect (7 days). */
#include "azure_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "azure_connstr.h"
#include "util/log.h"

#define AZ_DEFAULT_BLOCK (4u << 20)
#define AZ_MIN_BLOCK (64u << 10)

static void az_free_secret(void *p, size_t n)
{
	if (p) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

static void azure_close(struct nv_conn *c)
{
	if (!c)
		return;
	nv_http_free(c->http);
	for (unsigned i = 0; i < NV_AZ_MAX_POOL; i++)
		nv_http_free(c->pool[i]);
	free(c->ca_file);
	free(c->account);
	az_free_secret(c->key, c->keylen);
	if (c->sas)
		az_free_secret(c->sas, strlen(c->sas));
	free(c->endpoint);
	free(c->container);
	free(c->prefix);
	nv_az_readahead_drop(c);
	free(c->ra_buf);
	free(c);
}

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
		if (auth)
			az_free_secret(auth, strlen(auth));
	}
	req->headers = &k->headers;
	return rc;
}

/* Azure: 408, 500, 503 (ServerBusy) and the gateway errors; never 403. */
static int az_retryable(void *ctx, const nv_http_resp *r)
{
	(void)ctx;
	switch (r->status) {
	case 408: case 429: case 500: case 502: case 503: case 504:
		return 1;
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
	else if (st == 400 && (az_code_is(code, "Md5Mismatch") || az_code_is(code, "InvalidMd5")))
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

	gmtime_r(&t, &tm);
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
static void az_entry_times(nv_entry *e, const char *meta_mtime, const char *meta_mode,
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

/* ---- Listing: one List Blobs page at a time, parsed as it streams ---- */

struct az_item {
	size_t name; /* offset in names */
	uint64_t size;
	nv_entry e;
};

struct nv_list {
	struct nv_conn *c;
	char *prefix;        /* full blob-name prefix */
	char *marker;        /* NextMarker of the last page; NULL before the first */
	int done;            /* no page left to fetch */
	nv_xml *xml;
	/* the page being parsed or served */
	struct az_item *items;
	size_t n, cap, pos;
	nv_sb names;
	/* the blob being parsed */
	char *cur_name, *cur_mtime, *cur_mode, *cur_lm;
	uint64_t cur_size;
	int cur_skip;
	char *next_marker;
	char *last;          /* last key returned, for the order check */
	int err;
};

static void az_list_cur_clear(struct nv_list *it)
{
	free(it->cur_name);
	free(it->cur_mtime);
	free(it->cur_mode);
	free(it->cur_lm);
	it->cur_name = it->cur_mtime = it->cur_mode = it->cur_lm = NULL;
	it->cur_size = 0;
	it->cur_skip = 0;
}

static int az_set_str(char **slot, const char *text, size_t len)
{
	free(*slot);
	*slot = strndup(text, len);
	return *slot ? 0 : nv_error_set(NV_ERR, "out of memory");
}

/* Ends one <Blob>: keeps it when its name is a valid key under the root. */
static int az_list_push(struct nv_list *it)
{
	const char *name = it->cur_name;
	size_t pl = strlen(it->c->prefix);
	struct az_item *item;

	if (!name || it->cur_skip)
		return 0;
	if (strncmp(name, it->c->prefix, pl) != 0)
		return 0;
	name += pl;
	if (nv_key_check(name) < 0) {
		/* Folder markers ("dir/") and names navette cannot hold as keys. */
		if (name[0] && name[strlen(name) - 1] != '/')
			nv_log(NV_LOG_WARN, "azure: skipping blob '%s%s': %s", it->c->prefix,
			       name, nv_error_msg());
		nv_error_clear();
		return 0;
	}
	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 256;
		struct az_item *ni = realloc(it->items, cap * sizeof(*ni));

		if (!ni)
			return nv_error_set(NV_ERR, "out of memory");
		it->items = ni;
		it->cap = cap;
	}
	item = &it->items[it->n++];
	memset(item, 0, sizeof(*item));
	item->name = it->names.len;
	nv_sb_addn(&it->names, name, strlen(name) + 1);
	item->e.size = it->cur_size;
	az_entry_times(&item->e, it->cur_mtime, it->cur_mode, it->cur_lm);
	return nv_sb_ok(&it->names);
}

static int az_list_xml(void *ctx, const char *path, const char *text, size_t len)
{
	struct nv_list *it = ctx;
	static const char blob[] = "EnumerationResults/Blobs/Blob";
	const size_t bl = sizeof(blob) - 1;
	const char *sub;
	int rc = 0;

	if (strcmp(path, "EnumerationResults/NextMarker") == 0)
		return az_set_str(&it->next_marker, text, len);
	if (strncmp(path, blob, bl) != 0)
		return 0;
	sub = path + bl;
	if (!*sub) {
		rc = az_list_push(it);
		az_list_cur_clear(it);
	} else if (strcmp(sub, "/Name") == 0) {
		rc = az_set_str(&it->cur_name, text, len);
	} else if (strcmp(sub, "/Properties/Content-Length") == 0) {
		it->cur_size = strtoull(text, NULL, 10);
	} else if (strcmp(sub, "/Properties/Last-Modified") == 0) {
		rc = az_set_str(&it->cur_lm, text, len);
	} else if (strcmp(sub, "/Properties/ResourceType") == 0) {
		it->cur_skip |= strcmp(text, "directory") == 0; /* hierarchical namespace */
	} else if (strcasecmp(sub, "/Metadata/mtime") == 0) {
		/* Metadata names keep the writer's case: rclone's Go client sends
		 * X-Ms-Meta-Mtime, listed back as <Mtime>. */
		rc = az_set_str(&it->cur_mtime, text, len);
	} else if (strcasecmp(sub, "/Metadata/mode") == 0) {
		rc = az_set_str(&it->cur_mode, text, len);
	} else if (strcasecmp(sub, "/Metadata/hdi_isfolder") == 0) {
		it->cur_skip |= strcmp(text, "true") == 0;
	}
	return rc;
}

static void az_list_page_reset(void *ctx)
{
	struct nv_list *it = ctx;

	nv_xml_free(it->xml);
	it->xml = NULL;
	it->err = nv_xml_new(&it->xml, az_list_xml, it);
	az_list_cur_clear(it);
	it->n = it->pos = 0;
	it->names.len = 0;
	free(it->next_marker);
	it->next_marker = NULL;
}

static int az_list_sink(void *ctx, const void *data, size_t len)
{
	struct nv_list *it = ctx;

	if (it->err)
		return it->err;
	return nv_xml_feed(it->xml, data, len, 0);
}

static int az_list_fetch(struct nv_list *it)
{
	struct nv_conn *c = it->c;
	nv_http_resp resp = { 0 };
	nv_sb q = { 0 };
	int rc;

	nv_sb_addf(&q, "restype=container&comp=list&include=metadata&maxresults=%u",
		   c->page_size);
	if (it->prefix[0]) {
		nv_sb_add(&q, "&prefix=");
		nv_sb_add_urlenc(&q, it->prefix, strlen(it->prefix), 0);
	}
	if (it->marker) {
		nv_sb_add(&q, "&marker=");
		nv_sb_add_urlenc(&q, it->marker, strlen(it->marker), 0);
	}
	rc = nv_sb_ok(&q);
	if (rc == 0)
		rc = nv_az_send(c, c->http, "GET", NULL, q.s, NULL, 0, NULL, 0, az_list_sink, it,
				az_list_page_reset, &resp);
	if (rc == 0 && resp.status / 100 != 2)
		rc = nv_az_error(c, &resp, "list", it->prefix);
	else if (rc == 0)
		rc = it->err ? it->err : nv_xml_feed(it->xml, NULL, 0, 1);
	if (rc < 0 && rc != NV_ENOTFOUND)
		nv_error_wrap(rc, "listing %s/%s", c->container, it->prefix);
	nv_http_resp_clear(&resp);
	nv_sb_free(&q);
	if (rc < 0)
		return rc;
	free(it->marker);
	it->marker = it->next_marker && it->next_marker[0] ? it->next_marker : NULL;
	if (!it->marker)
		free(it->next_marker);
	it->next_marker = NULL;
	it->done = it->marker == NULL;
	return 0;
}

static void azure_list_close(struct nv_list *it)
{
	if (!it)
		return;
	nv_xml_free(it->xml);
	az_list_cur_clear(it);
	free(it->items);
	nv_sb_free(&it->names);
	free(it->prefix);
	free(it->marker);
	free(it->next_marker);
	free(it->last);
	free(it);
}

static int azure_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	struct nv_list *it = calloc(1, sizeof(*it));

	*out = NULL;
	nv_az_readahead_drop(c);
	if (!it || !(it->prefix = nv_az_blob_name(c, prefix))) {
		free(it);
		return nv_error_set(NV_ERR, "out of memory");
	}
	it->c = c;
	*out = it;
	return 0;
}

static int azure_list_next(struct nv_list *it, nv_entry *out)
{
	struct az_item *item;
	const char *key;
	int rc;

	while (it->pos == it->n) {
		if (it->done && it->xml)
			return NV_EOF;
		rc = az_list_fetch(it);
		if (rc < 0)
			return rc;
	}
	item = &it->items[it->pos++];
	key = it->names.s + item->name;
	/* The service lists in byte order of names; the engine relies on it. */
	if (it->last && strcmp(it->last, key) >= 0)
		return nv_error_set(NV_ERR, "azure: listing of %s out of order ('%s' after '%s')",
				    it->c->container, key, it->last);
	if (az_set_str(&it->last, key, strlen(key)) < 0)
		return NV_ERR;
	*out = item->e;
	out->key = it->last;
	return 0;
}

/* ---- Objects ---- */

static int azure_stat(struct nv_conn *c, const char *key, nv_entry *out)
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
		az_entry_times(out, nv_http_resp_header(&resp, "x-ms-meta-mtime"),
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
	az_entry_times(&c->props, nv_http_resp_header(resp, "x-ms-meta-mtime"),
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
	rc = az_request(c, c->http, "GET", blob, NULL, &h, 1, NULL, 0, NULL, NULL, NULL,
			&c->rs.s, &c->rs.resp);
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
static int azure_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
		      size_t len, size_t *got)
{
	uint64_t end;
	size_t n;
	int rc;

	*got = 0;
	if (len == 0) {
		nv_entry e;

		return azure_stat(c, key, &e);
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
	if (len >= NV_AZ_READAHEAD)
		return az_get_range(c, key, offset, buf, len, got);
	if (!az_readahead_hit(c, key, offset, len)) {
		nv_az_readahead_drop(c);
		if (!c->ra_buf && !(c->ra_buf = malloc(NV_AZ_READAHEAD)))
			return nv_error_set(NV_ERR, "out of memory");
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

static int azure_remove(struct nv_conn *c, const char *key)
{
	const nv_az_hdr h = { "x-ms-delete-snapshots", "include" };
	nv_http_resp resp = { 0 };
	char *blob = nv_az_blob_name(c, key);
	const char *code;
	int rc;

	if (!blob)
		return NV_ERR;
	nv_az_readahead_drop(c);
	rc = nv_az_send(c, c->http, "DELETE", blob, NULL, &h, 1, NULL, 0, NULL, NULL, NULL,
			&resp);
	code = rc == 0 ? nv_http_resp_header(&resp, "x-ms-error-code") : NULL;
	if (rc == 0 && resp.status == 404 && code && strcmp(code, "BlobNotFound") == 0)
		rc = 0; /* already gone */
	else if (rc == 0 && resp.status / 100 != 2)
		rc = nv_az_error(c, &resp, "DELETE", blob);
	nv_http_resp_clear(&resp);
	free(blob);
	return rc;
}

/* ---- Opening: settings, credentials, a first cheap request ---- */

static int az_dup(char **slot, const char *v)
{
	if (!v)
		return 0;
	*slot = strdup(v);
	return *slot ? 0 : nv_error_set(NV_ERR, "out of memory");
}

static int az_check_name(const char *what, const char *s, size_t min, size_t max,
			 const char *extra)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return nv_error_set(NV_EINVAL, "azure: %s '%s' must be %zu to %zu characters",
				    what, s, min, max);
	for (const char *p = s; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
		      (*p && strchr(extra, *p))))
			return nv_error_set(NV_EINVAL, "azure: %s '%s' may hold only lower-case "
					    "letters, digits%s", what, s,
					    extra[0] ? " and '-'" : "");
	return 0;
}

/* Credentials and endpoint: explicit keys first, then the connection string. */
static int az_open_auth(struct nv_conn *c, const nv_location *loc)
{
	const nv_settings *s = loc->settings;
	const char *cstr = nv_settings_get(s, "connection_string",
					   "AZURE_STORAGE_CONNECTION_STRING");
	const char *key = nv_settings_get(s, "key", "AZURE_STORAGE_KEY");
	const char *sas = nv_settings_get(s, "sas_token", "AZURE_STORAGE_SAS_TOKEN");
	const char *ep = nv_settings_get(s, "endpoint", NULL);
	nv_az_connstr cs = { 0 };
	int rc = 0;

	if (loc->authority)
		rc = az_dup(&c->account, loc->authority);
	else
		rc = az_dup(&c->account, nv_settings_get(s, "account", "AZURE_STORAGE_ACCOUNT"));
	if (rc == 0 && cstr) {
		rc = nv_az_connstr_parse(&cs, cstr);
		if (rc < 0)
			nv_error_wrap(rc, "azure: connection_string");
		/* A connection string for another account lends nothing. */
		if (rc == 0 && c->account && cs.account && strcmp(cs.account, c->account) != 0)
			nv_az_connstr_clear(&cs);
	}
	if (rc == 0 && !c->account)
		rc = az_dup(&c->account, cs.account);
	if (rc == 0 && !c->account)
		rc = nv_error_set(NV_EINVAL, "azure: %s: no storage account (set account, "
				  "AZURE_STORAGE_ACCOUNT or a connection string)", loc->text);
	if (rc == 0)
		rc = az_check_name("account name", c->account, 1, 63, "");
	if (rc == 0 && !key && !sas) {
		key = cs.key;
		sas = cs.sas;
	}
	if (rc == 0 && key) {
		rc = nv_az_key_decode(&c->key, &c->keylen, key);
	} else if (rc == 0 && sas) {
		rc = az_dup(&c->sas, sas[0] == '?' ? sas + 1 : sas);
	} else if (rc == 0) {
		rc = nv_error_set(NV_EAUTH, "azure: %s: no credentials (set key, sas_token or "
				  "connection_string, or AZURE_STORAGE_KEY, ...)", loc->text);
	}
	if (rc == 0 && !ep)
		ep = cs.endpoint;
	if (rc == 0 && ep) {
		rc = az_dup(&c->endpoint, ep);
		while (rc == 0 && *c->endpoint && c->endpoint[strlen(c->endpoint) - 1] == '/')
			c->endpoint[strlen(c->endpoint) - 1] = '\0';
	} else if (rc == 0) {
		size_t n = strlen(c->account) + 40;

		c->endpoint = malloc(n);
		if (!c->endpoint)
			rc = nv_error_set(NV_ERR, "out of memory");
		else
			snprintf(c->endpoint, n, "https://%s.blob.core.windows.net", c->account);
	}
	nv_az_connstr_clear(&cs);
	return rc;
}

static int az_open_endpoint(struct nv_conn *c)
{
	const char *p = strstr(c->endpoint, "://");

	if (!p || strchr(c->endpoint, '?') || strchr(c->endpoint, '#'))
		return nv_error_set(NV_EINVAL, "azure: endpoint '%s' is not a URL like "
				    "https://HOST[/PATH]", c->endpoint);
	p = strchr(p + 3, '/');
	c->endpoint_path = p ? p : c->endpoint + strlen(c->endpoint);
	return nv_http_check_url(c->endpoint, c->hopts.allow_http);
}

/* CONTAINER[/PREFIX] from the location's path. */
static int az_open_path(struct nv_conn *c, const char *path)
{
	const char *slash;
	size_t n;
	int rc;

	while (*path == '/')
		path++;
	slash = strchr(path, '/');
	n = slash ? (size_t)(slash - path) : strlen(path);
	c->container = strndup(path, n);
	if (!c->container)
		return nv_error_set(NV_ERR, "out of memory");
	if (!n)
		return nv_error_set(NV_EINVAL, "azure: the location names no container "
				    "(az://ACCOUNT/CONTAINER[/PREFIX])");
	rc = az_check_name("container name", c->container, 3, 63, "-");
	path += n;
	while (rc == 0 && *path == '/')
		path++;
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	c->prefix = malloc(n + 2);
	if (rc == 0 && !c->prefix)
		rc = nv_error_set(NV_ERR, "out of memory");
	if (rc == 0) {
		memcpy(c->prefix, path, n);
		c->prefix[n] = '\0';
		if (n && (rc = nv_key_check(c->prefix)) < 0)
			nv_error_wrap(rc, "azure: prefix");
		if (n)
			strcpy(c->prefix + n, "/");
	}
	return rc;
}

static int az_open_tuning(struct nv_conn *c, const nv_settings *s)
{
	uint64_t block, page, conc, timeout;
	int allow = 0, rc;

	rc = nv_settings_get_size(s, "part_size", NULL, AZ_DEFAULT_BLOCK, &block);
	if (rc == 0 && nv_settings_get(s, "block_size", NULL))
		rc = nv_settings_get_size(s, "block_size", NULL, AZ_DEFAULT_BLOCK, &block);
	if (rc == 0 && (block < AZ_MIN_BLOCK || block > NV_AZ_MAX_BLOCK))
		rc = nv_error_set(NV_EINVAL, "azure: block_size must be 64K to 4000M");
	if (rc == 0)
		rc = nv_settings_get_u64(s, "list_page_size", NULL, 5000, &page);
	if (rc == 0 && (page < 1 || page > 5000))
		rc = nv_error_set(NV_EINVAL, "azure: list_page_size must be 1 to 5000");
	if (rc == 0)
		rc = nv_settings_get_u64(s, "upload_concurrency", NULL, 4, &conc);
	if (rc == 0 && (conc < 1 || conc > NV_AZ_MAX_POOL))
		rc = nv_error_set(NV_EINVAL, "azure: upload_concurrency must be 1 to %u",
				  NV_AZ_MAX_POOL);
	if (rc == 0)
		rc = nv_settings_get_u64(s, "timeout", NULL, 120, &timeout);
	if (rc == 0)
		rc = nv_settings_get_bool(s, "allow_http", NULL, 0, &allow);
	if (rc == 0)
		rc = az_dup(&c->ca_file, nv_settings_get(s, "ca_file", NULL));
	if (rc < 0)
		return rc;
	c->block_size = block;
	c->page_size = (unsigned)page;
	c->concurrency = (unsigned)conc;
	c->hopts = (nv_http_opts){ .name = "azure", .ca_file = c->ca_file, .allow_http = allow,
				   .timeout = timeout > 86400 ? 86400 : (unsigned)timeout };
	return 0;
}

static int azure_open(struct nv_conn **out, const nv_location *loc)
{
	struct nv_conn *c = calloc(1, sizeof(*c));
	nv_http_resp resp = { 0 };
	nv_sb q = { 0 };
	int rc;

	*out = NULL;
	if (!c)
		return nv_error_set(NV_ERR, "out of memory");
	rc = az_open_tuning(c, loc->settings);
	if (rc == 0)
		rc = az_open_auth(c, loc);
	if (rc == 0)
		rc = az_open_endpoint(c);
	if (rc == 0)
		rc = az_open_path(c, loc->path ? loc->path : "");
	if (rc == 0)
		rc = nv_http_new(&c->http, &c->hopts);
	/* One cheap request proves the credentials and the container. */
	if (rc == 0) {
		nv_sb_add(&q, "restype=container&comp=list&maxresults=1&prefix=");
		nv_sb_add_urlenc(&q, c->prefix, strlen(c->prefix), 0);
		rc = nv_sb_ok(&q);
	}
	if (rc == 0) {
		rc = nv_az_send(c, c->http, "GET", NULL, q.s, NULL, 0, NULL, 0, NULL, NULL, NULL,
				&resp);
		if (rc == 0 && resp.status / 100 != 2)
			rc = nv_az_error(c, &resp, "list", c->prefix);
		nv_http_resp_clear(&resp);
	}
	nv_sb_free(&q);
	if (rc < 0) {
		azure_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

static const char *const azure_schemes[] = { "az", NULL };

const nv_driver nv_driver_azure = {
	.version = NV_DRIVER_VERSION,
	.name = "azure",
	.schemes = azure_schemes,
	/* If-None-Match: * on Put Blob / Put Block List is checked atomically by
	 * the service; the MD5 of every Put Blob and Put Block is checked too. */
	.caps = NV_CAP_EXCLUSIVE | NV_CAP_MTIME | NV_CAP_MODE | NV_CAP_SERVER_MD5 |
		NV_CAP_DURABLE,
	.min_part_size = AZ_MIN_BLOCK,
	.open = azure_open,
	.close = azure_close,
	.list_open = azure_list_open,
	.list_next = azure_list_next,
	.list_close = azure_list_close,
	.stat = azure_stat,
	.read = azure_read,
	.write_open = nv_az_write_open,
	.write = nv_az_write,
	.write_commit = nv_az_write_commit,
	.write_abort = nv_az_write_abort,
	.remove = azure_remove,
	.flush = NULL,
};
