/* test_pool.c: the one worker pool (engine/pool.h) with counting items: every
 * item attempted, one attempt budget shared with a driver's own retries, the
 * classification of errors, a fatal error stopping the run, worker life. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/pool.h"
#include "util/error.h"
#include "util/retry.h"

typedef struct item {
	int codes[8];           /* what attempt k returns (0 after the list ends) */
	int inner;              /* a driver's own retry loop inside each attempt */
	atomic_int attempts, inner_retries, done_calls, done_rc;
} item;

typedef struct run {
	atomic_int opened, closed, closed_ok, fail_open;
} run;

static int t_open(void *r, void **w)
{
	run *ru = r;

	*w = ru;
	atomic_fetch_add(&ru->opened, 1);
	return atomic_load(&ru->fail_open) ? nv_error_set(NV_EAUTH, "refused") : 0;
}

static int t_close(void *r, void *w, int ok)
{
	run *ru = r;

	(void)w;
	atomic_fetch_add(&ru->closed, 1);
	atomic_fetch_add(&ru->closed_ok, ok);
	return 0;
}

static int t_attempt(void *r, void *w, void *it)
{
	item *i = it;
	int k = atomic_fetch_add(&i->attempts, 1);

	(void)r; (void)w;
	if (i->inner) {
		/* a driver that retries a request itself, under the same budget */
		while (nv_retry_again(NV_ERETRY))
			atomic_fetch_add(&i->inner_retries, 1);
		return nv_error_set(NV_ERETRY, "still down");
	}
	if (k < 8 && i->codes[k])
		return nv_error_set(i->codes[k], "code %d", i->codes[k]);
	return 0;
}

static int t_done(void *r, void *w, void *it, int rc)
{
	item *i = it;

	(void)r; (void)w;
	atomic_fetch_add(&i->done_calls, 1);
	atomic_store(&i->done_rc, rc);
	return 0;
}

static const char *t_name(void *r, void *it)
{
	(void)r; (void)it;
	return "item";
}

static const nv_pool_ops ops = {
	.worker_open = t_open, .worker_close = t_close, .attempt = t_attempt,
	.done = t_done, .name = t_name,
};

static void run_items(item *items, size_t n, unsigned workers, unsigned retries, run *ru,
		      nv_outcome *out)
{
	nv_pool_opts o = { .workers = workers, .retries = retries };
	nv_pool *p;

	memset(out, 0, sizeof(*out));
	assert_int_equal(nv_pool_start(&p, &o, &ops, ru), 0);
	for (size_t i = 0; i < n; i++)
		if (nv_pool_submit(p, &items[i]))
			break;
	nv_pool_finish(p, out);
}

static void test_all_done(void **state)
{
	item items[50] = { 0 };
	run ru = { 0 };
	nv_outcome out;

	(void)state;
	run_items(items, 50, 3, 3, &ru, &out);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(items[i].attempts, 1);
		assert_int_equal(items[i].done_calls, 1);
		assert_int_equal(items[i].done_rc, 0);
	}
	assert_int_equal(ru.opened, 3);
	assert_int_equal(ru.closed, 3);
	assert_int_equal(ru.closed_ok, 3); /* the flush barrier runs */
	assert_int_equal(nv_exit_code(&out), NV_EXIT_OK);
}

static void test_retries(void **state)
{
	item items[2] = { { .codes = { NV_ERETRY, NV_ERETRY } },
			  { .codes = { NV_ERETRY, NV_ERETRY, NV_ERETRY } } };
	run ru = { 0 };
	nv_outcome out;

	(void)state;
	run_items(items, 2, 1, 2, &ru, &out);
	assert_int_equal(items[0].attempts, 3); /* two retries, then done */
	assert_int_equal(items[0].done_rc, 0);
	assert_int_equal(items[1].attempts, 3); /* budget of 2 spent: failed */
	assert_int_equal(items[1].done_rc, NV_ERETRY);
	assert_int_equal(out.failed, 1);
	assert_int_equal(nv_exit_code(&out), NV_EXIT_PARTIAL);
}

static void test_one_budget(void **state)
{
	item it = { .inner = 1 };
	run ru = { 0 };
	nv_outcome out;

	(void)state;
	/* retries = 2: the driver's loop and the pool's share them: 3 attempts of
	 * any kind in all, never 3 x 3. */
	run_items(&it, 1, 1, 2, &ru, &out);
	assert_int_equal(it.inner_retries + it.attempts, 3);
	assert_int_equal(it.attempts, 1); /* the driver spent the budget itself */
	assert_int_equal(out.failed, 1);
}

