/* part_upload.h: the one parallel uploader of an object's parts, shared by the S3
 * (multipart) and Azure (Put Block) writers. Only drivers/ call it.
 *
 * The writer fills one part buffer at a time and hands it over; `threads` threads
 * upload handed-over parts through the driver's callback while the writer fills
 * the next. At most threads + 1 buffers exist (threads uploading, one filling),
 * drawn from the run's budget (util/membudget.h): the first from the writer
 * thread's seat (so an upload always goes on, one part at a time at worst), the
 * others lent while the budget has room and given back, as they come back from
 * their upload, when a seat waits. A writer that gets ahead waits for a buffer
 * to come back. The first failure wins: parts not yet started are dropped,
 * and every later call returns that failure with its message. Threads start with
 * the first submitted part, so an object that fits in one part costs no thread:
 * the writer sends the part being filled itself. Not thread-safe: one writer
 * thread calls everything but the callback. */
#ifndef NV_DRIVERS_PART_UPLOAD_H
#define NV_DRIVERS_PART_UPLOAD_H

#include <stddef.h>

typedef struct nv_part {
	unsigned char *buf;
	size_t len;     /* bytes the writer has put in */
	size_t cap;     /* bytes allocated, at most part_size */
	unsigned index; /* 0, 1, ...: the order of nv_pu_submit (set by it) */
	void *extra;    /* opts.extra_size bytes that are the driver's (a running MD5...);
	                 * zeroed each time the part is handed out empty (len == 0) */
	size_t grant;   /* bytes of the budget it holds (>= cap) */
	int lent;       /* they are lent, else the writer thread's seat */
} nv_part;

/* Uploads part p. Runs on upload thread number `thread` (0 <= thread <
 * opts.threads), one part at a time per thread, so what the driver keeps per
 * thread (a connection) needs no lock. Returns 0, or a negative nv_err with its
 * message set on this thread (the uploader carries it to the writer's). */
typedef int (*nv_pu_upload_fn)(void *ctx, unsigned thread, nv_part *p);

typedef struct nv_pu_opts {
	const char *name;     /* "s3", "azure": for messages */
	size_t part_size;     /* every part but the last is this full */
	unsigned threads;     /* parts uploading at once, 1..NV_PU_MAX_THREADS */
	size_t first_cap;     /* the first buffer's first allocation (the object's
	                       * announced size when smaller than a part); 0 = 64 KiB */
	size_t extra_size;    /* bytes of nv_part.extra */
	nv_pu_upload_fn upload;
	void *ctx;            /* for upload */
} nv_pu_opts;

#define NV_PU_MAX_THREADS 64

typedef struct nv_pu nv_pu;

int nv_pu_new(nv_pu **out, const nv_pu_opts *opts);
/* The part being filled, with room for at least want bytes (want <= part_size).
 * The first call after a submit takes an empty buffer, waiting for one while
 * all are in use. Before any submit the buffer grows by doubling from
 * first_cap (small objects stay small); after, buffers are whole parts. */
int nv_pu_reserve(nv_pu *u, size_t want, nv_part **out);
/* The part being filled, or NULL when there is none. */
nv_part *nv_pu_current(nv_pu *u);
/* Hands the part being filled (it must exist) to the upload threads, starting
 * them on the first call. 0, or the first failure so far. */
int nv_pu_submit(nv_pu *u);
/* The writer's own step before a full part is handed over (numbering, limits,
 * then nv_pu_submit): 0 or a negative nv_err. */
typedef int (*nv_pu_submit_fn)(void *ctx);
/* Sees each piece as it is copied into part p (p->len not yet counting it):
 * running checksums, totals. */
typedef void (*nv_pu_fill_fn)(void *ctx, nv_part *p, const unsigned char *d, size_t n);
/* Appends len bytes to the parts. A full part is handed over (through submit)
 * only once more bytes arrive, so a last full part can still go out alone.
 * 0, or the first failure. */
int nv_pu_write(nv_pu *u, const void *buf, size_t len, nv_pu_submit_fn submit,
		nv_pu_fill_fn fill, void *ctx);
/* Parts submitted so far. */
unsigned nv_pu_submitted(const nv_pu *u);
/* Waits until every submitted part is uploaded, then stops the threads: 0 or
 * the first failure. */
int nv_pu_finish(nv_pu *u);
/* Drops the parts not yet started, waits for those uploading, frees all.
 * Accepts NULL; may follow nv_pu_finish or replace it. */
void nv_pu_free(nv_pu *u);

#endif
