/* test_config.c: config file loading, permission refusal and the settings
 * lookup order (src/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/config.h"
#include "util/error.h"

static char nv_path[64];

static void write_file(const char *text, mode_t mode)
{
	FILE *f;

	strcpy(nv_path, "/tmp/nv-cfg-XXXXXX");
	close(mkstemp(nv_path));
	f = fopen(nv_path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(nv_path, mode);
}

static void test_permissions(void **state)
{
	nv_config *cfg;

	(void)state;
	write_file("[a]\ntype = s3\nsecret_access_key = s3cr3t\n", 0644);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "readable by group or others"));
	assert_null(strstr(nv_error_msg(), "s3cr3t"));
	chmod(nv_path, 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), 0);
	nv_config_free(cfg);
	unlink(nv_path);

	/* no secret: readable is fine, writable by others never */
	write_file("[a]\ntype = sftp\nhost = h\n", 0644);
	assert_int_equal(nv_config_load(&cfg, nv_path), 0);
	nv_config_free(cfg);
	chmod(nv_path, 0666);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "writable"));
	unlink(nv_path);
}

static void test_syntax(void **state)
{
	nv_config *cfg;

	(void)state;
	write_file("[a]\ntype = s3\nthis is not ini\n", 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "line 3"));
	unlink(nv_path);
	write_file("[a]\nhost = x\n", 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "no type"));
	unlink(nv_path);
	assert_int_equal(nv_config_load(&cfg, "/nonexistent/navette.conf"), NV_EINVAL);
	/* a missing default file is an empty config */
	setenv("HOME", "/nonexistent", 1);
	unsetenv("NAVETTE_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(nv_config_load(&cfg, NULL), 0);
	assert_null(nv_config_remote_name(cfg, 0));
	nv_config_free(cfg);
}

static void test_lookup_order(void **state)
{
	nv_config *cfg;
	nv_settings *a, *b, *url;
	uint64_t n;
	int flag;

	(void)state;
	write_file("[ovh]\ntype = s3\naccess_key_id = OVHKEY\nregion = gra\n"
		   "[scw]\ntype = s3\nregion = fr-par\npart_size = 8M\n", 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), 0);
	unlink(nv_path);
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("NAVETTE_REMOTE_SCW_REGION", "nl-ams", 1);
	setenv("NAVETTE_TIMEOUT", "7", 1);
	a = nv_settings_new(cfg, "ovh");
	b = nv_settings_new(cfg, "scw");
	url = nv_settings_new(cfg, NULL);
	/* a named remote's own key wins over the ecosystem variable */
	assert_string_equal(nv_settings_get(a, "access_key_id", "AWS_ACCESS_KEY_ID"), "OVHKEY");
	/* ... which fills what the remote leaves unset */
	assert_string_equal(nv_settings_get(b, "access_key_id", "AWS_ACCESS_KEY_ID"), "ENVKEY");
	/* NAVETTE_REMOTE_<NAME>_<KEY> sets one remote's key only */
	assert_string_equal(nv_settings_get(b, "region", NULL), "nl-ams");
	assert_string_equal(nv_settings_get(a, "region", NULL), "gra");
	/* URL form: NAVETTE_<KEY>, then the ecosystem variable */
	assert_string_equal(nv_settings_get(url, "timeout", NULL), "7");
	assert_null(nv_settings_get(a, "timeout", NULL));
	assert_string_equal(nv_settings_get(url, "access_key_id", "AWS_ACCESS_KEY_ID"), "ENVKEY");
	/* the command line wins over everything */
	nv_config_set_override(cfg, "region", "cli");
	assert_string_equal(nv_settings_get(a, "region", NULL), "cli");
	assert_int_equal(nv_settings_get_size(b, "part_size", NULL, 0, &n), 0);
	assert_true(n == 8u << 20);
	nv_config_set_override(cfg, "flag", "maybe");
	assert_int_equal(nv_settings_get_bool(a, "flag", NULL, 0, &flag), NV_EINVAL);
	nv_config_set_override(cfg, "flag", "yes");
	assert_int_equal(nv_settings_get_bool(a, "flag", NULL, 0, &flag), 0);
	assert_int_equal(flag, 1);
	nv_settings_free(a);
	nv_settings_free(b);
	nv_settings_free(url);
	nv_config_free(cfg);
}

/* Regression: the lookup once built variable names in a buffer inside the
 * settings, which worker threads share; two threads then read each other's names. */
static nv_settings *race_settings;
static void *race_lookup(void *arg)
{
	const char *key = arg, *want = strcmp(key, "alpha") == 0 ? "A" : "B";
	int bad = 0;

	for (int i = 0; i < 20000; i++) {
		const char *v = nv_settings_get(race_settings, key, NULL);

		bad |= !v || strcmp(v, want) != 0;
	}
	return (void *)(intptr_t)bad;
}

static void test_lookup_threads(void **state)
{
	nv_config *cfg = nv_config_new();
	pthread_t a, b;
	void *ra, *rb;

	(void)state;
	setenv("NAVETTE_REMOTE_R_ALPHA", "A", 1);
	setenv("NAVETTE_REMOTE_R_BETA", "B", 1);
	race_settings = nv_settings_new(cfg, "r");
	pthread_create(&a, NULL, race_lookup, "alpha");
	pthread_create(&b, NULL, race_lookup, "beta");
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	assert_null(ra);
	assert_null(rb);
	nv_settings_free(race_settings);
	nv_config_free(cfg);
}

static void test_private_file(void **state)
{
	char *buf;
	size_t len;

	(void)state;
	write_file("AGE-SECRET-KEY-1XYZ\n", 0644);
	assert_int_equal(nv_read_private_file(nv_path, &buf, &len), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "group or others"));
	chmod(nv_path, 0600);
	assert_int_equal(nv_read_private_file(nv_path, &buf, &len), 0);
	assert_int_equal(len, 20);
	assert_string_equal(buf, "AGE-SECRET-KEY-1XYZ\n");
	free(buf);
	unlink(nv_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_lookup_order),
		cmocka_unit_test(test_private_file),
		cmocka_unit_test(test_lookup_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
