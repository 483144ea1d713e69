/* sftp_pipe.h: a child process (ssh) that a byte stream connects to: started
 * with fork and execvp from an argv array (never through a shell), its stdin and
 * stdout one end of a socket pair, its stderr kept for messages, reaped at the
 * end. Knows nothing of SFTP. Called by sftp_exec.c and tests/unit/test_sftp_pipe.c. */
#ifndef NV_SFTP_PIPE_H
#define NV_SFTP_PIPE_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct nv_sftp_pipe;

/* Most of the child's stderr kept (the start: where ssh says what went wrong). */
#define NV_SFTP_PIPE_ERR_MAX 8192u

/* Starts argv[0] (looked up in $PATH as execvp does) with argv. 0; or -1 with
 * errno (that of execvp when the program could not be run: ENOENT, EACCES). */
int nv_sftp_pipe_start(struct nv_sftp_pipe **out, char *const argv[]);

/* Sends what the socket takes now, without waiting: the bytes sent (0 when it
 * is full), or -1 with errno (EPIPE: the child closed its end). */
ssize_t nv_sftp_pipe_send(struct nv_sftp_pipe *p, const struct iovec *iov, int n);
/* Receives what is there, without waiting: bytes (> 0), 0 at the end of the
 * stream (the child closed its stdout or exited), -1 with errno (EAGAIN: none yet). */
ssize_t nv_sftp_pipe_recv(struct nv_sftp_pipe *p, void *buf, size_t n);

enum { NV_SFTP_PIPE_IN = 1, NV_SFTP_PIPE_OUT = 2 };
/* Waits up to timeout_ms for the stream to be readable (or to end), or, with
 * want_out, writable; keeps what the child writes to stderr meanwhile. Returns
 * the NV_SFTP_PIPE_IN/OUT bits that are ready, 0 on timeout, -1 with errno. */
int nv_sftp_pipe_wait(struct nv_sftp_pipe *p, int want_out, long timeout_ms);

/* What the child wrote to stderr so far (its first NV_SFTP_PIPE_ERR_MAX bytes),
 * NUL-terminated; reads what is pending first. */
const char *nv_sftp_pipe_stderr(struct nv_sftp_pipe *p);

/* 1 once the child has exited (reaped; *status as waitpid's), 0 while it runs.
 * With wait_ms > 0, waits that long for it to exit, reading its stderr to the
 * end: what it said before exiting is then all in nv_sftp_pipe_stderr. */
int nv_sftp_pipe_exited(struct nv_sftp_pipe *p, long wait_ms, int *status);

/* Ends the child and frees p: with grace_ms > 0 its stdin is closed and it gets
 * that long to exit by itself (ssh then ends the session cleanly), with stderr
 * read to its end; then SIGTERM, a second more, SIGKILL. Always reaped. *status
 * (may be NULL) as waitpid's, or -1 when it had to be killed. Accepts NULL. */
void nv_sftp_pipe_end(struct nv_sftp_pipe *p, long grace_ms, int *status);

#endif
