/* transfer.h: pipeline stage 3 — what one worker does to one object: stream it
 * from source to destination hashing as it goes, then verify what landed.
 * Called by the sync engine's workers. */
#ifndef NV_TRANSFER_H
#define NV_TRANSFER_H

#include <stdatomic.h>

#include "driver/driver.h"
#include "util/hash.h"
#include "planner.h"

typedef struct nv_xfer_ctx {
	nv_store *src, *dst;
	unsigned char *buf;   /* worker-owned buffer, drawn from the run's budget */
	size_t buf_size;
	nv_sha256 *sha;
	int verify_reread;    /* read the stored copy back and compare its SHA-256 */
} nv_xfer_ctx;

/* nv_xfer_result.confirmed: the store's enum nv_confirm, and these. */
enum {
	NV_XFER_REREAD = 1 << 8,   /* read back: the stored copy has the same SHA-256 */
	NV_XFER_DIFFERS = 1 << 9,  /* read back: it does not (the copy was removed) */
};

/* What one copy did. */
typedef struct nv_xfer_result {
	uint64_t bytes;                   /* the bytes sent */
	unsigned char sha[NV_SHA256_LEN]; /* their SHA-256, taken as they streamed */
	unsigned confirmed;               /* what the destination vouched for */
} nv_xfer_result;

/* What a run's copies did, counted by every worker. */
typedef struct nv_xfer_tally {
	_Atomic uint64_t copied, bytes;     /* copies that ended well (each one hashed) */
	_Atomic uint64_t size, md5, reread; /* of those, what was confirmed */
	_Atomic uint64_t differs;           /* copies whose read back differed */
} nv_xfer_tally;

/* The worker's buffer, size bytes: its first draw on the run's memory budget
 * (util/membudget.h: the worker thread's seat). Then x->buf_size is what it
 * holds; nv_xfer_buf_free, on the same thread, gives it back. */
int nv_xfer_buf_new(nv_xfer_ctx *x, size_t size);
void nv_xfer_buf_free(nv_xfer_ctx *x);

/* Copies key; se is the source entry as listed. The SHA-256 of the bytes
 * sent is always computed, in the same pass (never a second read of the
 * source), and the stored size always confirmed: by the store's own answer
 * or a stat. With x->verify_reread the stored copy is also read back.
 * res is filled as far as the copy went (sha once every byte was read).
 * NV_EMISMATCH: the source changed while read, or the stored copy differs
 * (NV_XFER_DIFFERS: it was removed, so that the next run copies it again). */
int nv_xfer_copy(nv_xfer_ctx *x, const char *key, const nv_entry *se, nv_xfer_result *res);
/* Counts and logs how nv_xfer_copy ended (rc): the "copied" item with the
 * SHA-256 sent and what the destination confirmed ("size+md5+reread"), or
 * for a stored copy read back different a "mismatch" item with the SHA-256
 * sent, the message naming both (a verification failure, as pull logs one).
 * 1 when it did; 0 for any other failure, which is the caller's to count. */
int nv_xfer_report(nv_xfer_tally *t, const char *key, int rc, const nv_xfer_result *res);
/* SHA-256 of a whole object; *bytes its length. */
int nv_xfer_hash(nv_xfer_ctx *x, nv_store *s, const char *key, uint64_t *bytes,
		 unsigned char sha[NV_SHA256_LEN]);

#endif
