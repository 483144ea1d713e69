/* test_retry.c: unit tests of src/util/retry.c, the one retry policy: the budget,
 * its sharing by nested loops, the backoff's bounds, servers' hints, cancellation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "util/error.h"
#include "util/retry.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* N retries, then no more; other codes never spend the budget. */
static void test_budget(void **state)
{
	unsigned n = 0;

	(void)state;
	nv_retry_begin(2, NULL);
	assert_int_equal(nv_retry_again(NV_EAUTH), 0);
	assert_int_equal(nv_retry_again(NV_ERR), 0);
	assert_int_equal(nv_retry_again(0), 0);
	while (nv_retry_again(NV_ERETRY))
		n++;
	assert_int_equal(n, 2);
	assert_int_equal(nv_retry_taken(), 2);
	assert_int_equal(nv_retry_again(NV_ERETRY), 0);
	nv_retry_begin(0, NULL);
	assert_int_equal(nv_retry_again(NV_ERETRY), 0);
	assert_int_equal(nv_retry_taken(), 0);
}

/* A driver's loop inside the pool's loop: one budget, N + 1 attempts in all,
 * not (N + 1)^2. */
static int inner_request(unsigned *attempts)
{
	int rc;

	do {
		(*attempts)++;
		rc = NV_ERETRY; /* the server keeps failing */
	} while (nv_retry_again(rc));
	return rc;
}

static void test_nested_loops_share(void **state)
{
	unsigned attempts = 0;
	int rc;

	(void)state;
	nv_retry_begin(2, NULL);
	do
		rc = inner_request(&attempts);
	while (nv_retry_again(rc));
	assert_int_equal(rc, NV_ERETRY);
	assert_int_equal(attempts, 3);
	assert_int_equal(nv_retry_taken(), 2);
}

/* Exponential from the base, capped, jittered to [ms/2, ms]. */
static void test_backoff_bounds(void **state)
{
	(void)state;
	for (unsigned attempt = 1; attempt <= 12; attempt++) {
		unsigned long long want = NV_RETRY_BASE_MS;

		for (unsigned i = 1; i < attempt; i++)
			want *= 2;
		if (want > NV_RETRY_CAP_MS)
			want = NV_RETRY_CAP_MS;
		for (int k = 0; k < 200; k++) {
			unsigned ms = nv_retry_backoff_ms(attempt);

			assert_true(ms >= want / 2);
			assert_true(ms <= want);
		}
	}
	assert_true(nv_retry_backoff_ms(100) <= NV_RETRY_CAP_MS);
	assert_true(nv_retry_backoff_ms(1000000) <= NV_RETRY_CAP_MS);
}

/* A server's Retry-After makes the pause at least that long, once. */
static void test_hint(void **state)
{
	long t0;

	(void)state;
	nv_retry_begin(2, NULL);
	nv_retry_hint_ms(600); /* above the first backoff's 250 ms */
	t0 = now_ms();
	assert_int_equal(nv_retry_again(NV_ERETRY), 1);
	assert_true(now_ms() - t0 >= 600);
	t0 = now_ms();
	assert_int_equal(nv_retry_again(NV_ERETRY), 1);
	assert_true(now_ms() - t0 < 600); /* the hint was used up: 250..500 ms */
}

static void *cancel_later(void *arg)
{
	struct timespec ts = { 0, 200 * 1000000L };

	nanosleep(&ts, NULL);
	atomic_store((atomic_int *)arg, 1);
	return NULL;
}

/* A cancelled run stops retrying at once, and stops waiting mid-pause. */
static void test_cancel(void **state)
{
	atomic_int cancel = 1;
	pthread_t t;
	long t0;

	(void)state;
	nv_retry_begin(5, &cancel);
	assert_int_equal(nv_retry_again(NV_ERETRY), 0);
	assert_int_equal(nv_retry_taken(), 0);
	atomic_store(&cancel, 0);
	nv_retry_begin(5, &cancel);
	nv_retry_hint_ms(30000);
	assert_int_equal(pthread_create(&t, NULL, cancel_later, &cancel), 0);
	t0 = now_ms();
	assert_int_equal(nv_retry_again(NV_ERETRY), 0);
	assert_true(now_ms() - t0 < 2000);
	pthread_join(t, NULL);
	nv_retry_begin(0, NULL); /* forget &cancel before it goes */
}

/* A thread that never called nv_retry_begin gets the process default. */
static void *default_thread(void *arg)
{
	unsigned *n = arg;

	while (nv_retry_again(NV_ERETRY))
		(*n)++;
	return NULL;
}

static void test_default_budget(void **state)
{
	unsigned saved = nv_retry_get_default(), n = 0;
	pthread_t t;

	(void)state;
	nv_retry_set_default(1);
	assert_int_equal(pthread_create(&t, NULL, default_thread, &n), 0);
	pthread_join(t, NULL);
	assert_int_equal(n, 1);
	nv_retry_set_default(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_nested_loops_share),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_default_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
