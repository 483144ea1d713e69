/* test_filter.c: the filter (engine/filter.h, engine/glob.c) on the table of
 * patterns tests/fixtures/filter_cases.tsv (which filter_rclone.sh also runs
 * through rclone), malformed patterns, rule files, --files-from and ages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/filter.h"
#include "util/error.h"

#define MAX_KEYS 64

typedef struct table {
	char *keys[MAX_KEYS];
	size_t nkeys;
	unsigned cases;
} table;

/* Builds a filter from "+pat|-pat|..." (the table's RULES column). */
static nv_filter *filter_of(const char *rules)
{
	char *copy = strdup(rules), *save = NULL;
	nv_filter *f;

	assert_int_equal(nv_filter_new(&f), 0);
	for (char *r = strtok_r(copy, "|", &save); r; r = strtok_r(NULL, "|", &save)) {
		assert_true(r[0] == '+' || r[0] == '-');
		if (nv_filter_add(f, r[0] == '+', r + 1))
			fail_msg("rule %s refused: %s", r, nv_error_msg());
	}
	free(copy);
	return f;
}

/* The kept keys of the tree, '|'-separated, or "(none)". */
static void kept(const table *t, const nv_filter *f, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->nkeys; i++)
		if (nv_filter_key(f, t->keys[i]))
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "|" : "", t->keys[i]);
	if (!n)
		snprintf(out, cap, "(none)");
}

static void run_case(const table *t, char *line)
{
	char *rules = strtok(line, "\t"), *want = strtok(NULL, "\t"), got[4096];
	nv_filter *f;

	assert_non_null(rules);
	assert_non_null(want);
	f = filter_of(rules);
	kept(t, f, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("case %s:\n  want %s\n  got  %s", rules, want, got);
	nv_filter_free(f);
}

static void test_table(void **state)
{
	const char *src = getenv("NV_SRCDIR");
	char path[4096], line[8192];
	table t = { .nkeys = 0 };
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/fixtures/filter_cases.tsv", src ? src : ".");
	if (!(fp = fopen(path, "r")))
		fail_msg("cannot open %s (run through make check)", path);
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "key\t", 4) == 0) {
			assert_true(t.nkeys < MAX_KEYS);
			t.keys[t.nkeys++] = strdup(line + 4);
		} else if (strncmp(line, "case\t", 5) == 0) {
			run_case(&t, line + 5);
			t.cases++;
		}
	}
	fclose(fp);
	assert_true(t.nkeys >= 10);
	assert_true(t.cases >= 30);
	for (size_t i = 0; i < t.nkeys; i++)
		free(t.keys[i]);
}

static void test_bad_patterns(void **state)
{
	static const char *const bad[] = {
		"a[b", "a]b", "{a,b", "a,b}", "a\\", "***.jpg", "{{.*}}", "[[:alpha:]]",
		NULL,
	};
	nv_filter *f;

	(void)state;
	assert_int_equal(nv_filter_new(&f), 0);
	for (size_t i = 0; bad[i]; i++) {
		assert_int_equal(nv_filter_add(f, 0, bad[i]), NV_EINVAL);
		assert_non_null(strstr(nv_error_msg(), bad[i]));
	}
	/* each group of ten alternatives multiplies: 10^3 is too many */
	assert_int_equal(nv_filter_add(f, 0, "{0,1,2,3,4,5,6,7,8,9}{0,1,2,3,4,5,6,7,8,9}"
				       "{0,1,2,3,4,5,6,7,8,9}"), NV_EINVAL);
	assert_int_equal(nv_filter_add(f, 0, "{a,{b,c}}d"), 0); /* nesting is fine */
	assert_false(nv_filter_key(f, "cd"));
	assert_true(nv_filter_key(f, "ad2"));
	assert_int_equal(nv_filter_add(f, 0, "[]x]"), 0); /* ']' first is a member */
	assert_false(nv_filter_key(f, "]"));
	assert_false(nv_filter_key(f, "x"));
	nv_filter_free(f);
}

/* A scratch file holding text; its path in path (cap bytes). */
static void scratch(char *path, size_t cap, const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, cap, "/tmp/nv-test-filter.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs(text, fp);
	fclose(fp);
}

