/* sftp_write.c: streaming writes to ".navette-tmp.<run id>.<random>" beside the target,
 * with a window of write requests kept in flight, then setstat and rename.
 * Called by sftp.c (slots) only. */
#include "sftp_int.h"
#include "util/log.h"
#include "util/membudget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct nv_writer {
	struct nv_conn *c;
	struct nv_sftp_tmp tmp;    /* the temp file; its handle dies with the session */
	char *key, *path;
	nv_write_opts opts;
	unsigned char *buf;        /* [start, end): bytes sent but not acked, then unsent */
	size_t cap, start, end;
	size_t win;                /* push once this many bytes wait (<= cap) */
	uint64_t acked;
	int moved;                 /* retargeted: path's directory may not exist yet */
};

static void sftp_writer_free(struct nv_writer *w)
{
	nv_sftp_tmp_untrack(w->c, &w->tmp);
	free(w->key);
	free(w->path);
	free(w->tmp.path);
	nv_mem_free(w->buf, w->cap);
	free(w);
}

/* "dir/.navette-tmp.<run id>.<16 random hex>" beside path (driver/tmpname.h) */
static char *sftp_tmp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	char name[NV_TMP_NAME_SIZE];
	uint64_t r;
	char *t;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return NULL;
	nv_tmp_name(name, r);
	if (asprintf(&t, "%.*s%s", slash ? (int)(slash - path + 1) : 0, path, name) < 0)
		return NULL;
	return t;
}

