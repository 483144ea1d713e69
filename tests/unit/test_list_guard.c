/* test_list_guard.c: unit tests of the listing guard (drivers/list_guard.c): a
 * repeated token, a run of empty truncated pages and keys that do not advance
 * stop a listing; real listings (ordered or not, a few empty pages) go on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/list_guard.h"
#include "util/error.h"

/* One page: its keys (NULL-terminated), then the page's end. */
static int page(nv_list_guard *g, const char *const *keys, int truncated, const char *token)
{
	for (; *keys; keys++)
		if (nv_list_guard_key(g, *keys, strlen(*keys)))
			return NV_ERR;
	return nv_list_guard_page(g, truncated, token, "s3: listing s3://b/p at h:9");
}

static void test_real_listing(void **state)
{
	static const char *const p1[] = { "a", "b", NULL }, *const p2[] = { "c", NULL },
				 *const none[] = { NULL }, *const p3[] = { "d", "e", NULL };
	nv_list_guard g;
	int ordered;

	(void)state;
	for (ordered = 0; ordered < 2; ordered++) {
		nv_list_guard_init(&g, ordered);
		assert_int_equal(page(&g, p1, 1, "t1"), 0);
		assert_int_equal(page(&g, p2, 1, "t2"), 0);
		/* Azure may answer pages without a blob and a NextMarker. */
		assert_int_equal(page(&g, none, 1, "t3"), 0);
		assert_int_equal(page(&g, none, 1, "t4"), 0);
		assert_int_equal(page(&g, p3, 0, NULL), 0);
		nv_list_guard_free(&g);
	}
}

static void test_repeated_token(void **state)
{
	static const char *const p1[] = { "a", NULL }, *const p2[] = { "b", NULL },
				 *const p3[] = { "c", NULL };
	nv_list_guard g;

	(void)state;
	nv_list_guard_init(&g, 1);
	assert_int_equal(page(&g, p1, 1, "same"), 0);
	assert_int_equal(page(&g, p2, 1, "other"), 0);
	/* A cycle of two tokens is caught too, not only the one just sent. */
	assert_int_equal(page(&g, p3, 1, "same"), NV_ERR);
	assert_non_null(strstr(nv_error_msg(), "s3: listing s3://b/p at h:9: page 3 hands back "
					       "the continuation token 'same'"));
	assert_non_null(strstr(nv_error_msg(), "page forever"));
	nv_list_guard_free(&g);
}

static void test_empty_run(void **state)
{
	static const char *const none[] = { NULL };
	nv_list_guard g;
	char tok[16];
	unsigned i;

	(void)state;
	nv_list_guard_init(&g, 1);
	for (i = 1; i < NV_LIST_IDLE_MAX; i++) {
		snprintf(tok, sizeof(tok), "t%u", i);
		assert_int_equal(page(&g, none, 1, tok), 0);
	}
	assert_int_equal(page(&g, none, 1, "last"), NV_ERR);
	assert_non_null(strstr(nv_error_msg(), "100 pages in a row hold no key"));
	nv_list_guard_free(&g);
}

static void test_keys_do_not_advance(void **state)
{
	static const char *const p1[] = { "a", "b", NULL }, *const same[] = { "a", "b", NULL },
				 *const back[] = { "a", NULL }, *const p2[] = { "c", NULL };
	nv_list_guard g;

	(void)state;
	/* Ordered: a page ending where the previous one ended, or before. */
	nv_list_guard_init(&g, 1);
	assert_int_equal(page(&g, p1, 1, "t1"), 0);
	assert_int_equal(page(&g, same, 1, "t2"), NV_ERR);
	assert_non_null(strstr(nv_error_msg(), "page 2 lists no key past the previous pages'"));
	nv_list_guard_free(&g);
	nv_list_guard_init(&g, 1);
	assert_int_equal(page(&g, p1, 1, "t1"), 0);
	assert_int_equal(page(&g, back, 1, "t2"), NV_ERR);
	nv_list_guard_free(&g);
	/* Unordered (list_sort): a page of keys all listed before. */
	nv_list_guard_init(&g, 0);
	assert_int_equal(page(&g, p2, 1, "t1"), 0);
	assert_int_equal(page(&g, p1, 1, "t2"), 0); /* earlier in byte order: fine here */
	assert_int_equal(page(&g, same, 1, "t3"), NV_ERR);
	nv_list_guard_free(&g);
}

static void test_many_keys(void **state)
{
	nv_list_guard g;
	char key[32];
	unsigned i, pg;

	(void)state;
	/* The key set grows past its first size and keeps every key apart. */
	nv_list_guard_init(&g, 0);
	for (pg = 0; pg < 20; pg++) {
		for (i = 0; i < 1000; i++) {
			snprintf(key, sizeof(key), "k%u/%u", pg, i);
			assert_int_equal(nv_list_guard_key(&g, key, strlen(key)), 0);
		}
		snprintf(key, sizeof(key), "t%u", pg);
		assert_int_equal(nv_list_guard_page(&g, 1, key, "x"), 0);
	}
	assert_int_equal(g.keys.n, 20000);
	nv_list_guard_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_listing),  cmocka_unit_test(test_repeated_token),
		cmocka_unit_test(test_empty_run),     cmocka_unit_test(test_keys_do_not_advance),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
