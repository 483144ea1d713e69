/* test_local.c: what only the local driver promises (symlinks, temp files,
 * mtime/mode, fsync modes, permissions, a missing root), through nv_drv_*. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/config.h"
#include "driver/driver.h"

struct fx {
	char dir[256];  /* private temp dir */
	char root[300]; /* dir/root: the location */
	nv_config *cfg;
	nv_location *loc;
	nv_store *s;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(path, 0700); /* a test may have made it read-only */
	return remove(path);
}

static void rm_rf(const char *path)
{
	chmod(path, 0700);
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Opens a store on path with the given fsync setting (NULL: default). */
static int open_at(struct fx *f, const char *path, const char *fsync)
{
	int rc;

	nv_drv_close(f->s);
	nv_location_free(f->loc);
	nv_config_free(f->cfg);
	f->s = NULL;
	f->loc = NULL;
	f->cfg = nv_config_new();
	assert_non_null(f->cfg);
	if (fsync)
		assert_int_equal(nv_config_set_override(f->cfg, "fsync", fsync), 0);
	assert_int_equal(nv_location_parse(&f->loc, path, f->cfg), 0);
	rc = nv_drv_open(&f->s, f->loc);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(f);
	umask(022);
	snprintf(f->dir, sizeof(f->dir), "%s/nv-test-local.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
	assert_int_equal(mkdir(f->root, 0755), 0);
	assert_int_equal(open_at(f, f->root, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	nv_drv_close(f->s);
	nv_location_free(f->loc);
	nv_config_free(f->cfg);
	unsetenv("NAVETTE_LOCAL_NO_OPENAT2");
	unsetenv("NAVETTE_LOCAL_NO_TMPFILE");
	rm_rf(f->dir);
	free(f);
	return 0;
}

static char *path_of(const struct fx *f, const char *rel)
{
	static char buf[4][600];
	static unsigned next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", f->root, rel);
	return p;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Keys of the whole listing, joined by ' '. */
static char *list_all(nv_store *s, const char *prefix, int *rc_out)
{
	static char out[4096];
	nv_lister *l;
	nv_entry e;
	int rc;

	out[0] = '\0';
	*rc_out = nv_drv_list_open(&l, s, prefix);
	if (*rc_out)
		return out;
	while ((rc = nv_drv_list_next(l, &e)) == 0) {
		if (out[0])
			strcat(out, " ");
		strcat(out, e.key);
	}
	nv_drv_list_close(l);
	*rc_out = rc == NV_EOF ? 0 : rc;
	return out;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_bad_keys_refused(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = { "../x", "/etc/passwd", "a/../../b", "a//b", "a/./b",
					   "a/", ".." };
	unsigned char *buf;
	size_t len, got;
	nv_lister *l;
	nv_entry e;
	char c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nv_drv_put_buf(f->s, bad[i], "x", 1, 0), NV_EINVAL);
		assert_int_equal(nv_drv_stat(f->s, bad[i], &e), NV_EINVAL);
		assert_int_equal(nv_drv_read(f->s, bad[i], 0, &c, 1, &got), NV_EINVAL);
		assert_int_equal(nv_drv_get_buf(f->s, bad[i], 10, &buf, &len), NV_EINVAL);
		assert_int_equal(nv_drv_remove(f->s, bad[i]), NV_EINVAL);
	}
	assert_int_equal(nv_drv_list_open(&l, f->s, "../"), NV_EINVAL);
	assert_int_equal(nv_drv_list_open(&l, f->s, "a/../../"), NV_EINVAL);
	/* Names of the driver's own temp files are not keys. */
	assert_int_equal(nv_drv_put_buf(f->s, "d/.navette-tmp.1234", "x", 1, 0), NV_EINVAL);
	assert_int_equal(count_entries(f->dir), 1); /* nothing escaped next to root */
	assert_int_equal(count_entries(f->root), 0);
}

/* root/ln -> ../outside (a directory), root/lf -> ../outside/secret. */
static void make_links(struct fx *f)
{
	char out[600], secret[700];

	snprintf(out, sizeof(out), "%s/outside", f->dir);
	snprintf(secret, sizeof(secret), "%s/secret", out);
	assert_int_equal(mkdir(out, 0755), 0);
	write_file(secret, "secret");
	assert_int_equal(symlink("../outside", path_of(f, "ln")), 0);
	assert_int_equal(symlink("../outside/secret", path_of(f, "lf")), 0);
	assert_int_equal(mkdir(path_of(f, "d"), 0755), 0);
	assert_int_equal(symlink("../../outside", path_of(f, "d/ln")), 0);
	write_file(path_of(f, "d/real"), "real");
}

static void check_links_not_followed(struct fx *f)
{
	char out[600], c[16];
	size_t got;
	nv_entry e;
	int rc;

	make_links(f);
	assert_string_equal(list_all(f->s, "", &rc), "d/real");
	assert_int_equal(rc, 0);
	assert_string_equal(list_all(f->s, "ln/", &rc), "");
	assert_int_equal(rc, 0);
	assert_string_equal(list_all(f->s, "d/ln/", &rc), "");
	assert_int_equal(nv_drv_stat(f->s, "lf", &e), NV_ENOTFOUND);
	assert_int_equal(nv_drv_stat(f->s, "ln/secret", &e), NV_ENOTFOUND);
	assert_int_equal(nv_drv_stat(f->s, "d/ln/secret", &e), NV_ENOTFOUND);
	assert_int_equal(nv_drv_read(f->s, "lf", 0, c, sizeof(c), &got), NV_ENOTFOUND);
	assert_int_equal(nv_drv_read(f->s, "ln/secret", 0, c, sizeof(c), &got), NV_ENOTFOUND);
	assert_int_equal(nv_drv_read(f->s, "d/ln/secret", 0, c, sizeof(c), &got),
			 NV_ENOTFOUND);
	/* Writing through a symlinked directory is refused, and says why. */
	assert_int_equal(nv_drv_put_buf(f->s, "ln/new", "x", 1, 0), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "symbolic link"));
	assert_int_equal(nv_drv_put_buf(f->s, "d/ln/deeper/new", "x", 1, 0), NV_EINVAL);
	/* Removing through one touches nothing outside. */
	assert_int_equal(nv_drv_remove(f->s, "ln/secret"), 0);
	assert_int_equal(nv_drv_remove(f->s, "lf"), 0);
	snprintf(out, sizeof(out), "%s/outside", f->dir);
	assert_int_equal(count_entries(out), 1);
	assert_int_equal(access(path_of(f, "lf"), F_OK), 0);
	/* Writing over a symlink key replaces the link itself, not its target. */
	assert_int_equal(nv_drv_put_buf(f->s, "lf", "mine", 4, 0), 0);
	{
		struct stat st;
		char secret[700];
		FILE *fp;

		assert_int_equal(lstat(path_of(f, "lf"), &st), 0);
		assert_true(S_ISREG(st.st_mode));
		snprintf(secret, sizeof(secret), "%s/secret", out);
		fp = fopen(secret, "r");
		assert_non_null(fp);
		assert_non_null(fgets(c, sizeof(c), fp));
		fclose(fp);
		assert_string_equal(c, "secret");
	}
}

static void test_symlinks_openat2(void **state)
{
	check_links_not_followed(*state);
}

static void test_symlinks_walk(void **state)
{
	struct fx *f = *state;

	setenv("NAVETTE_LOCAL_NO_OPENAT2", "1", 1);
	assert_int_equal(open_at(f, f->root, NULL), 0);
	check_links_not_followed(f);
}

static void test_temp_files_invisible(void **state)
{
	struct fx *f = *state;
	nv_write_opts o = { .size = -1 };
	nv_wstream *w;
	nv_entry e;
	int rc;

	write_file(path_of(f, ".navette-tmp.0000leftover"), "stale");
	assert_int_equal(nv_drv_put_buf(f->s, "sub/done", "ok", 2, 0), 0);
	/* An O_TMPFILE (the default) has no name at all until its commit; a
	 * named temp file (the test hook, or a file system without O_TMPFILE)
	 * is skipped by listings and stat. */
	for (int named = 0; named < 2; named++) {
		if (named) {
			setenv("NAVETTE_LOCAL_NO_TMPFILE", "1", 1);
			assert_int_equal(open_at(f, f->root, NULL), 0);
		}
		assert_int_equal(nv_drv_write_open(&w, f->s, "sub/pending", &o), 0);
		assert_int_equal(nv_drv_write(w, "half", 4), 0);
		assert_int_equal(count_entries(path_of(f, "sub")), 1 + named);
		assert_string_equal(list_all(f->s, "", &rc), "sub/done");
		assert_int_equal(nv_drv_stat(f->s, "sub/pending", &e), NV_ENOTFOUND);
		assert_int_equal(nv_drv_stat(f->s, ".navette-tmp.0000leftover", &e), NV_ENOTFOUND);
		nv_drv_write_abort(w);
		assert_int_equal(count_entries(path_of(f, "sub")), 1);
	}
}

/* Two writes into a directory the first one made: the first is aborted and
 * prunes it, which an O_TMPFILE (no entry) does not keep from looking empty.
 * The second still lands (drill_s3.sh met this with a tampered object). */
static void test_tmpfile_dir_pruned(void **state)
{
	struct fx *f = *state;
	nv_write_opts o = { .size = -1 };
	nv_wstream *a, *b;
	char buf[8];
	size_t got;

	assert_int_equal(nv_drv_write_open(&a, f->s, "p/q/a", &o), 0);
	assert_int_equal(nv_drv_write_open(&b, f->s, "p/q/b", &o), 0);
	assert_int_equal(nv_drv_write(a, "aa", 2), 0);
	assert_int_equal(nv_drv_write(b, "bb", 2), 0);
	nv_drv_write_abort(a);
	assert_int_equal(nv_drv_write_commit(b, NULL), 0);
	assert_int_equal(nv_drv_read(f->s, "p/q/b", 0, buf, sizeof(buf), &got), 0);
	assert_int_equal(got, 2);
	assert_memory_equal(buf, "bb", 2);
	assert_int_equal(count_entries(path_of(f, "p/q")), 1);
}

/* The O_TMPFILE path when the target exists: replaced through a temp name
 * (nothing of it left), or refused when exclusive (the old file kept). */
static void test_tmpfile_replace(void **state)
{
	struct fx *f = *state;
	nv_write_opts o = { .size = -1 }, x = { .size = -1, .flags = NV_WRITE_EXCLUSIVE };
	nv_wstream *w;
	char buf[8];
	size_t got;

	assert_int_equal(nv_drv_put_buf(f->s, "r/k", "old", 3, 0), 0);
	assert_int_equal(nv_drv_write_open(&w, f->s, "r/k", &o), 0);
	assert_int_equal(nv_drv_write(w, "newer", 5), 0);
	assert_int_equal(nv_drv_write_commit(w, NULL), 0);
	assert_int_equal(nv_drv_read(f->s, "r/k", 0, buf, sizeof(buf), &got), 0);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "newer", 5);
	assert_int_equal(count_entries(path_of(f, "r")), 1);
	assert_int_equal(nv_drv_write_open(&w, f->s, "r/k", &x), 0);
	assert_int_equal(nv_drv_write(w, "other", 5), 0);
	assert_int_equal(nv_drv_write_commit(w, NULL), NV_EEXISTS);
	assert_int_equal(nv_drv_read(f->s, "r/k", 0, buf, sizeof(buf), &got), 0);
	assert_memory_equal(buf, "newer", 5);
	assert_int_equal(count_entries(path_of(f, "r")), 1);
}

static void test_mtime_mode_kept(void **state)
{
	struct fx *f = *state;
	nv_write_opts o = { .size = 3, .mtime_sec = 1234567890, .mtime_nsec = 123456789,
			    .mode = 0604, .flags = NV_WRITE_HAS_MTIME | NV_WRITE_HAS_MODE };
	nv_commit_info info;
	nv_wstream *w;
	struct stat st;
	nv_lister *l;
	nv_entry e;

	assert_int_equal(nv_drv_write_open(&w, f->s, "m/t", &o), 0);
	assert_int_equal(nv_drv_write(w, "abc", 3), 0);
	assert_int_equal(nv_drv_write_commit(w, &info), 0);
	assert_int_equal(info.size, 3);
	assert_true(info.confirmed & NV_CONFIRM_SIZE);
	assert_int_equal(lstat(path_of(f, "m/t"), &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, 1234567890);
	assert_int_equal(st.st_mtim.tv_nsec, 123456789);
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_int_equal(nv_drv_stat(f->s, "m/t", &e), 0);
	assert_int_equal(e.mtime_sec, 1234567890);
	assert_int_equal(e.mtime_nsec, 123456789);
	assert_int_equal(e.mode, 0604);
	assert_true((e.flags & (NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_MODE)) ==
		    (NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_MODE));
	assert_int_equal(nv_drv_list_open(&l, f->s, "m/"), 0);
	assert_int_equal(nv_drv_list_next(l, &e), 0);
	assert_string_equal(e.key, "m/t");
	assert_int_equal(e.mtime_nsec, 123456789);
	assert_int_equal(e.mode, 0604);
	assert_int_equal(nv_drv_list_next(l, &e), NV_EOF);
	nv_drv_list_close(l);
	/* Without a mode, a file gets what the umask gives, as any new file would. */
	assert_int_equal(nv_drv_put_buf(f->s, "m/plain", "x", 1, 0), 0);
	assert_int_equal(lstat(path_of(f, "m/plain"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

/* e is what the driver said of key: ctime, inode and device are lstat's. */
static void check_ctime_inode(struct fx *f, const char *key, const nv_entry *e)
{
	struct stat st;

	assert_int_equal(lstat(path_of(f, key), &st), 0);
	assert_true(e->flags & NV_ENTRY_HAS_CTIME);
	assert_true(e->flags & NV_ENTRY_HAS_INODE);
	assert_int_equal(e->ctime_sec, st.st_ctim.tv_sec);
	assert_int_equal(e->ctime_nsec, st.st_ctim.tv_nsec);
	assert_int_equal(e->inode, st.st_ino);
	assert_int_equal(e->dev, st.st_dev);
}

/* Listing and stat give ctime and the inode (driver interface 3), so that a
 * push's cache notices a chmod or a file renamed over another. */
static void test_ctime_inode(void **state)
{
	struct fx *f = *state;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	nv_entry e, before;
	uint64_t old_inode;
	nv_lister *l;

	assert_int_equal(nv_drv_put_buf(f->s, "c/a", "a", 1, 0), 0);
	assert_int_equal(nv_drv_put_buf(f->s, "c/b", "b", 1, 0), 0);
	assert_int_equal(nv_drv_stat(f->s, "c/a", &before), 0);
	check_ctime_inode(f, "c/a", &before);
	assert_int_equal(nv_drv_list_open(&l, f->s, ""), 0);
	assert_int_equal(nv_drv_list_next(l, &e), 0);
	assert_string_equal(e.key, "c/a");
	check_ctime_inode(f, "c/a", &e);
	assert_int_equal(nv_drv_list_next(l, &e), 0);
	assert_string_equal(e.key, "c/b");
	check_ctime_inode(f, "c/b", &e);
	old_inode = e.inode;
	nv_drv_list_close(l);
	/* chmod leaves size and mtime alone and moves ctime. */
	nanosleep(&pause, NULL);
	assert_int_equal(chmod(path_of(f, "c/a"), 0600), 0);
	assert_int_equal(nv_drv_stat(f->s, "c/a", &e), 0);
	check_ctime_inode(f, "c/a", &e);
	assert_int_equal(e.mtime_sec, before.mtime_sec);
	assert_int_equal(e.mtime_nsec, before.mtime_nsec);
	assert_true(e.ctime_sec != before.ctime_sec || e.ctime_nsec != before.ctime_nsec);
	/* A rewrite is a new file (temp file renamed into place): a new inode. */
	assert_int_equal(nv_drv_put_buf(f->s, "c/b", "b", 1, 0), 0);
	assert_int_equal(nv_drv_stat(f->s, "c/b", &e), 0);
	check_ctime_inode(f, "c/b", &e);
	assert_true(e.inode != old_inode);
}

static void test_fsync_modes(void **state)
{
	struct fx *f = *state;
	static const char *const modes[] = { "each", "batch", "none" };
	nv_entry e;

	for (size_t i = 0; i < 3; i++) {
		char key[32];

		assert_int_equal(open_at(f, f->root, modes[i]), 0);
		snprintf(key, sizeof(key), "deep/%s/file", modes[i]);
		assert_int_equal(nv_drv_put_buf(f->s, key, "data", 4, 0), 0);
		assert_int_equal(nv_drv_remove(f->s, key), 0);
		assert_int_equal(nv_drv_put_buf(f->s, key, "data", 4, 0), 0);
		assert_int_equal(nv_drv_flush(f->s), 0);
		assert_int_equal(nv_drv_flush(f->s), 0);
		assert_int_equal(nv_drv_stat(f->s, key, &e), 0);
	}
	/* A root made at the first write, durably. */
	assert_int_equal(open_at(f, path_of(f, "new/root"), "each"), 0);
	assert_int_equal(nv_drv_put_buf(f->s, "k", "v", 1, 0), 0);
	assert_int_equal(access(path_of(f, "new/root/k"), F_OK), 0);
	assert_int_equal(open_at(f, f->root, "sometimes"), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "fsync"));
	assert_null(f->s);
}

/* Root bypasses permission bits: drop (or give back) the capabilities that do. */
static void dac_override(int on)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	unsigned bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

	if (geteuid() != 0)
		return;
	assert_int_equal(syscall(SYS_capget, &h, d), 0);
	if (on)
		d[0].effective |= d[0].permitted & bits;
	else
		d[0].effective &= ~bits;
	assert_int_equal(syscall(SYS_capset, &h, d), 0);
}

static void test_readonly_dir(void **state)
{
	struct fx *f = *state;
	char msg[1024];
	int rc1, rc2, rc3;

	assert_int_equal(mkdir(path_of(f, "ro"), 0755), 0);
	assert_int_equal(chmod(path_of(f, "ro"), 0555), 0);
	dac_override(0);
	rc1 = nv_drv_put_buf(f->s, "ro/x", "data", 4, 0);
	snprintf(msg, sizeof(msg), "%s", nv_error_msg());
	rc2 = nv_drv_put_buf(f->s, "ro/sub/x", "data", 4, 0);
	rc3 = nv_drv_put_buf(f->s, "ro/y", "data", 4, NV_WRITE_EXCLUSIVE);
	dac_override(1);
	assert_int_equal(rc1, NV_EPERM);
	assert_non_null(strstr(msg, "ro/x")); /* the message names the key, and why */
	assert_non_null(strstr(msg, "ermission denied"));
	assert_int_equal(rc2, NV_EPERM);
	assert_int_equal(rc3, NV_EPERM);
	assert_int_equal(count_entries(path_of(f, "ro")), 0);
	chmod(path_of(f, "ro"), 0755);
}

/* A subtree that cannot be read fails the listing: a sync must never take it
 * for an empty directory (and delete its copy). */
static void test_unreadable_dir_fails_listing(void **state)
{
	struct fx *f = *state;
	nv_lister *l;
	nv_entry e;
	int rc1, rc2 = 0, rc3;

	assert_int_equal(nv_drv_put_buf(f->s, "a", "a", 1, 0), 0);
	assert_int_equal(nv_drv_put_buf(f->s, "locked/x", "x", 1, 0), 0);
	assert_int_equal(chmod(path_of(f, "locked"), 0), 0);
	dac_override(0);
	rc1 = nv_drv_list_open(&l, f->s, "");
	if (!rc1) {
		rc2 = nv_drv_list_next(l, &e); /* "a" */
		rc3 = nv_drv_list_next(l, &e); /* entering locked/ */
		nv_drv_list_close(l);
	} else {
		rc3 = rc1;
	}
	dac_override(1);
	chmod(path_of(f, "locked"), 0755);
	assert_int_equal(rc1, 0);
	assert_int_equal(rc2, 0);
	assert_int_equal(rc3, NV_EPERM);
}

/* A write cut short by the filesystem (here RLIMIT_FSIZE, whose EFBIG reads as
 * "no space") is an error, and nothing appears or changes under the key. */
static void test_failed_write_leaves_nothing(void **state)
{
	struct fx *f = *state;
	static unsigned char big[1 << 20];
	nv_write_opts o = { .size = sizeof(big) };
	struct rlimit old, lim;
	int rc_open1, rc_w1, rc_c1, rc_open2, rc_w2;
	unsigned char *buf;
	nv_wstream *w1, *w2;
	size_t len;
	nv_entry e;

	assert_int_equal(nv_drv_put_buf(f->s, "keep", "old", 3, 0), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc_open1 = nv_drv_write_open(&w1, f->s, "full/deep/k", &o);
	rc_w1 = rc_open1 ? 0 : nv_drv_write(w1, big, sizeof(big));
	rc_c1 = rc_open1 ? 0 : nv_drv_write_commit(w1, NULL);
	rc_open2 = nv_drv_write_open(&w2, f->s, "keep", &o);
	rc_w2 = rc_open2 ? 0 : nv_drv_write(w2, big, sizeof(big));
	if (!rc_open2)
		nv_drv_write_abort(w2);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc_open1, 0);
	assert_int_equal(rc_w1, NV_ENOSPC);
	assert_int_not_equal(rc_c1, 0);
	assert_int_equal(rc_open2, 0);
	assert_int_equal(rc_w2, NV_ENOSPC);
	assert_int_equal(nv_drv_stat(f->s, "full/deep/k", &e), NV_ENOTFOUND);
	assert_int_equal(access(path_of(f, "full"), F_OK), -1);
	assert_int_equal(nv_drv_get_buf(f->s, "keep", 10, &buf, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "old", 3);
	free(buf);
	assert_int_equal(count_entries(f->root), 1);
}

static void test_missing_root(void **state)
{
	struct fx *f = *state;
	char root[600];
	unsigned char *buf;
	size_t len;
	nv_lister *l;
	nv_entry e;
	int rc;

	snprintf(root, sizeof(root), "%s/not/yet/there", f->dir);
	assert_int_equal(open_at(f, root, NULL), 0);
	assert_int_equal(nv_drv_list_open(&l, f->s, ""), NV_ENOTFOUND);
	assert_int_equal(nv_drv_list_open(&l, f->s, "a/"), NV_ENOTFOUND);
	assert_int_equal(nv_drv_stat(f->s, "k", &e), NV_ENOTFOUND);
	assert_int_equal(nv_drv_get_buf(f->s, "k", 10, &buf, &len), NV_ENOTFOUND);
	assert_int_equal(nv_drv_remove(f->s, "k"), 0);
	assert_int_equal(nv_drv_flush(f->s), 0);
	assert_int_equal(nv_drv_put_buf(f->s, "a/k", "v", 1, 0), 0);
	assert_string_equal(list_all(f->s, "", &rc), "a/k");
	assert_int_equal(rc, 0);
	assert_int_equal(nv_drv_flush(f->s), 0);
	/* A root that is a file is an error at open, not an empty tree. */
	write_file(path_of(f, "file"), "x");
	assert_int_not_equal(open_at(f, path_of(f, "file"), NULL), 0);
}

static void test_prune_and_abort(void **state)
{
	struct fx *f = *state;
	nv_write_opts o = { .size = -1 };
	nv_wstream *w;

	assert_int_equal(nv_drv_put_buf(f->s, "p/q/r/k", "v", 1, 0), 0);
	assert_int_equal(nv_drv_put_buf(f->s, "p/keep", "v", 1, 0), 0);
	assert_int_equal(nv_drv_remove(f->s, "p/q/r/k"), 0);
	assert_int_equal(access(path_of(f, "p/q"), F_OK), -1); /* emptied dirs go */
	assert_int_equal(access(path_of(f, "p/keep"), F_OK), 0);
	assert_int_equal(nv_drv_remove(f->s, "p/keep"), 0);
	assert_int_equal(count_entries(f->root), 0);
	assert_int_equal(access(f->root, F_OK), 0); /* never the root */
	/* An abort removes the directories its write made, and only those. */
	assert_int_equal(mkdir(path_of(f, "old"), 0755), 0);
	assert_int_equal(nv_drv_write_open(&w, f->s, "old/new/deeper/k", &o), 0);
	assert_int_equal(nv_drv_write(w, "v", 1), 0);
	nv_drv_write_abort(w);
	assert_int_equal(access(path_of(f, "old/new"), F_OK), -1);
	assert_int_equal(access(path_of(f, "old"), F_OK), 0);
}

/* A write opened under one key and published under another (a vault object
 * named by the hash of its bytes): the file is moved from where it was made
 * into the new key's directory, made if missing (an O_TMPFILE linked straight
 * there; a named temp file renamed there); nothing is ever under the first
 * key; an abort after it leaves nothing, not even a new directory; an
 * exclusive write does not replace what the new key holds, another does. */
static void retarget_case(struct fx *f, int named)
{
	nv_write_opts o = { .size = -1, .flags = NV_WRITE_EXCLUSIVE }, r = { .size = -1 };
	nv_wstream *w;
	nv_entry e;
	char buf[8];
	size_t got;
	int rc;

	assert_true(nv_drv_can_retarget(f->s));
	assert_int_equal(nv_drv_write_open(&w, f->s, "objects/unnamed", &o), 0);
	assert_int_equal(nv_drv_write(w, "contents", 8), 0);
	/* which path this is: an O_TMPFILE has no entry at all */
	assert_int_equal(count_entries(path_of(f, "objects")), named);
	assert_int_equal(nv_drv_write_retarget(w, "objects/ab/abc"), 0);
	assert_int_equal(nv_drv_write_retarget(w, "objects/cd/cde"), 0); /* the last one holds */
	assert_int_equal(nv_drv_write_commit(w, NULL), 0);
	assert_string_equal(list_all(f->s, "", &rc), "objects/cd/cde");
	assert_int_equal(nv_drv_stat(f->s, "objects/cd/cde", &e), 0);
	assert_int_equal(e.size, 8);
	assert_int_equal(count_entries(path_of(f, "objects")), 1); /* no temp file, no ab/ */
	/* abort after a retarget: the temp file and the directory made for it go */
	assert_int_equal(nv_drv_write_open(&w, f->s, "objects/unnamed", &o), 0);
	assert_int_equal(nv_drv_write(w, "other", 5), 0);
	assert_int_equal(nv_drv_write_retarget(w, "objects/ef/efg"), 0);
	assert_int_equal(access(path_of(f, "objects/ef"), F_OK), 0);
	nv_drv_write_abort(w);
	assert_int_equal(access(path_of(f, "objects/ef"), F_OK), -1);
	assert_int_equal(count_entries(path_of(f, "objects")), 1);
	/* exclusive: the key it goes to already exists */
	assert_int_equal(nv_drv_write_open(&w, f->s, "objects/unnamed", &o), 0);
	assert_int_equal(nv_drv_write(w, "third", 5), 0);
	assert_int_equal(nv_drv_write_retarget(w, "objects/cd/cde"), 0);
	assert_int_equal(nv_drv_write_commit(w, NULL), NV_EEXISTS);
	assert_int_equal(nv_drv_stat(f->s, "objects/cd/cde", &e), 0);
	assert_int_equal(e.size, 8);
	assert_int_equal(count_entries(path_of(f, "objects")), 1);
	assert_int_equal(count_entries(path_of(f, "objects/cd")), 1);
	/* not exclusive: replaced, and no temp name left beside it */
	assert_int_equal(nv_drv_write_open(&w, f->s, "objects/unnamed", &r), 0);
	assert_int_equal(nv_drv_write(w, "again", 5), 0);
	assert_int_equal(nv_drv_write_retarget(w, "objects/cd/cde"), 0);
	assert_int_equal(nv_drv_write_commit(w, NULL), 0);
	assert_int_equal(nv_drv_read(f->s, "objects/cd/cde", 0, buf, sizeof(buf), &got), 0);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "again", 5);
	assert_int_equal(count_entries(path_of(f, "objects")), 1);
	assert_int_equal(count_entries(path_of(f, "objects/cd")), 1);
	/* the new directory pruned by another writer before the commit: made again */
	assert_int_equal(nv_drv_write_open(&w, f->s, "objects/unnamed", &o), 0);
	assert_int_equal(nv_drv_write(w, "fourth", 6), 0);
	assert_int_equal(nv_drv_write_retarget(w, "objects/gh/ghi"), 0);
	assert_int_equal(rmdir(path_of(f, "objects/gh")), 0);
	assert_int_equal(nv_drv_write_commit(w, NULL), 0);
	assert_int_equal(nv_drv_stat(f->s, "objects/gh/ghi", &e), 0);
	assert_int_equal(e.size, 6);
	assert_int_equal(nv_drv_remove(f->s, "objects/gh/ghi"), 0);
	/* keys are checked as every key is */
	assert_int_equal(nv_drv_write_open(&w, f->s, "objects/unnamed", &o), 0);
	assert_int_equal(nv_drv_write_retarget(w, "../x"), NV_EINVAL);
	assert_int_equal(nv_drv_write_retarget(w, "objects/.navette-tmp.0123456789abcdef"),
			 NV_EINVAL);
	nv_drv_write_abort(w);
	assert_int_equal(count_entries(path_of(f, "objects")), 1);
}

static void test_retarget(void **state)
{
	struct fx *f = *state;

	retarget_case(f, 0); /* O_TMPFILE, the default */
	rm_rf(path_of(f, "objects"));
	setenv("NAVETTE_LOCAL_NO_TMPFILE", "1", 1);
	assert_int_equal(open_at(f, f->root, NULL), 0);
	retarget_case(f, 1);
}

/* The directory of the last write is kept open: it must not outlive a removal. */
static void test_write_dir_cache(void **state)
{
	struct fx *f = *state;
	nv_entry e;
	int rc;

	assert_int_equal(nv_drv_put_buf(f->s, "c/1", "1", 1, 0), 0);
	assert_int_equal(nv_drv_remove(f->s, "c/1"), 0); /* prunes c/ */
	assert_int_equal(access(path_of(f, "c"), F_OK), -1);
	assert_int_equal(nv_drv_put_buf(f->s, "c/2", "2", 1, 0), 0);
	assert_int_equal(nv_drv_stat(f->s, "c/2", &e), 0);
	rm_rf(path_of(f, "c")); /* behind the driver's back */
	assert_int_equal(nv_drv_put_buf(f->s, "c/3", "3", 1, 0), 0);
	assert_string_equal(list_all(f->s, "", &rc), "c/3");
}

static void test_not_a_directory(void **state)
{
	struct fx *f = *state;
	unsigned char *buf;
	size_t len;
	nv_entry e;

	assert_int_equal(nv_drv_put_buf(f->s, "f", "file", 4, 0), 0);
	assert_int_equal(nv_drv_put_buf(f->s, "f/x", "x", 1, 0), NV_EEXISTS);
	assert_int_equal(nv_drv_stat(f->s, "f/x", &e), NV_ENOTFOUND);
	assert_int_equal(nv_drv_get_buf(f->s, "f", 10, &buf, &len), 0);
	assert_memory_equal(buf, "file", 4);
	free(buf);
	/* A directory is not an object, and a file cannot replace one. */
	assert_int_equal(nv_drv_put_buf(f->s, "dir/x", "x", 1, 0), 0);
	assert_int_equal(nv_drv_stat(f->s, "dir", &e), NV_ENOTFOUND);
	assert_int_not_equal(nv_drv_put_buf(f->s, "dir", "x", 1, 0), 0);
	assert_int_equal(nv_drv_stat(f->s, "dir/x", &e), 0);
}

static void test_special_files_skipped(void **state)
{
	struct fx *f = *state;
	size_t got;
	nv_entry e;
	char c;
	int rc;

	assert_int_equal(mkfifo(path_of(f, "fifo"), 0644), 0);
	write_file(path_of(f, "z"), "z");
	assert_string_equal(list_all(f->s, "", &rc), "z");
	assert_int_equal(nv_drv_stat(f->s, "fifo", &e), NV_ENOTFOUND);
	/* Must not hang waiting for a writer. */
	assert_int_equal(nv_drv_read(f->s, "fifo", 0, &c, 1, &got), NV_ENOTFOUND);
}

static void test_read_sees_replacement(void **state)
{
	struct fx *f = *state;
	char buf[8];
	size_t got;

	assert_int_equal(nv_drv_put_buf(f->s, "r", "first", 5, 0), 0);
	assert_int_equal(nv_drv_read(f->s, "r", 0, buf, 3, &got), 0);
	assert_int_equal(nv_drv_read(f->s, "r", 3, buf + 3, 5, &got), 0);
	assert_int_equal(got, 2);
	assert_memory_equal(buf, "first", 5);
	write_file(path_of(f, "r.new"), "second");
	assert_int_equal(rename(path_of(f, "r.new"), path_of(f, "r")), 0);
	assert_int_equal(nv_drv_read(f->s, "r", 0, buf, 8, &got), 0);
	assert_int_equal(got, 6);
	assert_memory_equal(buf, "second", 6);
	assert_int_equal(nv_drv_remove(f->s, "r"), 0);
	assert_int_equal(nv_drv_read(f->s, "r", 0, buf, 8, &got), NV_ENOTFOUND);
}

static void test_root_through_symlink(void **state)
{
	struct fx *f = *state;
	char link[600];
	int rc;

	/* Symlinks in the root path are the user's own choice: followed. */
	snprintf(link, sizeof(link), "%s/alias", f->dir);
	assert_int_equal(symlink("root", link), 0);
	write_file(path_of(f, "k"), "v");
	assert_int_equal(open_at(f, link, NULL), 0);
	assert_string_equal(list_all(f->s, "", &rc), "k");
	/* A loop of them is an error at open, not a root still to be made (ELOOP
	 * used to read as "not found": listing such a root then looked empty). */
	snprintf(link, sizeof(link), "%s/loop", f->dir);
	assert_int_equal(symlink("loop", link), 0);
	assert_int_equal(open_at(f, link, NULL), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), strerror(ELOOP)));
	assert_null(f->s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_bad_keys_refused),
		T(test_symlinks_openat2),
		T(test_symlinks_walk),
		T(test_temp_files_invisible),
		T(test_tmpfile_replace),
		T(test_tmpfile_dir_pruned),
		T(test_mtime_mode_kept),
		T(test_ctime_inode),
		T(test_fsync_modes),
		T(test_readonly_dir),
		T(test_failed_write_leaves_nothing),
		T(test_unreadable_dir_fails_listing),
		T(test_missing_root),
		T(test_prune_and_abort),
		T(test_retarget),
		T(test_write_dir_cache),
		T(test_not_a_directory),
		T(test_special_files_skipped),
		T(test_read_sees_replacement),
		T(test_root_through_symlink),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
