/* test_sftp_pipe.c: unit tests of the child process and its byte stream
 * (drivers/sftp_pipe.c), with stock programs in ssh's place: bytes both ways
 * (cat), stderr kept and the exit status reaped (sh), a program that is not
 * there (ENOENT from execvp), a child that ignores the end of its stdin
 * (killed, reaped), a parent whose stdin is closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../drivers/sftp_pipe.h"

/* Sends n bytes and reads back as many (the child echoes). */
static void echo_round(struct nv_sftp_pipe *p, const unsigned char *out, size_t n)
{
	unsigned char back[70000];
	size_t sent = 0, got = 0;
	ssize_t r;

	assert_true(n <= sizeof(back));
	while (got < n) {
		if (sent < n) {
			struct iovec v = { (void *)(out + sent), n - sent };

			r = nv_sftp_pipe_send(p, &v, 1);
			assert_true(r >= 0);
			sent += (size_t)r;
		}
		r = nv_sftp_pipe_recv(p, back + got, n - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		assert_true(r < 0 && errno == EAGAIN);
		assert_true(nv_sftp_pipe_wait(p, sent < n, 10000) > 0);
	}
	assert_memory_equal(back, out, n);
}

static void test_cat(void **state)
{
	char *argv[] = { "cat", NULL };
	struct nv_sftp_pipe *p;
	unsigned char data[65536 + 7];
	int status = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	assert_int_equal(nv_sftp_pipe_start(&p, argv), 0);
	echo_round(p, data, 5);
	echo_round(p, data, sizeof(data));
	/* the end of its stdin ends cat: exit status 0, nothing killed */
	nv_sftp_pipe_end(p, 10000, &status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_stderr_and_status(void **state)
{
	char *argv[] = { "sh", "-c", "echo 'ssh: no such thing' >&2; exit 3", NULL };
	struct nv_sftp_pipe *p;
	unsigned char b[16];
	int status = 0;

	(void)state;
	assert_int_equal(nv_sftp_pipe_start(&p, argv), 0);
	/* the stream ends with the child */
	assert_true(nv_sftp_pipe_wait(p, 0, 10000) & NV_SFTP_PIPE_IN);
	assert_int_equal(nv_sftp_pipe_recv(p, b, sizeof(b)), 0);
	assert_int_equal(nv_sftp_pipe_exited(p, 10000, &status), 1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_string_equal(nv_sftp_pipe_stderr(p), "ssh: no such thing\n");
	nv_sftp_pipe_end(p, 0, &status);
	assert_int_equal(WEXITSTATUS(status), 3);
}

static void test_stderr_bounded(void **state)
{
	/* far more than is kept: the child never blocks on a full pipe */
	char *argv[] = { "sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x >&2", NULL };
	struct nv_sftp_pipe *p;
	int status = 0;

	(void)state;
	assert_int_equal(nv_sftp_pipe_start(&p, argv), 0);
	assert_int_equal(nv_sftp_pipe_exited(p, 20000, &status), 1);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(strlen(nv_sftp_pipe_stderr(p)), NV_SFTP_PIPE_ERR_MAX);
	nv_sftp_pipe_end(p, 0, NULL);
}

static void test_not_found(void **state)
{
	char *argv[] = { "/nonexistent/navette-no-ssh", NULL };
	char *bare[] = { "navette-no-such-program-in-path", NULL };
	struct nv_sftp_pipe *p = (void *)1;

	(void)state;
	errno = 0;
	assert_int_equal(nv_sftp_pipe_start(&p, argv), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(p);
	assert_int_equal(nv_sftp_pipe_start(&p, bare), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_killed(void **state)
{
	/* ignores the end of its stdin: SIGTERM after the grace, then reaped */
	char *argv[] = { "sleep", "600", NULL };
	struct nv_sftp_pipe *p;
	int status = 0;

	(void)state;
	assert_int_equal(nv_sftp_pipe_start(&p, argv), 0);
	assert_int_equal(nv_sftp_pipe_exited(p, 0, NULL), 0);
	nv_sftp_pipe_end(p, 50, &status);
	assert_int_equal(status, -1);
	nv_sftp_pipe_end(NULL, 0, NULL);
}

static void test_stdin_closed(void **state)
{
	char *argv[] = { "cat", NULL };
	struct nv_sftp_pipe *p;
	int saved = dup(0), fd;

	(void)state;
	/* a socket made now could be fd 0: the child must get it all the same */
	assert_true(saved >= 0);
	close(0);
	assert_int_equal(nv_sftp_pipe_start(&p, argv), 0);
	fd = open("/dev/null", O_RDONLY); /* fd 0 again, unless the pipe took it */
	echo_round(p, (const unsigned char *)"stdin was closed", 16);
	nv_sftp_pipe_end(p, 10000, NULL);
	if (fd >= 0 && fd != 0)
		close(fd);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cat),
		cmocka_unit_test(test_stderr_and_status),
		cmocka_unit_test(test_stderr_bounded),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_killed),
		cmocka_unit_test(test_stdin_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
