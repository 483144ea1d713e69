/* test_part_upload.c: unit tests of drivers/part_upload.c, the parallel part
 * uploader S3 and Azure share: every part once with its bytes, at most threads + 1
 * buffers, the first failure stops the rest, small objects start no thread; under
 * the memory budget: extra buffers only while it has room, one buffer always, and
 * lent parts given back to a waiting seat mid-upload. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../drivers/part_upload.h"
#include "util/error.h"
#include "util/membudget.h"

#define PARTS_MAX 64

struct fake {
	pthread_mutex_t mu;
	unsigned calls;
	unsigned in_flight, max_in_flight;
	unsigned seen[PARTS_MAX];        /* uploads of part i */
	unsigned char first[PARTS_MAX];  /* its first byte */
	size_t len[PARTS_MAX];
	const void *bufs[PARTS_MAX];     /* distinct buffers seen */
	unsigned nbufs;
	unsigned threads_seen;           /* bit i: thread i uploaded something */
	int fail_index;                  /* this part fails (-1: none) */
	unsigned delay_ms;
	const atomic_int *gate;          /* set: parts from gate_from on wait for it */
	unsigned gate_from;
};

static void nap(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

static int fake_upload(void *ctx, unsigned thread, nv_part *p)
{
	struct fake *f = ctx;
	unsigned i;

	pthread_mutex_lock(&f->mu);
	f->calls++;
	if (++f->in_flight > f->max_in_flight)
		f->max_in_flight = f->in_flight;
	f->threads_seen |= 1u << thread;
	if (p->index >= PARTS_MAX) { /* cmocka's asserts are for the main thread */
		pthread_mutex_unlock(&f->mu);
		return nv_error_set(NV_ERR, "too many parts for the fake");
	}
	f->seen[p->index]++;
	f->first[p->index] = p->buf[0];
	f->len[p->index] = p->len;
	for (i = 0; i < f->nbufs && f->bufs[i] != p->buf; i++)
		;
	if (i == f->nbufs && f->nbufs < PARTS_MAX)
		f->bufs[f->nbufs++] = p->buf;
	pthread_mutex_unlock(&f->mu);
	nap(f->delay_ms);
	while (f->gate && p->index >= f->gate_from && !atomic_load(f->gate))
		nap(1);
	pthread_mutex_lock(&f->mu);
	f->in_flight--;
	pthread_mutex_unlock(&f->mu);
	if ((int)p->index == f->fail_index)
		return nv_error_set(NV_EMISMATCH, "part %u: refused by the fake", p->index);
	return 0;
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->fail_index = -1;
}

/* An uploader over a fresh fake whose uploads take delay_ms each. */
static nv_pu *start(struct fake *f, size_t part_size, unsigned threads, unsigned delay_ms)
{
	nv_pu_opts o = { .name = "t", .part_size = part_size, .threads = threads,
			 .upload = fake_upload, .ctx = f };
	nv_pu *u;

	fake_init(f);
	f->delay_ms = delay_ms;
	assert_int_equal(nv_pu_new(&u, &o), 0);
	return u;
}

/* Writes n parts of part_size bytes (the last one last_len), part i filled with i. */
static int write_parts(nv_pu *u, size_t part_size, unsigned n, size_t last_len)
{
	nv_part *p;
	int rc;

	for (unsigned i = 0; i < n; i++) {
		size_t len = i + 1 == n ? last_len : part_size;

		if ((rc = nv_pu_reserve(u, len, &p)))
			return rc;
		assert_int_equal(p->len, 0);
		assert_true(p->cap >= len);
		memset(p->buf, (int)i, len);
		p->len = len;
		if ((rc = nv_pu_submit(u)))
			return rc;
	}
	return 0;
}

static void test_all_parts_once(void **state)
{
	struct fake f;
	nv_pu *u = start(&f, 1000, 3, 5);

	(void)state;
	assert_int_equal(write_parts(u, 1000, 20, 7), 0);
	assert_int_equal(nv_pu_submitted(u), 20);
	assert_int_equal(nv_pu_finish(u), 0);
	nv_pu_free(u);
	assert_int_equal(f.calls, 20);
	for (unsigned i = 0; i < 20; i++) {
		assert_int_equal(f.seen[i], 1);
		assert_int_equal(f.first[i], i);
		assert_int_equal(f.len[i], i == 19 ? 7 : 1000);
	}
	/* Parts in flight <= threads; buffers (memory) <= threads + 1. */
	assert_true(f.max_in_flight <= 3);
	assert_true(f.max_in_flight >= 2); /* they did overlap */
	assert_true(f.nbufs <= 4);
	assert_true(f.threads_seen & ~1u); /* more than thread 0 worked */
	pthread_mutex_destroy(&f.mu);
}

/* The first failure wins: later calls return it with its message, parts not
 * yet started are dropped. */
static void test_first_failure_stops(void **state)
{
	struct fake f;
	nv_pu *u = start(&f, 100, 2, 20);
	int rc;

	(void)state;
	f.fail_index = 1;
	rc = write_parts(u, 100, 30, 100);
	if (rc == 0)
		rc = nv_pu_finish(u);
	assert_int_equal(rc, NV_EMISMATCH);
	assert_non_null(strstr(nv_error_msg(), "part 1: refused"));
	assert_int_equal(nv_pu_finish(u), NV_EMISMATCH); /* it sticks */
	nv_pu_free(u);
	assert_true(f.calls < 30);
	pthread_mutex_destroy(&f.mu);
}

/* An object that fits in one part: no thread, no upload; the buffer grows
 * from first_cap by doubling, never past part_size; extra comes zeroed. */
static void test_small_object(void **state)
{
	struct fake f;
	nv_pu *u;
	nv_part *p;
	nv_pu_opts o = { .name = "t", .part_size = 1 << 20, .threads = 4, .first_cap = 10,
			 .extra_size = 24, .upload = fake_upload, .ctx = &f };

	(void)state;
	fake_init(&f);
	assert_int_equal(nv_pu_new(&u, &o), 0);
	assert_null(nv_pu_current(u));
	assert_int_equal(nv_pu_reserve(u, 5, &p), 0);
	assert_int_equal(p->cap, 10);
	for (int i = 0; i < 24; i++)
		assert_int_equal(((unsigned char *)p->extra)[i], 0);
	assert_int_equal(nv_pu_reserve(u, 11, &p), 0);
	assert_int_equal(p->cap, 20);
	assert_int_equal(nv_pu_reserve(u, 300000, &p), 0);
	assert_int_equal(p->cap, 327680);
	p->len = 3;
	assert_ptr_equal(nv_pu_current(u), p);
	assert_int_equal(nv_pu_reserve(u, 1 << 20, &p), 0);
	assert_int_equal(p->cap, 1 << 20);
	assert_int_equal(nv_pu_submitted(u), 0);
	nv_pu_free(u); /* never finished: nothing was uploaded */
	assert_int_equal(f.calls, 0);
	pthread_mutex_destroy(&f.mu);
}

/* Freed mid-way (the writer aborts): running parts end, queued ones are dropped. */
static void test_free_mid_upload(void **state)
{
	struct fake f;
	nv_pu *u = start(&f, 100, 2, 30);

	(void)state;
	assert_int_equal(write_parts(u, 100, 3, 100), 0);
	nv_pu_free(u);
	assert_true(f.calls <= 3);
	pthread_mutex_destroy(&f.mu);
}

/* An upload of n parts of 1000 bytes on a thread of its own (a fresh seat,
 * given back when it ends), threads part threads. */
struct thread_upload {
	struct fake *f;
	unsigned n, threads;
	int rc;
};

static void *upload_on_thread(void *arg)
{
	struct thread_upload *t = arg;
	nv_pu_opts o = { .name = "t", .part_size = 1000, .threads = t->threads,
			 .upload = fake_upload, .ctx = t->f };
	nv_pu *u;
	nv_part *p;
	int rc = nv_pu_new(&u, &o);

	for (unsigned i = 0; !rc && i < t->n; i++) {
		if (!(rc = nv_pu_reserve(u, 1000, &p))) {
			memset(p->buf, (int)i, 1000);
			p->len = 1000;
			rc = nv_pu_submit(u);
		}
	}
	if (!rc)
		rc = nv_pu_finish(u);
	nv_pu_free(u);
	t->rc = rc;
	return NULL;
}

static void run_upload_thread(struct fake *f, unsigned n, unsigned threads)
{
	struct thread_upload t = { .f = f, .n = n, .threads = threads };
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, upload_on_thread, &t), 0);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(f->calls, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(f->seen[i], 1);
}

