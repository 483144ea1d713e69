/* test_bwlimit.c: --bwlimit and --max-transfer at the nv_drv_* choke point:
 * rates and timetables (driver/bwtable.h), the token bucket and the process
 * limiter on a clock of the test's own (driver/bwlimit.h), the transfer cap
 * (driver/txcap.h), and all three through the wrappers over a fake store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/bwlimit.h"
#include "driver/bwtable.h"
#include "driver/txcap.h"
#include "fake_driver.h"
#include "util/error.h"

#define MIB (1024.0 * 1024.0)
#define MON(h, m) ((unsigned)((h) * 60 + (m)))
#define DAY(d, h, m) ((unsigned)(d) * 1440u + MON(h, m)) /* d: 0 = Monday */

/* ---- a clock of our own: sleeping moves it on at once ---- */

static double fake_now, fake_slept;
static unsigned fake_minute;

static double fake_clock_now(void) { return fake_now; }
static unsigned fake_clock_minute(void) { return fake_minute; }
static void fake_clock_sleep(double s)
{
	fake_slept += s;
	fake_now += s;
}

static const nv_bw_clock fake_clock = { fake_clock_now, fake_clock_minute, fake_clock_sleep };

/* Installs spec on the fake clock at Monday `minute`, nothing slept yet. */
static void limit(const char *spec, unsigned minute)
{
	nv_bw_table t;

	fake_now = 1000;
	fake_slept = 0;
	fake_minute = minute;
	assert_int_equal(nv_bw_table_parse(&t, spec), 0);
	nv_bwlimit_set(&t, &fake_clock);
}

static int reset(void **state)
{
	(void)state;
	nv_bwlimit_set(NULL, NULL);
	nv_txcap_set(0);
	return 0;
}

/* ---- rates and timetables ---- */

static uint64_t rate_of(const char *text)
{
	uint64_t r = 12345;

	assert_int_equal(nv_bw_rate_parse(&r, text, strlen(text)), 0);
	return r;
}

static void test_rates(void **state)
{
	static const char *const bad[] = { "", "M", "10X", "1..5K", "-1", "10MM", "0.5", "1e3",
					   "10M:1M", "off:off", "10 M", "K10" };
	uint64_t r;

	(void)state;
	assert_int_equal(rate_of("10M"), 10u << 20); /* rclone's 10M: 10 MiB/s */
	assert_int_equal(rate_of("10m"), 10u << 20);
	assert_int_equal(rate_of("10MiB"), 10u << 20);
	assert_int_equal(rate_of("1.5K"), 1536);
	assert_int_equal(rate_of("100"), 100); /* plain bytes/s */
	assert_int_equal(rate_of("100B"), 100);
	assert_int_equal(rate_of("2G"), 2ull << 30);
	assert_int_equal(rate_of("1T"), 1ull << 40);
	assert_int_equal(rate_of("off"), 0);
	assert_int_equal(rate_of("OFF"), 0);
	assert_int_equal(rate_of("0"), 0); /* 0 is off, as rclone reads it */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nv_bw_rate_parse(&r, bad[i], strlen(bad[i])) != NV_EINVAL)
			fail_msg("rate '%s' accepted", bad[i]);
}

