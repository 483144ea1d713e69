/* http.h: shared HTTP plumbing for the S3 and Azure drivers: a libcurl client that
 * retries under util/retry.h's policy and redacts secrets, an expat-based streaming
 * XML reader, URL/crypto/time helpers. Only drivers/ may include this; no curl or
 * expat type appears here. */
#ifndef NV_DRIVERS_HTTP_H
#define NV_DRIVERS_HTTP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/error.h"
#include "util/hash.h"
#include "util/strbuf.h"

/* ------------------------------------------------------------------------- */
/* Growable string buffer: nv_sb of util/strbuf.h, with the appends only
 * HTTP needs. */
/* RFC 3986 percent-encoding: unreserved A-Z a-z 0-9 - . _ ~ kept, everything else
 * as uppercase %XX ('+' becomes %2B, ' ' %20); '/' kept when keep_slash. */
void nv_sb_add_urlenc(nv_sb *b, const char *s, size_t n, int keep_slash);
/* Wipes the bytes before freeing (buffers that held a secret). */
void nv_sb_free_secret(nv_sb *b);

/* Decodes %XX (and nothing else: '+' stays '+'); *out is malloc'd. */
int nv_url_decode(char **out, const char *s, size_t n);

/* ------------------------------------------------------------------------- */
/* Header lists: "Name: value" lines, in order. */
typedef struct nv_http_headers {
	char **v;
	size_t n;
	size_t cap;
} nv_http_headers;

