/* transfer.c: pipeline stage 3 — read → hash → write → verify for one object,
 * in the worker's own bounded buffer (a file of any size costs the same). */
#include "transfer.h"
#include "util/progress.h"

#include <string.h>

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

static int nv_xfer_confirm(nv_xfer_ctx *x, const char *key, const nv_commit_info *ci,
			   uint64_t bytes, const unsigned char sha[NV_SHA256_LEN])
{
	unsigned char back[NV_SHA256_LEN];
	uint64_t size = ci->size, n;
	nv_entry e;
	int rc;

	if (!(ci->confirmed & NV_CONFIRM_SIZE)) {
		if ((rc = nv_drv_stat(x->dst, key, &e)))
			return nv_error_wrap(rc, "%s: checking the stored copy", key);
		size = e.size;
	}
	if (size != bytes)
		return nv_error_set(NV_EMISMATCH, "%s: the destination holds %llu bytes, %llu "
				    "were sent", key, (unsigned long long)size,
				    (unsigned long long)bytes);
	if (!x->verify_reread)
		return 0;
	if ((rc = nv_xfer_hash(x, x->dst, key, &n, back)))
		return nv_error_wrap(rc, "%s: reading the stored copy back", key);
	if (n != bytes || memcmp(back, sha, NV_SHA256_LEN) != 0)
		return nv_error_set(NV_EMISMATCH, "%s: the stored copy's SHA-256 differs from "
				    "what was sent", key);
	return 0;
}

int nv_xfer_copy(nv_xfer_ctx *x, const char *key, const nv_entry *se, uint64_t *bytes,
		 unsigned char sha[NV_SHA256_LEN])
{
	nv_write_opts wo = { .size = (int64_t)se->size };
	/* Hashing costs as much CPU per byte as SSH's MAC: only when someone reads it. */
	int hashing = x->want_sha || x->verify_reread;
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
	memset(sha, 0, NV_SHA256_LEN);
	if ((rc = nv_drv_write_open(&w, x->dst, key, &wo)))
		return rc;
	for (;;) {
		rc = nv_drv_read(x->src, key, off, x->buf, x->buf_size, &got);
		if (rc)
			goto out_abort;
		nv_progress_stream(got);
		if (hashing)
			nv_sha256_update(x->sha, x->buf, got);
		if (got && (rc = nv_drv_write(w, x->buf, got)))
			goto out_abort;
		off += got;
		if (got < x->buf_size || off > se->size)
			break;
	}
	if (hashing)
		nv_sha256_final(x->sha, sha);
	if ((rc = nv_xfer_source_unchanged(x, key, se, off)))
		goto out_abort;
	if ((rc = nv_drv_write_commit(w, &ci)))
		return rc;
	*bytes = off;
	return nv_xfer_confirm(x, key, &ci, off, sha);
out_abort:
	nv_sha256_final(x->sha, sha); /* resets the context for the next object */
	nv_drv_write_abort(w);
	return rc;
}
