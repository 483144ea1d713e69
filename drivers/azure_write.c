/* azure_write.c: the azure driver's writes: one Put Blob when the object fits
 * in a block, else Put Block (several in flight, each on its own connection,
 * each with a Content-MD5) and one Put Block List. Only azure.c's table calls these. */
#include "azure_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "md5_pair.h"
#include "util/b64.h"

/* One block buffer and the thread uploading it. */
struct az_slot {
	unsigned char *buf;
	size_t len;
	nv_md5_ctx md5;    /* this block's MD5, taken as the bytes arrive, together
	                    * with the whole object's (md5_pair.h) */
	unsigned index;    /* block number */
	int running;       /* a thread owns the slot until joined */
	pthread_t thread;
	int rc;
	char err[1024];
	struct nv_writer *w;
	nv_http *http;
};

struct nv_writer {
	struct nv_conn *c;
	char *blob;
	nv_write_opts opts;
	size_t block;              /* this object's block size */
	unsigned nslots;
	struct az_slot *slots;
	unsigned nblocks;          /* blocks handed to threads */
	struct az_slot *cur;       /* slot being filled */
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

static void *az_block_thread(void *arg)
{
	struct az_slot *s = arg;
	struct nv_writer *w = s->w;
	char id[17], md5[25];
	nv_az_hdr h = { "Content-MD5", md5 };
	nv_http_resp resp = { 0 };
	nv_sb q = { 0 };
	unsigned char digest[16];
	int rc;

	nv_md5_final(&s->md5, digest);
	nv_b64_pad_encode(md5, digest, 16);
	az_block_id(id, w, s->index);
	nv_sb_add(&q, "comp=block&blockid=");
	nv_sb_add_urlenc(&q, id, strlen(id), 0);
	rc = nv_sb_ok(&q);
	if (rc == 0)
		rc = nv_az_send(w->c, s->http, "PUT", w->blob, q.s, &h, 1, s->buf, s->len, NULL,
				NULL, NULL, &resp);
	if (rc == 0 && resp.status / 100 != 2)
		rc = nv_az_error(w->c, &resp, "PUT block", w->blob);
	nv_http_resp_clear(&resp);
	nv_sb_free(&q);
	s->rc = rc;
	if (rc < 0) /* the message is per thread: carry it to the writer's thread */
		snprintf(s->err, sizeof(s->err), "%s", nv_error_msg());
	return NULL;
}

/* Waits for the slot's upload; the first failure sticks to the writer. */
static int az_slot_join(struct nv_writer *w, struct az_slot *s)
{
	if (!s->running)
		return 0;
	pthread_join(s->thread, NULL);
	s->running = 0;
	if (s->rc < 0 && w->rc == 0)
		w->rc = nv_error_set(s->rc, "%s", s->err);
	return s->rc;
}

static int az_join_all(struct nv_writer *w)
{
	int rc = 0;

	for (unsigned i = 0; i < w->nslots; i++) {
		int r = az_slot_join(w, &w->slots[i]);

		if (r < 0 && rc == 0)
			rc = r;
	}
	return w->rc ? w->rc : rc;
}

/* Makes the next slot (round robin) current, waiting for its last upload. */
static int az_next_slot(struct nv_writer *w)
{
	struct az_slot *s = &w->slots[w->nblocks % w->nslots];
	struct nv_conn *c = w->c;
	unsigned i = (unsigned)(s - w->slots);
	int rc = az_slot_join(w, s);

	if (rc < 0)
		return rc;
	if (!s->buf && !(s->buf = malloc(w->block)))
		return w->rc = nv_error_set(NV_ERR, "out of memory (%zu-byte block)", w->block);
	nv_md5_init(&s->md5);
	if (!c->pool[i] && (rc = nv_http_new(&c->pool[i], &c->hopts)) < 0)
		return w->rc = rc;
	s->http = c->pool[i];
	s->len = 0;
	s->w = w;
	w->cur = s;
	return 0;
}

static int az_dispatch(struct nv_writer *w)
{
	struct az_slot *s = w->cur;

	if (w->nblocks >= NV_AZ_MAX_BLOCKS)
		return w->rc = nv_error_set(NV_EINVAL, "azure: %s: more than %u blocks; raise "
					    "block_size", w->blob, NV_AZ_MAX_BLOCKS);
	if (w->one_put) {
		/* It grew past its known size: this block needs the MD5 skipped. */
		nv_md5_init(&s->md5);
		nv_md5_update(&s->md5, s->buf, s->len);
		w->one_put = 0;
	}
	s->index = w->nblocks++;
	s->rc = 0;
	if (pthread_create(&s->thread, NULL, az_block_thread, s) != 0)
		return w->rc = nv_error_set(NV_ERR, "azure: cannot start an upload thread");
	s->running = 1;
	w->cur = NULL;
	return 0;
}

static void az_writer_free(struct nv_writer *w)
{
	if (!w)
		return;
	az_join_all(w);
	for (unsigned i = 0; i < w->nslots; i++)
		free(w->slots[i].buf);
	free(w->slots);
	free(w->blob);
	free(w);
}

int nv_az_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
		     const nv_write_opts *opts)
{
	struct nv_writer *w = calloc(1, sizeof(*w));
	uint64_t block = c->block_size;
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
	/* A small known size needs one buffer of its size, not a whole block. */
	w->block = (size_t)block;
	w->nslots = c->concurrency;
	if (opts->size >= 0 && (uint64_t)opts->size < block) {
		w->block = (size_t)opts->size + 1;
		w->nslots = 1;
		w->one_put = 1;
	}
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	w->blob = nv_az_blob_name(c, key);
	nv_md5_init(&w->md5);
	if (rc == 0 && (!w->slots || !w->blob || RAND_bytes(w->tag, sizeof(w->tag)) != 1))
		rc = nv_error_set(NV_ERR, "azure: cannot start writing %s", key);
	if (rc == 0)
		rc = az_next_slot(w);
	if (rc < 0) {
		az_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int nv_az_write(struct nv_writer *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (w->rc)
		return w->rc;
	w->total += len;
	while (len) {
		size_t n;

		/* A full block goes out only once more bytes arrive: a last full
		 * block then still goes out as one Put Blob. */
		if (w->cur && w->cur->len == w->block && az_dispatch(w) < 0)
			return w->rc;
		if (!w->cur && az_next_slot(w) < 0)
			return w->rc;
		n = w->block - w->cur->len;
		if (n > len)
			n = len;
		memcpy(w->cur->buf + w->cur->len, p, n);
		if (w->one_put) /* one Put Blob: the whole MD5 is its Content-MD5 */
			nv_md5_update(&w->md5, p, n);
		else
			nv_md5_update_pair(&w->md5, &w->cur->md5, p, n);
		w->cur->len += n;
		p += n;
		len -= n;
	}
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
	for (unsigned i = 0; i < w->nblocks; i++) {
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
	nv_az_hdr h[8];
	size_t n;
	int rc = w->rc;

	memset(out, 0, sizeof(*out));
	n = az_commit_headers(h, w, mtime, sizeof(mtime), mode, sizeof(mode));
	nv_md5_final(&w->md5, digest);
	nv_b64_pad_encode(whole, digest, 16);
	if (rc == 0 && w->nblocks == 0) {
		/* It all fits in one block: one Put Blob, checked by its Content-MD5. */
		h[n++] = (nv_az_hdr){ "x-ms-blob-type", "BlockBlob" };
		h[n++] = (nv_az_hdr){ "Content-MD5", whole };
		rc = az_put(w, NULL, h, n, w->cur->buf, w->cur->len, "PUT", whole);
	} else if (rc == 0) {
		if (w->cur && w->cur->len)
			rc = az_dispatch(w);
		if (rc == 0)
			rc = az_join_all(w);
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
