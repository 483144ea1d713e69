/* test_walk.c: drivers/walk.c on a tree described in a table (the callbacks
 * are the test's): global byte order, what is skipped, file data, errors, and
 * that every directory handle is released. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../drivers/walk.h"

/* One directory of the fake tree: its names, "d:" for a directory, "f:" for a
 * file, "x:" for a name the driver hands over that the walk must drop. */
struct fake_dir {
	const char *prefix;
	const char *names[8];
};

static const struct fake_dir fake_tree[] = {
	{ "", { "f:a0", "d:a", "f:a-b", "x:.", "x:..", "x:", "d:gone", "f:z" } },
	{ "a/", { "f:c", "d:d", "f:b" } },
	{ "a/d/", { "f:e" } },
	{ "empty/", { NULL } },
	/* "gone/" is missing: listed by its parent, gone when entered */
	{ "bad/", { "d:eperm", "f:after" } },
};

struct fake {
	int opened, released;
	int fail_file;          /* ops->file fails on a key named "a/b" */
	char keys[512];
};

static const struct fake_dir *fake_find(const char *prefix)
{
	for (size_t i = 0; i < sizeof(fake_tree) / sizeof(fake_tree[0]); i++)
		if (!strcmp(fake_tree[i].prefix, prefix))
			return &fake_tree[i];
	return NULL;
}

static int fake_list(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
		     const char *name, intptr_t *handle)
{
	struct fake *f = ctx;
	const struct fake_dir *dir;
	int rc;

	if (name && !strcmp(name, "eperm"))
		return nv_error_set(NV_EPERM, "%s: permission denied", prefix);
	if (!(dir = fake_find(prefix)))
		return nv_error_set(NV_ENOTFOUND, "%s: no such directory", prefix);
	assert_true(name ? parent > 0 : parent == 0);
	for (size_t i = 0; i < 8 && dir->names[i]; i++) {
		const char *n = dir->names[i];
		uint64_t size = strlen(n) * 100; /* the file data: checked in fake_file */

		rc = nv_walk_add(d, n + 2, n[0] == 'd' ? NV_WALK_DIR : NV_WALK_FILE,
				 n[0] == 'd' ? NULL : &size);
		if (rc)
			return rc;
	}
	*handle = ++f->opened;
	return 0;
}

static int fake_file(void *ctx, intptr_t dir, const char *name, const char *key,
		     const void *data, nv_entry *out)
{
	struct fake *f = ctx;

	assert_true(dir > 0);
	assert_int_equal((uintptr_t)data % sizeof(uint64_t), 0); /* aligned */
	assert_int_equal(*(const uint64_t *)data, (strlen(name) + 2) * 100);
	assert_non_null(strstr(key, name));
	if (f->fail_file && !strcmp(key, "a/b"))
		return nv_error_set(NV_EIO, "%s: I/O error", key);
	if (!strcmp(name, "z"))
		return 1; /* the driver skips it (gone since listed) */
	out->size = *(const uint64_t *)data;
	return 0;
}

static void fake_release(void *ctx, intptr_t handle)
{
	struct fake *f = ctx;

	assert_true(handle > 0);
	f->released++;
}

static const nv_walk_ops fake_ops = {
	.file_data = sizeof(uint64_t),
	.list = fake_list,
	.file = fake_file,
	.release = fake_release,
};

/* Walks from prefix; the keys joined by ' ' in f->keys; the last rc. */
static int walk_all(struct fake *f, const char *prefix)
{
	nv_walk *w;
	nv_entry e;
	int rc;

	f->keys[0] = '\0';
	if ((rc = nv_walk_open(&w, &fake_ops, f, prefix)))
		return rc;
	while ((rc = nv_walk_next(w, &e)) == 0) {
		if (f->keys[0])
			strcat(f->keys, " ");
		strcat(f->keys, e.key);
	}
	nv_walk_close(w);
	return rc;
}

static void test_order_and_skips(void **state)
{
	struct fake f = { 0 };

	(void)state;
	assert_int_equal(walk_all(&f, ""), NV_EOF);
	/* a-b < a/b < a/c < a/d/e < a0: a directory sorts as "name/"; ".", "..",
	 * "" dropped; "gone/" skipped (NV_ENOTFOUND); "z" skipped by the driver. */
	assert_string_equal(f.keys, "a-b a/b a/c a/d/e a0");
	assert_int_equal(f.opened, 3);
	assert_int_equal(f.released, f.opened);
}