static void test_classes(void **state)
{
	item items[3] = { { .codes = { NV_EMISMATCH } }, { .codes = { NV_EPERM } },
			  { .codes = { NV_ENOTFOUND } } };
	run ru = { 0 };
	nv_outcome out;

	(void)state;
	run_items(items, 3, 2, 3, &ru, &out);
	for (int i = 0; i < 3; i++)
		assert_int_equal(items[i].attempts, 1); /* not transient: no retry */
	assert_int_equal(out.differ, 1);
	assert_int_equal(out.failed, 2);
	assert_int_equal(out.fatal, 0);
	assert_int_equal(nv_exit_code(&out), NV_EXIT_PARTIAL);
}

static void test_fatal_stops(void **state)
{
	item items[40] = { [0] = { .codes = { NV_EAUTH } } };
	run ru = { 0 };
	nv_outcome out;
	int attempted = 0, cancelled = 0;

	(void)state;
	/* one worker: items after the fatal one are never attempted */
	run_items(items, 40, 1, 3, &ru, &out);
	for (int i = 0; i < 40; i++) {
		attempted += items[i].attempts;
		cancelled += items[i].done_calls && items[i].done_rc == NV_ECANCEL;
	}
	assert_int_equal(items[0].attempts, 1); /* credentials refused: never retried */
	assert_true(attempted < 40);
	assert_true(cancelled > 0);
	assert_int_equal(out.fatal, NV_EAUTH);
	/* the item that stopped the run failed, and says so in the counts (issue 12);
	 * the ones never attempted did not */
	assert_int_equal(out.failed, 1);
	assert_non_null(strstr(nv_error_msg(), "code -4"));
	assert_int_equal(ru.closed_ok, 0); /* no durability barrier claimed for a stopped run */
	assert_int_equal(nv_exit_code(&out), NV_EXIT_USAGE);
}

static void test_open_fails(void **state)
{
	item items[5] = { 0 };
	run ru = { .fail_open = 1 };
	nv_outcome out;

	(void)state;
	run_items(items, 5, 2, 3, &ru, &out);
	for (int i = 0; i < 5; i++)
		assert_int_equal(items[i].attempts, 0);
	assert_int_equal(out.fatal, NV_EAUTH);
	assert_int_equal(out.failed, 0); /* no item failed: the workers could not start */
	assert_int_equal(ru.closed, 2);
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	for (unsigned a = 1; a < 12; a++) {
		unsigned full = NV_RETRY_BASE_MS << (a - 1 < 6 ? a - 1 : 6);
		unsigned ms = nv_retry_backoff_ms(a);

		if (full > NV_RETRY_CAP_MS)
			full = NV_RETRY_CAP_MS;
		assert_true(ms >= full / 2 && ms <= full);
	}
}

static void test_cancel_stops_retrying(void **state)
{
	atomic_int cancel = 1;

	(void)state;
	nv_retry_begin(5, &cancel);
	assert_int_equal(nv_retry_again(NV_ERETRY), 0);
	atomic_store(&cancel, 0);
	assert_int_equal(nv_retry_again(NV_EAUTH), 0); /* never retried */
	assert_int_equal(nv_retry_taken(), 0);
}

static void *helper_spends(void *arg)
{
	nv_retry_scope *sc = arg;
	static int got[3];

	nv_retry_scope_adopt(sc);
	for (int i = 0; i < 3; i++)
		got[i] = nv_retry_again(NV_ERETRY);
	return got;
}

static void test_scope_shared_with_helpers(void **state)
{
	nv_retry_scope sc;
	pthread_t t;
	int *got;

	(void)state;
	/* an upload's part threads draw on the item's one budget: 2 in all */
	nv_retry_begin(2, NULL);
	nv_retry_scope_get(&sc);
	assert_int_equal(pthread_create(&t, NULL, helper_spends, &sc), 0);
	assert_int_equal(pthread_join(t, (void **)&got), 0);
	assert_int_equal(got[0] + got[1] + got[2], 2);
	assert_int_equal(nv_retry_again(NV_ERETRY), 0); /* none left for the item itself */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_done),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_one_budget),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_fatal_stops),
		cmocka_unit_test(test_open_fails),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_cancel_stops_retrying),
		cmocka_unit_test(test_scope_shared_with_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
