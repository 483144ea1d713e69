/* s3.h: the s3 driver's connection state and the pieces that do no I/O: the one
 * mapping of S3 errors, the DeleteObjects body and answer, the mtime codec.
 * Included by drivers/s3*.c (through s3_int.h) and by the s3 unit tests. */
#ifndef NV_DRIVERS_S3_H
#define NV_DRIVERS_S3_H

#include "driver/driver.h"
#include "http.h"

struct nv_conn {
	nv_http *http;          /* this connection's own client (list, stat, read, small puts) */
	nv_http_spares spares;  /* idle clients for part threads, kept across writers */
	nv_http_opts hopts;     /* to give part threads clients of their own;
	                         * hopts.ca_file is ca_file below */
	char *ca_file;          /* copied: the location may go before the connection */
	char *url_base;         /* "https://bucket.host" or "http://127.0.0.1:9000/bucket" */
	char *uri_base;         /* canonical URI of the bucket: "" (vhost) or "/bucket" */
	char *host;             /* Host header: host[:port] */
	char *bucket;
	char *root;             /* key prefix inside the bucket: "" or "a/b/" */
	char *region;
	char *access_key;       /* NULL: anonymous, unsigned requests */
	char *secret_key;       /* wiped on close */
	char *session_token;
	uint64_t part_size;
	uint64_t max_parts;
	uint64_t page_size;
	uint64_t concurrency;
	int conditional_writes; /* the server honours If-None-Match: * */
	int list_sort;          /* the server does not list in byte order: sort here */
	int stream_reads;       /* sequential reads share one open GET */
	nv_http_seq rs;         /* that GET */
	char *last_key;         /* the previous ranged read, to spot a sequential one */
	uint64_t last_end;
};

/* The one mapping from an S3 error response to an nv_err with a clear message:
 * "s3: GET s3://bucket/key: 403 SignatureDoesNotMatch: ... (request id ...)". */
int nv_s3_error(const struct nv_conn *c, const nv_http_resp *r, const char *method,
		const char *key);

/* nv_s3_error for an error given by its parts, as inside a DeleteObjects
 * answer: status 0 when there is none to show, region NULL when unknown. */
int nv_s3_error_of(const struct nv_conn *c, long status, const nv_xml_error *e,
		   const char *region, const char *method, const char *key);

/* 1 for a 2xx status. */
static inline int nv_s3_ok(const nv_http_resp *r) { return r->status >= 200 && r->status < 300; }

/* DeleteObjects (s3_delete.c): the pieces of the remove_many slot tests call. */
#define NV_S3_DELETE_MAX 1000 /* S3 refuses more keys in one request */
/* 1 when key can be written in an XML 1.0 document: valid UTF-8 (no overlong
 * forms or surrogates) of characters XML allows. */
int nv_s3_xml_name_ok(const char *key);
/* Appends <Delete><Quiet>true</Quiet><Object><Key>root+keys[i]</Key></Object>...
 * </Delete>, the keys XML-escaped, for the n keys whose use[i] is set (use NULL: all). */
void nv_s3_delete_body(nv_sb *out, const char *root, const char *const *keys, size_t n,
		       const unsigned char *use);
/* A DeleteResult: the <Error> entries and the <Deleted> keys (bucket-relative). */
struct s3_delete_error {
	char *key;              /* NULL when the entry named none */
	nv_xml_error e;         /* Code, Message (RequestId left "") */
};
struct s3_delete_result {
	struct s3_delete_error *errors;
	size_t nerrors;
	char **deleted;
	size_t ndeleted;
};
/* Parses a whole DeleteResult document; NV_ERR when it is something else. */
int nv_s3_delete_parse(struct s3_delete_result *out, const char *body, size_t len);
void nv_s3_delete_result_free(struct s3_delete_result *r);

/* ListMultipartUploads (s3_uploads.c): one page of incomplete uploads. */
struct s3_upload {
	char *key;              /* bucket-relative */
	char *id;               /* UploadId */
	int64_t initiated;      /* Unix seconds; 0 when the date could not be read */
};
struct s3_uploads_page {
	struct s3_upload *u;    /* entries without a key or an id are left out */
	size_t n, cap;
	int truncated;
	char *next_key, *next_id; /* NextKeyMarker, NextUploadIdMarker; NULL when absent */
};
/* Parses a whole ListMultipartUploadsResult; NV_ERR (nothing kept) when it is
 * not XML. */
int nv_s3_uploads_parse(struct s3_uploads_page *out, const char *body, size_t len);
void nv_s3_uploads_page_free(struct s3_uploads_page *p);

/* x-amz-meta-mtime as rclone writes it: float seconds, "1700000000.123456789"
 * (s3_request.c). */
void nv_s3_fmt_mtime(char out[32], int64_t sec, int32_t nsec);
int nv_s3_parse_mtime(const char *s, int64_t *sec, int32_t *nsec);

#endif
