/* transfer.c: pipeline stage 3 — read → hash → write → verify for one object,
 * in the worker's own bounded buffer (a file of any size costs the same). */
#include "transfer.h"
#include "util/log.h"
#include "util/membudget.h"
#include "util/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nv_xfer_buf_new(nv_xfer_ctx *x, size_t size)
{
	if (!(x->buf = nv_mem_alloc(size)))
		return nv_error_code();
	x->buf_size = size;
	return 0;
}

void nv_xfer_buf_free(nv_xfer_ctx *x)
{
	nv_mem_free(x->buf, x->buf_size);
	x->buf = NULL;
	x->buf_size = 0;
}

int nv_xfer_hash(nv_xfer_ctx *x, nv_store *s, const char *key, uint64_t *bytes,
		 unsigned char sha[NV_SHA256_LEN])
{
	uint64_t off = 0;
	size_t got;
	int rc;

	for (;;) {
		rc = nv_drv_read(s, key, off, x->buf, x->buf_size, &got);
		if (rc) {
			nv_sha256_final(x->sha, sha); /* reset for the next object */
			return rc;
		}
		nv_progress_stream(got);
		nv_sha256_update(x->sha, x->buf, got);
		off += got;
		if (got < x->buf_size)
			break;
	}
	nv_sha256_final(x->sha, sha);
	*bytes = off;
	return 0;
}

/* A file that changed while we read it must never be stored as if whole. */
static int nv_xfer_source_unchanged(nv_xfer_ctx *x, const char *key, const nv_entry *se,
				    uint64_t read)
{
	nv_entry now;
	int rc;

	if (read != se->size)
		return nv_error_set(NV_EMISMATCH, "%s changed while being copied (listed %llu "
				    "bytes, read %llu): not stored", key,
				    (unsigned long long)se->size, (unsigned long long)read);
	if (!(se->flags & NV_ENTRY_HAS_MTIME))
		return 0;
	rc = nv_drv_stat(x->src, key, &now);
	if (rc)
		return nv_error_wrap(rc, "%s: re-checking the source after reading", key);
	if (now.size != se->size || !nv_mtime_equal(&now, se))
		return nv_error_set(NV_EMISMATCH, "%s changed while being copied: not stored",
				    key);
	return 0;
}

/* The stored copy read back is not what was sent. It must not stay: it has
 * the source's size and mtime, so the next run would take it as unchanged. */
static int nv_xfer_differs(nv_xfer_ctx *x, const char *key, nv_xfer_result *res,
			   uint64_t n, const unsigned char back[NV_SHA256_LEN])
{
	char sent[NV_SHA256_HEX], got[NV_SHA256_HEX], why[512];
	int rc;

	nv_hex(sent, res->sha, NV_SHA256_LEN);
	nv_hex(got, back, NV_SHA256_LEN);
	res->confirmed |= NV_XFER_DIFFERS;
	rc = nv_drv_remove(x->dst, key);
	snprintf(why, sizeof(why), "%s", rc ? nv_error_msg() : "");
	return nv_error_set(NV_EMISMATCH, "read back, the stored copy (%llu bytes, SHA-256 %s) "
			    "differs from the bytes sent (%llu, SHA-256 %s): %s%s",
			    (unsigned long long)n, got, (unsigned long long)res->bytes, sent,
			    rc ? "could not remove it, the next run may take it as unchanged "
				 "(use --checksum): " : "removed it, so that the next run "
							"copies it again", why);
}

static int nv_xfer_confirm(nv_xfer_ctx *x, const char *key, const nv_commit_info *ci,
			   nv_xfer_result *res)
{
	unsigned char back[NV_SHA256_LEN];
	uint64_t size = ci->size, n;
	nv_entry e;
	int rc;

	res->confirmed = ci->confirmed;
	if (!(ci->confirmed & NV_CONFIRM_SIZE)) {
		if ((rc = nv_drv_stat(x->dst, key, &e)))
			return nv_error_wrap(rc, "%s: checking the stored copy", key);
		size = e.size;
		res->confirmed |= NV_CONFIRM_SIZE;
	}
	if (size != res->bytes)
		return nv_error_set(NV_EMISMATCH, "%s: the destination holds %llu bytes, %llu "
				    "were sent", key, (unsigned long long)size,
				    (unsigned long long)res->bytes);
	if (!x->verify_reread)
		return 0;
	if ((rc = nv_xfer_hash(x, x->dst, key, &n, back)))
		return nv_error_wrap(rc, "%s: reading the stored copy back", key);
	if (n != res->bytes || memcmp(back, res->sha, NV_SHA256_LEN) != 0)
		return nv_xfer_differs(x, key, res, n, back);
	res->confirmed |= NV_XFER_REREAD;
	return 0;
}

