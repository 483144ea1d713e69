/* test_part_upload.c: unit tests of drivers/part_upload.c, the parallel part
 * uploader S3 and Azure share: every part once with its bytes, at most threads + 1
 * buffers, the first failure stops the rest, small objects start no thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../drivers/part_upload.h"
#include "util/error.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_parts_once),
		cmocka_unit_test(test_first_failure_stops),
		cmocka_unit_test(test_small_object),
		cmocka_unit_test(test_free_mid_upload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
