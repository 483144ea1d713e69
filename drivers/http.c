/* http.c: the libcurl client shared by the S3 and Azure drivers: one persistent
 * easy handle per nv_http, TLS checks, timeouts, which answers may be retried (the
 * retry decision and pause are util/retry.h's). Only drivers/; streamed answers are
 * http_stream.c's. */
#include "http_int.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/retry.h"

#define HTTP_ERR_BODY_MAX (64 * 1024)
#define HTTP_DEF_BODY_MAX (1024 * 1024)
/* Per connection, kept with the handle. curl's default 16 KiB meant one recv()
 * and one poll() per 16 KiB: 138,000 system calls per GiB downloaded, 25,000 at
 * 64 KiB. Sends keep curl's 64 KiB: at 512 KiB each copy spilled out of the L2
 * cache (memmove went from 9 % to 16 % of an upload's CPU). */
#define NV_HTTP_RECV_BUFFER (64L * 1024)

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc;

static void http_global_init(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int nv_http_new(nv_http **out, const nv_http_opts *opts)
{
	struct nv_http *h;

	*out = NULL;
	pthread_once(&http_once, http_global_init);
	if (http_global_rc != CURLE_OK)
		return nv_error_set(NV_ERR, "libcurl initialisation failed: %s",
				    curl_easy_strerror(http_global_rc));
	h = calloc(1, sizeof(*h));
	if (!h)
		return nv_error_set(NV_ERR, "out of memory");
	h->curl = curl_easy_init();
	if (!h->curl || (opts->ca_file && !(h->ca_file = strdup(opts->ca_file)))) {
		nv_http_free(h);
		return nv_error_set(NV_ERR, "out of memory");
	}
	snprintf(h->name, sizeof(h->name), "%s", opts->name ? opts->name : "http");
	h->allow_http = opts->allow_http;
	h->connect_timeout = opts->connect_timeout ? opts->connect_timeout : 30;
	h->timeout = opts->timeout ? opts->timeout : 120;
	h->trace = getenv("NAVETTE_HTTP_TRACE") && strcmp(getenv("NAVETTE_HTTP_TRACE"), "1") == 0;
	*out = h;
	return 0;
}

void nv_http_free(nv_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h);
}

int nv_http_spare_take(nv_http_spares *s, const nv_http_opts *opts, nv_http **out)
{
	if (s->n) {
		*out = s->v[--s->n];
		return 0;
	}
	return nv_http_new(out, opts);
}

void nv_http_spare_give(nv_http_spares *s, nv_http *h)
{
	if (h && s->n < NV_HTTP_SPARES)
		s->v[s->n++] = h;
	else
		nv_http_free(h);
}

void nv_http_spares_free(nv_http_spares *s)
{
	while (s->n)
		nv_http_free(s->v[--s->n]);
}

/* ---- URL policy ---- */

int nv_http_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int nv_http_host_is_ip_or_localhost(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	return strcasecmp(host, "localhost") == 0 || inet_pton(AF_INET, host, &a4) == 1 ||
	       inet_pton(AF_INET6, host, &a6) == 1;
}

/* Host part of scheme://[userinfo@]host[:port]/..., brackets removed. */
static int url_host(char *out, size_t cap, const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;
	size_t n;

	if (!p)
		return -1;
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (!rb)
			return -1;
		p++;
		n = (size_t)(rb - p);
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		n = (size_t)((colon ? colon : end) - p);
	}
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int nv_http_check_url(const char *url, int allow_http)
{
	char host[256], shown[512];

	nv_http_redact_url(shown, sizeof(shown), url);
	if (url_host(host, sizeof(host), url))
		return nv_error_set(NV_EINVAL, "malformed URL '%s'", shown);
	if (strncasecmp(url, "https://", 8) == 0)
		return 0;
	if (strncasecmp(url, "http://", 7) != 0)
		return nv_error_set(NV_EINVAL, "URL '%s' is neither https:// nor http://", shown);
	if (allow_http || nv_http_host_is_loopback(host))
		return 0;
	return nv_error_set(NV_EINVAL,
			    "refusing plain http:// to %s: credentials and data would cross the "
			    "network unencrypted (set allow_http = true to insist)", host);
}

