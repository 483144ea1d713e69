/* test_runs.c: unit tests of src/util/runs.c, the external sort: order and
 * ties in memory and across runs on disk, keys with any bytes, records larger
 * than a run's buffer, a second pass, no file left in the directory (also by a
 * killed process), and a full disk (a real one: a small tmpfs, when root). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"
#include "util/runs.h"

static char tmpdir[] = "/tmp/nv_runs_XXXXXX";

static int setup(void **state)
{
	(void)state;
	unsetenv("NAVETTE_RUNS_BUDGET");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* A reference record: its key, and its number in the order of addition. */
typedef struct ref {
	unsigned char key[24];
	size_t klen;
	unsigned seq;
} ref;

static int ref_cmp(const void *pa, const void *pb)
{
	const ref *a = pa, *b = pb;
	int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);

	if (!c)
		c = (a->klen > b->klen) - (a->klen < b->klen);
	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* n keys of 0..5 bytes drawn from a few odd bytes (NUL, 0xff, newline, tab,
 * '/', 'a'), so that ties, prefixes and the empty key are frequent. */
static ref *make_refs(size_t n)
{
	static const unsigned char alphabet[] = { 0x00, 0xff, '\n', '\t', '/', 'a' };
	ref *r = calloc(n, sizeof(*r));

	assert_non_null(r);
	for (size_t i = 0; i < n; i++) {
		r[i].klen = rnd() % 6;
		for (size_t k = 0; k < r[i].klen; k++)
			r[i].key[k] = alphabet[rnd() % sizeof(alphabet)];
		r[i].seq = (unsigned)i;
	}
	return r;
}

/* Adds refs to s (the value: the record's number), sorts, and checks one or
 * two passes against the stable reference order. */
static void check_sort(nv_runs *s, ref *r, size_t n, int passes)
{
	nv_run_rec rec;
	unsigned seq;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(nv_runs_add(s, r[i].key, r[i].klen, &r[i].seq, sizeof(unsigned)), 0);
	assert_int_equal(nv_runs_count(s), n);
	assert_int_equal(nv_runs_sort(s), 0);
	qsort(r, n, sizeof(*r), ref_cmp);
	for (int pass = 0; pass < passes; pass++) {
		if (pass)
			assert_int_equal(nv_runs_rewind(s), 0);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(nv_runs_next(s, &rec), 0);
			assert_int_equal(rec.klen, r[i].klen);
			assert_memory_equal(rec.key, r[i].key, rec.klen);
			assert_int_equal(rec.vlen, sizeof(unsigned));
			memcpy(&seq, rec.val, sizeof(seq));
			assert_int_equal(seq, r[i].seq); /* ties in the order added */
		}
		assert_int_equal(nv_runs_next(s, &rec), NV_EOF);
	}
}

static void test_memory_only(void **state)
{
	nv_runs *s;
	ref *r = make_refs(2000);

	(void)state;
	assert_int_equal(nv_runs_new(&s, tmpdir, 0), 0);
	check_sort(s, r, 2000, 2);
	assert_int_equal(nv_runs_spilled(s), 0);
	nv_runs_free(s);
	free(r);
}

static void test_runs_on_disk(void **state)
{
	nv_runs *s;
	ref *r = make_refs(30000);

	(void)state;
	assert_int_equal(nv_runs_new(&s, tmpdir, 4096), 0);
	check_sort(s, r, 30000, 2);
	assert_true(nv_runs_spilled(s) > 10);
	/* the runs are open but have no name */
	assert_int_equal(dir_entries(tmpdir), 0);
	nv_runs_free(s);
	free(r);
}

static void test_budget_from_env(void **state)
{
	nv_runs *s;
	ref *r = make_refs(3000);

	(void)state;
	setenv("NAVETTE_RUNS_BUDGET", "5000", 1);
	assert_int_equal(nv_runs_new(&s, tmpdir, 0), 0);
	unsetenv("NAVETTE_RUNS_BUDGET");
	check_sort(s, r, 3000, 1);
	assert_true(nv_runs_spilled(s) > 1);
	nv_runs_free(s);
	free(r);
}