static int sftp_is_dir(struct nv_conn *c, const char *path)
{
	LIBSSH2_SFTP_ATTRIBUTES a;

	return libssh2_sftp_stat_ex(c->sftp, path, (unsigned)strlen(path), LIBSSH2_SFTP_STAT,
				    &a) == 0 && (a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
	       LIBSSH2_SFTP_S_ISDIR(a.permissions);
}

/* mkdir -p, deepest first: most of the path usually exists already. Another
 * worker creating the same directory at the same time is fine. */
static int sftp_mkdirs(struct nv_conn *c, char *dir)
{
	char *slash;
	int rc;

	if (!*dir || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0)
		return 0;
	rc = libssh2_sftp_mkdir_ex(c->sftp, dir, (unsigned)strlen(dir), 0755);
	if (rc == 0)
		return 0;
	rc = nv_sftp_fail(c, rc, "creating directory %s", dir);
	if (rc == NV_ENOTFOUND && (slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		rc = sftp_mkdirs(c, dir);
		*slash = '/';
		if (!rc && (rc = libssh2_sftp_mkdir_ex(c->sftp, dir, (unsigned)strlen(dir), 0755)))
			rc = nv_sftp_fail(c, rc, "creating directory %s", dir);
	}
	if (rc && rc != NV_ERETRY && sftp_is_dir(c, dir)) {
		nv_error_clear();
		return 0;
	}
	return rc;
}

static LIBSSH2_SFTP_HANDLE *sftp_create(struct nv_writer *w)
{
	return libssh2_sftp_open_ex(w->c->sftp, w->tmp.path, (unsigned)strlen(w->tmp.path),
				    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL,
				    (w->opts.flags & NV_WRITE_HAS_MODE) ? 0600 : 0644,
				    LIBSSH2_SFTP_OPENFILE);
}

/* Creates the temp file, making its directory when missing. Again if that
 * directory vanished meanwhile: a removal elsewhere prunes the directories it
 * empties (sftp_io.c), and one may have just emptied this one. */
static int sftp_create_tmp(struct nv_writer *w)
{
	struct nv_conn *c = w->c;
	char *slash = strrchr(w->tmp.path, '/');
	int rc;

	for (int tries = 0;; tries++) {
		w->tmp.h = sftp_create(w);
		if (w->tmp.h)
			return 0;
		rc = nv_sftp_fail(c, libssh2_session_last_errno(c->ssh),
				  "creating a temp file for %s", w->key);
		if (rc != NV_ENOTFOUND || !slash || tries == 3)
			return rc;
		nv_error_clear();
		*slash = '\0';
		rc = sftp_mkdirs(c, slash == w->tmp.path ? "/" : w->tmp.path);
		*slash = '/';
		if (rc)
			return rc;
	}
}

int nv_sftp_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
		       const nv_write_opts *opts)
{
	struct nv_writer *w = calloc(1, sizeof(*w));
	size_t win;
	int rc;

	*out = NULL;
	if (nv_sftp_is_tmp(key)) {
		free(w);
		return nv_error_set(NV_EINVAL, "key '%s': names starting with '%s' are kept for "
				    "navette's temporary files", key, NV_SFTP_TMP_PREFIX);
	}
	if (!w)
		return nv_error_set(NV_ERR, "out of memory");
	w->c = c;
	w->opts = *opts;
	/* Writes keep a quarter of the read window in flight: with 64 requests of
	 * 30000 bytes libssh2 fills sshd's 2 MiB channel window and stalls (uploads
	 * measured twice slower than with 16). A small file needs no big buffer. */
	win = c->window / 4 > NV_SFTP_REQ_BYTES ? c->window / 4 : NV_SFTP_REQ_BYTES;
	w->cap = 2 * win;
	if (opts->size >= 0 && (uint64_t)opts->size < win)
		w->cap = opts->size > 0 ? (size_t)opts->size : 1;
	w->win = w->cap < win ? w->cap : win;
	w->key = strdup(key);
	w->path = nv_sftp_path(c, key);
	w->tmp.path = w->path ? sftp_tmp_name(w->path) : NULL;
	w->buf = nv_mem_alloc(w->cap); /* from the writer thread's seat (util/membudget.h) */
	if (!w->key || !w->tmp.path || !w->buf) {
		sftp_writer_free(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	rc = sftp_create_tmp(w);
	if (rc) {
		sftp_writer_free(w);
		return rc;
	}
	nv_sftp_tmp_track(c, &w->tmp);
	*out = w;
	return 0;
}

static int sftp_lost(struct nv_writer *w)
{
	return nv_error_set(NV_ERETRY, "sftp %s: connection lost while writing %s",
			    w->c->where, w->key);
}

/* One libssh2 call: sends what is not sent yet, returns what got acked. libssh2
 * 1.10 wants the unacked bytes passed again, which is why they stay in buf. */
static int sftp_push(struct nv_writer *w)
{
	ssize_t n;

	if (!w->tmp.h)
		return sftp_lost(w);
	n = libssh2_sftp_write(w->tmp.h, (const char *)w->buf + w->start, w->end - w->start);
	if (n < 0)
		return nv_sftp_fail(w->c, (int)n, "writing %s", w->key);
	w->start += (size_t)n;
	w->acked += (uint64_t)n;
	return 0;
}

int nv_sftp_write(struct nv_writer *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t n;
	int rc;

	if (!w->tmp.h)
		return sftp_lost(w);
	while (len) {
		if (w->end == w->cap) {
			memmove(w->buf, w->buf + w->start, w->end - w->start);
			w->end -= w->start;
			w->start = 0;
		}
		n = w->cap - w->end < len ? w->cap - w->end : len;
		memcpy(w->buf + w->end, p, n);
		w->end += n;
		p += n;
		len -= n;
		while (w->end - w->start >= w->win)
			if ((rc = sftp_push(w)))
				return rc;
	}
	return 0;
}

static int sftp_finish_handle(struct nv_writer *w)
{
	LIBSSH2_SFTP_ATTRIBUTES a = { 0 };
	int rc;

	while (w->start < w->end)
		if ((rc = sftp_push(w)))
			return rc;
	if (w->c->fsync_each && (rc = libssh2_sftp_fsync(w->tmp.h)))
		return nv_sftp_fail(w->c, rc, "fsync of %s", w->key);
	if (w->opts.flags & NV_WRITE_HAS_MODE) {
		a.flags |= LIBSSH2_SFTP_ATTR_PERMISSIONS;
		a.permissions = w->opts.mode & 07777;
	}
	if ((w->opts.flags & NV_WRITE_HAS_MTIME) && w->opts.mtime_sec >= 0 &&
	    w->opts.mtime_sec <= UINT32_MAX) {
		a.flags |= LIBSSH2_SFTP_ATTR_ACMODTIME;
		a.atime = a.mtime = (unsigned long)w->opts.mtime_sec;
	} else if (w->opts.flags & NV_WRITE_HAS_MTIME) {
		/* version 3 sends 32 unsigned bits: never a time cut to others */
		nv_log(NV_LOG_WARN, "%s: SFTP holds times from 1970 to 2106 only: mtime %lld not "
		       "applied, the file keeps the time of its writing", w->key,
		       (long long)w->opts.mtime_sec);
	}
	if (a.flags && (rc = libssh2_sftp_fsetstat(w->tmp.h, &a)))
		return nv_sftp_fail(w->c, rc, "setting mode and mtime of %s", w->key);
	rc = libssh2_sftp_close_handle(w->tmp.h);
	w->tmp.h = NULL;
	if (rc)
		return nv_sftp_fail(w->c, rc, "closing %s", w->key);
	return 0;
}

int nv_sftp_write_retarget(struct nv_writer *w, const char *key)
{
	char *k, *path;

	if (nv_sftp_is_tmp(key))
		return nv_error_set(NV_EINVAL, "key '%s': names starting with '%s' are kept for "
				    "navette's temporary files", key, NV_SFTP_TMP_PREFIX);
	k = strdup(key);
	path = nv_sftp_path(w->c, key);
	if (!k || !path) {
		free(k);
		free(path);
		return nv_error_set(NV_ERR, "out of memory");
	}
	free(w->key);
	free(w->path);
	w->key = k;
	w->path = path;
	w->moved = 1;
	return 0;
}

/* A retargeted write goes to a directory that may not exist: made at commit,
 * when the rename says so (one round trip only where it is missing). */
static int sftp_mkdir_target(struct nv_writer *w)
{
	char *slash = strrchr(w->path, '/');
	int rc;

	if (!slash || slash == w->path)
		return NV_ENOTFOUND;
	*slash = '\0';
	rc = sftp_mkdirs(w->c, w->path);
	*slash = '/';
	return rc;
}

/* SFTP v3 rename: never replaces the target. */
static int sftp_rename_v3(struct nv_writer *w)
{
	return libssh2_sftp_rename_ex(w->c->sftp, w->tmp.path, (unsigned)strlen(w->tmp.path),
				      w->path, (unsigned)strlen(w->path), 0);
}

static int sftp_rename(struct nv_writer *w)
{
	struct nv_conn *c = w->c;
	int rc = sftp_rename_v3(w);

	if (rc == 0)
		return 0;
	rc = nv_sftp_fail(c, rc, "renaming into %s", w->key);
	if (rc == NV_ENOTFOUND && w->moved && sftp_mkdir_target(w) == 0) {
		if ((rc = sftp_rename_v3(w)) == 0)
			return 0;
		rc = nv_sftp_fail(c, rc, "renaming into %s", w->key);
	}
	if (rc == NV_ERETRY)
		return rc;
	/* SFTP v3 rename never replaces: find out whether the target is why. */
	if ((rc = libssh2_sftp_stat_ex(c->sftp, w->path, (unsigned)strlen(w->path),
				       LIBSSH2_SFTP_LSTAT, &(LIBSSH2_SFTP_ATTRIBUTES){ 0 })))
		return nv_sftp_fail(c, rc, "renaming into %s", w->key);
	if (w->opts.flags & NV_WRITE_EXCLUSIVE)
		return nv_error_set(NV_EEXISTS, "sftp %s: %s already exists", c->where, w->key);
	/* The window: between these two calls the key holds no file at all. */
	if ((rc = libssh2_sftp_unlink_ex(c->sftp, w->path, (unsigned)strlen(w->path))) &&
	    (rc = nv_sftp_fail(c, rc, "replacing %s", w->key)) != NV_ENOTFOUND)
		return rc;
	if ((rc = sftp_rename_v3(w)))
		return nv_sftp_fail(c, rc, "renaming into %s", w->key);
	return 0;
}

int nv_sftp_write_commit(struct nv_writer *w, nv_commit_info *out)
{
	struct nv_conn *c = w->c;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sftp_finish_handle(w);
	if (!rc)
		rc = sftp_rename(w);
	if (!rc) {
		if (c->rkey && strcmp(c->rkey, w->key) == 0)
			nv_sftp_read_forget(c);
		/* The server acknowledged every write, at its offset, into a file it
		 * created for us alone (EXCL, random name): that is the stored size. */
		out->size = w->acked;
		out->confirmed = NV_CONFIRM_SIZE;
		sftp_writer_free(w);
		return 0;
	}
	nv_sftp_write_abort(w);
	return rc;
}

/* Best effort; keeps the error that led here as this thread's message. */
void nv_sftp_write_abort(struct nv_writer *w)
{
	struct nv_sftp_tmp *t;
	char saved[1024];
	int code, rc = 0;

	if (!w)
		return;
	t = &w->tmp;
	if (!t->dropped) {
		code = nv_error_code();
		snprintf(saved, sizeof(saved), "%s", nv_error_msg());
		if (t->h)
			rc = libssh2_sftp_close_handle(t->h);
		t->h = NULL;
		if (rc == 0)
			rc = libssh2_sftp_unlink_ex(w->c->sftp, t->path, (unsigned)strlen(t->path));
		if (rc && nv_sftp_fail(w->c, rc, "removing %s", t->path) == NV_ERETRY && !t->dropped)
			nv_sftp_orphan(w->c, t->path);
		nv_error_set(code, "%s", saved);
	}
	sftp_writer_free(w);
}