static void test_rule_file(void **state)
{
	char path[64];
	nv_filter *f;

	(void)state;
	scratch(path, sizeof(path), "# comment\n\n  *.tmp  \n; another\n/cache/\n\t\n");
	assert_int_equal(nv_filter_new(&f), 0);
	assert_int_equal(nv_filter_add_file(f, 0, path), 0);
	assert_true(nv_filter_active(f));
	assert_false(nv_filter_key(f, "a/b.tmp"));      /* trimmed */
	assert_false(nv_filter_key(f, "cache/x"));
	assert_true(nv_filter_key(f, "a/cache/x"));     /* anchored */
	assert_true(nv_filter_key(f, "# comment"));     /* comments are no rules */
	assert_true(nv_filter_key(f, "b.txt"));
	assert_int_equal(nv_filter_check(f), 0);
	nv_filter_free(f);
	unlink(path);
	/* a bad line names the file */
	scratch(path, sizeof(path), "ok\nbad[\n");
	assert_int_equal(nv_filter_new(&f), 0);
	assert_int_equal(nv_filter_add_file(f, 1, path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), path));
	nv_filter_free(f);
	unlink(path);
	assert_int_equal(nv_filter_new(&f), 0);
	assert_int_equal(nv_filter_add_file(f, 1, "/nonexistent/rules"), NV_ENOTFOUND);
	nv_filter_free(f);
}

static void test_files_from(void **state)
{
	char path[64];
	nv_filter *f;

	(void)state;
	scratch(path, sizeof(path), "b/c.txt\n/a.txt\n# not/me\n  d e/f  \nz/\n");
	assert_int_equal(nv_filter_new(&f), 0);
	assert_int_equal(nv_filter_files_from(f, path), 0);
	assert_true(nv_filter_active(f));
	assert_true(nv_filter_key(f, "a.txt"));
	assert_true(nv_filter_key(f, "b/c.txt"));
	assert_true(nv_filter_key(f, "d e/f"));
	assert_true(nv_filter_key(f, "z"));
	assert_false(nv_filter_key(f, "b"));
	assert_false(nv_filter_key(f, "not/me"));
	assert_false(nv_filter_key(f, "a.txt2"));
	assert_int_equal(nv_filter_check(f), 0);
	/* not with any other filter, as in rclone */
	assert_int_equal(nv_filter_add(f, 0, "*.txt"), 0);
	assert_int_equal(nv_filter_check(f), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "--files-from"));
	nv_filter_free(f);
	unlink(path);
}

static nv_entry at(const char *key, int64_t mtime, unsigned flags)
{
	nv_entry e = { .key = key, .mtime_sec = mtime, .flags = flags };

	return e;
}

static void test_ages(void **state)
{
	const int64_t now = 1000000;
	nv_entry e;
	nv_filter *f;

	(void)state;
	assert_int_equal(nv_filter_new(&f), 0);
	assert_false(nv_filter_active(f));
	nv_filter_set_age(f, 3600, 86400, now); /* between one hour and one day old */
	assert_true(nv_filter_active(f));
	assert_int_equal(nv_filter_check(f), 0);
	e = at("new", now - 60, NV_ENTRY_HAS_MTIME);
	assert_false(nv_filter_entry(f, &e));
	e = at("hour", now - 3600, NV_ENTRY_HAS_MTIME); /* bounds included */
	assert_true(nv_filter_entry(f, &e));
	e = at("day", now - 86400, NV_ENTRY_HAS_MTIME);
	assert_true(nv_filter_entry(f, &e));
	e = at("old", now - 86401, NV_ENTRY_HAS_MTIME);
	assert_false(nv_filter_entry(f, &e));
	e = at("future", now + 10, NV_ENTRY_HAS_MTIME);
	assert_false(nv_filter_entry(f, &e));
	/* an S3 listing's own time counts; an entry with no time at all passes */
	e = at("s3", now - 7200, 0);
	assert_true(nv_filter_entry(f, &e));
	e = at("s3old", now - 100000, 0);
	assert_false(nv_filter_entry(f, &e));
	e = at("untimed", 0, 0);
	assert_true(nv_filter_entry(f, &e));
	/* ages and rules together: both must pass */
	assert_int_equal(nv_filter_add(f, 0, "*.log"), 0);
	e = at("x.log", now - 7200, NV_ENTRY_HAS_MTIME);
	assert_false(nv_filter_entry(f, &e));
	e = at("x.txt", now - 7200, NV_ENTRY_HAS_MTIME);
	assert_true(nv_filter_entry(f, &e));
	nv_filter_set_age(f, 86400, 3600, now);
	assert_int_equal(nv_filter_check(f), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "--min-age"));
	nv_filter_free(f);
	/* no filter at all */
	e = at("any", 5, NV_ENTRY_HAS_MTIME);
	assert_true(nv_filter_entry(NULL, &e));
	assert_false(nv_filter_active(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_rule_file),
		cmocka_unit_test(test_files_from),
		cmocka_unit_test(test_ages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
