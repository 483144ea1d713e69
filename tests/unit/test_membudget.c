/* test_membudget.c: unit tests of src/util/membudget.c, the run's one memory
 * budget: seats kept per thread and given back when it ends, lent bytes only
 * from what is free and never past a waiting seat, a seat that waits for them,
 * smaller grants, the overdraft that replaces a deadlock, cancellation, the
 * lease renewer's exemption; nv_mem_alloc's buffers, and the age encryptor's
 * and decryptor's chunk buffers drawn from the thread's seat. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "age/age.h"
#include "util/error.h"
#include "util/membudget.h"

#define MB (1u << 20)

static void nap_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Runs on a thread of its own: its seat goes when it ends. */
struct taker {
	size_t want, min, got;
	const atomic_int *cancel;
	atomic_int done;
	int rc;
};

static void *take_and_end(void *arg)
{
	struct taker *t = arg;

	t->rc = nv_mem_acquire(t->want, t->min, t->cancel, &t->got);
	if (!t->rc)
		nv_mem_release(t->got);
	atomic_store(&t->done, 1);
	return NULL;
}

/* Waits (no time limit: the machine may be slow) until a seat waits. */
static void until_wanted(void)
{
	while (!nv_mem_wanted())
		nap_ms(2);
}

/* A seat: released bytes stay set aside for its thread (used does not drop),
 * taken again without touching the budget; the thread's end gives it back. */
static void test_seat_kept_then_returned(void **state)
{
	struct taker t = { .want = 3 * MB, .min = 3 * MB };
	pthread_t th;
	size_t got;

	(void)state;
	nv_membudget_set(10 * MB);
	assert_int_equal(nv_mem_acquire(2 * MB, 2 * MB, NULL, &got), 0);
	assert_int_equal(got, 2 * MB);
	assert_int_equal(nv_membudget_used(), 2 * MB);
	nv_mem_release(got);
	assert_int_equal(nv_membudget_used(), 2 * MB); /* kept in the seat */
	assert_int_equal(nv_mem_acquire(MB, MB, NULL, &got), 0);
	assert_int_equal(nv_membudget_used(), 2 * MB); /* from the seat */
	nv_mem_release(got);
	assert_int_equal(pthread_create(&th, NULL, take_and_end, &t), 0);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.got, 3 * MB);
	assert_int_equal(nv_membudget_used(), 2 * MB); /* its seat went with it */
	assert_int_equal(nv_membudget_peak(), 5 * MB);
	assert_int_equal(nv_membudget_overdraft(), 0);
}

/* Lent bytes come only from what is free, and give it back. */
static void test_lend_within_limit(void **state)
{
	(void)state;
	nv_membudget_set(10 * MB);
	{
		uint64_t base = nv_membudget_used();

		assert_true(nv_mem_lend(10 * MB - base));
		assert_false(nv_mem_lend(1));
		nv_mem_unlend(10 * MB - base);
		assert_int_equal(nv_membudget_used(), base);
		assert_int_equal(nv_membudget_peak(), 10 * MB);
	}
}

/* A seat that does not fit waits while bytes are lent (refusing new loans
 * meanwhile), and gets them when they come back: never past the limit. */
/* A 10 MiB budget all lent, then t taken on thread *th, which waits: returns
 * the bytes lent. */
static uint64_t lend_all_then_take(struct taker *t, pthread_t *th)
{
	uint64_t lent;

	nv_membudget_set(10 * MB);
	lent = 10 * MB - nv_membudget_used();
	assert_true(nv_mem_lend(lent));
	assert_int_equal(pthread_create(th, NULL, take_and_end, t), 0);
	until_wanted();
	return lent;
}

static void test_seat_waits_for_lent(void **state)
{
	struct taker t = { .want = 4 * MB, .min = 4 * MB };
	pthread_t th;
	uint64_t lent;

	(void)state;
	lent = lend_all_then_take(&t, &th);
	assert_false(atomic_load(&t.done));
	assert_false(nv_mem_lend(1)); /* nothing lent past a waiting seat */
	nv_mem_unlend(lent);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.got, 4 * MB);
	assert_false(nv_mem_wanted());
	assert_true(nv_membudget_peak() <= 10 * MB);
	assert_int_equal(nv_membudget_overdraft(), 0);
}

