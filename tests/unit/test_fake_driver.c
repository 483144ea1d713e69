/* test_fake_driver.c: the unit tests' in-memory store (fake_driver.h) keeps
 * the driver contract the engine and vault tests rely on: byte-order listing
 * by prefix, ranged reads, exclusive writes, kept mtime and mode, removal in
 * batches, separate stores by name, the call counts, and which driver
 * interface versions load with which slots. Through nv_drv_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fake_driver.h"

static int put(nv_store *s, const char *key, const char *text, unsigned flags)
{
	nv_write_opts o = { .size = (int64_t)strlen(text), .mtime_sec = 77, .mode = 0600,
			    .flags = flags | NV_WRITE_HAS_MTIME | NV_WRITE_HAS_MODE };
	nv_commit_info ci;
	nv_wstream *w;
	int rc;

	assert_int_equal(nv_drv_write_open(&w, s, key, &o), 0);
	assert_int_equal(nv_drv_write(w, text, strlen(text)), 0);
	rc = nv_drv_write_commit(w, &ci);
	if (!rc)
		assert_int_equal(ci.size, strlen(text));
	return rc;
}

static void test_contract(void **state)
{
	nv_fake *f = nv_fake_new("one"), *g = nv_fake_new("two");
	char buf[16], listed[64] = "";
	nv_lister *l;
	nv_store *s;
	nv_entry e;
	size_t got;

	(void)state;
	assert_int_equal(nv_drv_open(&s, nv_fake_location(f)), 0);
	assert_int_equal(put(s, "b/x", "hello world", 0), 0);
	assert_int_equal(put(s, "b-y", "z", 0), 0);
	assert_int_equal(put(s, "a", "first", 0), 0);
	assert_int_equal(put(s, "a", "again", NV_WRITE_EXCLUSIVE), NV_EEXISTS);
	assert_int_equal(put(s, "c", "new", NV_WRITE_EXCLUSIVE), 0);
	assert_int_equal(nv_fake_keys(g, ""), 0); /* another name, another store */
	/* byte order ('-' < '/'), and a prefix */
	assert_int_equal(nv_drv_list_open(&l, s, ""), 0);
	while (nv_drv_list_next(l, &e) == 0)
		strcat(strcat(listed, e.key), " ");
	nv_drv_list_close(l);
	assert_string_equal(listed, "a b-y b/x c ");
	assert_int_equal(nv_drv_list_open(&l, s, "b/"), 0);
	assert_int_equal(nv_drv_list_next(l, &e), 0);
	assert_string_equal(e.key, "b/x");
	assert_int_equal(nv_drv_list_next(l, &e), NV_EOF);
	nv_drv_list_close(l);
	/* stat keeps what the writer gave; ranged reads */
	assert_int_equal(nv_drv_stat(s, "a", &e), 0);
	assert_int_equal(e.size, 5);
	assert_int_equal(e.mtime_sec, 77);
	assert_int_equal(e.mode, 0600);
	assert_int_equal(nv_drv_stat(s, "nope", &e), NV_ENOTFOUND);
	assert_int_equal(nv_drv_read(s, "b/x", 6, buf, sizeof(buf), &got), 0);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "world", 5);
	assert_int_equal(nv_drv_read(s, "b/x", 2, buf, 3, &got), 0);
	assert_memory_equal(buf, "llo", 3);
	assert_int_equal(nv_drv_read(s, "b/x", 11, buf, 3, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(nv_drv_read(s, "nope", 0, buf, 3, &got), NV_ENOTFOUND);
	/* counts by slot and key */
	assert_int_equal(nv_fake_calls(f, NV_FAKE_COMMIT, ""), 5);
	assert_int_equal(nv_fake_key_calls(f, NV_FAKE_COMMIT, "a"), 2);
	assert_int_equal(nv_fake_calls(f, NV_FAKE_READ, "b/"), 3);
	assert_int_equal(nv_fake_calls(f, NV_FAKE_LIST, ""), 2);
	assert_int_equal(nv_fake_calls(f, NV_FAKE_OPEN, ""), 1);
	nv_drv_close(s);
	nv_fake_free(f);
	nv_fake_free(g);
}

static void test_removal_and_disorder(void **state)
{
	static const char *const keys[] = { "k1", "k2", "k3", "k4", "k5" };
	static const char *const order[] = { "k3", "k1", "k3", "gone", NULL };
	nv_fake *f = nv_fake_new("rm");
	char listed[64] = "";
	int res[5];
	nv_lister *l;
	nv_store *s;
	nv_entry e;

	(void)state;
	for (int i = 0; i < 5; i++)
		nv_fake_put_str(f, keys[i], keys[i]);
	nv_fake_disorder(f, order);
	nv_fake_set_batch(f, 2);
	assert_int_equal(nv_drv_open(&s, nv_fake_location(f)), 0);
	assert_int_equal(nv_drv_list_open(&l, s, ""), 0);
	while (nv_drv_list_next(l, &e) == 0)
		strcat(strcat(listed, e.key), " ");
	nv_drv_list_close(l);
	assert_string_equal(listed, "k3 k1 k3 "); /* as told, absent keys left out */
	assert_int_equal(nv_drv_remove_many(s, keys, 4, res, NULL), 0);
	assert_int_equal(nv_fake_calls(f, NV_FAKE_REMOVE_MANY, ""), 2);
	assert_int_equal(nv_fake_keys(f, ""), 1);
	assert_int_equal(nv_drv_remove(s, "k5"), 0);
	assert_int_equal(nv_drv_remove(s, "k5"), 0); /* a missing key is no error */
	assert_int_equal(nv_fake_keys(f, ""), 0);
	nv_drv_close(s);
	nv_fake_free(f);
}

/* Driver interface version 3 added ctime and inode to nv_entry: a driver
 * built for version 2 still loads, and what it never fills reads as absent
 * (driver.c clears every entry first); a driver from the future is refused. */
static void test_older_driver_loads(void **state)
{
	nv_fake *f = nv_fake_new("v2");
	nv_driver v2 = *nv_fake_location(f)->driver, v9;
	nv_location loc = *nv_fake_location(f);
	nv_lister *l;
	nv_store *s;
	nv_entry e;

	(void)state;
	nv_fake_put_str(f, "a", "x");
	v2.version = 2;
	loc.driver = &v2;
	assert_int_equal(nv_drv_open(&s, &loc), 0);
	memset(&e, 0xa5, sizeof(e)); /* what a caller's stack may hold */
	assert_int_equal(nv_drv_list_open(&l, s, ""), 0);
	assert_int_equal(nv_drv_list_next(l, &e), 0);
	assert_string_equal(e.key, "a");
	assert_int_equal(e.flags & (NV_ENTRY_HAS_CTIME | NV_ENTRY_HAS_INODE), 0);
	assert_int_equal(e.ctime_sec, 0);
	assert_int_equal(e.inode, 0);
	nv_drv_list_close(l);
	memset(&e, 0xa5, sizeof(e));
	assert_int_equal(nv_drv_stat(s, "a", &e), 0);
	assert_int_equal(e.inode, 0);
	nv_drv_close(s);
	v9 = v2;
	v9.version = NV_DRIVER_VERSION + 1;
	loc.driver = &v9;
	assert_int_not_equal(nv_drv_open(&s, &loc), 0);
	nv_fake_free(f);
}

/* Version 5 added write_retarget: a version 4 table (leftovers slots, no
 * retarget) still loads, and driver.c never reads the newer slot from it,
 * even where the memory behind the table holds one; from a version 5 table
 * it moves an open write to another key, checked as every key is. */
static void test_v4_driver_no_retarget(void **state)
{
	nv_fake *f = nv_fake_new("v4");
	nv_driver v4 = *nv_fake_location(f)->driver;
	nv_location loc = *nv_fake_location(f);
	nv_write_opts o = { .size = 1 };
	nv_wstream *w;
	nv_store *s;
	char buf[4];
	size_t got;

	(void)state;
	assert_non_null(v4.write_retarget); /* the fake's own table is the current one */
	v4.version = 4;
	loc.driver = &v4;
	assert_int_equal(nv_drv_open(&s, &loc), 0);
	assert_int_equal(nv_drv_can_retarget(s), 0);
	assert_int_equal(nv_drv_write_open(&w, s, "a", &o), 0);
	assert_int_equal(nv_drv_write_retarget(w, "b"), NV_ENOTSUP);
	assert_int_equal(nv_drv_write(w, "x", 1), 0);
	assert_int_equal(nv_drv_write_commit(w, NULL), 0); /* under the key it was opened with */
	assert_int_equal(nv_drv_read(s, "a", 0, buf, sizeof(buf), &got), 0);
	assert_int_equal(nv_fake_keys(f, ""), 1);
	nv_drv_close(s);

	assert_int_equal(nv_drv_open(&s, nv_fake_location(f)), 0);
	assert_int_equal(nv_drv_can_retarget(s), 1);
	assert_int_equal(nv_drv_write_open(&w, s, "c", &o), 0);
	assert_int_equal(nv_drv_write_retarget(w, "../d"), NV_EINVAL);
	assert_int_equal(nv_drv_write_retarget(w, "d"), 0);
	assert_int_equal(nv_drv_write(w, "y", 1), 0);
	assert_int_equal(nv_drv_write_commit(w, NULL), 0);
	assert_int_equal(nv_drv_read(s, "d", 0, buf, sizeof(buf), &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(nv_fake_keys(f, ""), 2); /* a and d: nothing under c */
	nv_drv_close(s);
	nv_fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract),
		cmocka_unit_test(test_removal_and_disorder),
		cmocka_unit_test(test_older_driver_loads),
		cmocka_unit_test(test_v4_driver_no_retarget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
