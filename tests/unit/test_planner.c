/* test_planner.c: planner decisions and the merge-join, including its refusal
 * of unsorted input (engine/planner.c, engine/lister.c), over the in-memory
 * fake driver (fake_driver.h; its disorder mode serves keys out of order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "engine/planner.h"
#include "fake_driver.h"

typedef struct seen {
	char log[512];
} seen;

static int record(void *ctx, nv_action act, const char *key, const nv_entry *s,
		  const nv_entry *d)
{
	seen *sn = ctx;
	static const char codes[] = "SCHTDX";

	(void)s;
	(void)d;
	size_t n = strlen(sn->log);
	snprintf(sn->log + n, sizeof(sn->log) - n, "%c:%s ", codes[act], key);
	return 0;
}

/* A store holding keys, each with its own name as contents and mtime 1000;
 * listed in the order given when disorder is set, else in byte order. */
static nv_fake *store(const char *name, const char *const *keys, int disorder)
{
	nv_fake *f = nv_fake_new(name);

	for (size_t i = 0; keys[i]; i++)
		nv_fake_put_str(f, keys[i], keys[i]);
	if (disorder)
		nv_fake_disorder(f, keys);
	return f;
}

/* Plans src_keys against dst_keys; with disorder, both are listed as given. */
static int run(const char *const *src_keys, const char *const *dst_keys, int disorder,
	       const nv_plan_rules *r, seen *sn)
{
	nv_fake *fs = store("src", src_keys, disorder), *fd = store("dst", dst_keys, disorder);
	nv_store *a, *b;
	nv_sorted *sa, *sb;
	int rc;

	memset(sn, 0, sizeof(*sn));
	assert_int_equal(nv_drv_open(&a, nv_fake_location(fs)), 0);
	assert_int_equal(nv_drv_open(&b, nv_fake_location(fd)), 0);
	assert_int_equal(nv_sorted_open(&sa, a, "", 0), 0);
	assert_int_equal(nv_sorted_open(&sb, b, "", 0), 0);
	rc = nv_plan_run(sa, sb, r, record, sn);
	nv_sorted_close(sa);
	nv_sorted_close(sb);
	nv_drv_close(a);
	nv_drv_close(b);
	nv_fake_free(fs);
	nv_fake_free(fd);
	return rc;
}

static void test_decide(void **state)
{
	nv_plan_rules r = { .copying = 1 };
	nv_entry s = { .size = 5, .mtime_sec = 10, .mtime_nsec = 5, .flags = NV_ENTRY_HAS_MTIME };
	nv_entry d = s;

	(void)state;
	assert_int_equal(nv_plan_decide(&r, &s, NULL), NV_ACT_COPY);
	assert_int_equal(nv_plan_decide(&r, NULL, &d), NV_ACT_EXTRA);
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_SKIP);
	d.mtime_nsec = 0; /* a store keeping whole seconds only */
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_SKIP);
	d.mtime_sec = 11;
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_COPY);
	d = s;
	d.size = 6;
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_COPY);
	d = s;
	d.flags = 0; /* no mtime in the destination listing */
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_STAT);
	/* a source time out of range was not applied to the copy: size decides */
	d = s;
	s.mtime_sec = INT64_MAX;
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_SKIP);
	s.mtime_sec = 253402300800; /* year 10000 */
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_SKIP);
	d.size = 6;
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_COPY);
	s.mtime_sec = 10;
	r.checksum = 1;
	assert_int_equal(nv_plan_decide(&r, &s, &s), NV_ACT_HASH);
	r.deleting = 1;
	assert_int_equal(nv_plan_decide(&r, NULL, &d), NV_ACT_DELETE);
}

static void test_merge(void **state)
{
	static const char *const src[] = { "a-b", "a/c", "a0", "z", NULL };
	static const char *const dst[] = { "a/c", "b", "z", NULL };
	nv_plan_rules r = { .copying = 1, .deleting = 1 };
	seen sn;

	(void)state;
	assert_int_equal(run(src, dst, 0, &r, &sn), 0);
	assert_string_equal(sn.log, "C:a-b S:a/c C:a0 D:b S:z ");
}

static void test_disorder_aborts(void **state)
{
	/* Sorting per directory would give this order; byte order puts a/c first. */
	static const char *const src[] = { "a-b", "a0", "a/c", NULL };
	static const char *const dst[] = { "a/c", "x", NULL };
	static const char *const dup[] = { "a", "a", NULL };
	nv_plan_rules r = { .copying = 1, .deleting = 1 };
	seen sn;

	(void)state;
	assert_int_equal(run(src, dst, 1, &r, &sn), NV_ERR);
	assert_non_null(strstr(nv_error_msg(), "not in byte order"));
	/* The merge had already called a/c destination-only before the disorder
	 * showed: which is why the engine defers every deletion to the end of a
	 * clean pass (test_engine.c: test_never_deletes_on_disorder). */
	assert_non_null(strstr(sn.log, "D:a/c"));
	assert_int_equal(run(dup, dst, 1, &r, &sn), NV_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_disorder_aborts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
