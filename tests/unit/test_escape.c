/* test_escape.c: the one escaping of untrusted text (util/escape.h), one test
 * per class of character, in both forms; and the log sink (util/log.h): what
 * it writes for a hostile name, human and JSON, and the event schema. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/escape.h"
#include "util/log.h"

/* One input, what the human form must be, and the JSON form (NULL: not
 * checked) with whether it reported bytes that are not UTF-8. */
typedef struct nv_case {
	const char *in;
	size_t n;
	const char *human, *json;
	int invalid;
} nv_case;
#define CASE(in, human, json, invalid) { in, sizeof(in) - 1, human, json, invalid }

static void nv_run_cases(const nv_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		nv_sb h = { 0 }, j = { 0 };
		int invalid;

		nv_escape_human(&h, c[i].in, c[i].n);
		assert_string_equal(nv_sb_str(&h), c[i].human);
		if (c[i].json) {
			invalid = nv_escape_json(&j, c[i].in, c[i].n);
			assert_string_equal(nv_sb_str(&j), c[i].json);
			assert_int_equal(invalid, c[i].invalid);
		}
		assert_int_equal(nv_utf8_valid(c[i].in, c[i].n), !c[i].invalid);
		nv_sb_free(&h);
		nv_sb_free(&j);
	}
}
#define RUN(cases) nv_run_cases(cases, sizeof(cases) / sizeof(cases[0]))

static void test_plain_text_unchanged(void **state)
{
	static const nv_case cases[] = {
		CASE("dir/fichier \xc3\xa9+1.txt", "dir/fichier \xc3\xa9+1.txt",
		     "\"dir/fichier \xc3\xa9+1.txt\"", 0),
		CASE("\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
		     NULL, 0),
		CASE("", "", "\"\"", 0),
	};

	(void)state;
	RUN(cases);
}

static void test_c0_controls(void **state)
{
	static const nv_case cases[] = {
		CASE("x\x1b]0;PWNED\a\nnavette: ok", "x\\x1b]0;PWNED\\x07\\x0anavette: ok",
		     "\"x\\u001b]0;PWNED\\u0007\\nnavette: ok\"", 0),
		CASE("\x01\x09\x0d\x1f", "\\x01\\x09\\x0d\\x1f", "\"\\u0001\\t\\r\\u001f\"", 0),
		CASE("a\0b", "a\\x00b", "\"a\\u0000b\"", 0),
		CASE("\b\f\x0b", "\\x08\\x0c\\x0b", "\"\\b\\f\\u000b\"", 0),
	};

	(void)state;
	RUN(cases);
}

static void test_del(void **state)
{
	static const nv_case cases[] = { CASE("a\x7f" "b", "a\\x7fb", "\"a\\u007fb\"", 0) };

	(void)state;
	RUN(cases);
}

static void test_c1_controls(void **state)
{
	static const nv_case cases[] = {
		/* U+009B (CSI) and U+0085 (NEL), as valid UTF-8 */
		CASE("a\xc2\x9b" "31mb\xc2\x85", "a\\u{9b}31mb\\u{85}", "\"a\\u009b31mb\\u0085\"", 0),
		/* U+00A0 is no control: kept */
		CASE("a\xc2\xa0" "b", "a\xc2\xa0" "b", "\"a\xc2\xa0" "b\"", 0),
	};

	(void)state;
	RUN(cases);
}

static void test_line_separators(void **state)
{
	static const nv_case cases[] = {
		CASE("a\xe2\x80\xa8" "b\xe2\x80\xa9", "a\\u{2028}b\\u{2029}", "\"a\\u2028b\\u2029\"", 0),
	};

	(void)state;
	RUN(cases);
}

static void test_bidi_controls(void **state)
{
	static const nv_case cases[] = {
		CASE("\xe2\x80\xaa\xe2\x80\xae" "evil", "\\u{202a}\\u{202e}evil",
		     "\"\\u202a\\u202eevil\"", 0),
		CASE("\xe2\x81\xa6\xe2\x81\xa9", "\\u{2066}\\u{2069}", "\"\\u2066\\u2069\"", 0),
		CASE("\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f", "\\u{61c}\\u{200e}\\u{200f}",
		     "\"\\u061c\\u200e\\u200f\"", 0),
		/* neighbours that are no bidi controls stay */
		CASE("\xe2\x80\xaf\xe2\x81\xa5", "\xe2\x80\xaf\xe2\x81\xa5", NULL, 0),
	};

	(void)state;
	RUN(cases);
}

static void test_invalid_utf8(void **state)
{
	static const nv_case cases[] = {
		CASE("bad\xff" "x", "bad\\xffx", "\"bad\\ufffdx\"", 1),
		CASE("\xc0\xaf", "\\xc0\\xaf", "\"\\ufffd\\ufffd\"", 1),          /* overlong '/' */
		CASE("\xed\xa0\x80", "\\xed\\xa0\\x80", NULL, 1),                 /* a surrogate */
		CASE("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", NULL, 1),        /* above U+10FFFF */
		CASE("\xe2\x80", "\\xe2\\x80", "\"\\ufffd\\ufffd\"", 1),          /* cut short */
		CASE("\xc3\xa9\xc3", "\xc3\xa9\\xc3", "\"\xc3\xa9\\ufffd\"", 1),
	};

	(void)state;
	RUN(cases);
}

