/* sftp_write.c: streaming writes to ".navette-tmp.<run id>.<random>" beside the target
 * (the transport keeps a window of write requests in flight), then setstat and rename.
 * Called by sftp.c (slots) only. */
#include "sftp_int.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

struct nv_writer {
	struct nv_conn *c;
	struct nv_sftp_tmp tmp;    /* the temp file; its handle dies with the session */
	char *key, *path;
	nv_write_opts opts;
	uint64_t acked;            /* bytes the server acknowledged (known at commit) */
	int moved;                 /* retargeted: path's directory may not exist yet */
};

static void sftp_writer_free(struct nv_writer *w)
{
	nv_sftp_tmp_untrack(w->c, &w->tmp);
	free(w->key);
	free(w->path);
	free(w->tmp.path);
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
	nv_sftp_attrs a;

	return c->tp->stat(c, path, 0, &a) == 0 && (a.flags & NV_SFTP_ATTR_PERMISSIONS) &&
	       S_ISDIR(a.perm);
}

/* mkdir -p, deepest first: most of the path usually exists already. Another
 * worker creating the same directory at the same time is fine. */
static int sftp_mkdirs(struct nv_conn *c, char *dir)
{
	char *slash;
	int rc;

	if (!*dir || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0)
		return 0;
	rc = c->tp->mkdir(c, dir, 0755);
	if (rc == 0)
		return 0;
	rc = nv_sftp_fail(c, rc, "creating directory %s", dir);
	if (rc == NV_ENOTFOUND && (slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		rc = sftp_mkdirs(c, dir);
		*slash = '/';
		if (!rc && (rc = c->tp->mkdir(c, dir, 0755)))
			rc = nv_sftp_fail(c, rc, "creating directory %s", dir);
	}
	if (rc && rc != NV_ERETRY && sftp_is_dir(c, dir)) {
		nv_error_clear();
		return 0;
	}
	return rc;
}

static int sftp_create(struct nv_writer *w)
{
	return w->c->tp->open(w->c, w->tmp.path,
			      NV_SFTP_FXF_WRITE | NV_SFTP_FXF_CREAT | NV_SFTP_FXF_EXCL,
			      (w->opts.flags & NV_WRITE_HAS_MODE) ? 0600 : 0644, w->opts.size,
			      &w->tmp.h);
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
		rc = sftp_create(w);
		if (rc == 0)
			return 0;
		rc = nv_sftp_fail(c, rc, "creating a temp file for %s", w->key);
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
	w->key = strdup(key);
	w->path = nv_sftp_path(c, key);
	w->tmp.path = w->path ? sftp_tmp_name(w->path) : NULL;
	if (!w->key || !w->tmp.path) {
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

int nv_sftp_write(struct nv_writer *w, const void *buf, size_t len)
{
	int rc;

	if (!w->tmp.h)
		return sftp_lost(w);
	if ((rc = w->c->tp->write(w->tmp.h, buf, len)))
		return nv_sftp_fail(w->c, rc, "writing %s", w->key);
	return 0;
}

static int sftp_finish_handle(struct nv_writer *w)
{
	nv_sftp_attrs a = { 0 };
	struct nv_sftp_fh *h = w->tmp.h;
	const char *step = "writing";
	int rc;

	if (!h)
		return sftp_lost(w);
	if (w->opts.flags & NV_WRITE_HAS_MODE) {
		a.flags |= NV_SFTP_ATTR_PERMISSIONS;
		a.perm = w->opts.mode & 07777;
	}
	if ((w->opts.flags & NV_WRITE_HAS_MTIME) && w->opts.mtime_sec >= 0 &&
	    w->opts.mtime_sec <= UINT32_MAX) {
		a.flags |= NV_SFTP_ATTR_ACMODTIME;
		a.atime = a.mtime = (uint32_t)w->opts.mtime_sec;
	} else if (w->opts.flags & NV_WRITE_HAS_MTIME) {
		/* version 3 sends 32 unsigned bits: never a time cut to others */
		nv_log(NV_LOG_WARN, "%s: SFTP holds times from 1970 to 2106 only: mtime %lld not "
		       "applied, the file keeps the time of its writing", w->key,
		       (long long)w->opts.mtime_sec);
	}
	/* the transport closes the handle whatever happens: it is gone from here on */
	w->tmp.h = NULL;
	rc = w->c->tp->finish(h, &a, w->c->fsync_each, &w->acked, &step);
	if (rc)
		return nv_sftp_fail(w->c, rc, "%s %s", step, w->key);
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

/* SFTP v3 rename: never replaces the target. Where the transport can
 * (posix-rename@openssh.com), a write that may replace does so atomically. */
static int sftp_rename_v3(struct nv_writer *w)
{
	return w->c->tp->rename(w->c, w->tmp.path, w->path,
				!(w->opts.flags & NV_WRITE_EXCLUSIVE));
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
	if ((rc = c->tp->stat(c, w->path, 1, &(nv_sftp_attrs){ 0 })))
		return nv_sftp_fail(c, rc, "renaming into %s", w->key);
	if (w->opts.flags & NV_WRITE_EXCLUSIVE)
		return nv_error_set(NV_EEXISTS, "sftp %s: %s already exists", c->where, w->key);
	/* The window: between these two calls the key holds no file at all. */
	if ((rc = c->tp->unlink(c, w->path)) &&
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
			rc = w->c->tp->close(t->h);
		t->h = NULL;
		if (rc == 0)
			rc = w->c->tp->unlink(w->c, t->path);
		if (rc && nv_sftp_fail(w->c, rc, "removing %s", t->path) == NV_ERETRY && !t->dropped)
			nv_sftp_orphan(w->c, t->path);
		nv_error_set(code, "%s", saved);
	}
	sftp_writer_free(w);
}