/* ---- curl callbacks ---- */

static int collect(struct xfer *x, const char *data, size_t len)
{
	nv_http_resp *r = x->resp;
	char *b;

	if (r->body_len + len > x->cap) {
		x->too_big = 1;
		return -1;
	}
	b = realloc(r->body, r->body_len + len + 1);
	if (!b)
		return -1;
	memcpy(b + r->body_len, data, len);
	r->body = b;
	r->body_len += len;
	b[r->body_len] = '\0';
	return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nmemb;

	if (x->to_sink < 0) {
		long status = 0;

		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
		x->to_sink = status >= 200 && status < 300 && x->req->sink != NULL;
		x->cap = status >= 200 && status < 300
				 ? (x->req->max_body ? x->req->max_body : HTTP_DEF_BODY_MAX)
				 : HTTP_ERR_BODY_MAX;
	}
	if (x->to_sink) {
		int rc = x->req->sink(x->req->sink_ctx, data, len);

		if (rc) {
			x->sink_err = rc;
			return 0;
		}
		return len;
	}
	if (collect(x, data, len)) {
		/* An oversized error body is still an error: keep what fits. */
		if (x->cap == HTTP_ERR_BODY_MAX && x->too_big)
			return len;
		return 0;
	}
	return len;
}

/* A 2xx with a body promised whose Content-Range says the entity has 0 bytes. */
static int empty_entity(struct xfer *x)
{
	const char *cr = nv_http_header_get(&x->resp->headers, "Content-Range");
	const char *cl = nv_http_header_get(&x->resp->headers, "Content-Length");
	size_t n = cr ? strlen(cr) : 0;
	long status = 0;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	while (n && (cr[n - 1] == ' ' || cr[n - 1] == '\t'))
		n--;
	return status >= 200 && status < 300 && n >= 2 && cr[n - 2] == '/' &&
	       cr[n - 1] == '0' && cl && strtoull(cl, NULL, 10) > 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nmemb, n = len;
	nv_http_headers *h = &x->resp->headers;
	const char *colon;

	while (n && (data[n - 1] == '\r' || data[n - 1] == '\n'))
		n--;
	if (n == 0) {
		long status = 0;

		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200)
			x->headers_done = 1;
	}
	if (n == 0 && empty_entity(x)) {
		/* s3rver answers a range of an empty object with "Content-Range:
		 * bytes 0-0/0" and a Content-Length of 1 it never sends, then waits
		 * for its keep-alive timeout: the entity is empty, stop here. */
		x->empty = 1;
		return 0;
	}
	/* A status line starts a new response (after 100 Continue, or a retry):
	 * only the final response's headers are kept. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		nv_http_headers_clear(h);
		return len;
	}
	colon = memchr(data, ':', n);
	if (!colon || colon == data)
		return len;
	nv_http_header_add_line(h, data, n);
	return len;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (n > x->up_left)
		n = x->up_left;
	memcpy(buf, x->up, n);
	x->up += n;
	x->up_left -= n;
	return n;
}

/* Lets curl replay the body when it must resend (e.g. after a 100/401 dance). */
static int on_seek(void *ud, curl_off_t off, int origin)
{
	struct xfer *x = ud;

	if (origin != SEEK_SET || off < 0 || (size_t)off > x->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->up = (const unsigned char *)x->req->body + off;
	x->up_left = x->req->body_len - (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* ---- one attempt ---- */

CURLcode nv_http_setup(nv_http *h, CURL *c, struct xfer *x, struct curl_slist **hl)
{
	nv_http_req *req = x->req;
	CURLcode rc = CURLE_OK;
	size_t i;

	/* reset keeps the live connection, TLS session and DNS caches. */
	curl_easy_reset(c);
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file)
		SET(CURLOPT_CAINFO, h->ca_file);
	SET(CURLOPT_CONNECTTIMEOUT, (long)h->connect_timeout);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, (long)h->timeout);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_BUFFERSIZE, NV_HTTP_RECV_BUFFER);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_USERAGENT, "navette");
	if (strcmp(req->method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
		/* Upload mode for both: a POST body through POSTFIELDS would get a
		 * form Content-Type added behind our back. */
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_READFUNCTION, on_read);
		SET(CURLOPT_READDATA, x);
		SET(CURLOPT_SEEKFUNCTION, on_seek);
		SET(CURLOPT_SEEKDATA, x);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
		if (strcmp(req->method, "POST") == 0)
			SET(CURLOPT_CUSTOMREQUEST, "POST");
	} else {
		SET(CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (rc != CURLE_OK)
		return rc;
#undef SET
	/* No "Expect: 100-continue" round trip; no curl-chosen Content-Type. */
	*hl = curl_slist_append(*hl, "Expect:");
	if (*hl && (!req->headers || !nv_http_header_get(req->headers, "Content-Type")))
		*hl = curl_slist_append(*hl, "Content-Type:");
	for (i = 0; *hl && req->headers && i < req->headers->n; i++) {
		struct curl_slist *n = curl_slist_append(*hl, req->headers->v[i]);

		if (!n) {
			curl_slist_free_all(*hl);
			*hl = NULL;
			break;
		}
		*hl = n;
	}
	if (!*hl)
		return CURLE_OUT_OF_MEMORY;
	return curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hl);
}

