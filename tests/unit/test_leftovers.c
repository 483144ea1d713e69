/* test_leftovers.c: the names of temporary files (driver/tmpname.h), the local
 * driver's leftovers slots (exact names only, nested locations left out, a
 * live writer's lock respected) and the clean-up's rule (engine/leftovers.h)
 * with and without the lease. Run by make check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "driver/driver.h"
#include "driver/tmpname.h"
#include "engine/lease.h"
#include "engine/leftovers.h"
#include "util/config.h"

#define OTHER "0123456789abcdef" /* another run's id */

struct fx {
	char dir[256];
	char root[300];
	nv_config *cfg;
	nv_location *loc;
	nv_store *s;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	char state_dir[400];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/nv-test-leftovers.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", f->dir);
	setenv("NAVETTE_STATE_DIR", state_dir, 1);
	assert_int_equal(mkdir(f->root, 0755), 0);
	f->cfg = nv_config_new();
	assert_int_equal(nv_location_parse(&f->loc, f->root, f->cfg), 0);
	/* Leftovers are named temp files: the writers here make those (a write
	 * to an O_TMPFILE, the default where it works, leaves nothing). */
	setenv("NAVETTE_LOCAL_NO_TMPFILE", "1", 1);
	assert_int_equal(nv_drv_open(&f->s, f->loc), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	nv_drv_close(f->s);
	nv_location_free(f->loc);
	nv_config_free(f->cfg);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	unsetenv("NAVETTE_TEMP_MAX_AGE");
	unsetenv("NAVETTE_LOCAL_NO_TMPFILE");
	return 0;
}

static const char *at(struct fx *f, const char *rel)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s/%s", f->root, rel);
	return buf;
}

/* Writes rel under the root (its directory made), size bytes. */
static void put(struct fx *f, const char *rel, size_t size)
{
	char path[1024], *slash;
	FILE *fp;

	snprintf(path, sizeof(path), "%s", at(f, rel));
	for (slash = strchr(path + strlen(f->root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	assert_non_null(fp = fopen(path, "w"));
	for (size_t i = 0; i < size; i++)
		fputc('x', fp);
	fclose(fp);
}

static int exists(struct fx *f, const char *rel)
{
	return access(at(f, rel), F_OK) == 0;
}

/* Takes a write lock on rel as a live writer of another process would. */
static int hold(struct fx *f, const char *rel)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(at(f, rel), O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	return fd;
}

/* Sets rel's mtime to days ago. */
static void age(struct fx *f, const char *rel, int days)
{
	struct timespec ts[2] = { { time(NULL) - days * 86400, 0 }, { time(NULL) - days * 86400, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, at(f, rel), ts, 0), 0);
}

static void test_names(void **state)
{
	char name[NV_TMP_NAME_SIZE], run[NV_RUN_ID_LEN + 1];
	const char *id = nv_run_id();

	(void)state;
	assert_int_equal(strlen(id), 16);
	assert_int_equal(strspn(id, "0123456789abcdef"), 16);
	assert_string_equal(id, nv_run_id()); /* drawn once */
	nv_tmp_name(name, 0x1234);
	assert_int_equal(strncmp(name, ".navette-tmp.", 13), 0);
	assert_int_equal(strncmp(name + 13, id, 16), 0);
	assert_string_equal(name + 29, ".0000000000001234");
	assert_int_equal(nv_tmp_parse(name, run), NV_TMP_RUN);
	assert_string_equal(run, id);
	assert_int_equal(nv_tmp_parse(".navette-tmp." OTHER ".fedcba9876543210", run), NV_TMP_RUN);
	assert_string_equal(run, OTHER);
	assert_int_equal(nv_tmp_parse(".navette-tmp." OTHER, NULL), NV_TMP_OLD);
	/* Nothing else is ours, however close. */
	static const char *const not_ours[] = {
		".navette-tmp-foo", ".navette-tmp.foo", ".navette-tmp.", ".navette-tmp",
		".navette-tmp.0123456789ABCDEF", ".navette-tmp.0123456789abcde",
		".navette-tmp.0123456789abcdef0", ".navette-tmp." OTHER ".",
		".navette-tmp." OTHER ".fedcba987654321", ".navette-tmp." OTHER ".fedcba98765432100",
		".navette-tmp." OTHER "-fedcba9876543210", ".navette-tmp." OTHER ".fedcba987654321g",
		"x.navette-tmp." OTHER, ".navette-tmp." OTHER "~", ".Navette-tmp." OTHER, "",
	};
	for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++)
		assert_int_equal(nv_tmp_parse(not_ours[i], NULL), NV_TMP_NOT_OURS);
	assert_true(nv_tmp_reserved(".navette-tmp.foo"));
	assert_false(nv_tmp_reserved(".navette-tmp-foo"));
}

/* The leftovers the store lists, sorted and joined with '|'. */
static char *list_leftovers(struct fx *f)
{
	static char out[4096];
	char *names[64];
	size_t n = 0;
	nv_leftover_list *l;
	nv_leftover lo;
	int rc;

	assert_int_equal(nv_drv_leftovers_open(&l, f->s), 0);
	while ((rc = nv_drv_leftovers_next(l, &lo)) == 0) {
		assert_null(lo.upload);
		assert_true(n < 64);
		names[n++] = strdup(lo.name);
	}
	assert_int_equal(rc, NV_EOF);
	nv_drv_leftovers_close(l);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[j], names[i]) < 0) {
				char *t = names[i];

				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < n; i++) {
		strcat(out, i ? "|" : "");
		strcat(out, names[i]);
		free(names[i]);
	}
	return out;
}

