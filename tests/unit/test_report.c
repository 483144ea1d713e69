/* test_report.c: the engine's report (engine/report.h) between two in-memory
 * fake stores: a copy's report feeds check --hashes-from, which then reads
 * no unchanged source file; a line per file and a summary that counts them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/report.h"
#include "engine_fx.h"
#include "fake_driver.h"

static char path[256];

/* Runs x with a report written to path; the run's exit code. */
static int run_reported(fx *x, const char *command)
{
	nv_report_head h = { .command = command, .compare = "files",
			     .source = nv_fake_location(x->src),
			     .destination = nv_fake_location(x->dst) };
	nv_report *r;
	int code;

	assert_int_equal(nv_report_open(&r, path, &h), 0);
	x->o.report = r;
	code = fx_run(x);
	x->o.report = NULL;
	assert_int_equal(nv_report_close(r, code, 0, NULL), 0);
	return code;
}

/* Lines of the report holding needle. */
static int count_lines(const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void test_hashes_from_spare_the_source(void **state)
{
	fx *x = *state;
	nv_hashbook *book;

	snprintf(path, sizeof(path), "%s/navette-test-report.%d.jsonl",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	fx_put_files(x->src, "f", 8);
	x->o.mode = NV_ENGINE_COPY;
	assert_int_equal(run_reported(x, "copy"), 0);
	assert_int_equal(count_lines("\"verdict\":\"copied\""), 8);
	assert_int_equal(count_lines("\"type\":\"summary\""), 1);
	assert_int_equal(nv_hashbook_load(&book, path, nv_fake_location(x->src)), 0);
	assert_int_equal(nv_hashbook_count(book), 8);
	/* another source's report is refused */
	assert_int_equal(nv_hashbook_load(&(nv_hashbook *){ NULL }, path,
					  nv_fake_location(x->dst)), NV_EINVAL);

	/* one source file changed since (another mtime): read again, the rest not */
	nv_fake_put(x->src, "f03", "contents of f03", 15, 2000);
	nv_fake_put(x->dst, "f03", "contents of f03", 15, 2000);
	nv_fake_reset_calls(x->src);
	nv_fake_reset_calls(x->dst);
	x->o.mode = NV_ENGINE_CHECK;
	x->o.recorded = book;
	assert_int_equal(run_reported(x, "check"), 0);
	assert_int_equal(x->st.identical, 8);
	assert_int_equal(nv_fake_calls(x->src, NV_FAKE_READ, ""), 1);
	assert_int_equal(nv_fake_key_calls(x->src, NV_FAKE_READ, "f03"), 1);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_READ, ""), 8);
	assert_int_equal(count_lines("\"how\":\"recorded\""), 7);
	assert_int_equal(count_lines("\"result\":\"identical\""), 1);

	/* a destination that differs from the recorded hash: differ */
	nv_fake_flip(x->dst, "f05", 2);
	assert_int_equal(run_reported(x, "check"), 1);
	assert_int_equal(count_lines("\"verdict\":\"differ\""), 1);
	assert_int_equal(count_lines("\"result\":\"differ\""), 1);
	x->o.recorded = NULL;
	nv_hashbook_free(book);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hashes_from_spare_the_source, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
