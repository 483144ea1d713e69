/* bwlimit.c: the process's --bwlimit: one token bucket under a mutex held
 * only to do the arithmetic (a waiting thread sleeps outside it, never spins),
 * the timetable looked up again every second, and each thread's credit of
 * bytes just read. Called by driver.c, the command line (set) and tests. */
#include "bwlimit.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct {
	pthread_mutex_t mu;
	atomic_int on;              /* a limiting table is installed */
	atomic_uint_fast64_t rate;  /* in force (read without the mutex, for slices) */
	atomic_int epoch;           /* bumped by each set: older thread credits expire */
	nv_bw_table table;
	nv_bw_clock clk;
	nv_bucket b;
	double recheck;             /* clock time to look at the timetable again */
} nv_bw = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* Per thread: the bytes of its last read call not yet written again. */
static _Thread_local struct {
	uint64_t credit;
	int epoch;
	int exempt;
} nv_bw_self;

static double nv_bw_real_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned nv_bw_real_minute(void)
{
	return nv_bw_week_minute(time(NULL));
}

static void nv_bw_real_sleep(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s };

	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static const nv_bw_clock nv_bw_real_clock = {
	nv_bw_real_now, nv_bw_real_minute, nv_bw_real_sleep,
};

size_t nv_bw_slice(uint64_t rate)
{
	uint64_t s = rate / 20;

	if (!rate)
		return SIZE_MAX;
	return s < NV_BW_SLICE_MIN ? NV_BW_SLICE_MIN : s > SIZE_MAX ? SIZE_MAX : (size_t)s;
}

static void nv_bucket_refill(nv_bucket *b, double now)
{
	if (now <= b->last)
		return;
	if (b->rate > 0) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	b->last = now;
}

void nv_bucket_set(nv_bucket *b, uint64_t rate, double now)
{
	nv_bucket_refill(b, now);
	if (b->rate <= 0)
		b->tokens = 0;
	b->rate = (double)rate;
	b->burst = rate ? (double)nv_bw_slice(rate) : 0;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = now;
}

double nv_bucket_take(nv_bucket *b, uint64_t n, double now)
{
	if (b->rate <= 0)
		return 0;
	nv_bucket_refill(b, now);
	b->tokens -= (double)n;
	return b->tokens < 0 ? -b->tokens / b->rate : 0;
}

/* Under the mutex: the timetable's entry for now, installed when it changed. */
static void nv_bw_follow(double now, int first)
{
	uint64_t r = nv_bw_table_at(&nv_bw.table, nv_bw.clk.week_minute());

	nv_bw.recheck = now + 1.0;
	if (!first && r == (uint64_t)nv_bw.b.rate)
		return;
	nv_bucket_set(&nv_bw.b, r, now);
	atomic_store(&nv_bw.rate, r);
	if (r)
		nv_log(first ? NV_LOG_INFO : NV_LOG_NOTICE, "bandwidth limit%s: %.2f MiB/s",
		       first ? "" : " now (--bwlimit timetable)", (double)r / (1 << 20));
	else
		nv_log(first ? NV_LOG_INFO : NV_LOG_NOTICE, "no bandwidth limit%s",
		       first ? "" : " now (--bwlimit timetable)");
}

void nv_bwlimit_set(const nv_bw_table *t, const nv_bw_clock *clk)
{
	pthread_mutex_lock(&nv_bw.mu);
	atomic_store(&nv_bw.on, 0);
	atomic_fetch_add(&nv_bw.epoch, 1);
	nv_bw.clk = clk ? *clk : nv_bw_real_clock;
	memset(&nv_bw.b, 0, sizeof(nv_bw.b));
	nv_bw.table.n = 0;
	atomic_store(&nv_bw.rate, 0);
	if (t && nv_bw_table_limits(t)) {
		nv_bw.table = *t;
		nv_bw_follow(nv_bw.clk.now(), 1);
		atomic_store(&nv_bw.on, 1);
	}
	pthread_mutex_unlock(&nv_bw.mu);
}

uint64_t nv_bwlimit_rate(void)
{
	return atomic_load(&nv_bw.on) ? atomic_load(&nv_bw.rate) : 0;
}

/* Is this thread paced? Credit from before the last set is dropped. */
static int nv_bw_active(void)
{
	int epoch;

	if (!atomic_load(&nv_bw.on) || nv_bw_self.exempt)
		return 0;
	epoch = atomic_load(&nv_bw.epoch);
	if (nv_bw_self.epoch != epoch) {
		nv_bw_self.epoch = epoch;
		nv_bw_self.credit = 0;
	}
	return 1;
}

size_t nv_bwlimit_slice(size_t len)
{
	size_t s;

	if (!nv_bw_active())
		return len;
	s = nv_bw_slice(atomic_load(&nv_bw.rate));
	return s < len ? s : len;
}

/* Takes n bytes from the bucket and sleeps (outside the mutex) until they are
 * paid for. */
static void nv_bw_take(uint64_t n)
{
	double now, wait;
	void (*sleep_fn)(double);

	pthread_mutex_lock(&nv_bw.mu);
	now = nv_bw.clk.now();
	if (now >= nv_bw.recheck)
		nv_bw_follow(now, 0);
	wait = nv_bucket_take(&nv_bw.b, n, now);
	sleep_fn = nv_bw.clk.sleep;
	pthread_mutex_unlock(&nv_bw.mu);
	if (wait > 0)
		sleep_fn(wait);
}

void nv_bwlimit_read_begin(void)
{
	nv_bw_self.credit = 0;
}

void nv_bwlimit_read(uint64_t n)
{
	if (!n || !nv_bw_active())
		return;
	nv_bw_self.credit += n;
	nv_bw_take(n);
}

void nv_bwlimit_write(uint64_t n)
{
	uint64_t paid;

	if (!n || !nv_bw_active())
		return;
	paid = n < nv_bw_self.credit ? n : nv_bw_self.credit;
	nv_bw_self.credit -= paid;
	if (n > paid)
		nv_bw_take(n - paid);
}

void nv_bwlimit_exempt_thread(void)
{
	nv_bw_self.exempt = 1;
}

int nv_bwlimit_thread_exempt(void)
{
	return nv_bw_self.exempt;
}
