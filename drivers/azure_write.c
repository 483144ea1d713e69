/* azure_write.c: the azure driver's writes: one Put Blob when the object fits in
 * a block, else Put Block (in parallel through part_upload.c, each block with its
 * Content-MD5) and one Put Block List; and Delete Blob. Called via azure.c's
 * table; calls down into azure_request.c and part_upload.c only. */
#include "azure_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "md5_pair.h"
#include "part_upload.h"
#include "util/b64.h"

_Static_assert(NV_AZ_MAX_CONCURRENCY <= NV_PU_MAX_THREADS, "one part thread per block in flight");

struct nv_writer {
	struct nv_conn *c;
	char *blob;
	nv_write_opts opts;
	size_t block;              /* this object's block size */
	nv_pu *pu;                 /* the blocks; each part's extra is its nv_md5_ctx,
	                            * taken as the bytes arrive together with the whole
	                            * object's (md5_pair.h) */
	nv_http *http[NV_PU_MAX_THREADS]; /* one client per block thread, from c->spares */
	int took_http;
	uint64_t total;
	int one_put;               /* known to fit one block: no block MD5 needed */
	nv_md5_ctx md5;            /* the whole object's MD5, for x-ms-blob-content-md5 */
	unsigned char tag[8];      /* random per writer: block ids never collide with
	                            * those of another writer of the same blob */
	int rc;                    /* first failure; later calls return it */
};

/* Fixed-length id: base64 of 8 random bytes + the block number (4 bytes). */
static void az_block_id(char out[17], const struct nv_writer *w, unsigned index)
{
	unsigned char raw[12];

	memcpy(raw, w->tag, 8);
	raw[8] = (unsigned char)(index >> 24);
	raw[9] = (unsigned char)(index >> 16);
	raw[10] = (unsigned char)(index >> 8);
	raw[11] = (unsigned char)index;
	nv_b64_pad_encode(out, raw, sizeof(raw));
}

/* The part_upload callback: one Put Block on this thread's client. */
static int az_put_block(void *ctx, unsigned thread, nv_part *p)
{
	struct nv_writer *w = ctx;
	char id[17], md5[25];
	nv_az_hdr h = { "Content-MD5", md5 };
	nv_http_resp resp = { 0 };
	nv_sb q = { 0 };
	unsigned char digest[16];
	int rc;

	nv_md5_final(p->extra, digest);
	nv_b64_pad_encode(md5, digest, 16);
	az_block_id(id, w, p->index);
	nv_sb_add(&q, "comp=block&blockid=");
	nv_sb_add_urlenc(&q, id, strlen(id), 0);
	rc = nv_sb_ok(&q);
	if (rc == 0)
		rc = nv_az_send(w->c, w->http[thread], "PUT", w->blob, q.s, &h, 1, p->buf, p->len,
				NULL, NULL, NULL, &resp);
	if (rc == 0 && resp.status / 100 != 2)
		rc = nv_az_error(w->c, &resp, "PUT block", w->blob);
	nv_http_resp_clear(&resp);
	nv_sb_free(&q);
	return rc;
}

/* Hands the full (or last) block being filled to the block threads. */
static int az_submit(struct nv_writer *w)
{
	nv_part *p = nv_pu_current(w->pu);
	struct nv_conn *c = w->c;
	int rc;

	if (nv_pu_submitted(w->pu) >= NV_AZ_MAX_BLOCKS)
		return w->rc = nv_error_set(NV_EINVAL, "azure: %s: more than %u blocks; raise "
					    "block_size", w->blob, NV_AZ_MAX_BLOCKS);
	if (w->one_put) {
		/* It grew past its known size: this block needs the MD5 skipped. */
		nv_md5_init(p->extra);
		nv_md5_update(p->extra, p->buf, p->len);
		w->one_put = 0;
	}
	for (unsigned i = 0; !w->took_http && i < c->concurrency; i++)
		if ((rc = nv_http_spare_take(&c->spares, &c->hopts, &w->http[i])) < 0)
			return w->rc = rc;
	w->took_http = 1;
	if ((rc = nv_pu_submit(w->pu)) < 0)
		w->rc = rc;
	return rc;
}

