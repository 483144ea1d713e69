/* retry.c: the one retry policy (see retry.h): a per-thread attempt budget,
 * exponential backoff with jitter, servers' Retry-After. Everyone may call. */
#include "retry.h"
#include "error.h"

#include <openssl/rand.h>
#include <stdatomic.h>
#include <time.h>

static atomic_uint nv_retry_default = 3;

typedef struct nv_retry_state {
	int started;           /* nv_retry_begin() was called on this thread */
	atomic_uint own;       /* retries left of this thread's item */
	atomic_uint *budget;   /* &own, or the item's of the thread it helps (adopted) */
	unsigned taken;
	unsigned hint_ms;      /* the server's wish for the next pause */
	const atomic_int *cancel;
} nv_retry_state;

static _Thread_local nv_retry_state nv_rs;

void nv_retry_set_default(unsigned retries)
{
	atomic_store(&nv_retry_default, retries);
}

unsigned nv_retry_get_default(void)
{
	return atomic_load(&nv_retry_default);
}

void nv_retry_begin(unsigned retries, const atomic_int *cancel)
{
	nv_rs.started = 1;
	atomic_store(&nv_rs.own, retries);
	nv_rs.budget = &nv_rs.own;
	nv_rs.taken = 0;
	nv_rs.hint_ms = 0;
	nv_rs.cancel = cancel;
}

void nv_retry_scope_get(nv_retry_scope *out)
{
	if (!nv_rs.started)
		nv_retry_begin(nv_retry_get_default(), NULL);
	out->budget = nv_rs.budget;
	out->cancel = nv_rs.cancel;
}

void nv_retry_scope_adopt(const nv_retry_scope *s)
{
	nv_rs.started = 1;
	nv_rs.budget = s->budget;
	nv_rs.cancel = s->cancel;
	nv_rs.taken = 0;
	nv_rs.hint_ms = 0;
}

/* Takes one retry from the budget, shared with helper threads. */
static int nv_retry_take(void)
{
	unsigned left = atomic_load(nv_rs.budget);

	while (left && !atomic_compare_exchange_weak(nv_rs.budget, &left, left - 1))
		;
	return left != 0;
}

void nv_retry_hint_ms(unsigned ms)
{
	nv_rs.hint_ms = ms > NV_RETRY_AFTER_CAP_MS ? NV_RETRY_AFTER_CAP_MS : ms;
}

unsigned nv_retry_taken(void)
{
	return nv_rs.taken;
}

unsigned nv_retry_backoff_ms(unsigned attempt)
{
	unsigned long long ms = NV_RETRY_BASE_MS;
	unsigned r = 0;

	while (attempt-- > 1 && ms < NV_RETRY_CAP_MS)
		ms *= 2;
	if (ms > NV_RETRY_CAP_MS)
		ms = NV_RETRY_CAP_MS;
	/* De-synchronised clients are all that is needed, not strong randomness. */
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned)time(NULL) * 2654435761u;
	return (unsigned)(ms / 2 + (ms / 2) * (r % 1001) / 1000);
}

static void nv_retry_sleep(unsigned ms)
{
	struct timespec ts;

	/* Sleep in slices so that a cancelled run stops waiting within 100 ms. */
	while (ms && !(nv_rs.cancel && atomic_load(nv_rs.cancel))) {
		unsigned slice = ms > 100 ? 100 : ms;

		ts.tv_sec = 0;
		ts.tv_nsec = (long)slice * 1000000L;
		while (nanosleep(&ts, &ts) != 0)
			;
		ms -= slice;
	}
}

int nv_retry_again(int rc)
{
	unsigned ms;

	if (!nv_rs.started) {
		nv_retry_begin(nv_retry_get_default(), NULL);
	}
	if (rc != NV_ERETRY || (nv_rs.cancel && atomic_load(nv_rs.cancel)) || !nv_retry_take())
		return 0;
	nv_rs.taken++;
	ms = nv_retry_backoff_ms(nv_rs.taken);
	if (nv_rs.hint_ms > ms)
		ms = nv_rs.hint_ms;
	nv_rs.hint_ms = 0;
	nv_retry_sleep(ms);
	return !(nv_rs.cancel && atomic_load(nv_rs.cancel));
}
