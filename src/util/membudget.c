/* membudget.c: the run's one memory budget (see membudget.h): seats kept per
 * thread, lent bytes given back on demand, one lock. Everyone may call. */
#include "membudget.h"
#include "error.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* A thread's seat: size bytes set aside for it (counted in nv_mb.used), of
 * which held are in use. Only its thread touches held. */
struct nv_seat {
	size_t size, held;
	int registered; /* its thread gives it back when it ends */
	int exempt;     /* nv_mem_exempt_thread: nothing counted */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t limit, used, lent, peak, overdraft;
	atomic_int waiters;
} nv_mb = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0, 0 };

static _Thread_local struct nv_seat nv_seat;
static pthread_key_t nv_seat_key;
static pthread_once_t nv_seat_once = PTHREAD_ONCE_INIT;

/* At a thread's end: its seat goes back to everyone. */
static void nv_seat_end(void *p)
{
	struct nv_seat *s = p;

	pthread_mutex_lock(&nv_mb.mu);
	nv_mb.used -= s->size;
	pthread_cond_broadcast(&nv_mb.cv);
	pthread_mutex_unlock(&nv_mb.mu);
	s->size = s->held = 0;
}

static void nv_seat_key_make(void)
{
	pthread_key_create(&nv_seat_key, nv_seat_end);
}

void nv_mem_exempt_thread(void)
{
	nv_seat.exempt = 1;
}

static struct nv_seat *nv_seat_get(void)
{
	struct nv_seat *s = &nv_seat;

	if (!s->registered) {
		pthread_once(&nv_seat_once, nv_seat_key_make);
		pthread_setspecific(nv_seat_key, s);
		s->registered = 1;
	}
	return s;
}

void nv_membudget_set(uint64_t limit)
{
	pthread_mutex_lock(&nv_mb.mu);
	nv_mb.limit = limit;
	nv_mb.peak = nv_mb.used;
	nv_mb.overdraft = 0;
	pthread_cond_broadcast(&nv_mb.cv);
	pthread_mutex_unlock(&nv_mb.mu);
}

static uint64_t nv_mb_read(const uint64_t *v)
{
	uint64_t x;

	pthread_mutex_lock(&nv_mb.mu);
	x = *v;
	pthread_mutex_unlock(&nv_mb.mu);
	return x;
}

uint64_t nv_membudget_limit(void) { return nv_mb_read(&nv_mb.limit); }
uint64_t nv_membudget_used(void) { return nv_mb_read(&nv_mb.used); }
uint64_t nv_membudget_peak(void) { return nv_mb_read(&nv_mb.peak); }
uint64_t nv_membudget_overdraft(void) { return nv_mb_read(&nv_mb.overdraft); }

/* Bytes neither held nor lent; with no limit, as many as asked. */
static uint64_t nv_mb_free_locked(void)
{
	if (!nv_mb.limit)
		return UINT64_MAX;
	return nv_mb.used < nv_mb.limit ? nv_mb.limit - nv_mb.used : 0;
}

static void nv_mb_take_locked(uint64_t n)
{
	nv_mb.used += n;
	if (nv_mb.used > nv_mb.peak)
		nv_mb.peak = nv_mb.used;
	if (nv_mb.limit && nv_mb.used > nv_mb.limit &&
	    nv_mb.used - nv_mb.limit > nv_mb.overdraft)
		nv_mb.overdraft = nv_mb.used - nv_mb.limit;
}

/* Sleeps until a release, or a tenth of a second (cancel is polled). */
static void nv_mb_wait_locked(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 100 * 1000 * 1000;
	if (ts.tv_nsec >= 1000 * 1000 * 1000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000 * 1000 * 1000;
	}
	atomic_fetch_add(&nv_mb.waiters, 1);
	pthread_cond_timedwait(&nv_mb.cv, &nv_mb.mu, &ts);
	atomic_fetch_sub(&nv_mb.waiters, 1);
}

int nv_mem_acquire(size_t want, size_t min, const atomic_int *cancel, size_t *got)
{
	struct nv_seat *s = nv_seat_get();
	size_t avail = s->size - s->held, need, grow;

	*got = s->exempt ? want : 0;
	if (s->exempt)
		return 0;
	if (want <= avail) {
		s->held += want;
		*got = want;
		return 0;
	}
	need = want - avail;
	pthread_mutex_lock(&nv_mb.mu);
	for (;;) {
		uint64_t free = nv_mb_free_locked();

		if (free >= need) {
			grow = need;
		} else if (avail + free >= min) {
			grow = (size_t)free; /* a smaller grant, at once */
		} else if (cancel && atomic_load(cancel)) {
			pthread_mutex_unlock(&nv_mb.mu);
			return nv_error_set(NV_ECANCEL, "stopped while waiting for memory");
		} else if (!nv_mb.lent) {
			grow = need; /* nothing will come back: over the limit, counted */
		} else {
			nv_mb_wait_locked();
			continue;
		}
		break;
	}
	nv_mb_take_locked(grow);
	pthread_mutex_unlock(&nv_mb.mu);
	s->size += grow;
	s->held += avail + grow;
	*got = avail + grow;
	return 0;
}

int nv_mem_try(size_t want)
{
	struct nv_seat *s = nv_seat_get();
	size_t avail = s->size - s->held, need;
	int ok;

	if (s->exempt)
		return 1;
	if (want <= avail) {
		s->held += want;
		return 1;
	}
	need = want - avail;
	pthread_mutex_lock(&nv_mb.mu);
	ok = nv_mb_free_locked() >= need;
	if (ok)
		nv_mb_take_locked(need);
	pthread_mutex_unlock(&nv_mb.mu);
	if (ok) {
		s->size += need;
		s->held += want;
	}
	return ok;
}

void nv_mem_release(size_t n)
{
	struct nv_seat *s = &nv_seat;

	if (!s->exempt)
		s->held -= n <= s->held ? n : s->held;
}

void *nv_mem_alloc(size_t n)
{
	size_t got;
	void *p;

	if (nv_mem_acquire(n, n, NULL, &got))
		return NULL;
	if (!(p = malloc(n))) {
		nv_mem_release(got);
		nv_error_set(NV_ERR, "out of memory (%zu bytes)", n);
	}
	return p;
}

void nv_mem_free(void *p, size_t n)
{
	if (p) {
		free(p);
		nv_mem_release(n);
	}
}

int nv_mem_lend(size_t n)
{
	int ok;

	pthread_mutex_lock(&nv_mb.mu);
	ok = !atomic_load(&nv_mb.waiters) && nv_mb_free_locked() >= n;
	if (ok) {
		nv_mb_take_locked(n);
		nv_mb.lent += n;
	}
	pthread_mutex_unlock(&nv_mb.mu);
	return ok;
}

void nv_mem_unlend(size_t n)
{
	pthread_mutex_lock(&nv_mb.mu);
	nv_mb.used -= n;
	nv_mb.lent -= n;
	pthread_cond_broadcast(&nv_mb.cv);
	pthread_mutex_unlock(&nv_mb.mu);
}

int nv_mem_wanted(void)
{
	return atomic_load(&nv_mb.waiters) > 0;
}
