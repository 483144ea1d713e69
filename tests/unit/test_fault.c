/* test_fault.c: the fault layer of the nv_drv_* choke point (driver/fault.h):
 * rules, ranges, codes, counting, and nothing counted while unset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "driver/fault.h"
#include "util/error.h"

static void test_rules(void **state)
{
	(void)state;
	assert_int_equal(nv_fault_set("read@1=io,bogus@2,write_commit@x"), NV_EINVAL);
	assert_int_equal(nv_fault_check(NV_FAULT_READ), NV_EIO); /* the good rule applies */
	assert_int_equal(nv_fault_check(NV_FAULT_READ), 0);
	assert_int_equal(nv_fault_check(NV_FAULT_COMMIT), 0);
	assert_int_equal(nv_fault_set("write_commit@1=retry,write@1=nospc,open@1=auth"), 0);
	assert_int_equal(nv_fault_check(NV_FAULT_COMMIT), NV_ERETRY);
	assert_int_equal(nv_fault_check(NV_FAULT_WRITE), NV_ENOSPC);
	assert_int_equal(nv_fault_check(NV_FAULT_OPEN), NV_EAUTH);
	assert_int_equal(nv_fault_check(NV_FAULT_REMOVE), 0);
}

static void test_ranges(void **state)
{
	(void)state;
	/* the first matching rule decides; "N-" never ends */
	assert_int_equal(nv_fault_set("stat@2-3=perm,stat@5-,stat@7=retry"), 0);
	assert_int_equal(nv_fault_check(NV_FAULT_STAT), 0);
	assert_int_equal(nv_fault_check(NV_FAULT_STAT), NV_EPERM);
	assert_int_equal(nv_fault_check(NV_FAULT_STAT), NV_EPERM);
	assert_int_equal(nv_fault_check(NV_FAULT_STAT), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(nv_fault_check(NV_FAULT_STAT), NV_EIO);
	assert_int_equal(nv_fault_calls(NV_FAULT_STAT), 24);
	assert_int_equal(nv_fault_calls(NV_FAULT_READ), 0);
}

static void test_flip(void **state)
{
	(void)state;
	assert_int_equal(nv_fault_set("read@2=flip,write@1=flip"), 0);
	assert_int_equal(nv_fault_check(NV_FAULT_READ), 0);
	assert_int_equal(nv_fault_check(NV_FAULT_READ), NV_FAULT_FLIP);
	assert_int_equal(nv_fault_check(NV_FAULT_WRITE), NV_EINVAL); /* read only */
}

static void test_counts_and_off(void **state)
{
	(void)state;
	assert_int_equal(nv_fault_set(""), 0); /* counting only */
	for (int i = 0; i < 5; i++)
		assert_int_equal(nv_fault_check(NV_FAULT_FLUSH), 0);
	assert_int_equal(nv_fault_calls(NV_FAULT_FLUSH), 5);
	assert_int_equal(nv_fault_set("flush@1"), 0); /* a new spec counts from 0 */
	assert_int_equal(nv_fault_calls(NV_FAULT_FLUSH), 0);
	assert_int_equal(nv_fault_check(NV_FAULT_FLUSH), NV_EIO);
	assert_int_equal(nv_fault_set(NULL), 0);
	assert_int_equal(nv_fault_check(NV_FAULT_FLUSH), 0);
	assert_int_equal(nv_fault_calls(NV_FAULT_FLUSH), 0); /* off: nothing counted */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_flip),
		cmocka_unit_test(test_counts_and_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