/* Room for 2.5 parts: the first buffer and one lent, never more, every part
 * uploaded; all of it back once the thread ended. */
static void test_budget_limits_buffers(void **state)
{
	struct fake f;
	uint64_t base = nv_membudget_used();

	(void)state;
	nv_membudget_set(base + 2500);
	fake_init(&f);
	f.delay_ms = 2;
	run_upload_thread(&f, 20, 4);
	assert_true(f.nbufs <= 2);
	assert_true(nv_membudget_peak() <= base + 2500);
	assert_int_equal(nv_membudget_overdraft(), 0);
	assert_int_equal(nv_membudget_used(), base);
	nv_membudget_set(0);
	pthread_mutex_destroy(&f.mu);
}

/* A budget smaller than one part: the upload still goes on, one buffer at a
 * time (its seat, over the limit, counted). */
static void test_budget_below_one_part(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	nv_membudget_set(nv_membudget_used() + 500);
	run_upload_thread(&f, 10, 4);
	assert_int_equal(f.nbufs, 1);
	assert_int_equal(nv_membudget_overdraft(), 500);
	nv_membudget_set(0);
	pthread_mutex_destroy(&f.mu);
}

/* A seat that waits while an upload holds lent parts gets them as they come
 * back, long before that upload ends: parts from 6 on are held back by the
 * fake until the seat got its bytes, so waiting for the upload's end would
 * never end. */