static void test_local_lists_exact_names(void **state)
{
	struct fx *f = *state;
	char link[600];

	put(f, "a/.navette-tmp." OTHER ".0000000000000001", 3);
	put(f, ".navette-tmp." OTHER, 5);
	put(f, "navette-lease/.navette-tmp." OTHER ".0000000000000002", 1);
	put(f, "keep/.navette-tmp-foo", 1);
	put(f, "keep/.navette-tmp.foo", 1);
	put(f, "keep/.navette-tmp.0123456789ABCDEF", 1);
	put(f, "keep/navette-tmp." OTHER, 1);
	put(f, "keep/data", 1);
	/* another location's root, below this one: its own business */
	put(f, "inner/navette-lease/x.json", 1);
	put(f, "inner/.navette-tmp." OTHER ".0000000000000003", 1);
	put(f, "inner/deep/.navette-tmp." OTHER ".0000000000000004", 1);
	/* a symlink is never followed */
	put(f, "../elsewhere/.navette-tmp." OTHER ".0000000000000005", 1);
	snprintf(link, sizeof(link), "%s/elsewhere", f->dir);
	assert_int_equal(symlink(link, at(f, "link")), 0);
	assert_string_equal(list_leftovers(f), ".navette-tmp." OTHER "|a/.navette-tmp." OTHER
			    ".0000000000000001|navette-lease/.navette-tmp." OTHER
			    ".0000000000000002");
}

/* Lists prefix to its end on f's store. */
static void list_through(struct fx *f, const char *prefix)
{
	nv_lister *l;
	nv_entry e;
	int rc;

	assert_int_equal(nv_drv_list_open(&l, f->s, prefix), 0);
	while ((rc = nv_drv_list_next(l, &e)) == 0)
		;
	assert_int_equal(rc, NV_EOF);
	nv_drv_list_close(l);
}

/* A clean listing notes the temp files it skips: the clean-up after it walks
 * nothing it covered again (a temp file made since in there is not seen),
 * the rest it walks; other locations' roots stay out either way. */
static void test_local_listing_notes_leftovers(void **state)
{
	struct fx *f = *state;

	put(f, "a/.navette-tmp." OTHER ".0000000000000001", 3);
	put(f, "a/b/.navette-tmp." OTHER, 4);
	put(f, "a/file", 1);
	put(f, "a/inner/navette-lease/x.json", 1);
	put(f, "a/inner/.navette-tmp." OTHER ".0000000000000002", 1);
	put(f, "c/.navette-tmp." OTHER ".0000000000000003", 1);
	list_through(f, "a/");
	put(f, "a/.navette-tmp." OTHER ".0000000000000004", 1); /* after the listing */
	assert_string_equal(list_leftovers(f), "a/.navette-tmp." OTHER ".0000000000000001|"
			    "a/b/.navette-tmp." OTHER "|c/.navette-tmp." OTHER
			    ".0000000000000003");
	list_through(f, "");
	put(f, "c/.navette-tmp." OTHER ".0000000000000005", 1);
	assert_string_equal(list_leftovers(f), "a/.navette-tmp." OTHER ".0000000000000001|"
			    "a/.navette-tmp." OTHER ".0000000000000004|a/b/.navette-tmp." OTHER
			    "|c/.navette-tmp." OTHER ".0000000000000003");
}