static void test_backslash(void **state)
{
	static const nv_case cases[] = {
		/* a literal "\x1b" in a name cannot pass for an escape */
		CASE("a\\x1b", "a\\\\x1b", "\"a\\\\x1b\"", 0),
		CASE("a\\\"b", "a\\\\\"b", "\"a\\\\\\\"b\"", 0),
	};

	(void)state;
	RUN(cases);
}

static void test_json_field_hex(void **state)
{
	nv_sb b = { 0 };

	(void)state;
	nv_json_member(&b, "path", "ok");
	nv_json_field(&b, "path", "a\xff");
	assert_string_equal(nv_sb_str(&b),
			    "\"path\":\"ok\",\"path\":\"a\\ufffd\",\"path_hex\":\"61ff\"");
	nv_sb_free(&b);
}

/* Runs fn with stderr sent to a file; returns what it wrote. */
static char *nv_capture(void (*fn)(void))
{
	char path[] = "/tmp/nv-test-escape.XXXXXX", *out;
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	long n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	out = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return out;
}

/* nv_capture with the log in its JSON form. */
static char *nv_capture_json(void (*fn)(void))
{
	char *out;

	nv_log_setup(1, 0);
	out = nv_capture(fn);
	nv_log_setup(0, 0);
	return out;
}

static void nv_emit_hostile(void)
{
	nv_log_item(NV_LOG_ERROR, "failed", "x\x1b]0;PWNED\a\nnavette: all fine\xff",
		    "no \xe2\x80\xae way");
	nv_log(NV_LOG_WARN, "key '%s' refused", "a\nb");
}

static void test_log_human(void **state)
{
	char *out;

	(void)state;
	nv_log_setup(0, 0);
	out = nv_capture(nv_emit_hostile);
	assert_string_equal(out, "failed x\\x1b]0;PWNED\\x07\\x0anavette: all fine\\xff: "
				 "no \\u{202e} way\n"
				 "navette: warning: key 'a\\x0ab' refused\n");
	free(out);
}

static void test_log_json(void **state)
{
	char *out, *second;

	(void)state;
	out = nv_capture_json(nv_emit_hostile);
	second = strchr(out, '\n') + 1;
	assert_non_null(strstr(out, "\"event\":\"item\",\"action\":\"failed\",\"path\":"
				    "\"x\\u001b]0;PWNED\\u0007\\nnavette: all fine\\ufffd\","
				    "\"path_hex\":\"781b5d303b50574e45440"
				    "70a6e6176657474653a20616c6c2066696e65ff\","
				    "\"reason\":\"no \\u202e way\"}\n"));
	assert_true(strncmp(out, "{\"v\":1,\"time\":\"", 15) == 0);
	assert_non_null(strstr(second, "\"level\":\"warning\",\"event\":\"message\","
				       "\"msg\":\"key 'a\\nb' refused\"}\n"));
	free(out);
}

static void nv_emit_run(void)
{
	static const char *const locs[] = { "sftp://host:22/dir", "caf\xc3\xa9\n" };
	nv_log_field x[] = { NV_LF_U("unchanged", 7) };
	nv_summary s = { .files = 3, .bytes = 42, .failed = 1, .deleted = 2, .seconds = 1.5,
			 .generation = -1, .exit_code = 3, .extra = x, .n_extra = 1 };

	nv_log_start("sync", locs, 2);
	nv_log_summary(NV_LOG_NOTICE, &s, "3 copied");
	nv_log_finish(3); /* a summary was written: none more */
}

static void test_log_start_summary(void **state)
{
	char *out;

	(void)state;
	out = nv_capture_json(nv_emit_run);
	assert_non_null(strstr(out, "\"event\":\"start\",\"command\":\"sync\","));
	assert_non_null(strstr(out, "\"locations\":[\"sftp://host:22/dir\",\"caf\xc3\xa9\\n\"]"));
	assert_non_null(strstr(out, "\"event\":\"summary\",\"command\":\"sync\",\"files\":3,"
				    "\"bytes\":42,\"failed\":1,\"deleted\":2,\"duration\":1.500,"
				    "\"generation\":null,\"exit\":3,\"peak_buffer_bytes\":0,"
				    "\"unchanged\":7,"
				    "\"msg\":\"3 copied\"}\n"));
	/* one summary, and it is the last line */
	assert_ptr_equal(strstr(out, "\"event\":\"summary\""),
			 strstr(strrchr(out, '{'), "\"event\":\"summary\""));
	free(out);
}

static void nv_emit_nothing_then_finish(void)
{
	nv_log_start("ls", NULL, 0);
	nv_log_finish(2);
}

static void test_log_finish_adds_summary(void **state)
{
	char *out;

	(void)state;
	out = nv_capture_json(nv_emit_nothing_then_finish);
	assert_non_null(strstr(out, "\"level\":\"error\",\"event\":\"summary\",\"command\":\"ls\","
				    "\"files\":0,"));
	assert_non_null(strstr(out, "\"generation\":null,\"exit\":2,\"peak_buffer_bytes\":0}\n"));
	free(out);
	/* human: nothing of the kind */
	out = nv_capture(nv_emit_nothing_then_finish);
	assert_string_equal(out, "");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_c0_controls),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_c1_controls),
		cmocka_unit_test(test_line_separators),
		cmocka_unit_test(test_bidi_controls),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_backslash),
		cmocka_unit_test(test_json_field_hex),
		cmocka_unit_test(test_log_human),
		cmocka_unit_test(test_log_json),
		cmocka_unit_test(test_log_start_summary),
		cmocka_unit_test(test_log_finish_adds_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
