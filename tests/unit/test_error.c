/* test_error.c: the one errno -> nv_err mapping (which errno gives which code)
 * and the message nv_error_errno() records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/error.h"

static const struct {
	int errnum;
	int code;
} nv_rows[] = {
	{ ENOENT, NV_ENOTFOUND },
	{ ENOTDIR, NV_ENOTFOUND },
	{ EEXIST, NV_EEXISTS },
	{ ENOTEMPTY, NV_EEXISTS },
	{ EISDIR, NV_EEXISTS },
	{ EACCES, NV_EPERM },
	{ EPERM, NV_EPERM },
	{ EROFS, NV_EPERM },
	{ ETXTBSY, NV_EPERM },
	{ ENOSPC, NV_ENOSPC },
	{ EDQUOT, NV_ENOSPC },
	{ EFBIG, NV_ENOSPC },
	{ EINVAL, NV_EINVAL },
	{ ENAMETOOLONG, NV_EINVAL },
	{ ELOOP, NV_EINVAL }, /* a symlink refused under O_NOFOLLOW is not "not found" */
	{ EXDEV, NV_EINVAL },
	{ EINTR, NV_ERETRY },
	{ EAGAIN, NV_ERETRY },
	{ ESTALE, NV_ERETRY },
	{ ENOSYS, NV_ENOTSUP },
	{ EOPNOTSUPP, NV_ENOTSUP },
	{ ENOMEM, NV_ERR },
	{ EMFILE, NV_ERR },
	{ ENFILE, NV_ERR },
	{ EIO, NV_EIO },
	{ EBADF, NV_EIO },
	{ ENXIO, NV_EIO },
};

static void test_errno_mapping(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(nv_rows) / sizeof(nv_rows[0]); i++) {
		int got = nv_error_from_errno(nv_rows[i].errnum);

		if (got != nv_rows[i].code)
			fail_msg("errno %d (%s): got %s, wanted %s", nv_rows[i].errnum,
				 strerror(nv_rows[i].errnum), nv_error_name(got),
				 nv_error_name(nv_rows[i].code));
	}
}

static void test_errno_message(void **state)
{
	(void)state;
	nv_error_clear();
	assert_int_equal(nv_error_errno(ELOOP, "opening %s", "a/b"), NV_EINVAL);
	assert_int_equal(nv_error_code(), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "opening a/b: "));
	assert_non_null(strstr(nv_error_msg(), strerror(ELOOP)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_mapping),
		cmocka_unit_test(test_errno_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
