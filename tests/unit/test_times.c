/* test_times.c: the one range of calendar times and their UTC form
 * (src/util/times.c), at and past both ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/times.h"

static void expect_utc(int64_t sec, int rc, const char *want)
{
	char out[NV_TIME_LEN];

	assert_int_equal(nv_time_utc(out, sec), rc);
	assert_string_equal(out, want);
	assert_int_equal(nv_time_in_range(sec), rc == 0);
}

static void test_range(void **state)
{
	(void)state;
	expect_utc(0, 0, "1970-01-01T00:00:00Z");
	expect_utc(-1, 0, "1969-12-31T23:59:59Z");
	expect_utc(1700000000, 0, "2023-11-14T22:13:20Z");
	expect_utc(NV_TIME_MAX, 0, "9999-12-31T23:59:59Z");
	expect_utc(NV_TIME_MIN, 0, "0001-01-01T00:00:00Z");
	expect_utc(-61853200800LL, 0, "0009-12-13T11:20:00Z"); /* padded years */
	expect_utc(NV_TIME_MAX + 1, -1, "@253402300800");
	expect_utc(NV_TIME_MIN - 1, -1, "@-62135596801");
	/* gmtime_r fails on these: once printed as whatever the stack held */
	expect_utc(INT64_MAX, -1, "@9223372036854775807");
	expect_utc(INT64_MIN, -1, "@-9223372036854775808");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