/* With min below want, what fits is granted at once. */
static void test_smaller_grant(void **state)
{
	uint64_t base;
	struct taker t = { .want = 8 * MB, .min = MB };
	pthread_t th;

	(void)state;
	nv_membudget_set(10 * MB);
	base = nv_membudget_used();
	assert_true(nv_mem_lend(7 * MB - base)); /* 3 MiB stay free */
	assert_int_equal(pthread_create(&th, NULL, take_and_end, &t), 0);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.got, 3 * MB);
	/* min 0 and nothing free: nothing, without waiting */
	assert_true(nv_mem_lend(3 * MB));
	t = (struct taker){ .want = 5 * MB, .min = 0, .got = 1 };
	assert_int_equal(pthread_create(&th, NULL, take_and_end, &t), 0);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.got, 0);
	nv_mem_unlend(10 * MB - base);
	assert_int_equal(nv_membudget_overdraft(), 0);
}

/* Nothing lent, and the seat does not fit: waiting would never end, so it is
 * granted over the limit and counted. */
static void test_overdraft_not_deadlock(void **state)
{
	struct taker t = { .want = 12 * MB, .min = 12 * MB };
	pthread_t th;

	(void)state;
	nv_membudget_set(10 * MB);
	assert_int_equal(pthread_create(&th, NULL, take_and_end, &t), 0);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.got, 12 * MB);
	assert_int_equal(nv_membudget_overdraft(), 12 * MB + nv_membudget_used() - 10 * MB);
}

/* A waiting seat stops with NV_ECANCEL once the run is stopped. */
static void test_cancel_while_waiting(void **state)
{
	atomic_int stop = 0;
	struct taker t = { .want = 4 * MB, .min = 4 * MB, .cancel = &stop };
	pthread_t th;
	uint64_t lent;

	(void)state;
	lent = lend_all_then_take(&t, &th);
	atomic_store(&stop, NV_ECANCEL);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, NV_ECANCEL);
	nv_mem_unlend(lent);
}

/* nv_mem_try: within the limit or nothing, never waiting, from the seat first
 * (on a thread of its own: a fresh seat). */
static void *try_checks(void *arg)
{
	uint64_t base = nv_membudget_used();
	int *ok = arg;

	*ok = !nv_mem_try(10 * MB - base + 1) && nv_mem_try(MB);
	nv_mem_release(MB);
	*ok = *ok && nv_mem_try(MB) && nv_membudget_used() == base + MB; /* the seat's */
	nv_mem_release(MB);
	return NULL;
}

static void test_try(void **state)
{
	pthread_t th;
	int ok = 0;

	(void)state;
	nv_membudget_set(10 * MB);
	assert_int_equal(pthread_create(&th, NULL, try_checks, &ok), 0);
	pthread_join(th, NULL);
	assert_true(ok);
}

/* An exempt thread (lease renewals) is never made to wait, even with every
 * byte lent, and counts nothing. */
static void *exempt_take(void *arg)
{
	size_t got = 0;
	int *ok = arg;

	nv_mem_exempt_thread();
	*ok = nv_mem_acquire(MB, MB, NULL, &got) == 0 && got == MB && nv_mem_try(MB);
	nv_mem_release(MB);
	nv_mem_release(MB);
	return NULL;
}

static void test_exempt_thread(void **state)
{
	uint64_t lent;
	pthread_t th;
	int ok = 0;

	(void)state;
	nv_membudget_set(10 * MB);
	lent = 10 * MB - nv_membudget_used();
	assert_true(nv_mem_lend(lent));
	assert_int_equal(pthread_create(&th, NULL, exempt_take, &ok), 0);
	pthread_join(th, NULL);
	assert_true(ok);
	assert_int_equal(nv_membudget_peak(), 10 * MB);
	assert_int_equal(nv_membudget_overdraft(), 0);
	nv_mem_unlend(lent);
}