/* Values larger than a run's I/O buffer (64 KiB) and than the budget. */
static void test_large_records(void **state)
{
	size_t big = 200000;
	unsigned char *v = malloc(big);
	nv_runs *s;
	nv_run_rec rec;
	char key[8];

	(void)state;
	assert_non_null(v);
	assert_int_equal(nv_runs_new(&s, tmpdir, 4096), 0);
	for (int i = 5; i >= 0; i--) {
		memset(v, 'a' + i, big);
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(nv_runs_add(s, key, strlen(key), v, big - (size_t)i), 0);
		assert_int_equal(nv_runs_add(s, key, strlen(key), "small", 5), 0);
	}
	assert_int_equal(nv_runs_sort(s), 0);
	assert_true(nv_runs_spilled(s) >= 6);
	for (int i = 0; i <= 5; i++) {
		assert_int_equal(nv_runs_next(s, &rec), 0);
		assert_int_equal(rec.vlen, big - (size_t)i);
		assert_int_equal(rec.val[0], 'a' + i);
		assert_int_equal(rec.val[rec.vlen - 1], 'a' + i);
		assert_int_equal(nv_runs_next(s, &rec), 0);
		assert_int_equal(rec.vlen, 5);
	}
	assert_int_equal(nv_runs_next(s, &rec), NV_EOF);
	nv_runs_free(s);
	free(v);
}

static void test_empty_and_misuse(void **state)
{
	nv_runs *s;
	nv_run_rec rec;

	(void)state;
	assert_int_equal(nv_runs_new(&s, tmpdir, 0), 0);
	assert_int_equal(nv_runs_next(s, &rec), NV_EINVAL);
	assert_int_equal(nv_runs_sort(s), 0);
	assert_int_equal(nv_runs_next(s, &rec), NV_EOF);
	assert_int_equal(nv_runs_add(s, "k", 1, "v", 1), NV_EINVAL);
	assert_int_equal(nv_runs_rewind(s), 0);
	assert_int_equal(nv_runs_next(s, &rec), NV_EOF);
	nv_runs_free(s);
	nv_runs_free(NULL);
}

/* A process killed while it holds runs leaves nothing in the directory. */
static void test_killed_leaves_nothing(void **state)
{
	int fds[2], status;
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		nv_runs *s;
		ref *r = make_refs(20000);

		if (nv_runs_new(&s, tmpdir, 4096))
			_exit(1);
		for (size_t i = 0; i < 20000; i++)
			if (nv_runs_add(s, r[i].key, r[i].klen, "value", 5))
				_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(dir_entries(tmpdir), 0);
}

/* A full disk: runs go to a 64 KiB tmpfs in a mount namespace of a child
 * (root only; skipped otherwise). The add that cannot write its run fails with
 * NV_ENOSPC naming the directory, and nothing is left there. */
static void test_enospc(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		nv_runs *s;
		int rc = 0;

		if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", tmpdir, "tmpfs", 0, "size=64k"))
			_exit(77);
		if (nv_runs_new(&s, tmpdir, 4096))
			_exit(1);
		for (unsigned i = 0; i < 100000 && !rc; i++)
			rc = nv_runs_add(s, &i, sizeof(i), "0123456789abcdef", 16);
		if (rc != NV_ENOSPC || !strstr(nv_error_msg(), tmpdir))
			_exit(2);
		nv_runs_free(s);
		_exit(dir_entries(tmpdir) == 0 ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("test_enospc: no mount namespace here (not root): skipped\n");
		return;
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_only),
		cmocka_unit_test(test_runs_on_disk),
		cmocka_unit_test(test_budget_from_env),
		cmocka_unit_test(test_large_records),
		cmocka_unit_test(test_empty_and_misuse),
		cmocka_unit_test(test_killed_leaves_nothing),
		cmocka_unit_test(test_enospc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
