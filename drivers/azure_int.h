/* azure_int.h: state and helpers shared by the azure driver's own files: the
 * connection, the requests (azure_request.c) and the slots each file gives
 * azure.c's table. Nobody else includes this. */
#ifndef NV_AZURE_INT_H
#define NV_AZURE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "driver/driver.h"
#include "http.h"
#include "azure_sign.h"

#define NV_AZ_VERSION "2021-08-06"   /* pinned x-ms-version */
#define NV_AZ_MAX_BLOCKS 50000u      /* blocks per blob (service limit) */
#define NV_AZ_MAX_BLOCK (4000ull << 20) /* bytes per block (service limit) */
#define NV_AZ_MAX_CONCURRENCY 64u   /* blocks in flight per writer */
#define NV_AZ_READAHEAD (4u << 20)

struct nv_conn {
	nv_http *http;             /* this connection's persistent handle */
	nv_http_spares spares;     /* idle clients for block threads, kept across writers */
	nv_http_opts hopts;
	char *ca_file;
	char *account;
	unsigned char *key;        /* decoded Shared Key (secret), or NULL with a SAS */
	size_t keylen;
	char *sas;                 /* SAS query string (secret), or NULL */
	char *endpoint;            /* blob service URL, no trailing '/' */
	const char *endpoint_path; /* points into endpoint: its path ("" or "/acct") */
	char *container;
	char *prefix;              /* "" or "dir/" under the container */
	uint64_t block_size;
	unsigned page_size;
	unsigned concurrency;
	/* read-ahead: one larger ranged GET serving sequential small reads */
	unsigned char *ra_buf;     /* NV_AZ_READAHEAD bytes, made on first need when the
	                            * run's memory budget has room (util/membudget.h) */
	char *ra_key;              /* key cached, NULL when nothing is */
	uint64_t ra_off;
	size_t ra_len;
	int ra_eof;                /* the cached range reached the end of the blob */
	/* a Get Blob kept open while one blob is read on sequentially */
	nv_http_seq rs;
	char *cont_key;            /* a read of this blob stopped at cont_off: streamed on */
	uint64_t cont_off;
	char *props_key;           /* key of the last Get Blob answer, or NULL */
	nv_entry props;            /* what that answer said of the blob */
};

/* ---- azure_request.c ---- */

/* Sends one request on http (c->http or a pool handle): blob is the full blob
 * name or NULL for the container; query is encoded, without '?' (the SAS is
 * added here). Signs each attempt. Returns 0 when a response came back, any
 * status (then map with nv_az_error), or a transport error. reset, when set,
 * runs before every attempt so a sink can start over. */
int nv_az_send(struct nv_conn *c, nv_http *http, const char *method, const char *blob,
	       const char *query, const nv_az_hdr *hdrs, size_t nhdrs, const void *body,
	       size_t body_len, nv_http_sink sink, void *sink_ctx,
	       void (*reset)(void *ctx), nv_http_resp *resp);
/* Opens a Get Blob of blob on c->http as a stream (no retries: on any failure
 * the caller reads another way); hdrs e.g. an x-ms-range. */
int nv_az_get_stream(struct nv_conn *c, const char *blob, const nv_az_hdr *hdrs, size_t nhdrs,
		     nv_http_stream **stream, nv_http_resp *resp);
/* The one mapping of an Azure error response (status, code, message, request
 * id) to a navette error; what names the object ("container/blob"). */
int nv_az_error(const struct nv_conn *c, const nv_http_resp *resp, const char *method,
		const char *what);
/* The full blob name of a key (root prefix + key); malloc'd. */
char *nv_az_blob_name(const struct nv_conn *c, const char *key);
/* Forgets the read-ahead buffer and the last read's properties (after a
 * write or remove, or once those properties have served a stat). */
void nv_az_readahead_drop(struct nv_conn *c);
/* RFC 3339 UTC time with nanoseconds, as rclone writes its "mtime" metadata;
 * out: 40 bytes. */
void nv_az_fmt_mtime(char *out, size_t cap, int64_t sec, int32_t nsec);
/* Fills what an entry gets from a blob's metadata (mtime, mode; NULL when
 * absent) and its Last-Modified. */
void nv_az_entry_times(nv_entry *e, const char *meta_mtime, const char *meta_mode,
		       const char *last_modified);

/* ---- the slots ---- */

/* azure_list.c */
int nv_az_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix);
int nv_az_list_next(struct nv_list *it, nv_entry *out);
void nv_az_list_close(struct nv_list *it);
/* One List Blobs page's body parsed into it, as a fetch does (for the fuzz test). */
int nv_az_list_parse(struct nv_list *it, const void *body, size_t len);
/* azure_read.c */
int nv_az_stat(struct nv_conn *c, const char *key, nv_entry *out);
int nv_az_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf, size_t len,
	       size_t *got);
/* azure_write.c: writes, and removal (it too drops the read caches) */
int nv_az_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
		     const nv_write_opts *opts);
int nv_az_write(struct nv_writer *w, const void *buf, size_t len);
int nv_az_write_commit(struct nv_writer *w, nv_commit_info *out);
void nv_az_write_abort(struct nv_writer *w);
int nv_az_remove(struct nv_conn *c, const char *key);

#endif