static void test_local_missing_root(void **state)
{
	struct fx *f = *state;
	nv_location *loc;
	nv_store *s;
	nv_leftover_list *l;
	nv_leftover lo;
	char path[400];

	snprintf(path, sizeof(path), "%s/none", f->dir);
	assert_int_equal(nv_location_parse(&loc, path, f->cfg), 0);
	assert_int_equal(nv_drv_open(&s, loc), 0);
	assert_int_equal(nv_drv_leftovers_open(&l, s), 0);
	assert_int_equal(nv_drv_leftovers_next(l, &lo), NV_EOF);
	nv_drv_leftovers_close(l);
	nv_drv_close(s);
	nv_location_free(loc);
}

static void test_local_remove_respects_locks(void **state)
{
	struct fx *f = *state;
	const char *dead = "d/.navette-tmp." OTHER ".00000000000000aa";
	const char *live = "d/.navette-tmp." OTHER ".00000000000000bb";
	const char *old = "d/.navette-tmp." OTHER;
	nv_write_opts o = { .size = -1 };
	nv_leftover lo = { 0 };
	nv_wstream *w;
	int fd;

	put(f, dead, 10);
	put(f, live, 10);
	put(f, old, 10);
	put(f, "d/.navette-tmp.foo", 1);
	fd = hold(f, live);
	/* No one holds it: its writer is gone, no other proof needed. */
	lo.name = dead;
	assert_int_equal(nv_drv_leftover_remove(f->s, &lo, 0), 0);
	assert_false(exists(f, dead));
	assert_int_equal(nv_drv_leftover_remove(f->s, &lo, 0), NV_ENOTFOUND); /* gone */
	/* Held: kept, whatever the caller believes. */
	lo.name = live;
	assert_int_equal(nv_drv_leftover_remove(f->s, &lo, 1), NV_EEXISTS);
	assert_true(exists(f, live));
	close(fd);
	assert_int_equal(nv_drv_leftover_remove(f->s, &lo, 0), 0);
	assert_false(exists(f, live));
	/* An old name's writer took no lock: only the caller's proof counts. */
	lo.name = old;
	assert_int_equal(nv_drv_leftover_remove(f->s, &lo, 0), NV_ENOTSUP);
	assert_true(exists(f, old));
	assert_int_equal(nv_drv_leftover_remove(f->s, &lo, 1), 0);
	assert_false(exists(f, old));
	/* Never a name that is not ours. */
	lo.name = "d/.navette-tmp.foo";
	assert_int_equal(nv_drv_leftover_remove(f->s, &lo, 1), NV_EINVAL);
	assert_true(exists(f, "d/.navette-tmp.foo"));
	/* This process's own writer holds its temp file until it is renamed. */
	assert_int_equal(nv_drv_write_open(&w, f->s, "d/file", &o), 0);
	assert_int_equal(nv_drv_write(w, "abc", 3), 0);
	{
		char name[NV_TMP_NAME_SIZE + 8];
		nv_leftover_list *l;
		nv_leftover mine;

		assert_int_equal(nv_drv_leftovers_open(&l, f->s), 0);
		while (nv_drv_leftovers_next(l, &mine) == 0)
			if (strstr(mine.name, nv_run_id()))
				break;
		snprintf(name, sizeof(name), "%s", mine.name);
		nv_drv_leftovers_close(l);
		assert_non_null(strstr(name, nv_run_id()));
		lo.name = name;
		assert_int_equal(nv_drv_leftover_remove(f->s, &lo, 1), NV_EEXISTS);
		assert_true(exists(f, name));
	}
	assert_int_equal(nv_drv_write_commit(w, NULL), 0);
	assert_true(exists(f, "d/file"));
}

