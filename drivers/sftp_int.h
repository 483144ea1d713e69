/* sftp_int.h: state and helpers shared by the sftp driver's files (sftp*.c).
 * Private to drivers/sftp*.c. Names no library type: libssh2's stay in
 * sftp_l2_int.h, the ssh transport's in sftp_exec*.c.
 *
 * Two transports carry the same requests (nv_sftp_transport below): libssh2
 * (sftp_l2.c, brought up by sftp_connect.c, sftp_auth.c, sftp_hostkey.c) and an
 * ssh child process speaking SFTP over a socket pair (sftp_exec.c and
 * sftp_exec_io.c over sftp_proto.c, sftp_pipe.c and sftp_ssh.c).
 * Calls go down only, never back up:
 *   sftp.c          the table, settings, open/close, each slot's reconnect loop
 *   sftp_io.c, sftp_list.c, sftp_write.c, sftp_leftover.c
 *                   the requests of each slot, through c->tp
 *   sftp_request.c  the one mapping of SFTP statuses and transport failures to
 *                   nv_err, the teardown a failure causes (with the handles the
 *                   session owns), keeping a session up; paths, attributes
 *   the transports  (reached through c->tp only, so no call goes back up)
 */
#ifndef NV_SFTP_INT_H
#define NV_SFTP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "driver/driver.h"
#include "driver/tmpname.h"
#include "util/retry.h"
#include "sftp_proto.h"

/* Temporary files are named with this prefix in the target directory
 * (driver/tmpname.h); listings skip them. */
#define NV_SFTP_TMP_PREFIX NV_TMP_PREFIX

struct nv_conn;
struct nv_writer;
struct nv_sftp_tmp;
struct nv_sftp_fh; /* an open file or directory: the transport's own */

/* A transport: how requests reach the server. Requests return 0, an SFTP
 * status (> 0, NV_SFTP_FX_*: the server refused), or a negative nv_err for a
 * failure of the transport itself, with its words in c->why; the caller turns
 * any of them into a message with nv_sftp_fail(). A handle belongs to its
 * session: after cut, closing it frees it without a word to the server. */
typedef struct nv_sftp_transport {
	const char *name;    /* "libssh2", "ssh": for messages and logs */
	/* One attempt to bring a session up (c->t set): 0, or an nv_err with the
	 * message set, and c->t NULL. */
	int (*connect)(struct nv_conn *c);
	/* 1 while the session seems usable (a keepalive went out, the child lives). */
	int (*alive)(struct nv_conn *c);
	/* Stops all talk at once: every later request fails fast. */
	void (*cut)(struct nv_conn *c);
	/* Ends the session politely (the server learns it is over). */
	void (*bye)(struct nv_conn *c);
	/* Frees the session, after cut or bye; c->t becomes NULL. */
	void (*drop)(struct nv_conn *c);

	int (*stat)(struct nv_conn *c, const char *path, int lstat, nv_sftp_attrs *a);
	/* size_hint: the bytes a file opened for writing will get, -1 unknown. */
	int (*open)(struct nv_conn *c, const char *path, uint32_t pflags, uint32_t mode,
		    int64_t size_hint, struct nv_sftp_fh **out);
	int (*opendir)(struct nv_conn *c, const char *path, struct nv_sftp_fh **out);
	/* The next entry of a directory into name (size bytes, NUL-terminated):
	 * 0 with *end 0, or 0 with *end 1 after the last one. */
	int (*readdir)(struct nv_sftp_fh *h, char *name, size_t size, nv_sftp_attrs *a,
		       int *end);
	/* Up to len bytes at off; *got < len only at the end of the file.
	 * Sequential calls keep requests in flight ahead of the reader. */
	int (*pread)(struct nv_sftp_fh *h, uint64_t off, void *buf, size_t len, size_t *got);
	/* Appends len bytes; returns once they are on their way (acknowledged
	 * later: finish says whether they all were). */
	int (*write)(struct nv_sftp_fh *h, const void *buf, size_t len);
	/* Ends a file being written: every write acknowledged, then fsync (when
	 * asked), the attributes a (when a->flags), close. *written: the bytes the
	 * server acknowledged; *step: what failed ("writing", "fsync of", "setting
	 * mode and mtime of", "closing"). Frees h, also on failure. */
	int (*finish)(struct nv_sftp_fh *h, const nv_sftp_attrs *a, int fsync,
		      uint64_t *written, const char **step);
	/* Closes h (without waiting where the transport need not) and frees it. */
	int (*close)(struct nv_sftp_fh *h);
	int (*unlink)(struct nv_conn *c, const char *path);
	int (*mkdir)(struct nv_conn *c, const char *path, uint32_t mode);
	int (*rmdir)(struct nv_conn *c, const char *path);
	/* Renames from to to. replace 0: refused when to exists (SFTP v3).
	 * replace 1: to replaced atomically where the server can
	 * (posix-rename@openssh.com), else as with 0. */
	int (*rename)(struct nv_conn *c, const char *from, const char *to, int replace);
} nv_sftp_transport;

extern const nv_sftp_transport nv_sftp_libssh2; /* sftp_l2.c */
extern const nv_sftp_transport nv_sftp_ssh;     /* sftp_exec_io.c */