static void test_single_rate_table(void **state)
{
	nv_bw_table t;

	(void)state;
	assert_int_equal(nv_bw_table_parse(&t, "  4M "), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(nv_bw_table_at(&t, 0), 4u << 20);
	assert_int_equal(nv_bw_table_at(&t, NV_BW_WEEK_MINUTES - 1), 4u << 20);
	assert_true(nv_bw_table_limits(&t));
	assert_int_equal(nv_bw_table_parse(&t, "off"), 0);
	assert_false(nv_bw_table_limits(&t));
}

static void test_daily_timetable(void **state)
{
	nv_bw_table t;

	(void)state;
	assert_int_equal(nv_bw_table_parse(&t, "19:00,off 08:00,10M"), 0); /* any order */
	assert_int_equal(t.n, 14); /* two a day, seven days */
	for (size_t i = 1; i < t.n; i++)
		assert_true(t.e[i - 1].minute < t.e[i].minute);
	for (unsigned d = 0; d < 7; d++) {
		/* before the first entry of the day: the last one of the day before */
		assert_int_equal(nv_bw_table_at(&t, DAY(d, 0, 0)), 0);
		assert_int_equal(nv_bw_table_at(&t, DAY(d, 7, 59)), 0);
		assert_int_equal(nv_bw_table_at(&t, DAY(d, 8, 0)), 10u << 20);
		assert_int_equal(nv_bw_table_at(&t, DAY(d, 18, 59)), 10u << 20);
		assert_int_equal(nv_bw_table_at(&t, DAY(d, 19, 0)), 0);
		assert_int_equal(nv_bw_table_at(&t, DAY(d, 23, 59)), 0);
	}
	/* one entry in force all day long, also across midnight */
	assert_int_equal(nv_bw_table_parse(&t, "22:00,1M 06:00,2M"), 0);
	assert_int_equal(nv_bw_table_at(&t, DAY(0, 0, 0)), 1u << 20);
	assert_int_equal(nv_bw_table_at(&t, DAY(0, 5, 59)), 1u << 20);
	assert_int_equal(nv_bw_table_at(&t, DAY(0, 6, 0)), 2u << 20);
	assert_int_equal(nv_bw_table_at(&t, DAY(6, 23, 0)), 1u << 20);
}

static void test_weekly_timetable(void **state)
{
	nv_bw_table t;

	(void)state;
	assert_int_equal(nv_bw_table_parse(&t, "Mon-08:00,1M fri-18:00,off"), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(nv_bw_table_at(&t, DAY(1, 10, 0)), 1u << 20);   /* Tuesday */
	assert_int_equal(nv_bw_table_at(&t, DAY(4, 17, 59)), 1u << 20);  /* Friday */
	assert_int_equal(nv_bw_table_at(&t, DAY(5, 12, 0)), 0);          /* Saturday */
	assert_int_equal(nv_bw_table_at(&t, DAY(0, 7, 59)), 0);          /* wraps: Fri 18:00 */
	/* daily and weekday entries mix */
	assert_int_equal(nv_bw_table_parse(&t, "6:00,1M Sat-12:00,off"), 0);
	assert_int_equal(t.n, 8);
	assert_int_equal(nv_bw_table_at(&t, DAY(5, 11, 0)), 1u << 20);
	assert_int_equal(nv_bw_table_at(&t, DAY(5, 13, 0)), 0);
	assert_int_equal(nv_bw_table_at(&t, DAY(6, 5, 0)), 0);           /* still Sat 12:00's */
	assert_int_equal(nv_bw_table_at(&t, DAY(6, 7, 0)), 1u << 20);
}

static void test_bad_timetables(void **state)
{
	static const char *const bad[] = {
		"", "   ", "25:00,1M", "08:60,1M", "08:0,1M", "080:00,1M", "Xyz-08:00,1M",
		"08:00", "08:00,", ",1M", "08:00,1M 08:00,2M", "08:00,1M Tue-08:00,2M",
		"08:00,1M 10M", "08:00,1M:2M",
	};
	char many[1024] = "";
	nv_bw_table t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nv_bw_table_parse(&t, bad[i]) != NV_EINVAL)
			fail_msg("timetable '%s' accepted", bad[i]);
	for (int h = 0; h <= NV_BW_MAX_ENTRIES; h++) /* one entry too many */
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "Mon-%02d:%02d,1M ",
			 h / 2, h % 2 * 30);
	assert_int_equal(nv_bw_table_parse(&t, many), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "entries"));
}