static int transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int default_retryable(const nv_http_resp *r)
{
	switch (r->status) {
	case 408: case 429: case 500: case 502: case 503: case 504:
		return 1;
	default:
		return 0;
	}
}

int nv_http_curl_error(nv_http *h, const nv_http_req *req, CURLcode rc, const char *detail,
		       const char *shown)
{
	const char *why = detail[0] ? detail : curl_easy_strerror(rc);
	char host[256];

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		/* Said in our words with the name: curl's own text varies with its
		 * resolver, and a mistyped endpoint is the usual cause. */
		if (url_host(host, sizeof(host), req->url))
			snprintf(host, sizeof(host), "(unknown)");
		return nv_error_set(NV_ERETRY, "%s: %s %s: could not resolve host %s", h->name,
				    req->method, shown, host);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return nv_error_set(NV_EAUTH, "%s: %s %s: TLS certificate not trusted: %s",
				    h->name, req->method, shown, why);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return nv_error_set(NV_EINVAL, "%s: %s %s: %s", h->name, req->method, shown, why);
	case CURLE_OUT_OF_MEMORY:
		return nv_error_set(NV_ERR, "%s: out of memory", h->name);
	default:
		return nv_error_set(transient(rc) ? NV_ERETRY : NV_ERR, "%s: %s %s: %s", h->name,
				    req->method, shown, why);
	}
}

static void trace(nv_http *h, const nv_http_req *req, const char *shown, long status,
		  CURLcode rc, unsigned attempt)
{
	double secs = 0;

	if (!h->trace)
		return;
	curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME, &secs);
	/* through the log sink: escaped, and a JSON line under --log-json */
	if (rc == CURLE_OK)
		nv_log_trace("http: %s: %s %s -> %ld (attempt %u, %.3f s)", h->name, req->method,
			     shown, status, attempt + 1, secs);
	else
		nv_log_trace("http: %s: %s %s -> %s (attempt %u)", h->name, req->method, shown,
			     curl_easy_strerror(rc), attempt + 1);
}

