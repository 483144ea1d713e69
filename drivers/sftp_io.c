/* sftp_io.c: stat, ranged reads (one handle kept open across sequential reads
 * so the transport's read-ahead keeps requests in flight) and remove (with the
 * directories it empties).
 * Called by sftp.c (slots) only. */
#include "sftp_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int nv_sftp_stat(struct nv_conn *c, const char *key, nv_entry *out)
{
	nv_sftp_attrs a;
	char *path = nv_sftp_path(c, key);
	int rc;

	if (nv_sftp_is_tmp(key)) {
		free(path);
		return nv_error_set(NV_ENOTFOUND, "sftp %s: %s: no such object", c->where, key);
	}
	if (!path)
		return nv_error_set(NV_ERR, "out of memory");
	rc = c->tp->stat(c, path, 1, &a);
	free(path);
	if (rc)
		return nv_sftp_fail(c, rc, "stat %s", key);
	if (nv_sftp_attrs_entry(out, &a))
		return nv_error_set(NV_ENOTFOUND, "sftp %s: %s is not a regular file", c->where,
				    key);
	return 0;
}

static int sftp_read_open(struct nv_conn *c, const char *key)
{
	char *path = nv_sftp_path(c, key);
	int rc;

	if (!path || !(c->rkey = strdup(key))) {
		free(path);
		return nv_error_set(NV_ERR, "out of memory");
	}
	rc = c->tp->open(c, path, NV_SFTP_FXF_READ, 0, -1, &c->rh);
	free(path);
	if (rc) {
		rc = nv_sftp_fail(c, rc, "opening %s", key);
		nv_sftp_read_forget(c);
		return rc;
	}
	return 0;
}

/* A read at offset 0 reopens the file, so a file replaced since the last pass is
 * read afresh; sequential reads reuse the handle and its read-ahead. */
int nv_sftp_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
		 size_t len, size_t *got)
{
	int rc;

	*got = 0;
	if (nv_sftp_is_tmp(key))
		return nv_error_set(NV_ENOTFOUND, "sftp %s: %s: no such object", c->where, key);
	if (c->rh && (offset == 0 || strcmp(c->rkey, key) != 0))
		nv_sftp_read_forget(c);
	if (!c->rh && (rc = sftp_read_open(c, key)))
		return rc;
	rc = c->tp->pread(c->rh, offset, buf, len, got);
	if (rc) {
		*got = 0;
		rc = nv_sftp_fail(c, rc, "reading %s", key);
		nv_sftp_read_forget(c);
	}
	return rc;
}

/* Removes the parent directories of path (root/key) that the removal left
 * empty, deepest first, never the root; stops at the first that is not empty
 * (the server refuses it). As the local driver does: a directory is no object,
 * and none is left behind by what removed its last file (a lease, a sync
 * --delete). Best effort: no error is set, the caller's result stands. */
static void nv_sftp_prune(struct nv_conn *c, char *path, size_t root_len)
{
	char *slash;

	while ((slash = strrchr(path, '/')) && (size_t)(slash - path) > root_len) {
		*slash = '\0';
		if (c->tp->rmdir(c, path) != 0)
			return;
	}
}

int nv_sftp_remove(struct nv_conn *c, const char *key)
{
	char *path;
	int rc;

	if (nv_sftp_is_tmp(key))
		return 0; /* not an object: nothing to remove */
	path = nv_sftp_path(c, key);
	if (!path)
		return nv_error_set(NV_ERR, "out of memory");
	if (c->rkey && strcmp(c->rkey, key) == 0)
		nv_sftp_read_forget(c);
	rc = c->tp->unlink(c, path);
	if (!rc)
		nv_sftp_prune(c, path, strlen(path) - strlen(key));
	free(path);
	if (rc) {
		rc = nv_sftp_fail(c, rc, "removing %s", key);
		if (rc == NV_ENOTFOUND) {
			nv_error_clear();
			return 0;
		}
	}
	return rc;
}