static void test_week_minute(void **state)
{
	const char *tz = getenv("TZ");
	char *saved = tz ? strdup(tz) : NULL;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(nv_bw_week_minute(0), DAY(3, 0, 0)); /* 1970-01-01 was a Thursday */
	assert_int_equal(nv_bw_week_minute(4 * 86400 + 8 * 3600 + 30 * 60), DAY(0, 8, 30));
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

/* ---- the bucket ---- */

static void test_bucket(void **state)
{
	nv_bucket b = { 0 };

	(void)state;
	assert_true(nv_bucket_take(&b, 1 << 20, 0) == 0); /* no limit */
	nv_bucket_set(&b, 1000, 10);
	/* empty at the start: no free burst; takers queue up one after another */
	assert_true(nv_bucket_take(&b, 500, 10) == 0.5);
	assert_true(nv_bucket_take(&b, 500, 10) == 1.0);
	/* half a second later half of it is paid: the next 250 bytes wait 0.75 s */
	assert_true(nv_bucket_take(&b, 250, 10.5) == 0.75);
	/* idle for long: at most one slice saved up, never more */
	assert_true(nv_bucket_take(&b, NV_BW_SLICE_MIN, 1000) == 0);
	assert_true(nv_bucket_take(&b, 1000, 1000) == 1.0);
	/* a new rate keeps the debt and pays it at the new pace */
	nv_bucket_set(&b, 2000, 1000);
	assert_true(nv_bucket_take(&b, 1000, 1000) == 1.0);
	/* lifted, then set again: empty again */
	nv_bucket_set(&b, 0, 2000);
	assert_true(nv_bucket_take(&b, 1 << 30, 2000) == 0);
	nv_bucket_set(&b, 100, 3000);
	assert_true(nv_bucket_take(&b, 100, 3000) == 1.0);
	/* a slice is 1/20 s worth, at least NV_BW_SLICE_MIN */
	assert_int_equal(nv_bw_slice(20u << 20), 1u << 20);
	assert_int_equal(nv_bw_slice(1000), NV_BW_SLICE_MIN);
	assert_int_equal(nv_bw_slice(0), SIZE_MAX);
}

/* ---- the process limiter ---- */

static void test_reads_paced(void **state)
{
	(void)state;
	limit("1M", 0);
	assert_int_equal(nv_bwlimit_rate(), 1u << 20);
	assert_int_equal(nv_bwlimit_slice(10u << 20), (1u << 20) / 20);
	assert_int_equal(nv_bwlimit_slice(100), 100);
	nv_bwlimit_read_begin();
	for (int i = 0; i < 4; i++)
		nv_bwlimit_read(256 * 1024);
	assert_true(fake_slept > 0.999 && fake_slept < 1.001);
	/* the same bytes written next are paid for already: a copy counts once */
	nv_bwlimit_write(1u << 20);
	assert_true(fake_slept < 1.001);
	/* beyond them, writes pay */
	nv_bwlimit_write(512 * 1024);
	assert_true(fake_slept > 1.499 && fake_slept < 1.501);
	/* credit lasts for one read call: an earlier call's bytes pay for nothing */
	nv_bwlimit_read_begin();
	nv_bwlimit_read(1024);
	nv_bwlimit_read_begin();
	nv_bwlimit_write(1024);
	assert_true(fake_slept > 1.5 + 2048 / MIB - 1e-6);
	/* no limit: nothing paced, slices are whole calls */
	nv_bwlimit_set(NULL, &fake_clock);
	fake_slept = 0;
	nv_bwlimit_read_begin();
	nv_bwlimit_read(100u << 20);
	nv_bwlimit_write(100u << 20);
	assert_true(fake_slept == 0);
	assert_int_equal(nv_bwlimit_slice(10u << 20), 10u << 20);
	assert_int_equal(nv_bwlimit_rate(), 0);
}

static void test_timetable_followed(void **state)
{
	(void)state;
	limit("08:00,1M 09:00,off", MON(7, 59)); /* starts in the off period */
	assert_int_equal(nv_bwlimit_rate(), 0);
	nv_bwlimit_read_begin();
	nv_bwlimit_read(10u << 20);
	assert_true(fake_slept == 0);
	/* 08:00 comes during the run: the limit applies from an empty bucket */
	fake_now += 61;
	fake_minute = MON(8, 0);
	nv_bwlimit_read(1024);
	assert_int_equal(nv_bwlimit_rate(), 1u << 20);
	assert_true(fake_slept > 1024 / MIB - 1e-9 && fake_slept < 1024 / MIB + 1e-9);
	/* the timetable is looked up again at most once a second */
	fake_minute = MON(9, 0);
	nv_bwlimit_read(1024);
	assert_int_equal(nv_bwlimit_rate(), 1u << 20);
	assert_true(fake_slept > 2048 / MIB - 1e-9);
	fake_now += 1;
	nv_bwlimit_read(1u << 20); /* 09:00 is seen: off again */
	assert_int_equal(nv_bwlimit_rate(), 0);
	assert_true(fake_slept < 2048 / MIB + 1e-9);
}

static void *exempt_reader(void *arg)
{
	(void)arg;
	nv_bwlimit_exempt_thread();
	nv_bwlimit_read_begin();
	nv_bwlimit_read(100u << 20);
	nv_bwlimit_write(100u << 20);
	return (void *)(intptr_t)nv_bwlimit_slice(1u << 20);
}

static void test_exempt_thread(void **state)
{
	pthread_t t;
	void *slice;

	(void)state;
	limit("1M", 0);
	assert_int_equal(pthread_create(&t, NULL, exempt_reader, NULL), 0);
	assert_int_equal(pthread_join(t, &slice), 0);
	assert_true(fake_slept == 0);
	assert_int_equal((size_t)(intptr_t)slice, 1u << 20);
	assert_false(nv_bwlimit_thread_exempt()); /* the flag is the thread's own */
}

static void *paced_reader(void *arg)
{
	(void)arg;
	nv_bwlimit_read_begin();
	for (int i = 0; i < 8; i++)
		nv_bwlimit_read(64 * 1024);
	return NULL;
}

static double seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* On the real clock: four threads share the rate, and wait asleep. */
static void test_shared_and_asleep(void **state)
{
	nv_bw_table t;
	pthread_t th[4];
	double wall, cpu;

	(void)state;
	assert_int_equal(nv_bw_table_parse(&t, "8M"), 0);
	nv_bwlimit_set(&t, NULL);
	wall = seconds(CLOCK_MONOTONIC);
	cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, paced_reader, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	wall = seconds(CLOCK_MONOTONIC) - wall;
	cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	/* 2 MiB at 8 MiB/s from an empty bucket: a quarter of a second at least, in
	 * all (the threads do not each get 8 MiB/s)... */
	assert_true(wall > 0.24);
	/* ...spent asleep, not spinning */
	assert_true(cpu < 0.1);
}

/* ---- the transfer cap ---- */

static void test_txcap(void **state)
{
	(void)state;
	nv_txcap_set(1000);
	assert_int_equal(nv_txcap_take(600), 0);
	assert_int_equal(nv_txcap_take(400), 0); /* exactly the cap */
	assert_int_equal(nv_txcap_reached(), 0);
	assert_int_equal(nv_txcap_take(1), NV_ELIMIT);
	assert_int_equal(nv_txcap_sent(), 1000);
	assert_non_null(strstr(nv_error_msg(), "--max-transfer"));
	assert_int_equal(nv_txcap_reached(), NV_ELIMIT);
	nv_txcap_set(1000);
	assert_int_equal(nv_txcap_take(600), 0);
	assert_int_equal(nv_txcap_take(500), NV_ELIMIT); /* would pass it: none of it counts */
	assert_int_equal(nv_txcap_sent(), 600);
	assert_int_equal(nv_txcap_take(1), NV_ELIMIT);  /* and the run is over */
	nv_txcap_set(0);
	assert_int_equal(nv_txcap_take(UINT64_MAX / 2), 0);
	assert_int_equal(nv_txcap_reached(), 0);
	assert_int_equal(nv_txcap_sent(), UINT64_MAX / 2);
}

/* ---- through the nv_drv_* wrappers ---- */

static void test_through_the_wrappers(void **state)
{
	size_t len = 1u << 20, got;
	unsigned char *data = malloc(len), *back = malloc(len);
	nv_fake *f = nv_fake_new("bw");
	nv_wstream *w;
	nv_store *s;

	(void)state;
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 11));
	nv_fake_put(f, "big", data, len, 1000);
	assert_int_equal(nv_drv_open(&s, nv_fake_location(f)), 0);
	limit("1M", 0);
	/* one call, read in slices, the same bytes; 1 MiB at 1 MiB/s */
	assert_int_equal(nv_drv_read(s, "big", 0, back, len, &got), 0);
	assert_int_equal(got, len);
	assert_memory_equal(back, data, len);
	assert_int_equal(nv_fake_key_calls(f, NV_FAKE_READ, "big"), 21); /* 20 x 52428 + 16 */
	assert_true(fake_slept > 0.999 && fake_slept < 1.001);
	/* past the end: a short slice ends the read */
	assert_int_equal(nv_drv_read(s, "big", len - 10, back, 4096, &got), 0);
	assert_int_equal(got, 10);
	/* the copy's write is paid for by its read; a cap lets 1.5 MiB out */
	nv_txcap_set(len + len / 2);
	fake_slept = 0;
	assert_int_equal(nv_drv_read(s, "big", 0, back, len, &got), 0);
	assert_int_equal(nv_drv_write_open(&w, s, "copy", &(nv_write_opts){ .size = -1 }), 0);
	assert_int_equal(nv_drv_write(w, back, len), 0);
	assert_true(fake_slept > 0.999 && fake_slept < 1.001); /* the read's second only */
	assert_int_equal(nv_drv_write(w, back, len), NV_ELIMIT);
	nv_drv_write_abort(w);
	assert_int_equal(nv_txcap_sent(), len);
	assert_null(nv_fake_get(f, "copy", &got)); /* nothing half-committed */
	/* the run is over: no new file, no more reads */
	assert_int_equal(nv_drv_write_open(&w, s, "other", &(nv_write_opts){ .size = -1 }),
			 NV_ELIMIT);
	assert_int_equal(nv_drv_read(s, "big", 0, back, 10, &got), NV_ELIMIT);
	assert_int_equal(nv_fake_calls(f, NV_FAKE_WRITE_OPEN, "other"), 0);
	nv_drv_close(s);
	nv_fake_free(f);
	free(data);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rates, reset),
		cmocka_unit_test_teardown(test_single_rate_table, reset),
		cmocka_unit_test_teardown(test_daily_timetable, reset),
		cmocka_unit_test_teardown(test_weekly_timetable, reset),
		cmocka_unit_test_teardown(test_bad_timetables, reset),
		cmocka_unit_test_teardown(test_week_minute, reset),
		cmocka_unit_test_teardown(test_bucket, reset),
		cmocka_unit_test_teardown(test_reads_paced, reset),
		cmocka_unit_test_teardown(test_timetable_followed, reset),
		cmocka_unit_test_teardown(test_exempt_thread, reset),
		cmocka_unit_test_teardown(test_shared_and_asleep, reset),
		cmocka_unit_test_teardown(test_txcap, reset),
		cmocka_unit_test_teardown(test_through_the_wrappers, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