/* One connection: settings read at open, plus the live session (NULL when torn down). */
struct nv_conn {
	/* --- from the location and its settings (fixed after open) --- */
	const nv_sftp_transport *tp;
	char *host;
	unsigned port;
	char *user;
	char *where;       /* "user@host:port", for messages */
	char *root;        /* "" = login directory; else no trailing '/' (except "/") */
	char *key_file;    /* NULL: none */
	char *passphrase;  /* secret, wiped on free; NULL: none */
	char *password;    /* secret, wiped on free; NULL: none */
	char *known_hosts;
	int accept_new;    /* host_key_checking = accept-new */
	int fsync_each;    /* fsync = each: fsync@openssh.com before each commit */
	long timeout_ms;
	unsigned keepalive_sec;
	unsigned requests; /* read requests kept in flight per transfer */
	/* transport = ssh: what the settings name, nothing defaulted, so that
	 * ~/.ssh/config decides the rest */
	char *ssh_command;
	char *ssh_config;  /* NULL: ssh's own files */
	int user_set, port_set, known_hosts_set;

	/* --- the live session --- */
	void *t;                    /* the transport's session; NULL when down */
	char why[768];              /* the transport's words for its last failure */

	/* one read handle kept open across sequential ranged reads of one key */
	struct nv_sftp_fh *rh;
	char *rkey;

	struct nv_sftp_fh *dh;      /* the directory being read, closed at teardown */
	struct nv_sftp_tmp *tmps;   /* temp files being written, dropped at teardown */
	char **orphans;             /* temp files left by a dropped session */
	size_t norphans;
	struct nv_walk_seen *seen;  /* temp files the listings skipped (walk.h) */
};

/* A temp file being written. Its handle belongs to the session: a teardown
 * closes it and leaves the file to remove once a new session is up. */
struct nv_sftp_tmp {
	struct nv_sftp_fh *h;       /* NULL once closed, or dropped */
	char *path;
	int dropped;                /* the session died under it: path is an orphan */
	struct nv_sftp_tmp *next;   /* in c->tmps */
};

/* ---- sftp_request.c ---- */

/* The one mapping of what a request returned (the transport's convention:
 * an SFTP status > 0, or a negative nv_err with c->why) to the message
 * "sftp WHERE: CONTEXT: WHY" and its nv_err. Transient failures tear the
 * session down and give NV_ERETRY. */
int nv_sftp_fail(struct nv_conn *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The nv_err of an SFTP status (> 0); rc itself when it is an nv_err (< 0). */
int nv_sftp_code(int rc);
/* Sets c->why (the transport's words for a failure); returns code. */
int nv_sftp_why(struct nv_conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Drops the session without talking to the server any further. */
void nv_sftp_teardown(struct nv_conn *c);
/* Tracks t (t->h open) in c / stops tracking it. */
void nv_sftp_tmp_track(struct nv_conn *c, struct nv_sftp_tmp *t);
void nv_sftp_tmp_untrack(struct nv_conn *c, struct nv_sftp_tmp *t);
/* Remembers a temp file to remove once a new session is up (best effort). */
void nv_sftp_orphan(struct nv_conn *c, const char *path);
void nv_sftp_read_forget(struct nv_conn *c);                   /* closes the cached handle */
char *nv_sftp_path(const struct nv_conn *c, const char *key); /* NULL: out of memory */
/* 1 when key's last component is a temp name: such keys are not objects. */
int nv_sftp_is_tmp(const char *key);
/* Fills e from SFTP attributes; 0 when they describe a regular file. */
int nv_sftp_attrs_entry(nv_entry *e, const nv_sftp_attrs *a);

/* Connects when there is no live session (one attempt: the callers' loops
 * decide on retries), then removes the orphans a dropped session left. */
int nv_sftp_ensure(struct nv_conn *c);
/* Says goodbye to the server, removes orphans, drops the session. */
void nv_sftp_disconnect(struct nv_conn *c);

/* An idempotent request, made again after a reconnect while the one retry
 * budget lasts (util/retry.h decides, and sleeps the backoff). */
#define NV_SFTP_RETRY(c, rc, call)                                              \
	do {                                                                    \
		(rc) = nv_sftp_ensure(c);                                       \
		if (!(rc))                                                      \
			(rc) = (call);                                          \
	} while (nv_retry_again(rc))

/* ---- sftp_io.c ---- */
int nv_sftp_stat(struct nv_conn *c, const char *key, nv_entry *out);
int nv_sftp_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
		 size_t len, size_t *got);
int nv_sftp_remove(struct nv_conn *c, const char *key);

/* ---- sftp_list.c (list_next and list_close are walk.c's) ---- */
int nv_sftp_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix);
/* The same walk over the temp files that interrupted writes left. */
int nv_sftp_walk_leftovers(struct nv_list **out, struct nv_conn *c);

/* ---- sftp_leftover.c: the leftovers slots (sftp.c gives open and remove
 * their reconnect loops) ---- */
int nv_sftp_leftovers_open(struct nv_leftovers **out, struct nv_conn *c);
int nv_sftp_leftover_remove(struct nv_conn *c, const nv_leftover *lo, int proven);

/* ---- sftp_write.c ---- */
int nv_sftp_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
		       const nv_write_opts *opts);
int nv_sftp_write(struct nv_writer *w, const void *buf, size_t len);
int nv_sftp_write_commit(struct nv_writer *w, nv_commit_info *out);
void nv_sftp_write_abort(struct nv_writer *w);
int nv_sftp_write_retarget(struct nv_writer *w, const char *key);

#endif
