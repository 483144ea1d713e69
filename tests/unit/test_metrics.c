/* test_metrics.c: --metrics-file (util/metrics.h): the exposition text, label
 * escaping and UTF-8 repair, the file's mode and atomic replacement, and the
 * last success time kept across a failed run in the state directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/metrics.h"

typedef struct fx {
	char dir[64], path[128];
} fx;

static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	char st[128];

	snprintf(x->dir, sizeof(x->dir), "/tmp/nv-metrics.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/job.prom", x->dir);
	snprintf(st, sizeof(st), "%s/state", x->dir);
	setenv("NAVETTE_STATE_DIR", st, 1);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("NAVETTE_STATE_DIR");
	free(x);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

/* The value of the sample of metric for destination dest, -1 if absent. */
static double sample(const char *text, const char *metric, const char *dest)
{
	char want[512];
	const char *p;

	snprintf(want, sizeof(want), "\n%s{command=\"sync\",destination=\"%s\"} ", metric, dest);
	p = strstr(text, want);
	return p ? strtod(p + strlen(want), NULL) : -1;
}

static void one_run(fx *x, const char *dest, int code, uint64_t failures)
{
	nv_metrics_figures f = { .bytes = 1234, .objects = 5, .failures = failures };
	nv_metrics *m;

	assert_int_equal(nv_metrics_new(&m, x->path, "sync"), 0);
	assert_int_equal(nv_metrics_add(m, dest, &f, code), 0);
	assert_int_equal(nv_metrics_write(m), 0);
	nv_metrics_free(m);
}

static void test_text_and_mode(void **state)
{
	fx *x = *state;
	struct stat st;
	char *text;
	DIR *d;
	struct dirent *e;
	int files = 0;
	double ago;

	umask(077); /* the file is 0644 whatever the umask */
	one_run(x, "/srv/data", 0, 0);
	umask(022);
	assert_int_equal(stat(x->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	text = slurp(x->path);
	assert_non_null(strstr(text, "# HELP navette_last_success_timestamp_seconds "));
	assert_non_null(strstr(text, "# TYPE navette_last_run_bytes gauge\n"));
	assert_true(sample(text, "navette_last_run_bytes", "/srv/data") == 1234);
	assert_true(sample(text, "navette_last_run_objects", "/srv/data") == 5);
	assert_true(sample(text, "navette_last_run_failures", "/srv/data") == 0);
	assert_true(sample(text, "navette_last_run_exit_code", "/srv/data") == 0);
	assert_true(sample(text, "navette_last_run_duration_seconds", "/srv/data") >= 0);
	ago = (double)time(NULL) - sample(text, "navette_last_success_timestamp_seconds",
					  "/srv/data");
	assert_true(ago >= 0 && ago < 5);
	assert_null(strstr(text, "navette_vault_generation")); /* sync has none */
	free(text);
	/* nothing left beside it but the state directory */
	assert_non_null(d = opendir(x->dir));
	while ((e = readdir(d)))
		files += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	closedir(d);
	assert_int_equal(files, 2); /* job.prom, state */
}

static void test_success_survives_failure(void **state)
{
	fx *x = *state;
	double first, second;
	char *text;

	one_run(x, "/srv/data", 0, 0);
	text = slurp(x->path);
	first = sample(text, "navette_last_success_timestamp_seconds", "/srv/data");
	free(text);
	assert_true(first > 0);
	sleep(1); /* the next run ends in another second */
	one_run(x, "/srv/data", 3, 2);
	text = slurp(x->path);
	second = sample(text, "navette_last_success_timestamp_seconds", "/srv/data");
	assert_true(second == first);
	assert_true(sample(text, "navette_last_run_timestamp_seconds", "/srv/data") > first);
	assert_true(sample(text, "navette_last_run_exit_code", "/srv/data") == 3);
	assert_true(sample(text, "navette_last_run_failures", "/srv/data") == 2);
	free(text);
	/* another destination has its own: never succeeded, 0 */
	one_run(x, "/srv/other", 4, 0);
	text = slurp(x->path);
	assert_true(sample(text, "navette_last_success_timestamp_seconds", "/srv/other") == 0);
	free(text);
}

static void test_labels(void **state)
{
	static const char *const rows[][2] = {
		{ "plain", "plain" },
		{ "a\"b\\c\nd", "a\\\"b\\\\c\\nd" },
		{ "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },                 /* été */
		{ "bad\xff", "bad\xef\xbf\xbd" },                              /* not UTF-8 */
		{ "\xc3", "\xef\xbf\xbd" },                                    /* cut short */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },    /* a surrogate */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },                    /* overlong */
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },                    /* 4 bytes */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *l = nv_metrics_label(rows[i][0]);

		assert_non_null(l);
		assert_string_equal(l, rows[i][1]);
		free(l);
	}
}

/* Several series (replicate --all): one HELP/TYPE block per metric, a
 * generation only where there is one, and a total. */
static void test_several_series(void **state)
{
	fx *x = *state;
	nv_metrics_figures a = { 10, 1, 0, 7 }, b = { 20, 2, 1, 0 };
	nv_metrics *m;
	char *text, *p;
	int helps = 0;

	assert_int_equal(nv_metrics_new(&m, x->path, "sync"), 0);
	assert_int_equal(nv_metrics_add(m, "dst/a", &a, 0), 0);
	assert_int_equal(nv_metrics_add(m, "dst/b", &b, 3), 0);
	assert_int_equal(nv_metrics_add_total(m, "dst", 3), 0);
	assert_int_equal(nv_metrics_count(m), 3);
	assert_int_equal(nv_metrics_write(m), 0);
	nv_metrics_free(m);
	text = slurp(x->path);
	for (p = text; (p = strstr(p, "# HELP navette_last_run_bytes ")); p++)
		helps++;
	assert_int_equal(helps, 1);
	assert_true(sample(text, "navette_last_run_bytes", "dst") == 30);
	assert_true(sample(text, "navette_last_run_failures", "dst") == 1);
	assert_true(sample(text, "navette_vault_generation", "dst/a") == 7);
	assert_true(sample(text, "navette_vault_generation", "dst/b") == -1);
	assert_true(sample(text, "navette_last_success_timestamp_seconds", "dst/a") > 0);
	assert_true(sample(text, "navette_last_success_timestamp_seconds", "dst") == 0);
	free(text);
}

static void test_unwritable(void **state)
{
	fx *x = *state;
	nv_metrics *m;
	char path[160];

	(void)x;
	snprintf(path, sizeof(path), "%s/no/such/dir/job.prom", x->dir);
	assert_int_equal(nv_metrics_new(&m, path, "sync"), 0);
	assert_int_equal(nv_metrics_add(m, "d", &(nv_metrics_figures){ 0 }, 0), 0);
	assert_int_not_equal(nv_metrics_write(m), 0);
	assert_non_null(strstr(nv_error_msg(), "no/such/dir"));
	nv_metrics_free(m);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_text_and_mode),
		T(test_success_survives_failure),
		T(test_labels),
		T(test_several_series),
		T(test_unwritable),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
