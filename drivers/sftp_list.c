/* sftp_list.c: the recursive listing, through drivers/walk.c's sorted walk
 * (global byte order of keys, memory O(depth x widest directory)): this file
 * reads one directory with its attributes; the same walk finds the temp files
 * interrupted writes left. Called by sftp.c and sftp_leftover.c only. */
#include "sftp_int.h"
#include "walk.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Keeps files and directories; skips our temp files (the walk skips "." and
 * ".."); symlinks and special files are listed as no file (driver.h), noting the temp files of our exact
 * names for the clean-up of leftovers (walk.h). Walking leftovers, the files
 * kept are those temp files only. *lease notes a navette-lease/ directory. */
static int sftp_list_add(struct nv_conn *c, nv_walk_dir *d, const char *prefix,
			 const char *name, const nv_sftp_attrs *a, int leftovers, int *lease)
{
	int dir = (a->flags & NV_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a->perm);
	nv_entry e;

	if (!leftovers && nv_tmp_reserved(name)) {
		if (dir || nv_tmp_parse(name, NULL) == NV_TMP_NOT_OURS || nv_sftp_attrs_entry(&e, a))
			return 0;
		return nv_walk_seen_file(&c->seen, prefix, name, e.size, e.mtime_sec);
	}
	if (dir) {
		if (!strcmp(name, NV_LEASE_DIRNAME))
			*lease = 1;
		return nv_walk_add(d, name, NV_WALK_DIR, NULL);
	}
	if (leftovers && nv_tmp_parse(name, NULL) == NV_TMP_NOT_OURS)
		return 0;
	if (nv_sftp_attrs_entry(&e, a)) {
		if (leftovers)
			return 0;
		memset(&e, 0, sizeof(e));
		e.flags = S_ISLNK(a->perm) ? NV_ENTRY_SYMLINK : NV_ENTRY_SPECIAL;
	}
	return nv_walk_add(d, name, NV_WALK_FILE, &e);
}

/* Reads directory prefix whole: readdir brings each name's attributes along,
 * so files need no stat of their own. Walking leftovers, a subdirectory
 * holding a navette-lease/ of its own is another location's root: skipped
 * whole (NV_ENOTFOUND). */
static int sftp_read_dir(struct nv_conn *c, nv_walk_dir *d, const char *prefix, int leftovers)
{
	nv_sftp_attrs a;
	size_t plen = strlen(prefix);
	char name[1100], *dir, *path;
	int rc = 0, lease = 0, end = 0;

	dir = strndup(prefix, plen ? plen - 1 : 0);
	path = dir ? nv_sftp_path(c, dir) : NULL;
	free(dir);
	if (!path)
		return nv_error_set(NV_ERR, "out of memory");
	rc = c->tp->opendir(c, path, &c->dh);
	free(path);
	if (rc)
		return nv_sftp_fail(c, rc, "listing '%s'", prefix);
	for (;;) {
		if ((rc = c->tp->readdir(c->dh, name, sizeof(name), &a, &end))) {
			rc = nv_sftp_fail(c, rc, "listing '%s'", prefix); /* a teardown closes dh */
			break;
		}
		if (end || (rc = sftp_list_add(c, d, prefix, name, &a, leftovers, &lease)))
			break;
	}
	if (c->dh)
		c->tp->close(c->dh);
	c->dh = NULL;
	if (!rc && lease && plen && !leftovers)
		rc = nv_walk_seen_nested(&c->seen, prefix);
	else if (!rc && lease && plen)
		rc = nv_error_set(NV_ENOTFOUND, "sftp %s: %s is another location's root",
				  c->where, prefix);
	return rc;
}

/* The walk's "list this directory". The first one is read under the retry loop
 * of list_open's slot; a subdirectory reconnects and reads again here, so a
 * dropped connection resumes the walk where it was. */
static int sftp_list_dir_as(struct nv_conn *c, nv_walk_dir *d, const char *prefix,
			    const char *name, int leftovers)
{
	int rc;

	if (leftovers && nv_walk_seen_covers(c->seen, prefix))
		return nv_error_set(NV_ENOTFOUND, "sftp %s: '%s' listed already", c->where, prefix);
	if (!name)
		return sftp_read_dir(c, d, prefix, leftovers);
	NV_SFTP_RETRY(c, rc, sftp_read_dir(c, d, prefix, leftovers));
	return rc;
}

static int sftp_list_dir(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
			 const char *name, intptr_t *handle)
{
	(void)parent;
	(void)handle;
	return sftp_list_dir_as(ctx, d, prefix, name, 0);
}

static int sftp_leftover_dir(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
			     const char *name, intptr_t *handle)
{
	(void)parent;
	(void)handle;
	return sftp_list_dir_as(ctx, d, prefix, name, 1);
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

static void sftp_list_done(void *ctx, const char *prefix, int clean)
{
	struct nv_conn *c = ctx;

	nv_walk_seen_done(&c->seen, prefix, clean);
}

static const nv_walk_ops sftp_walk_ops = {
	.file_data = sizeof(nv_entry),
	.list = sftp_list_dir,
	.file = sftp_list_file,
	.done = sftp_list_done,
};

static const nv_walk_ops sftp_leftover_walk_ops = {
	.file_data = sizeof(nv_entry),
	.list = sftp_leftover_dir,
	.file = sftp_list_file,
};

/* The root must exist; a missing prefix below it lists nothing. */
static int sftp_root_missing(struct nv_conn *c)
{
	nv_sftp_attrs a;
	char *path = nv_sftp_path(c, "");
	int rc;

	if (!path)
		return nv_error_set(NV_ERR, "out of memory");
	rc = c->tp->stat(c, path, 0, &a);
	free(path);
	if (rc)
		return nv_sftp_fail(c, rc, "the root directory");
	if ((a.flags & NV_SFTP_ATTR_PERMISSIONS) && !S_ISDIR(a.perm))
		return nv_error_set(NV_ENOTFOUND, "sftp %s: the root is not a directory",
				    c->where);
	return 0;
}

/* The whole tree's temp files; a root that does not exist has none. */
int nv_sftp_walk_leftovers(struct nv_list **out, struct nv_conn *c)
{
	int rc = nv_walk_open(out, &sftp_leftover_walk_ops, c, "");

	if (rc != NV_ENOTFOUND)
		return rc;
	nv_error_clear();
	return nv_walk_empty(out);
}

int nv_sftp_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	int rc = nv_walk_open(out, &sftp_walk_ops, c, prefix);

	if (rc != NV_ENOTFOUND || !*prefix || (rc = sftp_root_missing(c)))
		return rc;
	return nv_walk_empty(out); /* a missing prefix under the root lists nothing */
}
