/* sftp_pipe.c: the ssh child process and the byte stream to it (sftp_pipe.h).
 * Called by sftp_exec.c and tests/unit/test_sftp_pipe.c.
 *
 * A socket pair rather than two pipes: send() with MSG_NOSIGNAL never raises
 * SIGPIPE in navette when ssh is gone, and one descriptor carries both ways.
 * fork() in a threaded process: between fork and execvp the child makes only
 * async-signal-safe calls (dup2, sigprocmask, execvp, write, _exit). */
#include "sftp_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

struct nv_sftp_pipe {
	pid_t pid;      /* 0 once reaped */
	int status;     /* waitpid's, once reaped */
	int sock;       /* our end: the child's stdin and stdout */
	int err;        /* the child's stderr, -1 at its end */
	char errbuf[NV_SFTP_PIPE_ERR_MAX + 1];
	size_t errlen;
};

/* Socket buffers: a few SFTP packets each way, fewer wake-ups per MiB. */
#define NV_SFTP_PIPE_SOCKBUF (512 * 1024)

static long sftp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Descriptors from 3 up, close-on-exec: with stdin closed, a new socket could
 * be 0, and dup2(0, 0) would leave it close-on-exec in the child. */
static int sftp_high_fd(int fd)
{
	int hi;

	if (fd < 0 || fd > 2)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return hi;
}

static void sftp_close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The child: its stdin and stdout, its stderr, then the program. Errors go back
 * through report (close-on-exec: it reads nothing when execvp works). */
static void sftp_child(int sock, int err, int report, char *const argv[])
{
	sigset_t none;
	int e;

	if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || dup2(err, 2) < 0)
		goto fail;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static int sftp_pipe_fds(int sv[2], int ep[2], int rp[2])
{
	int size = NV_SFTP_PIPE_SOCKBUF, i;

	sv[0] = sv[1] = ep[0] = ep[1] = rp[0] = rp[1] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(ep, O_CLOEXEC) < 0 || pipe2(rp, O_CLOEXEC) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		sv[i] = sftp_high_fd(sv[i]);
		ep[i] = sftp_high_fd(ep[i]);
		rp[i] = sftp_high_fd(rp[i]);
		if (sv[i] < 0 || ep[i] < 0 || rp[i] < 0)
			return -1;
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(ep[0], F_SETFL, O_NONBLOCK) < 0)
		return -1;
	return 0;
}