void nv_http_resp_clear(nv_http_resp *r)
{
	nv_http_headers_clear(&r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *nv_http_resp_header(const nv_http_resp *r, const char *name)
{
	return nv_http_header_get(&r->headers, name);
}

unsigned nv_http_retry_after_ms(const nv_http_resp *r)
{
	const char *ms = nv_http_resp_header(r, "x-ms-retry-after-ms");
	const char *after = nv_http_resp_header(r, "Retry-After");
	unsigned long long v;
	char *end;

	if (r->status != 429 && r->status != 503)
		return 0;
	/* Azure's milliseconds are finer than the standard header's seconds. */
	if (ms && *ms >= '0' && *ms <= '9') {
		v = strtoull(ms, &end, 10);
		if (!*end)
			return v > NV_RETRY_AFTER_CAP_MS ? NV_RETRY_AFTER_CAP_MS : (unsigned)v;
	}
	if (after && *after >= '0' && *after <= '9') {
		v = strtoull(after, &end, 10);
		if (!*end)
			return v > NV_RETRY_AFTER_CAP_MS / 1000 ? NV_RETRY_AFTER_CAP_MS
								 : (unsigned)v * 1000u;
	}
	/* The HTTP-date form is left out: S3 and Azure send seconds. */
	return 0;
}

static void resp_reset(nv_http_resp *r)
{
	unsigned attempts = r->attempts;

	nv_http_resp_clear(r);
	r->attempts = attempts;
}

/* A new handle after a transport failure. libcurl 7.88 keeps a failed
 * transfer's receive buffer across curl_easy_reset (after a failed name
 * resolution), and then refuses CURLOPT_BUFFERSIZE with "A libcurl function
 * was given a bad argument": the retry failed on that instead of resolving
 * again. The connection is gone anyway; a fresh handle carries nothing over. */
static CURLcode http_renew(nv_http *h)
{
	CURL *c = curl_easy_init();

	if (!c)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_cleanup(h->curl);
	h->curl = c;
	return CURLE_OK;
}

/* The failure rc, its message saying how many requests were sent. */
static int attempts_said(int rc, unsigned attempts)
{
	char msg[1024];

	if (attempts < 2)
		return rc;
	snprintf(msg, sizeof(msg), "%s", nv_error_msg());
	return nv_error_set(rc, "%s (%u attempts)", msg, attempts);
}

int nv_http_send(nv_http *h, nv_http_req *req, nv_http_resp *resp)
{
	char shown[1024], detail[CURL_ERROR_SIZE];
	unsigned attempt, hint;
	int rc;

	memset(resp, 0, sizeof(*resp));
	nv_http_redact_url(shown, sizeof(shown), req->url);
	rc = nv_http_check_url(req->url, h->allow_http);
	if (rc)
		return nv_error_wrap(rc, "%s", h->name);
	for (attempt = 0;; attempt++) {
		struct xfer x = { .req = req, .resp = resp, .curl = h->curl, .to_sink = -1 };
		struct curl_slist *hl = NULL;
		CURLcode cc;
		int again;

		resp_reset(resp);
		if (req->prepare && (rc = req->prepare(req->ctx, req, attempt)) != 0)
			return rc;
		x.up = req->body;
		x.up_left = req->body ? req->body_len : 0;
		detail[0] = '\0';
		cc = nv_http_setup(h, h->curl, &x, &hl);
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, detail);
		if (cc == CURLE_OK)
			cc = curl_easy_perform(h->curl);
		curl_slist_free_all(hl);
		resp->attempts = attempt + 1;
		if (cc == CURLE_OK)
			curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		trace(h, req, shown, resp->status, cc, attempt);
		if (x.sink_err)
			return x.sink_err;
		if (x.too_big && x.cap != HTTP_ERR_BODY_MAX)
			return nv_error_set(NV_ERR, "%s: %s %s: response larger than %zu bytes",
					    h->name, req->method, shown, x.cap);
		if (x.empty) {
			curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
			cc = CURLE_OK;
		}
		if (cc != CURLE_OK) {
			/* The one policy decides and sleeps (util/retry.h). */
			rc = nv_http_curl_error(h, req, cc, detail, shown);
			if ((cc = http_renew(h)) != CURLE_OK)
				return nv_error_set(NV_ERR, "%s: out of memory", h->name);
			if (!nv_retry_again(rc))
				return attempts_said(rc, attempt + 1);
			continue;
		}
		again = req->retryable ? req->retryable(req->ctx, resp) : default_retryable(resp);
		if (!again)
			return 0;
		if ((hint = nv_http_retry_after_ms(resp)))
			nv_retry_hint_ms(hint);
		if (!nv_retry_again(NV_ERETRY))
			return 0; /* the budget is spent: the caller maps this answer */
	}
}
