/* sftp_int.h: state and helpers shared by the sftp driver's files (sftp*.c).
 * Private to drivers/sftp*.c: the only header outside libssh2 that names libssh2 types.
 *
 * Calls go down only, never back up:
 *   sftp.c          the table, settings, open/close, each slot's reconnect loop
 *   sftp_io.c, sftp_list.c, sftp_write.c, sftp_leftover.c
 *                   the requests of each slot
 *   sftp_connect.c  connection life: bring a session up, keep one up, close it
 *   sftp_auth.c, sftp_hostkey.c             used by sftp_connect.c to come up
 *   sftp_request.c  the one error mapping and the teardown a failure causes;
 *                   paths, attributes, the handles a session owns
 */
#ifndef NV_SFTP_INT_H
#define NV_SFTP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "driver/driver.h"
#include "driver/tmpname.h"
#include "util/retry.h"

/* Temporary files are named with this prefix in the target directory
 * (driver/tmpname.h); listings skip them. */
#define NV_SFTP_TMP_PREFIX NV_TMP_PREFIX
/* libssh2 1.10 cuts reads and writes into requests of at most this many bytes. */
#define NV_SFTP_REQ_BYTES 30000u

struct nv_writer;
struct nv_sftp_tmp;

/* One connection: settings read at open, plus the live session (NULL when torn down). */
struct nv_conn {
	/* --- from the location and its settings (fixed after open) --- */
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
	size_t window;     /* bytes of read/write requests kept in flight */

	/* --- the live session --- */
	int sock;                   /* -1 when disconnected */
	LIBSSH2_SESSION *ssh;
	LIBSSH2_SFTP *sftp;         /* NULL when disconnected */
	unsigned gen;               /* bumped at each teardown: stale handles notice */

	/* one read handle kept open across sequential ranged reads of one key */
	LIBSSH2_SFTP_HANDLE *rh;
	char *rkey;
	uint64_t rpos;

	LIBSSH2_SFTP_HANDLE *dh;    /* the directory being read, closed at teardown */
	struct nv_sftp_tmp *tmps;   /* temp files being written, dropped at teardown */
	char **orphans;             /* temp files left by a dropped session */
	size_t norphans;
	struct nv_walk_seen *seen;  /* temp files the listings skipped (walk.h) */
};

/* A temp file being written. Its handle belongs to the session: a teardown
 * closes it and leaves the file to remove once a new session is up. */
struct nv_sftp_tmp {
	LIBSSH2_SFTP_HANDLE *h;     /* NULL once closed, or dropped */
	char *path;
	int dropped;                /* the session died under it: path is an orphan */
	struct nv_sftp_tmp *next;   /* in c->tmps */
};

/* ---- sftp_request.c ---- */

/* The one mapping of libssh2 and SFTP status codes to nv_err codes. rc is
 * what a libssh2 call returned. Transient failures tear the session down and
 * give NV_ERETRY; the message names the connection and the context. */
int nv_sftp_fail(struct nv_conn *c, int rc, const char *fmt, ...)
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
int nv_sftp_attrs_entry(nv_entry *e, const LIBSSH2_SFTP_ATTRIBUTES *a);

/* ---- sftp_hostkey.c: known_hosts ---- */
struct nv_sftp_known; /* keys known_hosts holds for one host */
int nv_sftp_known_load(struct nv_sftp_known **out, const struct nv_conn *c);
void nv_sftp_known_free(struct nv_sftp_known *k);
/* Host-key algorithms to prefer ("" when known_hosts has nothing for the host). */
const char *nv_sftp_known_prefs(const struct nv_sftp_known *k);
/* Checks the server's key blob; appends it for an unknown host under accept-new. */
int nv_sftp_known_check(const struct nv_sftp_known *k, const struct nv_conn *c,
			const unsigned char *blob, size_t len);

/* ---- sftp_auth.c ---- */
int nv_sftp_auth(struct nv_conn *c);

/* ---- sftp_connect.c: connection life ---- */

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
