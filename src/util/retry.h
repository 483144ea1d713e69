/* retry.h: the one retry policy: who retries what, the backoff, and one
 * attempt budget per item shared by the pool and the drivers. Everyone may call.
 *
 * Who retries what:
 * - A driver retries one request where only it can resume cheaply (an HTTP
 *   request, a part of a multipart upload, an SFTP reconnect), and only while
 *   nv_retry_again() says yes.
 * - The pool retries a whole item (from its first byte) after a driver gave
 *   up with NV_ERETRY, under the same budget.
 * - Both draw on one per-thread budget that the pool sets for each item with
 *   nv_retry_begin(): --retries N allows N retries of an item in all, never
 *   N per layer (3 x 3). Outside a pool item (a manifest, a listing on the main
 *   thread), the budget is the process default nv_retry_set_default().
 * - Credentials refused (NV_EAUTH) and every code but NV_ERETRY are never retried. */
#ifndef NV_RETRY_H
#define NV_RETRY_H

#include <stdatomic.h>

/* Default retries per item for threads that never called nv_retry_begin(). */
void nv_retry_set_default(unsigned retries);
unsigned nv_retry_get_default(void);

/* Starts a new item on this thread: `retries` retries allowed from now on;
 * cancel (may be NULL) is polled: a non-zero value stops retrying at once. */
void nv_retry_begin(unsigned retries, const atomic_int *cancel);

/* An item's budget and cancel flag, for threads that work for it (the part
 * threads of one upload): they draw on the item's one budget, not a fresh
 * one each. The scope must outlive the helpers (they are joined before the
 * item's thread starts another item). */
typedef struct nv_retry_scope {
	atomic_uint *budget;
	const atomic_int *cancel;
} nv_retry_scope;
/* On the item's thread. */
void nv_retry_scope_get(nv_retry_scope *out);
/* On a helper thread, before its first request. */
void nv_retry_scope_adopt(const nv_retry_scope *s);

/* A server asked to wait (Retry-After, x-ms-retry-after-ms): the next
 * backoff on this thread waits at least ms (capped at NV_RETRY_AFTER_CAP_MS). */
void nv_retry_hint_ms(unsigned ms);

/* After a failure rc: when rc is NV_ERETRY, the budget is not spent and the
 * run is not cancelled, takes one attempt from the budget, sleeps the
 * backoff (exponential from NV_RETRY_BASE_MS, capped, jittered, at least
 * the server's hint) and returns 1: try again. Else returns 0. */
int nv_retry_again(int rc);

/* Attempts taken by this thread's current item (0 before any retry). */
unsigned nv_retry_taken(void);

/* The backoff before retry number attempt (1-based), in milliseconds, without
 * sleeping: exponential from NV_RETRY_BASE_MS, capped at NV_RETRY_CAP_MS, then
 * jittered to [ms/2, ms]. Exposed for tests. */
unsigned nv_retry_backoff_ms(unsigned attempt);

#define NV_RETRY_BASE_MS 250u
#define NV_RETRY_CAP_MS 8000u
#define NV_RETRY_AFTER_CAP_MS 60000u

#endif
