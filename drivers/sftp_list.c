/* sftp_list.c: the recursive listing, through drivers/walk.c's sorted walk
 * (global byte order of keys, memory O(depth x widest directory)): this file
 * reads one directory with its attributes. Called by sftp.c only. */
#include "sftp_int.h"
#include "walk.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Keeps files and directories; skips our temp files (the walk skips "." and
 * ".."); symlinks and special files are listed as no file (driver.h). */
static int sftp_list_add(nv_walk_dir *d, const char *name, const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	nv_entry e;

	if (strncmp(name, NV_SFTP_TMP_PREFIX, strlen(NV_SFTP_TMP_PREFIX)) == 0)
		return 0;
	if ((a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a->permissions))
		return nv_walk_add(d, name, NV_WALK_DIR, NULL);
	if (nv_sftp_attrs_entry(&e, a)) {
		memset(&e, 0, sizeof(e));
		e.flags = S_ISLNK(a->permissions) ? NV_ENTRY_SYMLINK : NV_ENTRY_SPECIAL;
	}
	return nv_walk_add(d, name, NV_WALK_FILE, &e);
}

/* Reads directory prefix whole: readdir brings each name's attributes along,
 * so files need no stat of their own. */
static int sftp_read_dir(struct nv_conn *c, nv_walk_dir *d, const char *prefix)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	size_t plen = strlen(prefix);
	char name[1100], *dir, *path;
	int rc = 0;
	ssize_t n;

	dir = strndup(prefix, plen ? plen - 1 : 0);
	path = dir ? nv_sftp_path(c, dir) : NULL;
	free(dir);
	if (!path)
		return nv_error_set(NV_ERR, "out of memory");
	c->dh = libssh2_sftp_open_ex(c->sftp, path, (unsigned)strlen(path), 0, 0,
				     LIBSSH2_SFTP_OPENDIR);
	free(path);
	if (!c->dh)
		return nv_sftp_fail(c, libssh2_session_last_errno(c->ssh), "listing '%s'", prefix);
	while ((n = libssh2_sftp_readdir_ex(c->dh, name, sizeof(name), NULL, 0, &a)) > 0)
		if ((rc = sftp_list_add(d, name, &a)))
			break;
	if (n < 0)
		rc = nv_sftp_fail(c, (int)n, "listing '%s'", prefix); /* a teardown closes dh */
	if (c->dh)
		libssh2_sftp_close_handle(c->dh);
	c->dh = NULL;
	return rc;
}

/* The walk's "list this directory". The first one is read under the retry loop
 * of list_open's slot; a subdirectory reconnects and reads again here, so a
 * dropped connection resumes the walk where it was. */
static int sftp_list_dir(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
			 const char *name, intptr_t *handle)
{
	struct nv_conn *c = ctx;
	int rc;

	(void)parent;
	(void)handle;
	if (!name)
		return sftp_read_dir(c, d, prefix);
	NV_SFTP_RETRY(c, rc, sftp_read_dir(c, d, prefix));
	return rc;
}

/* The walk's "this file's entry": the attributes readdir gave. */
static int sftp_list_file(void *ctx, intptr_t dir, const char *name, const char *key,
			  const void *data, nv_entry *out)
{
	(void)ctx;
	(void)dir;
	(void)name;
	(void)key;
	*out = *(const nv_entry *)data;
	return 0;
}

static const nv_walk_ops sftp_walk_ops = {
	.file_data = sizeof(nv_entry),
	.list = sftp_list_dir,
	.file = sftp_list_file,
};

/* The root must exist; a missing prefix below it lists nothing. */
static int sftp_root_missing(struct nv_conn *c)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	char *path = nv_sftp_path(c, "");
	int rc;

	if (!path)
		return nv_error_set(NV_ERR, "out of memory");
	rc = libssh2_sftp_stat_ex(c->sftp, path, (unsigned)strlen(path), LIBSSH2_SFTP_STAT, &a);
	free(path);
	if (rc)
		return nv_sftp_fail(c, rc, "the root directory");
	if ((a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && !S_ISDIR(a.permissions))
		return nv_error_set(NV_ENOTFOUND, "sftp %s: the root is not a directory",
				    c->where);
	return 0;
}

int nv_sftp_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	int rc = nv_walk_open(out, &sftp_walk_ops, c, prefix);

	if (rc != NV_ENOTFOUND || !*prefix || (rc = sftp_root_missing(c)))
		return rc;
	return nv_walk_empty(out); /* a missing prefix under the root lists nothing */
}