int nv_sftp_pipe_start(struct nv_sftp_pipe **out, char *const argv[])
{
	struct nv_sftp_pipe *p = calloc(1, sizeof(*p));
	int sv[2], ep[2], rp[2], e = 0, saved;
	ssize_t n;

	*out = NULL;
	if (!p)
		return -1;
	if (sftp_pipe_fds(sv, ep, rp) < 0)
		goto fail;
	p->pid = fork();
	if (p->pid < 0)
		goto fail;
	if (p->pid == 0)
		sftp_child(sv[1], ep[1], rp[1], argv);
	close(sv[1]);
	close(ep[1]);
	close(rp[1]);
	sv[1] = ep[1] = rp[1] = -1;
	do
		n = read(rp[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(rp[0]);
	p->sock = sv[0];
	p->err = ep[0];
	if (n == (ssize_t)sizeof(e)) { /* execvp failed: reap the child, report why */
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->pid = 0;
		nv_sftp_pipe_end(p, 0, NULL);
		errno = e;
		return -1;
	}
	*out = p;
	return 0;
fail:
	saved = errno;
	sftp_close_fds(sv, 2);
	sftp_close_fds(ep, 2);
	sftp_close_fds(rp, 2);
	free(p);
	errno = saved;
	return -1;
}

ssize_t nv_sftp_pipe_send(struct nv_sftp_pipe *p, const struct iovec *iov, int n)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
	ssize_t r;

	do
		r = sendmsg(p->sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return r;
}

ssize_t nv_sftp_pipe_recv(struct nv_sftp_pipe *p, void *buf, size_t n)
{
	ssize_t r;

	do
		r = recv(p->sock, buf, n, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Reads what stderr holds now; keeps the first NV_SFTP_PIPE_ERR_MAX bytes and
 * drops the rest, so a chatty child never blocks on a full pipe. */
static void sftp_drain_err(struct nv_sftp_pipe *p)
{
	char sink[4096];
	ssize_t n;

	while (p->err >= 0) {
		size_t room = NV_SFTP_PIPE_ERR_MAX - p->errlen;

		n = room ? read(p->err, p->errbuf + p->errlen, room)
			 : read(p->err, sink, sizeof(sink));
		if (n > 0) {
			if (room)
				p->errlen += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			close(p->err);
			p->err = -1;
		}
		break;
	}
	p->errbuf[p->errlen] = '\0';
}

int nv_sftp_pipe_wait(struct nv_sftp_pipe *p, int want_out, long timeout_ms)
{
	long deadline = sftp_now_ms() + timeout_ms, left;
	struct pollfd f[2];
	int r, ready;

	for (;;) {
		f[0].fd = p->sock;
		f[0].events = POLLIN | (want_out ? POLLOUT : 0);
		f[1].fd = p->err;
		f[1].events = POLLIN;
		f[0].revents = f[1].revents = 0;
		left = deadline - sftp_now_ms();
		r = poll(f, p->err >= 0 ? 2 : 1, left > 0 ? (int)left : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (p->err >= 0 && f[1].revents)
			sftp_drain_err(p);
		ready = (f[0].revents & (POLLIN | POLLHUP | POLLERR) ? NV_SFTP_PIPE_IN : 0) |
			(f[0].revents & POLLOUT ? NV_SFTP_PIPE_OUT : 0);
		if (ready || left <= 0)
			return ready;
	}
}

const char *nv_sftp_pipe_stderr(struct nv_sftp_pipe *p)
{
	sftp_drain_err(p);
	return p->errbuf;
}

static int sftp_reap(struct nv_sftp_pipe *p, int flags)
{
	pid_t r;

	if (!p->pid)
		return 1;
	do
		r = waitpid(p->pid, &p->status, flags);
	while (r < 0 && errno == EINTR);
	if (r == p->pid || (r < 0 && errno == ECHILD)) {
		p->pid = 0;
		return 1;
	}
	return 0;
}

int nv_sftp_pipe_exited(struct nv_sftp_pipe *p, long wait_ms, int *status)
{
	long deadline = sftp_now_ms() + wait_ms, left;
	struct pollfd f;

	for (;;) {
		sftp_drain_err(p);
		if (sftp_reap(p, WNOHANG)) {
			sftp_drain_err(p); /* what it wrote just before exiting */
			break;
		}
		left = deadline - sftp_now_ms();
		if (left <= 0)
			return 0;
		/* stderr's end or a line wakes this up; else a short nap, then reap again */
		f.fd = p->err;
		f.events = POLLIN;
		poll(&f, p->err >= 0 ? 1 : 0, left < 20 ? (int)left : 20);
	}
	if (status)
		*status = p->status;
	return 1;
}

void nv_sftp_pipe_end(struct nv_sftp_pipe *p, long grace_ms, int *status)
{
	int killed = 0;

	if (!p)
		return;
	if (p->sock >= 0)
		shutdown(p->sock, SHUT_WR); /* the child reads the end of its stdin */
	if (p->pid && !nv_sftp_pipe_exited(p, grace_ms, NULL)) {
		kill(p->pid, SIGTERM);
		killed = 1;
		if (!nv_sftp_pipe_exited(p, 1000, NULL)) {
			kill(p->pid, SIGKILL);
			sftp_reap(p, 0);
		}
	}
	if (status)
		*status = killed ? -1 : p->status;
	if (p->sock >= 0)
		close(p->sock);
	if (p->err >= 0)
		close(p->err);
	free(p);
}
