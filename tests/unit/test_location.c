/* test_location.c: location parsing and key validation (src/driver.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"
#include "engine/dest_lock.h" /* nv_location_canon */

static void test_local_forms(void **state)
{
	nv_location *loc;
	char cwd[4096];

	(void)state;
	assert_int_equal(nv_location_parse(&loc, "/srv//data/./x/../y/", NULL), 0);
	assert_string_equal(loc->driver->name, "local");
	assert_string_equal(loc->path, "/srv/data/y");
	assert_null(loc->remote);
	nv_location_free(loc);

	assert_int_equal(nv_location_parse(&loc, "file:///tmp/a", NULL), 0);
	assert_string_equal(loc->driver->name, "local");
	assert_string_equal(loc->path, "/tmp/a");
	nv_location_free(loc);

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(nv_location_parse(&loc, "rel/dir", NULL), 0);
	assert_int_equal(strncmp(loc->path, cwd, strlen(cwd)), 0);
	assert_string_equal(loc->path + strlen(cwd), "/rel/dir");
	nv_location_free(loc);

	/* "./x:y" is a local path even though it holds a colon */
	assert_int_equal(nv_location_parse(&loc, "./x:y", NULL), 0);
	assert_string_equal(loc->driver->name, "local");
	nv_location_free(loc);

	assert_int_equal(nv_location_parse(&loc, "file://relative", NULL), NV_EINVAL);
	assert_int_equal(nv_location_parse(&loc, "", NULL), NV_EINVAL);
}

static void test_url_forms(void **state)
{
	nv_location *loc;

	(void)state;
	assert_int_equal(nv_location_parse(&loc, "sftp://bob@host:2222/srv/x", NULL), 0);
	assert_string_equal(loc->driver->name, "sftp");
	assert_string_equal(loc->authority, "bob@host:2222");
	assert_string_equal(loc->path, "/srv/x");
	nv_location_free(loc);

	assert_int_equal(nv_location_parse(&loc, "s3://bucket/pre/fix", NULL), 0);
	assert_string_equal(loc->driver->name, "s3");
	assert_string_equal(loc->authority, "bucket");
	assert_string_equal(loc->path, "/pre/fix");
	nv_location_free(loc);

	assert_int_equal(nv_location_parse(&loc, "s3://bucket", NULL), 0);
	assert_string_equal(loc->path, "");
	nv_location_free(loc);

	assert_int_equal(nv_location_parse(&loc, "az://acct/cont/p", NULL), 0);
	assert_string_equal(loc->driver->name, "azure");
	nv_location_free(loc);

	assert_int_equal(nv_location_parse(&loc, "gopher://x/y", NULL), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "unknown scheme"));
	assert_int_equal(nv_location_parse(&loc, "s3:///x", NULL), NV_EINVAL);
}

static void test_remote_form(void **state)
{
	nv_config *cfg = nv_config_new();
	nv_location *loc;
	char path[] = "/tmp/nv-loc-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_true(write(fd, "[ovh]\ntype = s3\nregion = gra\n[bak]\ntype = local\n", 48) == 48);
	close(fd);
	nv_config_free(cfg);
	assert_int_equal(nv_config_load(&cfg, path), 0);
	unlink(path);

	assert_int_equal(nv_location_parse(&loc, "ovh:bucket/prefix", cfg), 0);
	assert_string_equal(loc->driver->name, "s3");
	assert_string_equal(loc->remote, "ovh");
	assert_string_equal(loc->path, "bucket/prefix");
	assert_null(loc->authority);
	assert_string_equal(nv_settings_get(loc->settings, "region", NULL), "gra");
	nv_location_free(loc);

	assert_int_equal(nv_location_parse(&loc, "bak:/srv/b", cfg), 0);
	assert_string_equal(loc->driver->name, "local");
	assert_string_equal(loc->path, "/srv/b");
	nv_location_free(loc);

	assert_int_equal(nv_location_parse(&loc, "nosuch:x", cfg), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "no remote named 'nosuch'"));
	nv_config_free(cfg);
}

