/* test_sftp_exec.c: the sftp driver's ssh transport (drivers/sftp_exec*.c)
 * through nv_drv_*, with OpenSSH's own sftp-server in ssh's place (ssh_command
 * is a script that runs it: no sshd, no network). What the conformance suite
 * over sshd does not reach: reads and writes around the request size, in odd
 * pieces, with a ring of 3 requests that wraps, seeks back and forth while
 * requests are in flight, a read past the end, many small files on one
 * connection, and posix-rename for a plain overwrite. Skipped where
 * /usr/lib/openssh/sftp-server is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"
#include "util/config.h"

#define SFTP_SERVER "/usr/lib/openssh/sftp-server"
#define CHUNK (32 * 1024) /* NV_SFTP_EXEC_CHUNK */

struct fx {
	char dir[128];
	char url[256];
	nv_location *loc;
	nv_store *s;
};

static int setup(void **state)
{
	static struct fx f;
	char script[256];
	FILE *sh;

	if (access(SFTP_SERVER, X_OK) != 0)
		return 0;
	snprintf(f.dir, sizeof(f.dir), "/tmp/nv-sftp-exec.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	/* ssh's stand-in: whatever the arguments, an sftp-server on its stdin and stdout */
	snprintf(script, sizeof(script), "%s/fake-ssh", f.dir);
	sh = fopen(script, "w");
	assert_non_null(sh);
	fprintf(sh, "#!/bin/sh\nexec %s\n", SFTP_SERVER);
	fclose(sh);
	chmod(script, 0755);
	setenv("NAVETTE_TRANSPORT", "ssh", 1);
	setenv("NAVETTE_SSH_COMMAND", script, 1);
	setenv("NAVETTE_REQUESTS", "3", 1);
	snprintf(f.url, sizeof(f.url), "sftp://tester@localhost%s/root", f.dir);
	assert_int_equal(nv_location_parse(&f.loc, f.url, NULL), 0);
	assert_int_equal(nv_drv_open(&f.s, f.loc), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[300];

	if (!f)
		return 0;
	nv_drv_close(f->s);
	nv_location_free(f->loc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

static struct fx *fx_or_skip(void **state)
{
	if (!*state)
		skip();
	return *state;
}

static void fill(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 2654435761u >> 13) + seed);
}

/* Writes n bytes of b under key in pieces of step bytes. */
static void put(nv_store *s, const char *key, const unsigned char *b, size_t n, size_t step)
{
	nv_write_opts o = { .size = (int64_t)n };
	nv_commit_info ci;
	nv_wstream *w;

	assert_int_equal(nv_drv_write_open(&w, s, key, &o), 0);
	for (size_t off = 0; off < n; off += step)
		assert_int_equal(nv_drv_write(w, b + off, n - off < step ? n - off : step), 0);
	assert_int_equal(nv_drv_write_commit(w, &ci), 0);
	assert_int_equal(ci.size, n);
}

/* Reads key sequentially in pieces of step bytes and compares with b. */
static void check_seq(nv_store *s, const char *key, const unsigned char *b, size_t n,
		      size_t step)
{
	unsigned char *got = malloc(step);
	size_t off = 0, k;

	assert_non_null(got);
	for (;;) {
		assert_int_equal(nv_drv_read(s, key, off, got, step, &k), 0);
		assert_true(off + k <= n);
		assert_memory_equal(got, b + off, k);
		off += k;
		if (k < step)
			break;
	}
	assert_int_equal(off, n);
	free(got);
}

static void test_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5,
					5 * 1024 * 1024 + 3 };
	static const size_t steps[] = { 1000, CHUNK, 70001, 1 << 20 };
	struct fx *f = fx_or_skip(state);
	unsigned char *b = malloc(sizes[6]);
	char key[32];

	assert_non_null(b);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(key, sizeof(key), "sizes/%zu", sizes[i]);
		fill(b, sizes[i], (unsigned)i);
		put(f->s, key, b, sizes[i], steps[i % 4]);
		for (size_t j = 0; j < sizeof(steps) / sizeof(steps[0]); j++)
			check_seq(f->s, key, b, sizes[i], steps[j]);
	}
	free(b);
}

/* Reads at offsets out of order while requests are in flight for others. */
static void test_seek(void **state)
{
	static const size_t offs[] = { 0, 100, 5 * CHUNK + 17, 2 * CHUNK, 2 * CHUNK + 9000,
				       9 * CHUNK, 1, 10 * CHUNK - 3, 10 * CHUNK, 11 * CHUNK };
	struct fx *f = fx_or_skip(state);
	size_t n = 10 * CHUNK, got, i;
	unsigned char *b = malloc(n), buf[40000];

	assert_non_null(b);
	fill(b, n, 77);
	put(f->s, "seek/f", b, n, CHUNK);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		assert_int_equal(nv_drv_read(f->s, "seek/f", offs[i], buf, sizeof(buf), &got), 0);
		assert_int_equal(got, offs[i] >= n ? 0 : (n - offs[i] < sizeof(buf)
							   ? n - offs[i] : sizeof(buf)));
		assert_memory_equal(buf, b + (offs[i] < n ? offs[i] : 0), got);
	}
	free(b);
}

static void test_many_small(void **state)
{
	struct fx *f = fx_or_skip(state);
	unsigned char b[4096], got[8192];
	char key[32];
	size_t k;
	nv_entry e;

	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "small/%03d", i);
		fill(b, sizeof(b), (unsigned)i);
		put(f->s, key, b, sizeof(b), sizeof(b));
	}
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "small/%03d", i);
		fill(b, sizeof(b), (unsigned)i);
		assert_int_equal(nv_drv_read(f->s, key, 0, got, sizeof(got), &k), 0);
		assert_int_equal(k, sizeof(b));
		assert_memory_equal(got, b, k);
		assert_int_equal(nv_drv_stat(f->s, key, &e), 0);
		assert_int_equal(e.size, sizeof(b));
	}
}

/* A plain overwrite replaces (posix-rename); an exclusive one is refused. */
static void test_overwrite(void **state)
{
	struct fx *f = fx_or_skip(state);
	unsigned char *got = NULL;
	size_t n;

	assert_int_equal(nv_drv_put_buf(f->s, "ow/k", "first", 5, 0), 0);
	assert_int_equal(nv_drv_put_buf(f->s, "ow/k", "second", 6, 0), 0);
	assert_int_equal(nv_drv_get_buf(f->s, "ow/k", 100, &got, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(got, "second", 6);
	free(got);
	assert_int_equal(nv_drv_put_buf(f->s, "ow/k", "third", 5, NV_WRITE_EXCLUSIVE),
			 NV_EEXISTS);
	assert_int_equal(nv_drv_get_buf(f->s, "ow/k", 100, &got, &n), 0);
	assert_memory_equal(got, "second", 6);
	free(got);
	assert_int_equal(nv_drv_remove(f->s, "ow/k"), 0);
	assert_int_equal(nv_drv_get_buf(f->s, "ow/k", 100, &got, &n), NV_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_seek),
		cmocka_unit_test(test_many_small),
		cmocka_unit_test(test_overwrite),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