static void test_prefix(void **state)
{
	struct fake f = { 0 };
	nv_walk *w;
	nv_entry e;

	(void)state;
	assert_int_equal(walk_all(&f, "a/"), NV_EOF);
	assert_string_equal(f.keys, "a/b a/c a/d/e");
	assert_int_equal(walk_all(&f, "empty/"), NV_EOF);
	assert_string_equal(f.keys, "");
	/* The first directory's NV_ENOTFOUND is the caller's to judge. */
	assert_int_equal(nv_walk_open(&w, &fake_ops, &f, "nowhere/"), NV_ENOTFOUND);
	assert_null(w);
	assert_int_equal(nv_walk_empty(&w), 0);
	assert_int_equal(nv_walk_next(w, &e), NV_EOF);
	nv_walk_close(w);
	nv_walk_close(NULL);
	assert_int_equal(f.released, f.opened);
}

/* A failing directory or file ends that call with its error; the walk goes on
 * after it when called again, and a close midway releases every handle. */
static void test_errors(void **state)
{
	struct fake f = { .fail_file = 1 };
	nv_walk *w;
	nv_entry e;

	(void)state;
	assert_int_equal(nv_walk_open(&w, &fake_ops, &f, "bad/"), 0);
	assert_int_equal(nv_walk_next(w, &e), 0);
	assert_string_equal(e.key, "bad/after");
	assert_int_equal(nv_walk_next(w, &e), NV_EPERM);
	assert_non_null(strstr(nv_error_msg(), "bad/eperm/"));
	assert_int_equal(nv_walk_next(w, &e), NV_EOF);
	nv_walk_close(w);
	assert_int_equal(nv_walk_open(&w, &fake_ops, &f, ""), 0);
	assert_int_equal(nv_walk_next(w, &e), 0);
	assert_string_equal(e.key, "a-b");
	assert_int_equal(nv_walk_next(w, &e), NV_EIO); /* a/b */
	assert_int_equal(nv_walk_next(w, &e), 0);
	assert_string_equal(e.key, "a/c");
	nv_walk_close(w); /* with "" and "a/" open */
	assert_int_equal(f.released, f.opened);
}

/* Enough names to grow a directory's records many times over, and directory
 * names long enough to grow the key buffer: 300 files "000...0", "000...1", ...
 * (100 digits) per directory, then one subdirectory of 200 'd's per level,
 * until the prefix passes 1500 bytes (7 levels below the first). */
static int wide_list(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
		     const char *name, intptr_t *handle)
{
	char n[256];
	uint64_t v;
	int rc;

	(void)ctx;
	(void)parent;
	(void)handle;
	if (strlen(prefix) > 1500)
		return 0;
	for (int i = 299; i >= 0; i--) {
		snprintf(n, sizeof(n), "%0100d", i);
		v = (uint64_t)i;
		/* At the top, "000...0" is a directory: it sorts before "000...1". */
		if ((rc = nv_walk_add(d, n, name || i ? NV_WALK_FILE : NV_WALK_DIR, &v)))
			return rc;
	}
	if (!name)
		return 0;
	memset(n, 'd', 200);
	n[200] = '\0';
	return nv_walk_add(d, n, NV_WALK_DIR, NULL);
}

static int wide_file(void *ctx, intptr_t dir, const char *name, const char *key,
		     const void *data, nv_entry *out)
{
	(void)ctx;
	(void)dir;
	(void)key;
	assert_int_equal(*(const uint64_t *)data, (uint64_t)atoi(name));
	out->size = *(const uint64_t *)data;
	return 0;
}

static void test_wide_and_deep(void **state)
{
	static const nv_walk_ops ops = { .file_data = sizeof(uint64_t), .list = wide_list,
					 .file = wide_file };
	uint64_t files = 0, top = 0;
	nv_walk *w;
	nv_entry e;
	int rc;

	(void)state;
	assert_int_equal(nv_walk_open(&w, &ops, NULL, ""), 0);
	while ((rc = nv_walk_next(w, &e)) == 0) {
		files++;
		if (!strchr(e.key, '/')) /* the top's files come last, in order */
			assert_int_equal(e.size, ++top);
	}
	assert_int_equal(rc, NV_EOF);
	nv_walk_close(w);
	assert_int_equal(top, 299);
	assert_int_equal(files, 299 + 7 * 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_skips),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_wide_and_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
