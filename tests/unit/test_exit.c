/* test_exit.c: the one exit rule (util/exit.h) as a table over every
 * combination of fatal cause, failures and differences, and the one error
 * classification every pool uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/error.h"
#include "util/exit.h"

static void test_exit_table(void **state)
{
	static const struct {
		int fatal;
		uint64_t failed, differ;
		int want;
		const char *what;
	} rows[] = {
		{ 0, 0, 0, NV_EXIT_OK, "nothing to do, or everything done" },
		{ 0, 0, 2, NV_EXIT_DIFF, "differences only" },
		{ 0, 1, 0, NV_EXIT_PARTIAL, "partial only" },
		{ 0, 3, 5, NV_EXIT_PARTIAL, "partial + differences: partial wins (3 > 1)" },
		{ NV_EAUTH, 0, 0, NV_EXIT_USAGE, "credentials refused" },
		{ NV_EAUTH, 2, 2, NV_EXIT_USAGE, "credentials refused mid-run" },
		{ NV_EINVAL, 0, 0, NV_EXIT_USAGE, "bad configuration" },
		{ NV_EMISMATCH, 0, 0, NV_EXIT_DIFF, "a verification failure stopped the run" },
		{ NV_EMISMATCH, 4, 0, NV_EXIT_DIFF, "stopped by a bad signature, with failures" },
		{ NV_ERR, 0, 0, NV_EXIT_FATAL, "fatal listing" },
		{ NV_ENOTFOUND, 0, 0, NV_EXIT_FATAL, "store unreachable (missing root)" },
		{ NV_ENOSPC, 1, 1, NV_EXIT_FATAL, "disk full: fatal wins over partial and differences" },
		{ NV_ERETRY, 0, 0, NV_EXIT_FATAL, "retries exhausted on a run-wide step" },
		{ NV_ECANCEL, 0, 0, NV_EXIT_FATAL, "cancelled" },
		{ NV_EIO, 0, 3, NV_EXIT_FATAL, "local I/O error that stopped the run" },
		{ NV_ELIMIT, 0, 0, NV_EXIT_PARTIAL, "--max-transfer reached: partial, resumable" },
		{ NV_ELIMIT, 2, 1, NV_EXIT_PARTIAL, "--max-transfer reached after failures" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		nv_outcome o = { .fatal = rows[i].fatal, .failed = rows[i].failed,
				 .differ = rows[i].differ };

		if (nv_exit_code(&o) != rows[i].want)
			fail_msg("%s: got %d, want %d", rows[i].what, nv_exit_code(&o), rows[i].want);
	}
}

static void test_exit_for_error(void **state)
{
	(void)state;
	assert_int_equal(nv_exit_for_error(NV_OK), NV_EXIT_OK);
	assert_int_equal(nv_exit_for_error(NV_EAUTH), NV_EXIT_USAGE);
	assert_int_equal(nv_exit_for_error(NV_EINVAL), NV_EXIT_USAGE);
	assert_int_equal(nv_exit_for_error(NV_EMISMATCH), NV_EXIT_DIFF);
	assert_int_equal(nv_exit_for_error(NV_ENOTFOUND), NV_EXIT_FATAL);
	assert_int_equal(nv_exit_for_error(NV_ERR), NV_EXIT_FATAL);
	assert_int_equal(nv_exit_for_error(NV_ELIMIT), NV_EXIT_PARTIAL);
}

static void test_worst(void **state)
{
	(void)state;
	assert_int_equal(nv_exit_worst(NV_EXIT_OK, NV_EXIT_DIFF), NV_EXIT_DIFF);
	assert_int_equal(nv_exit_worst(NV_EXIT_PARTIAL, NV_EXIT_DIFF), NV_EXIT_PARTIAL);
	assert_int_equal(nv_exit_worst(NV_EXIT_PARTIAL, NV_EXIT_USAGE), NV_EXIT_USAGE);
	assert_int_equal(nv_exit_worst(NV_EXIT_FATAL, NV_EXIT_USAGE), NV_EXIT_FATAL);
	assert_int_equal(nv_exit_worst(NV_EXIT_OK, NV_EXIT_OK), NV_EXIT_OK);
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(nv_err_classify(NV_OK), NV_CLASS_OK);
	assert_int_equal(nv_err_classify(NV_ERETRY), NV_CLASS_RETRY);
	assert_int_equal(nv_err_classify(NV_EMISMATCH), NV_CLASS_DIFF);
	assert_int_equal(nv_err_classify(NV_EAUTH), NV_CLASS_FATAL);
	assert_int_equal(nv_err_classify(NV_ENOSPC), NV_CLASS_FATAL);
	assert_int_equal(nv_err_classify(NV_ECANCEL), NV_CLASS_FATAL);
	assert_int_equal(nv_err_classify(NV_ELIMIT), NV_CLASS_FATAL); /* the cap stops the run */
	/* one unreadable file, one missing key, one bad name: that item only */
	assert_int_equal(nv_err_classify(NV_EPERM), NV_CLASS_ITEM);
	assert_int_equal(nv_err_classify(NV_ENOTFOUND), NV_CLASS_ITEM);
	assert_int_equal(nv_err_classify(NV_EINVAL), NV_CLASS_ITEM);
	assert_int_equal(nv_err_classify(NV_EIO), NV_CLASS_ITEM);
	assert_int_equal(nv_err_classify(NV_ERR), NV_CLASS_ITEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_table),
		cmocka_unit_test(test_exit_for_error),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_worst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