static void test_clean_without_lease(void **state)
{
	struct fx *f = *state;
	const char *dead = "x/.navette-tmp." OTHER ".0000000000000001";
	const char *live = "x/.navette-tmp." OTHER ".0000000000000002";
	const char *young_old = ".navette-tmp.aaaaaaaaaaaaaaaa";
	const char *aged_old = "y/.navette-tmp.bbbbbbbbbbbbbbbb";
	nv_write_opts o = { .size = -1 };
	nv_leftover_stats st;
	nv_wstream *w;
	int fd;

	put(f, dead, 100);
	put(f, live, 10);
	put(f, young_old, 7);
	put(f, aged_old, 20);
	put(f, "y/.navette-tmp-foo", 1);
	put(f, "y/.navette-tmp.foo", 1);
	age(f, aged_old, 2);
	fd = hold(f, live);
	assert_int_equal(nv_drv_write_open(&w, f->s, "x/mine", &o), 0); /* this run's own */
	assert_int_equal(nv_drv_write(w, "abc", 3), 0);
	nv_leftovers_clean(f->s, &st);
	assert_int_equal(st.removed, 2);
	assert_int_equal(st.bytes, 120);
	assert_int_equal(st.aborted, 0);
	assert_int_equal(st.in_use, 1);
	assert_int_equal(st.kept, 1);
	assert_int_equal(st.failed, 0);
	assert_false(exists(f, dead));
	assert_false(exists(f, aged_old));
	assert_true(exists(f, live));
	assert_true(exists(f, young_old));
	assert_true(exists(f, "y/.navette-tmp-foo"));
	assert_true(exists(f, "y/.navette-tmp.foo"));
	assert_int_equal(nv_drv_write_commit(w, NULL), 0);
	assert_true(exists(f, "x/mine"));
	/* The age limit is the environment's when set. */
	setenv("NAVETTE_TEMP_MAX_AGE", "0", 1);
	{
		struct timespec ts[2] = { { time(NULL) - 5, 0 }, { time(NULL) - 5, 0 } };

		assert_int_equal(utimensat(AT_FDCWD, at(f, young_old), ts, 0), 0);
	}
	nv_leftovers_clean(f->s, &st);
	assert_int_equal(st.removed, 1);
	assert_int_equal(st.in_use, 1);
	assert_false(exists(f, young_old));
	assert_true(exists(f, live));
	close(fd);
}

static void test_clean_with_lease(void **state)
{
	struct fx *f = *state;
	const char *young_old = "z/.navette-tmp.cccccccccccccccc";
	const char *live = "z/.navette-tmp." OTHER ".0000000000000009";
	nv_lease_opts lo = { .mode = NV_LEASE_EXCLUSIVE, .command = "test" };
	nv_leftover_stats st;
	nv_lease *l;
	int fd;

	put(f, young_old, 4);
	put(f, live, 4);
	fd = hold(f, live);
	assert_false(nv_lease_held(f->loc));
	assert_int_equal(nv_lease_acquire(&l, f->loc, &lo), 0);
	assert_true(nv_lease_held(f->loc));
	nv_leftovers_clean(f->s, &st);
	assert_int_equal(st.removed, 1); /* the lease proves its writer gone */
	assert_int_equal(st.in_use, 1);  /* but a held lock still wins */
	assert_int_equal(st.kept, 0);
	assert_false(exists(f, young_old));
	assert_true(exists(f, live));
	nv_lease_release(l);
	assert_false(nv_lease_held(f->loc));
	close(fd);
}

/* Driver interface version 4 added the leftovers slots: a driver built for
 * version 3 still loads and is never asked for them (even were they set), as
 * a version 4 driver without them (azure) is not: nothing to clean. */
static void test_older_driver_has_none(void **state)
{
	struct fx *f = *state;
	const char *tmp = ".navette-tmp." OTHER ".0000000000000001";
	nv_driver v3 = *f->loc->driver, none = *f->loc->driver;
	nv_location loc = *f->loc;
	nv_leftover lo = { .name = tmp };
	nv_leftover_list *l;
	nv_leftover_stats st;
	nv_store *s;

	put(f, tmp, 1);
	v3.version = 3;
	none.leftovers_open = NULL;
	none.leftovers_next = NULL;
	none.leftovers_close = NULL;
	none.leftover_remove = NULL;
	for (int i = 0; i < 2; i++) {
		loc.driver = i ? &none : &v3;
		assert_int_equal(nv_drv_open(&s, &loc), 0);
		assert_int_equal(nv_drv_leftovers_open(&l, s), NV_ENOTSUP);
		assert_null(l);
		assert_int_equal(nv_drv_leftover_remove(s, &lo, 1), NV_ENOTSUP);
		nv_leftovers_clean(s, &st);
		assert_int_equal(st.removed + st.kept + st.in_use + st.failed, 0);
		nv_drv_close(s);
	}
	assert_true(exists(f, tmp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_local_lists_exact_names),
		T(test_local_listing_notes_leftovers),
		T(test_local_missing_root),
		T(test_local_remove_respects_locks),
		T(test_clean_without_lease),
		T(test_clean_with_lease),
		T(test_older_driver_has_none),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