/* Appends "name: value" (value from fmt). NV_ERR on allocation failure. */
int nv_http_header_add(nv_http_headers *h, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends a whole "Name: value" line as is. */
int nv_http_header_add_line(nv_http_headers *h, const char *line, size_t len);
/* Value of the first header called name (case-insensitive), leading blanks
 * skipped; NULL when absent. Points into h. */
const char *nv_http_header_get(const nv_http_headers *h, const char *name);
void nv_http_headers_clear(nv_http_headers *h); /* frees all lines, keeps nothing */

/* ------------------------------------------------------------------------- */
/* The client: one persistent connection (curl easy handle) per nv_http. Not
 * thread-safe: each worker thread owns its own client. */
typedef struct nv_http nv_http;

typedef struct nv_http_opts {
	const char *name;          /* driver name for messages: "s3", "azure" */
	const char *ca_file;       /* PEM bundle to trust instead of the system's; may be NULL */
	int allow_http;            /* allow plain http:// to non-loopback hosts */
	unsigned connect_timeout;  /* seconds; 0 = 30 */
	unsigned timeout;          /* seconds without progress (< 1 byte/s) before giving up; 0 = 120 */
} nv_http_opts;

int nv_http_new(nv_http **out, const nv_http_opts *opts);
void nv_http_free(nv_http *h);

/* A connection's idle clients for its writers' part-upload threads: a writer
 * takes some when an object goes up in parts and gives them back when it ends,
 * so the next object's parts reuse their connections (TCP, TLS sessions).
 * Taken and given on the connection's own thread only. */
#define NV_HTTP_SPARES 64
typedef struct nv_http_spares {
	nv_http *v[NV_HTTP_SPARES];
	unsigned n;
} nv_http_spares;
/* A kept client, or a new one made with opts. */
int nv_http_spare_take(nv_http_spares *s, const nv_http_opts *opts, nv_http **out);
/* Keeps h for a later writer (frees it when s is full); accepts NULL. */
void nv_http_spare_give(nv_http_spares *s, nv_http *h);
void nv_http_spares_free(nv_http_spares *s);

/* Checks that url is https://, or http:// to a loopback host (127.0.0.0/8,
 * ::1, localhost), or http:// with allow_http. NV_EINVAL with a message otherwise. */
int nv_http_check_url(const char *url, int allow_http);
/* 1 when host (no port, no brackets) is a loopback name or address. */
int nv_http_host_is_loopback(const char *host);
/* 1 when host is an IPv4/IPv6 literal or "localhost" (S3 path-style auto-choice). */
int nv_http_host_is_ip_or_localhost(const char *host);

/* Receives the body of a 2xx response, possibly in several calls. Returns 0 to
 * go on, or a negative nv_err (with a message set) to abort the transfer; that
 * code is then what nv_http_send returns. */
typedef int (*nv_http_sink)(void *ctx, const void *data, size_t len);

typedef struct nv_http_resp nv_http_resp;

typedef struct nv_http_req {
	const char *method;            /* GET HEAD PUT POST DELETE */
	const char *url;               /* already percent-encoded */
	nv_http_headers *headers;      /* request headers; may be NULL; prepare may rebuild it */
	const void *body;              /* request body (PUT/POST), may be NULL */
	size_t body_len;
	nv_http_sink sink;             /* 2xx body goes here when set ... */
	void *sink_ctx;
	size_t max_body;               /* ... else into resp->body, at most this (0 = 1 MiB);
	                                * a longer 2xx body fails with NV_ERR */
	/* Called before every attempt (attempt = 0, 1, ...): sign the request here
	 * (dates change) and reset any sink state. May be NULL. Nonzero aborts. */
	int (*prepare)(void *ctx, struct nv_http_req *req, unsigned attempt);
	/* Called after each response: 1 if it should be retried. NULL = retry on
	 * 408, 429, 500, 502, 503, 504. Never called for transport errors (those
	 * are retried when transient: connect, reset, timeout). */
	int (*retryable)(void *ctx, const nv_http_resp *resp);
	void *ctx;                     /* for prepare and retryable */
} nv_http_req;

struct nv_http_resp {
	long status;               /* final HTTP status */
	nv_http_headers headers;   /* response headers of the final response, as received */
	char *body;                /* NUL-terminated collected body (non-2xx bodies always,
	                            * capped at 64 KiB; 2xx when no sink); may be NULL */
	size_t body_len;
	unsigned attempts;         /* how many requests were sent */
};

/* Sends req. A transient transport failure, or an answer req->retryable calls
 * retryable, is sent again (prepare called anew) while nv_retry_again() allows:
 * the thread's one attempt budget and backoff (util/retry.h), waiting at least
 * the server's Retry-After / x-ms-retry-after-ms on 429 and 503. Returns 0 when
 * a response arrived (whatever its status: the caller maps non-2xx through its
 * one error function), or a negative nv_err for transport failures: NV_ERETRY
 * (connection/timeouts, once the budget is spent), NV_EAUTH (TLS certificate or host name not verified), NV_EINVAL
 * (URL refused), or the sink's code. Messages carry the method and the
 * redacted URL. resp is cleared first; free it with nv_http_resp_clear. */
int nv_http_send(nv_http *h, nv_http_req *req, nv_http_resp *resp);
void nv_http_resp_clear(nv_http_resp *r);
/* Value of a response header (case-insensitive), or NULL. */
const char *nv_http_resp_header(const nv_http_resp *r, const char *name);

/* A response body read piece by piece as the caller asks (a download kept open
 * across reads): opening sends req (prepare called once, no retries: on any
 * failure the caller falls back to single requests) and returns once the
 * headers are in. A non-2xx answer comes back in resp with its body, and no
 * stream (*out NULL). resp's headers stay valid; free resp after closing. */
typedef struct nv_http_stream nv_http_stream;
int nv_http_stream_open(nv_http_stream **out, nv_http *h, nv_http_req *req, nv_http_resp *resp);
/* Fills buf with up to len bytes; *got < len only at the end of the body. */
int nv_http_stream_read(nv_http_stream *s, void *buf, size_t len, size_t *got);
void nv_http_stream_close(nv_http_stream *s);

/* A download kept open while one object is read on sequentially (S3, Azure).
 * The driver opens it (nv_http_stream_open(&q->s, ..., &q->resp), signed its
 * own way), then records what it reads with nv_http_seq_opened. */
typedef struct nv_http_seq {
	nv_http_stream *s;  /* NULL when none is open */
	nv_http_resp resp;  /* the opening answer (headers) */
	char *key;
	uint64_t pos;       /* object offset of the next byte it gives */
} nv_http_seq;
/* 1 when q is open on key and its next byte is at offset. */
int nv_http_seq_at(const nv_http_seq *q, const char *key, uint64_t offset);
/* q->s was just opened on key from offset. NV_ERR (q ended) when out of memory. */
int nv_http_seq_opened(nv_http_seq *q, const char *key, uint64_t offset);
/* Reads on: 1 when served (*got < len at the end of the object, and q is then
 * ended), 0 when the transfer failed (q ended, error cleared: read another way). */
int nv_http_seq_read(nv_http_seq *q, void *buf, size_t len, size_t *got);
/* Closes the stream, frees the answer; q may be reused. */
void nv_http_seq_end(nv_http_seq *q);

/* The wait a 429 or 503 answer asks for, in milliseconds (x-ms-retry-after-ms,
 * else Retry-After in seconds), capped at NV_RETRY_AFTER_CAP_MS; 0 when none. */
unsigned nv_http_retry_after_ms(const nv_http_resp *r);

/* When NAVETTE_HTTP_TRACE=1, nv_http_send prints one line per attempt on stderr:
 * "http: s3: GET <redacted url> -> 200 (attempt 1)". Tests count requests with it. */

/* ------------------------------------------------------------------------- */
/* Redaction. Query parameters whose names carry secrets (sig, key, token,
 * X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, and any name containing
 * "signature", "secret", "password", "credential", "security-token", "sastoken" or
 * "accesskey", case-insensitive) get their value replaced by REDACTED. */
void nv_http_redact_url(char *out, size_t cap, const char *url);
/* "Authorization: REDACTED" for secret-bearing headers (Authorization,
 * x-amz-security-token, ...); other lines copied. */
void nv_http_redact_header(char *out, size_t cap, const char *line);

/* ------------------------------------------------------------------------- */
/* Streaming XML (expat). The callback runs at the end of every element with
 * the element's path from the root ("ListBucketResult/Contents/Key", local
 * names, namespace prefixes stripped) and its own character data (NUL-terminated,
 * not trimmed; capped at 64 KiB, longer text fails). Returning nonzero stops
 * parsing and nv_xml_feed returns that value. DTDs (so entity declarations),
 * nesting deeper than 64 elements and text over 64 KiB are refused: like
 * malformed XML they are NV_ERR, the server's fault (a stopped run exits 4), never
 * NV_EINVAL, which would blame the user's configuration (exit 2). */
typedef int (*nv_xml_cb)(void *ctx, const char *path, const char *text, size_t len);
typedef struct nv_xml nv_xml;

int nv_xml_new(nv_xml **out, nv_xml_cb cb, void *ctx);
/* Feeds bytes; final = 1 on the last call. NV_ERR on malformed or refused XML. */
int nv_xml_feed(nv_xml *x, const void *data, size_t len, int final);
void nv_xml_free(nv_xml *x);
/* One-shot parse of a whole document. */
int nv_xml_parse(const void *data, size_t len, nv_xml_cb cb, void *ctx);
/* An nv_http_sink that feeds an nv_xml (ctx is the nv_xml *); call
 * nv_xml_feed(x, NULL, 0, 1) after the request to finish. */
int nv_xml_sink(void *ctx, const void *data, size_t len);

/* The common error body: <Error><Code>..</Code><Message>..</Message>
 * <RequestId>..</RequestId></Error> (fields left "" when absent). Returns 1 when
 * the document's root is <Error>, 0 otherwise (also for non-XML bodies). */
typedef struct nv_xml_error {
	char code[128];
	char message[512];
	char request_id[128];
} nv_xml_error;
int nv_xml_error_parse(nv_xml_error *out, const void *body, size_t len);

/* ------------------------------------------------------------------------- */
/* Crypto and encoding helpers for signers (OpenSSL behind them). */
/* nv_hex() and nv_sha256_buf() come from src/hash.h. */
void nv_sha256_hex(char out[65], const void *data, size_t len);
void nv_md5(unsigned char out[16], const void *data, size_t len);
/* 0, or NV_ERR if HMAC failed. */
int nv_hmac_sha256(unsigned char out[32], const void *key, size_t key_len, const void *msg,
		   size_t msg_len);
/* base64 itself is src/util/b64.h's (nv_b64_pad_encode, nv_b64_pad_decode). */
/* base64(MD5(data)), the Content-MD5 header value; out: 25 bytes. */
void nv_md5_base64(char out[25], const void *data, size_t len);

/* ------------------------------------------------------------------------- */
/* Time. Parses ISO 8601 UTC ("2009-10-12T17:50:30.000Z") and RFC 1123
 * ("Wed, 12 Oct 2009 17:50:30 GMT"). NV_EINVAL when neither. */
int nv_http_parse_time(const char *s, int64_t *sec, int32_t *nsec);
/* "Wed, 12 Oct 2009 17:50:30 GMT"; out: 30 bytes. */
void nv_http_fmt_rfc1123(char out[30], time_t t);

#endif
