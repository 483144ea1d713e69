/* s3_int.h: what the s3 driver's files share beyond s3.h: the signed request
 * (s3_request.c) and the slots each file gives s3.c's table. Only drivers/s3*.c
 * include it. */
#ifndef NV_DRIVERS_S3_INT_H
#define NV_DRIVERS_S3_INT_H

#include "s3.h"

#define NV_S3_MAX_CONCURRENCY 32u /* parts in flight per writer */

/* One S3 request, signed anew on each attempt. */
struct s3_call {
	const char *method;
	const char *key;                /* relative to root; NULL for a bucket-level call */
	const char *const *query;       /* name/value pairs (value NULL = "name=") */
	size_t nquery;
	const nv_http_headers *extra;   /* headers to send and sign; may be NULL */
	const void *body;
	size_t body_len;
	const char *payload_hash;       /* hex SHA-256 of body if already known, else NULL */
	nv_http_sink sink;              /* 2xx body; NULL collects into resp->body */
	void *sink_ctx;
	size_t max_body;
	int (*reset)(void *sink_ctx);   /* called before a retry when a sink is set */
	nv_http_stream **stream;        /* set: open a stream instead (no retries) */
};

/* Sends call with client h (c->http or a part thread's). 0 when a response came
 * back (any status: map it with nv_s3_error), else a transport error. */
int nv_s3_call(struct nv_conn *c, nv_http *h, const struct s3_call *call, nv_http_resp *resp);

/* s3_list.c: the list slots, and one small listing that open() makes to prove
 * the bucket and the credentials. */
int nv_s3_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix);
int nv_s3_list_next(struct nv_list *it, nv_entry *out);
void nv_s3_list_close(struct nv_list *it);
int nv_s3_list_probe(struct nv_conn *c);
/* One ListObjectsV2 page's body parsed into it, as a fetch does (for the fuzz test). */
int nv_s3_list_parse(struct nv_list *it, const void *body, size_t len);

/* s3_read.c: stat and read. */
int nv_s3_stat(struct nv_conn *c, const char *key, nv_entry *out);
int nv_s3_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf, size_t len,
	       size_t *got);

/* s3_write.c: the writer. */
int nv_s3_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
		     const nv_write_opts *opts);
int nv_s3_write(struct nv_writer *w, const void *buf, size_t len);
int nv_s3_write_commit(struct nv_writer *w, nv_commit_info *out);
void nv_s3_write_abort(struct nv_writer *w);

/* s3_delete.c: remove (one DELETE) and remove_many (DeleteObjects). */
int nv_s3_remove(struct nv_conn *c, const char *key);
int nv_s3_remove_many(struct nv_conn *c, const char *const *keys, size_t n, int *results,
		      char **msgs);

/* s3_uploads.c: the leftovers slots (incomplete multipart uploads). */
int nv_s3_leftovers_open(struct nv_leftovers **out, struct nv_conn *c);
int nv_s3_leftovers_next(struct nv_leftovers *it, nv_leftover *out);
void nv_s3_leftovers_close(struct nv_leftovers *it);
int nv_s3_leftover_remove(struct nv_conn *c, const nv_leftover *lo, int proven);

#endif
