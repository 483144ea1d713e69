/* membudget.h: the run's one memory budget (--max-memory): the buffers that grow
 * with parallelism are drawn from it. Everyone may call; the CLI sets it.
 *
 * Drawn from it: each worker's buffers (the engine's, check's and replicate's;
 * push's plaintext and ciphertext; the readers' of pull, verify, drill and publish), the
 * age encryptor's and decryptor's chunk, the part buffers of S3 and Azure
 * uploads, SFTP's write buffer, Azure's read-ahead. Two kinds of grant keep
 * every run moving:
 *
 * - A thread's *seat* (nv_mem_acquire, nv_mem_try, nv_mem_release): what a task
 *   cannot go on without: a worker's buffer, the first part buffer of an upload.
 *   Bytes a thread once held stay set aside for it until it ends (released bytes
 *   return to its seat, not to the others), so its next upload finds its first
 *   buffer at once and no thread ever waits for what another keeps. Growing a
 *   seat takes from the free budget; while too little is free it waits for lent
 *   bytes to come back. When none are lent, waiting could not help: it takes the
 *   bytes anyway, over the limit, and counts that (nv_membudget_overdraft): a
 *   budget smaller than every worker's seat slows nothing down and never
 *   deadlocks, and the run says so.
 * - Lent bytes (nv_mem_lend, nv_mem_unlend): the parts an upload sends in
 *   parallel beyond its first. Given only from what is free and never while a
 *   seat waits; whoever holds them gives them back as soon as nv_mem_wanted()
 *   (an upload: each time a part comes back), so a waiting seat waits at most
 *   for one part's upload. A thread holding lent bytes never waits to grow its
 *   seat: an upload grows it before it borrows (part_upload.c).
 *
 * So the buffers the budget counts stay within the limit whenever it holds every
 * worker's seat (transfers x (buffer + one part), plus an Azure read-ahead where
 * one is used). Thread-safe. */
#ifndef NV_MEMBUDGET_H
#define NV_MEMBUDGET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define NV_MEMBUDGET_DEFAULT (48u << 20) /* --max-memory's default: with the rest of
                                         * the process, RSS stays under 64 MiB */

/* The limit in bytes, before any worker starts; 0: no limit (only counted; the
 * default until set). Resets the peak and the overdraft. */
void nv_membudget_set(uint64_t limit);
uint64_t nv_membudget_limit(void);
/* Bytes held now (seats and lent), and the most ever held at once. */
uint64_t nv_membudget_used(void);
uint64_t nv_membudget_peak(void);
/* How far the peak went over the limit because seats did not fit (0: never). */
uint64_t nv_membudget_overdraft(void);

/* Takes want bytes for this thread (or fewer, at least min, when only those
 * fit: *got says), from its seat first. Waits while the free budget falls short
 * and lent bytes are out; polls cancel (may be NULL) while it waits: NV_ECANCEL
 * with a message once it is set. 0 when granted. */
int nv_mem_acquire(size_t want, size_t min, const atomic_int *cancel, size_t *got);
/* want bytes for this thread now, within the limit, or nothing: 1 when granted.
 * Never waits (an optional buffer: a read-ahead). */
int nv_mem_try(size_t want);
/* Gives n bytes back to this thread's seat (the thread that took them). */
void nv_mem_release(size_t n);

/* n bytes malloc'd and held in this thread's seat (nv_mem_acquire: may wait,
 * never refused for want of budget): a worker's buffer. NULL with the error
 * set when out of memory (nothing then held). nv_mem_free(p, n), on the same
 * thread, frees them and gives them back; nothing for p NULL. */
void *nv_mem_alloc(size_t n);
void nv_mem_free(void *p, size_t n);

/* The calling thread carries control traffic (lease renewals, a few hundred
 * bytes that must go out on time): from now on its grants are made at once and
 * not counted. */
void nv_mem_exempt_thread(void);

/* n bytes lent from the free budget: 1 when granted, 0 when they do not fit
 * or a seat waits. Any thread may give them back. */
int nv_mem_lend(size_t n);
void nv_mem_unlend(size_t n);
/* 1 while a seat waits: holders of lent bytes give them back. */
int nv_mem_wanted(void);

#endif