int nv_xfer_copy(nv_xfer_ctx *x, const char *key, const nv_entry *se, nv_xfer_result *res)
{
	nv_write_opts wo = { .size = (int64_t)se->size };
	nv_commit_info ci;
	nv_wstream *w;
	uint64_t off = 0;
	size_t got;
	int rc;

	if (se->flags & NV_ENTRY_HAS_MTIME) {
		wo.mtime_sec = se->mtime_sec;
		wo.mtime_nsec = se->mtime_nsec;
		wo.flags |= NV_WRITE_HAS_MTIME;
	}
	if (se->flags & NV_ENTRY_HAS_MODE) {
		wo.mode = se->mode;
		wo.flags |= NV_WRITE_HAS_MODE;
	}
	memset(res, 0, sizeof(*res));
	if ((rc = nv_drv_write_open(&w, x->dst, key, &wo)))
		return rc;
	/* The SHA-256 is taken here, on this worker's thread, from the buffer the
	 * bytes pass through anyway: no second read of the source, no copy. */
	for (;;) {
		rc = nv_drv_read(x->src, key, off, x->buf, x->buf_size, &got);
		if (rc)
			goto out_abort;
		nv_progress_stream(got);
		nv_sha256_update(x->sha, x->buf, got);
		if (got && (rc = nv_drv_write(w, x->buf, got)))
			goto out_abort;
		off += got;
		if (got < x->buf_size || off > se->size)
			break;
	}
	nv_sha256_final(x->sha, res->sha);
	res->bytes = off;
	if ((rc = nv_xfer_source_unchanged(x, key, se, off))) {
		nv_drv_write_abort(w);
		return rc;
	}
	if ((rc = nv_drv_write_commit(w, &ci)))
		return rc;
	return nv_xfer_confirm(x, key, &ci, res);
out_abort:
	nv_sha256_final(x->sha, res->sha); /* resets the context for the next object */
	memset(res->sha, 0, NV_SHA256_LEN);
	nv_drv_write_abort(w);
	return rc;
}

/* "confirmed" of a copied item: what the destination vouched for, joined by
 * '+' ("size+md5+reread"). */
static void nv_confirm_text(char out[32], unsigned c)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ NV_CONFIRM_SIZE, "size" }, { NV_CONFIRM_MD5, "md5" },
		{ NV_CONFIRM_SHA256, "sha256" }, { NV_XFER_REREAD, "reread" },
	};
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (c & names[i].bit)
			n += (size_t)snprintf(out + n, 32 - n, "%s%s", n ? "+" : "", names[i].name);
}

int nv_xfer_report(nv_xfer_tally *t, const char *key, int rc, const nv_xfer_result *res)
{
	char conf[32];
	nv_log_field f[] = { NV_LF_S("confirmed", conf) };

	if (rc) {
		if (rc != NV_EMISMATCH || !(res->confirmed & NV_XFER_DIFFERS))
			return 0;
		nv_progress_error();
		atomic_fetch_add(&t->differs, 1);
		nv_log_item_sha_x(NV_LOG_ERROR, "mismatch", key, res->sha, nv_error_msg(), NULL, 0);
		return 1;
	}
	atomic_fetch_add(&t->copied, 1);
	atomic_fetch_add(&t->bytes, res->bytes);
	atomic_fetch_add(&t->size, !!(res->confirmed & NV_CONFIRM_SIZE));
	atomic_fetch_add(&t->md5, !!(res->confirmed & NV_CONFIRM_MD5));
	atomic_fetch_add(&t->reread, !!(res->confirmed & NV_XFER_REREAD));
	nv_confirm_text(conf, res->confirmed);
	nv_log_item_sha_x(NV_LOG_INFO, "copied", key, res->sha, NULL, f, NV_LF_COUNT(f));
	return 1;
}