struct seat_taker {
	size_t got;
	int rc;
	atomic_int done;
};

/* Waits (no time limit: the machine may be slow) until a seat waits or done. */
static void until_wanted_or(const atomic_int *done)
{
	while (!nv_mem_wanted() && !atomic_load(done))
		nap(2);
}

static void *take_seat(void *arg)
{
	struct seat_taker *t = arg;

	t->rc = nv_mem_acquire(1000, 1000, NULL, &t->got);
	if (!t->rc)
		nv_mem_release(t->got);
	atomic_store(&t->done, 1);
	return NULL;
}

static void test_lent_parts_go_to_waiting_seat(void **state)
{
	struct fake f;
	struct seat_taker t = { 0 };
	pthread_t th;
	nv_pu *u;
	nv_part *p;
	uint64_t limit;

	(void)state;
	nv_membudget_set(0);
	u = start(&f, 1000, 4, 5);
	f.gate = &t.done;
	f.gate_from = 6;
	/* the first buffer granted, then room for exactly two lent parts */
	assert_int_equal(nv_pu_reserve(u, 1000, &p), 0);
	limit = nv_membudget_used() + 2000;
	nv_membudget_set(limit);
	memset(p->buf, 0, 1000);
	p->len = 1000;
	assert_int_equal(nv_pu_submit(u), 0);
	assert_int_equal(write_parts(u, 1000, 2, 1000), 0); /* both lent, out */
	assert_int_equal(pthread_create(&th, NULL, take_seat, &t), 0);
	until_wanted_or(&t.done);
	assert_int_equal(write_parts(u, 1000, 10, 1000), 0);
	assert_int_equal(nv_pu_finish(u), 0);
	nv_pu_free(u);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.got, 1000);
	assert_int_equal(f.calls, 13);
	assert_true(nv_membudget_peak() <= limit);
	assert_int_equal(nv_membudget_overdraft(), 0);
	nv_membudget_set(0);
	pthread_mutex_destroy(&f.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_parts_once),
		cmocka_unit_test(test_first_failure_stops),
		cmocka_unit_test(test_small_object),
		cmocka_unit_test(test_free_mid_upload),
		cmocka_unit_test(test_budget_limits_buffers),
		cmocka_unit_test(test_budget_below_one_part),
		cmocka_unit_test(test_lent_parts_go_to_waiting_seat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
