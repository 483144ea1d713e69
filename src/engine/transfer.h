/* transfer.h: pipeline stage 3 — what one worker does to one object: stream it
 * from source to destination hashing as it goes, then verify what landed.
 * Called by the sync engine's workers. */
#ifndef NV_TRANSFER_H
#define NV_TRANSFER_H

#include "driver/driver.h"
#include "util/hash.h"
#include "planner.h"

typedef struct nv_xfer_ctx {
	nv_store *src, *dst;
	unsigned char *buf;   /* worker-owned buffer: memory is N x buf_size */
	size_t buf_size;
	nv_sha256 *sha;
	int verify_reread;    /* read the stored copy back and compare its SHA-256 */
	int want_sha;         /* nv_xfer_copy computes sha (always with verify_reread) */
} nv_xfer_ctx;

/* Copies key; se is the source entry as listed. On success *bytes is the size
 * copied and, when x->want_sha or x->verify_reread, sha the SHA-256 of what was
 * read and confirmed stored (zeros otherwise).
 * NV_EMISMATCH: the source changed while read, or the stored copy differs. */
int nv_xfer_copy(nv_xfer_ctx *x, const char *key, const nv_entry *se, uint64_t *bytes,
		 unsigned char sha[NV_SHA256_LEN]);
/* SHA-256 of a whole object; *bytes its length. */
int nv_xfer_hash(nv_xfer_ctx *x, nv_store *s, const char *key, uint64_t *bytes,
		 unsigned char sha[NV_SHA256_LEN]);

#endif