/* What metrics labels get: the location as written, credentials stripped. */
static void test_public_text(void **state)
{
	static const char *const rows[][2] = {
		{ "/srv/data", "/srv/data" },
		{ "./a?b#c", "./a?b#c" }, /* a local path keeps every byte */
		{ "remote:bucket/x?y", "remote:bucket/x?y" },
		{ "sftp://bob@host:2222/srv", "sftp://bob@host:2222/srv" },
		{ "sftp://bob:s3cret@host/srv", "sftp://host/srv" },
		{ "sftp://bob:p@ss@host/srv", "sftp://host/srv" },
		{ "s3://AKIA:SECRET@bucket/p", "s3://bucket/p" },
		{ "az://acct/cont/pre?sv=2022&sig=SECRET", "az://acct/cont/pre" },
		{ "az://acct/cont?sig=SECRET#frag", "az://acct/cont" },
		{ "az://acct?sig=x@y:z", "az://acct" },
		{ "file:///srv/x", "file:///srv/x" },
		{ "s3://bucket/a@b:c/d", "s3://bucket/a@b:c/d" }, /* '@' past the authority */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *p = nv_location_public(rows[i][0]);

		assert_non_null(p);
		if (strcmp(p, rows[i][1]) != 0)
			fail_msg("%s: got %s, want %s", rows[i][0], p, rows[i][1]);
		free(p);
	}
}

/* A parsed location prints no password: loc->text is the public form, its
 * parse errors quote that form, the lock's canonical name keeps the user. */
static void test_parsed_text(void **state)
{
	nv_location *loc;
	char canon[256];

	(void)state;
	assert_int_equal(nv_location_parse(&loc, "sftp://bob:s3cret@host//srv/", NULL), 0);
	assert_string_equal(loc->text, "sftp://host//srv/");
	assert_string_equal(loc->authority, "bob:s3cret@host"); /* the driver's to use */
	assert_int_equal(nv_location_canon(loc, canon, sizeof(canon)), 0);
	assert_string_equal(canon, "sftp://bob@host/srv");
	nv_location_free(loc);
	assert_int_equal(nv_location_parse(&loc, "nosuch://bob:s3cret@host/x", NULL), NV_EINVAL);
	assert_null(strstr(nv_error_msg(), "s3cret"));
	assert_non_null(strstr(nv_error_msg(), "'nosuch://host/x'"));
}

static void test_key_check(void **state)
{
	static const char *const good[] = { "a", "a/b", "a b/ü+c", "a..b", ".hidden", "x/.y" };
	static const char *const bad[] = { "", "/a", "a/../b", "..", "a/..", "./a", "a/./b",
					   "a//b", "a/", "a\nb", "a\x01" };
	char big[1100];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_int_equal(nv_key_check(good[i]), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(nv_key_check(bad[i]), NV_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(nv_key_check(big), NV_EINVAL);
}

/* Regression: a listing prefix was only checked for its trailing '/', so
 * "../" reached the driver. */
static void test_list_prefix(void **state)
{
	nv_location *loc;
	nv_store *s;
	nv_lister *l;

	(void)state;
	assert_int_equal(nv_location_parse(&loc, "/tmp", NULL), 0);
	assert_int_equal(nv_drv_open(&s, loc), 0);
	assert_int_equal(nv_drv_list_open(&l, s, "../"), NV_EINVAL);
	assert_int_equal(nv_drv_list_open(&l, s, "a/../"), NV_EINVAL);
	assert_int_equal(nv_drv_list_open(&l, s, "/etc/"), NV_EINVAL);
	assert_int_equal(nv_drv_list_open(&l, s, "a"), NV_EINVAL);
	nv_drv_close(s);
	nv_location_free(loc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_forms),
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test(test_remote_form),
		cmocka_unit_test(test_public_text),
		cmocka_unit_test(test_parsed_text),
		cmocka_unit_test(test_key_check),
		cmocka_unit_test(test_list_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
