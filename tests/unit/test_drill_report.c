/* test_drill_report.c: the drill report's outputs (vault/drill_report.h): the
 * Markdown escaping of names from a vault, ages as people read them, the JSON
 * document (valid, every member present, null where unknown, a name that is
 * not UTF-8 kept in hex) and the Markdown page (one row per failure whatever
 * the name holds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "vault/drill_report.h"

static void md_is(const char *raw, const char *want)
{
	nv_sb b = { 0 };

	nv_md_escape(&b, raw);
	assert_string_equal(nv_sb_str(&b), want);
	nv_sb_free(&b);
}

static void test_md_escape(void **state)
{
	(void)state;
	md_is("photos/2026/a.jpg", "photos/2026/a.jpg");
	md_is("a|b*c_d[e](f)", "a\\|b\\*c\\_d\\[e\\]\\(f\\)");
	md_is("back\\slash", "back\\\\\\\\slash");     /* \\ for the terminal, each escaped */
	md_is("x\ny", "x\\\\x0ay");                    /* no line of its own */
	md_is("evil\xe2\x80\xaetxt.exe", "evil\\\\u{202e}txt.exe"); /* no bidi override */
	md_is("<script>&amp;", "\\<script\\>\\&amp;");
	md_is("![i](http://x)", "\\!\\[i\\]\\(http\\://x\\)");
	md_is("see www.evil.example", "see www\\.evil.example");
	md_is("`code` ~~s~~ $m$ #h =x= ^y", "\\`code\\` \\~\\~s\\~\\~ \\$m\\$ \\#h \\=x\\= \\^y");
}

static void age_is(long long s, const char *want)
{
	char out[32];

	nv_drill_age_text(out, s);
	assert_string_equal(out, want);
}

static void test_age_text(void **state)
{
	(void)state;
	age_is(-1, "unknown");
	age_is(0, "0s");
	age_is(59, "59s");
	age_is(61, "1m 1s");
	age_is(93600, "1d 2h");
	age_is(3 * 3600 + 12 * 60 + 5, "3h 12m");
}

static nv_drill_failure fails[] = {
	{ .kind = "mismatch", .what = "d/a|b", .reason = "object o: SHA-256 differs" },
	{ .kind = "missing", .what = "bad\xff" "name", .reason = "object p is missing" },
};

static nv_drill_report sample_report(void)
{
	nv_drill_report r = {
		.vault = "s3v:bkt/v", .mode = NV_DRILL_SAMPLE, .sample_arg = "10%", .seed = 7,
		.restore_to = "scratch", .restore_path = "/var/lib/navette/drill/run.x",
		.max_age = 93600, .started = 1764464523, .finished = 1764464530, .duration = 7.5,
		.exit_code = 1, .vault_id = "0123456789abcdef0123456789abcdef", .generation = 3,
		.generation_time = "2026-11-30T01:02:03Z", .generation_age = 100,
		.have_heartbeat = 1, .heartbeat_generation = 3,
		.heartbeat_time = "2026-11-30T01:02:03Z", .heartbeat_age = 100,
		.manifests = 3, .files_total = 10, .bytes_total = 1000, .files_selected = 2,
		.bytes_selected = 300, .files_checked = 1, .bytes_checked = 200, .rto = 2.0,
		.sample_runs = 10, .failures = fails, .n_failures = 2, .failures_total = 5,
	};

	return r;
}

static json_t *parse(const nv_drill_report *r)
{
	nv_sb b = { 0 };
	json_error_t err;
	json_t *j;

	nv_drill_json(&b, r);
	assert_int_equal(nv_sb_ok(&b), 0);
	assert_int_equal(b.s[b.len - 1], '\n');
	j = json_loads(nv_sb_str(&b), 0, &err);
	if (!j)
		fail_msg("not JSON (%s): %s", err.text, nv_sb_str(&b));
	nv_sb_free(&b);
	return j;
}

static void test_json(void **state)
{
	nv_drill_report r = sample_report();
	json_t *j = parse(&r), *f;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "result")), "failed");
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 1);
	assert_true(json_is_null(json_object_get(j, "error")));
	assert_string_equal(json_string_value(json_object_get(j, "started")),
			    "2025-11-30T01:02:03Z");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "sample"),
							    "runs_for_all")), 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "rpo"),
							    "max_age_seconds")), 93600);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "rto"),
							    "bytes_per_second")), 100);
	f = json_object_get(j, "failures");
	assert_int_equal(json_array_size(f), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "path")),
			    "d/a|b");
	/* not UTF-8: U+FFFD in path, the exact bytes in path_hex */
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 1), "path_hex")),
			    "626164ff6e616d65");
	assert_int_equal(json_integer_value(json_object_get(j, "failures_total")), 5);
	json_decref(j);
}

/* A drill stopped before the vault was open: everything it could not know is null. */
static void test_json_stopped(void **state)
{
	nv_drill_report r = { .vault = "v", .restore_to = "none", .exit_code = 2,
			      .error = "no identity", .max_age = -1, .generation_age = -1,
			      .heartbeat_age = -1, .rto = -1 };
	json_t *j = parse(&r);
	static const char *const nulls[] = { "vault_id", "sample", "generation", "heartbeat",
					     "rto" };

	(void)state;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		assert_true(json_is_null(json_object_get(j, nulls[i])));
	assert_true(json_is_null(json_object_get(json_object_get(j, "rpo"), "max_age_seconds")));
	assert_true(json_is_null(json_object_get(json_object_get(j, "restore"), "path")));
	assert_string_equal(json_string_value(json_object_get(j, "error")), "no identity");
	assert_int_equal(json_array_size(json_object_get(j, "failures")), 0);
	json_decref(j);
}

/* Cells of a Markdown table row: the '|' that are not escaped, minus the edges. */
static int cells(const char *line, size_t n)
{
	int bars = 0;

	for (size_t i = 0; i < n; i++)
		bars += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
	return bars - 1;
}

static void test_markdown(void **state)
{
	nv_drill_report r = sample_report();
	nv_sb b = { 0 };
	const char *p, *row;

	(void)state;
	nv_drill_markdown(&b, &r);
	p = nv_sb_str(&b);
	assert_non_null(strstr(p, "# navette disaster-recovery drill: FAILED\n"));
	assert_non_null(strstr(p, "| RPO within --max-age | yes (at most 1d 2h) |\n"));
	assert_non_null(strstr(p, "| Time to restore (RTO) | 2.000 s, 0.0 MB/s |\n"));
	assert_non_null(strstr(p, "The first 2 of 5 failures are listed"));
	row = strstr(p, "| mismatch | d/a\\|b | ");
	assert_non_null(row);
	assert_int_equal(cells(row, strcspn(row, "\n")), 3);
	row = strstr(p, "| missing | bad\\\\xffname | ");
	assert_non_null(row);
	assert_int_equal(cells(row, strcspn(row, "\n")), 3);
	nv_sb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md_escape),
		cmocka_unit_test(test_age_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_stopped),
		cmocka_unit_test(test_markdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