/* No limit: everything is granted, and still counted. */
static void test_no_limit(void **state)
{
	size_t got;

	(void)state;
	nv_membudget_set(0);
	assert_true(nv_mem_lend((size_t)1 << 40));
	nv_mem_unlend((size_t)1 << 40);
	assert_int_equal(nv_mem_acquire(64 * MB, 64 * MB, NULL, &got), 0);
	assert_int_equal(got, 64 * MB);
	assert_int_equal(nv_membudget_overdraft(), 0);
	nv_mem_release(got);
}

/* nv_mem_alloc: the bytes held in the thread's seat, kept there when freed
 * (a second buffer of that size costs the budget nothing), given back when
 * the thread ends. */
static void *alloc_free(void *arg)
{
	uint64_t *used = arg;
	unsigned char *a = nv_mem_alloc(3 * MB), *b;

	used[0] = nv_membudget_used();
	memset(a, 1, 3 * MB);
	nv_mem_free(a, 3 * MB);
	used[1] = nv_membudget_used();
	b = nv_mem_alloc(2 * MB);
	used[2] = nv_membudget_used();
	nv_mem_free(b, 2 * MB);
	nv_mem_free(NULL, 2 * MB); /* nothing */
	used[3] = nv_membudget_used();
	return NULL;
}

static void test_alloc_free(void **state)
{
	uint64_t used[4], before;
	pthread_t th;

	(void)state;
	nv_membudget_set(10 * MB);
	before = nv_membudget_used();
	assert_int_equal(pthread_create(&th, NULL, alloc_free, used), 0);
	pthread_join(th, NULL);
	assert_int_equal(used[0], before + 3 * MB);
	assert_int_equal(used[1], before + 3 * MB);
	assert_int_equal(used[2], before + 3 * MB);
	assert_int_equal(used[3], before + 3 * MB);
	assert_int_equal(nv_membudget_used(), before);
}

/* The age encryptor and decryptor hold a 64 KiB chunk buffer each: from the
 * seat of the thread that makes them (push's and pull's workers). */
struct age_run {
	nv_age_recipient r;
	nv_age_identity *id;
	uint64_t before, with_enc, with_both;
	int rc;
};

static void *age_draws(void *arg)
{
	struct age_run *a = arg;
	nv_age_enc *e = NULL;
	nv_age_dec *d = NULL;

	a->before = nv_membudget_used();
	a->rc = nv_age_enc_new(&e, &a->r, 1);
	a->with_enc = nv_membudget_used();
	a->rc |= nv_age_dec_new(&d, a->id);
	a->with_both = nv_membudget_used();
	nv_age_enc_free(e);
	nv_age_dec_free(d);
	return NULL;
}

static void test_age_from_seat(void **state)
{
	struct age_run a = { 0 };
	char *text = NULL, pub[NV_AGE_RECIPIENT_MAX];
	pthread_t th;

	(void)state;
	assert_int_equal(nv_age_keygen(&text, pub, sizeof(pub)), 0);
	assert_int_equal(nv_age_identity_parse(&a.id, text, strlen(text)), 0);
	assert_int_equal(nv_age_recipient_parse(&a.r, pub), 0);
	nv_age_wipe_free(text, strlen(text));
	nv_membudget_set(10 * MB);
	assert_int_equal(pthread_create(&th, NULL, age_draws, &a), 0);
	pthread_join(th, NULL);
	assert_int_equal(a.rc, 0);
	assert_true(a.with_enc >= a.before + 65536);
	assert_true(a.with_both >= a.with_enc + 65536);
	assert_int_equal(nv_membudget_used(), a.before); /* gone with its thread */
	nv_age_identity_free(a.id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seat_kept_then_returned),
		cmocka_unit_test(test_lend_within_limit),
		cmocka_unit_test(test_seat_waits_for_lent),
		cmocka_unit_test(test_smaller_grant),
		cmocka_unit_test(test_overdraft_not_deadlock),
		cmocka_unit_test(test_cancel_while_waiting),
		cmocka_unit_test(test_try),
		cmocka_unit_test(test_exempt_thread),
		cmocka_unit_test(test_no_limit),
		cmocka_unit_test(test_alloc_free),
		cmocka_unit_test(test_age_from_seat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