static void az_writer_free(struct nv_writer *w)
{
	if (!w)
		return;
	nv_pu_free(w->pu); /* the block threads are gone: their clients may be kept */
	for (unsigned i = 0; i < NV_PU_MAX_THREADS; i++)
		nv_http_spare_give(&w->c->spares, w->http[i]);
	free(w->blob);
	free(w);
}

int nv_az_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
		     const nv_write_opts *opts)
{
	struct nv_writer *w = calloc(1, sizeof(*w));
	uint64_t block = c->block_size;
	nv_pu_opts po = { .name = "azure", .threads = c->concurrency,
			  .extra_size = sizeof(nv_md5_ctx), .upload = az_put_block };
	int rc = 0;

	*out = NULL;
	nv_az_readahead_drop(c);
	if (!w)
		return nv_error_set(NV_ERR, "out of memory");
	w->c = c;
	w->opts = *opts;
	/* A known size never needs more than the service's 50,000 blocks. */
	if (opts->size > 0 && (uint64_t)opts->size / NV_AZ_MAX_BLOCKS >= block)
		block = (uint64_t)opts->size / NV_AZ_MAX_BLOCKS + 1;
	if (block > NV_AZ_MAX_BLOCK)
		rc = nv_error_set(NV_EINVAL, "azure: %s is too large for one blob", key);
	w->block = (size_t)block;
	/* A small known size needs one buffer of its size, not a whole block. */
	if (opts->size >= 0 && (uint64_t)opts->size < block) {
		po.first_cap = (size_t)opts->size;
		w->one_put = 1;
	}
	po.part_size = w->block;
	po.ctx = w;
	w->blob = nv_az_blob_name(c, key);
	nv_md5_init(&w->md5);
	if (rc == 0 && (!w->blob || RAND_bytes(w->tag, sizeof(w->tag)) != 1))
		rc = nv_error_set(NV_ERR, "azure: cannot start writing %s", key);
	if (rc == 0)
		rc = nv_pu_new(&w->pu, &po);
	if (rc < 0) {
		az_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

static int az_submit_step(void *ctx)
{
	return az_submit(ctx);
}

/* Each block's MD5 and the whole blob's, taken as the bytes arrive. */
static void az_fill(void *ctx, nv_part *p, const unsigned char *d, size_t n)
{
	struct nv_writer *w = ctx;

	if (w->one_put) { /* one Put Blob: the whole MD5 is its Content-MD5 */
		nv_md5_update(&w->md5, d, n);
	} else {
		if (p->len == 0)
			nv_md5_init(p->extra);
		nv_md5_update_pair(&w->md5, p->extra, d, n);
	}
	w->total += n;
}

/* A full block goes out only once more bytes arrive: a last full block then
 * still goes out as one Put Blob. */
int nv_az_write(struct nv_writer *w, const void *buf, size_t len)
{
	int rc;

	if (w->rc)
		return w->rc;
	if ((rc = nv_pu_write(w->pu, buf, len, az_submit_step, az_fill, w)))
		return w->rc = rc;
	return 0;
}

/* Headers common to Put Blob and Put Block List: metadata and the condition. */
static size_t az_commit_headers(nv_az_hdr *h, const struct nv_writer *w, char *mtime,
				size_t mcap, char *mode, size_t modecap)
{
	size_t n = 0;

	if (w->opts.flags & NV_WRITE_HAS_MTIME) {
		nv_az_fmt_mtime(mtime, mcap, w->opts.mtime_sec, w->opts.mtime_nsec);
		h[n++] = (nv_az_hdr){ "x-ms-meta-mtime", mtime };
	}
	if (w->opts.flags & NV_WRITE_HAS_MODE) {
		snprintf(mode, modecap, "%04o", (unsigned)(w->opts.mode & 07777));
		h[n++] = (nv_az_hdr){ "x-ms-meta-mode", mode };
	}
	if (w->opts.flags & NV_WRITE_EXCLUSIVE)
		h[n++] = (nv_az_hdr){ "If-None-Match", "*" };
	return n;
}

/* After a retried exclusive PUT, "already exists" may be our own first attempt
 * that landed before its answer was lost: the blob's MD5 tells. */
static int az_own_landed(struct nv_writer *w, const char *whole_md5)
{
	nv_http_resp resp = { 0 };
	const char *md5;
	int mine;

	if (nv_az_send(w->c, w->c->http, "HEAD", w->blob, NULL, NULL, 0, NULL, 0, NULL, NULL,
		       NULL, &resp) < 0)
		return 0;
	md5 = nv_http_resp_header(&resp, "Content-MD5");
	mine = resp.status == 200 && md5 && strcmp(md5, whole_md5) == 0;
	nv_http_resp_clear(&resp);
	return mine;
}

static int az_put(struct nv_writer *w, const char *query, nv_az_hdr *h, size_t n,
		  const void *body, size_t len, const char *op, const char *whole_md5)
{
	nv_http_resp resp = { 0 };
	unsigned attempts;
	int rc = nv_az_send(w->c, w->c->http, "PUT", w->blob, query, h, n, body, len, NULL,
			    NULL, NULL, &resp);

	if (rc == 0 && resp.status / 100 != 2)
		rc = nv_az_error(w->c, &resp, op, w->blob);
	attempts = resp.attempts;
	nv_http_resp_clear(&resp);
	if (rc == NV_EEXISTS && attempts > 1 && az_own_landed(w, whole_md5))
		rc = 0;
	return rc;
}

static int az_put_block_list(struct nv_writer *w, nv_az_hdr *h, size_t n,
			     const char *whole_md5)
{
	char id[17], md5[25];
	nv_sb body = { 0 };
	int rc;

	nv_sb_add(&body, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (unsigned i = 0; i < nv_pu_submitted(w->pu); i++) {
		az_block_id(id, w, i);
		nv_sb_addf(&body, "<Latest>%s</Latest>", id);
	}
	nv_sb_add(&body, "</BlockList>");
	rc = nv_sb_ok(&body);
	if (rc == 0) {
		nv_md5_base64(md5, body.s, body.len);
		h[n++] = (nv_az_hdr){ "Content-MD5", md5 };
		h[n++] = (nv_az_hdr){ "x-ms-blob-content-md5", whole_md5 };
		rc = az_put(w, "comp=blocklist", h, n, body.s, body.len, "PUT block list",
			    whole_md5);
	}
	nv_sb_free(&body);
	return rc;
}

int nv_az_write_commit(struct nv_writer *w, nv_commit_info *out)
{
	unsigned char digest[16];
	char whole[25], mtime[48], mode[8];
	nv_part *p = nv_pu_current(w->pu);
	nv_az_hdr h[8];
	size_t n;
	int rc = w->rc;

	memset(out, 0, sizeof(*out));
	n = az_commit_headers(h, w, mtime, sizeof(mtime), mode, sizeof(mode));
	nv_md5_final(&w->md5, digest);
	nv_b64_pad_encode(whole, digest, 16);
	if (rc == 0 && nv_pu_submitted(w->pu) == 0) {
		/* It all fits in one block: one Put Blob, checked by its Content-MD5. */
		h[n++] = (nv_az_hdr){ "x-ms-blob-type", "BlockBlob" };
		h[n++] = (nv_az_hdr){ "Content-MD5", whole };
		rc = az_put(w, NULL, h, n, p ? p->buf : (const void *)"", p ? p->len : 0, "PUT",
			    whole);
	} else if (rc == 0) {
		if (p && p->len)
			rc = az_submit(w);
		if (rc == 0)
			rc = nv_pu_finish(w->pu);
		if (rc == 0)
			rc = az_put_block_list(w, h, n, whole);
	}
	if (rc == 0) {
		/* The service checked an MD5 over every byte it stored (the whole
		 * Put Blob body, or each block of the list it committed, all ours),
		 * so it vouches for the size too: no HEAD needed to learn it. */
		out->size = w->total;
		out->confirmed = NV_CONFIRM_MD5 | NV_CONFIRM_SIZE;
	}
	nv_az_readahead_drop(w->c);
	az_writer_free(w);
	return rc;
}

void nv_az_write_abort(struct nv_writer *w)
{
	/* Uploaded blocks stay uncommitted: invisible, and collected by the
	 * service after a week. */
	az_writer_free(w);
}

/* ---- Remove ---- */

int nv_az_remove(struct nv_conn *c, const char *key)
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
