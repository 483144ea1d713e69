/* test_guard.c: the delete guard's rules (engine/guard.h) and their messages:
 * an empty source, --max-delete N, N% and the default of 50 %. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine/guard.h"

/* Refused (1) or not (0), with the message kept for a look. */
static int guard(int allow_empty, long long count, int pct, uint64_t src, uint64_t dst,
		 uint64_t del, char *msg)
{
	nv_guard_opts o = { allow_empty, count, pct };
	nv_guard_counts c = { src, dst, del };

	msg[0] = '\0';
	return nv_guard_check(&o, &c, "SRC", "DST", msg, 512);
}

static void test_nothing_to_delete(void **state)
{
	char msg[512];

	(void)state;
	assert_int_equal(guard(0, -1, -1, 0, 0, 0, msg), 0);   /* empty to empty */
	assert_int_equal(guard(0, 0, 0, 0, 100, 0, msg), 0);   /* limits of 0 */
	assert_string_equal(msg, "");
}

static void test_empty_source(void **state)
{
	char msg[512];

	(void)state;
	assert_int_equal(guard(0, -1, -1, 0, 7, 7, msg), 1);
	assert_string_equal(msg, "SRC lists no files: all 7 files at DST would be deleted "
			    "(a mistyped path or prefix lists as empty); if that is meant, add "
			    "--allow-empty-source");
	/* allowed: the default share no longer applies... */
	assert_int_equal(guard(1, -1, -1, 0, 7, 7, msg), 0);
	/* ...but a limit given still does */
	assert_int_equal(guard(1, 5, -1, 0, 7, 7, msg), 1);
	assert_int_equal(guard(1, -1, 90, 0, 7, 7, msg), 1);
	assert_int_equal(guard(1, -1, 100, 0, 7, 7, msg), 0);
}

static void test_count(void **state)
{
	char msg[512];

	(void)state;
	assert_int_equal(guard(0, 3, -1, 10, 10, 3, msg), 0);  /* at the limit: fine */
	assert_int_equal(guard(0, 3, -1, 10, 10, 4, msg), 1);
	assert_string_equal(msg, "4 files at DST would be deleted, more than --max-delete 3 "
			    "allows");
	/* a count given replaces the default share: 9 of 10 passes */
	assert_int_equal(guard(0, 9, -1, 1, 10, 9, msg), 0);
	assert_int_equal(guard(0, 0, -1, 1, 10, 1, msg), 1);   /* 0: nothing may go */
}

static void test_percent(void **state)
{
	char msg[512];

	(void)state;
	/* the default: refuse above 50 % */
	assert_int_equal(guard(0, -1, -1, 5, 10, 5, msg), 0);
	assert_int_equal(guard(0, -1, -1, 4, 10, 6, msg), 1);
	assert_string_equal(msg, "6 of the 10 files at DST (60%) would be deleted, more than "
			    "50% (the default limit; allow more with --max-delete N or N%)");
	/* given */
	assert_int_equal(guard(0, -1, 20, 9, 10, 2, msg), 0);
	assert_int_equal(guard(0, -1, 20, 9, 10, 3, msg), 1);
	assert_string_equal(msg, "3 of the 10 files at DST (30%) would be deleted, more than "
			    "20% (--max-delete)");
	assert_int_equal(guard(0, -1, 100, 1, 1000, 1000, msg), 0);
	/* both a count and a share: either refuses */
	assert_int_equal(guard(0, 100, 10, 9, 1000, 101, msg), 1);
	assert_non_null(strstr(msg, "--max-delete 100"));
	assert_int_equal(guard(0, 100, 5, 9, 1000, 60, msg), 1);
	assert_non_null(strstr(msg, "(6%)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_to_delete),
		cmocka_unit_test(test_empty_source),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_percent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
