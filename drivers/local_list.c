/* local_list.c: the local driver's listing, through drivers/walk.c's sorted
 * walk over directory fds, and the same walk over the temp files that
 * interrupted writes left. Called by local.c (its table) and local_leftover.c. */
#include "local_int.h"
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the walk does with a directory entry; 0 to skip it (our temp files;
 * or, walking leftovers, every file but a temp name of ours). Symlinks,
 * devices, fifos and sockets are listed as no file (driver.h,
 * NV_ENTRY_NOT_FILE), except by the leftovers walk. readdir's d_type spares a
 * stat per name. */
static int local_entry_kind(int dir, const struct dirent *de, int leftovers)
{
	unsigned char type = de->d_type;
	struct stat st;

	if (type == DT_UNKNOWN) {
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return 0;
		type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
	}
	if (type == DT_REG && leftovers)
		return nv_tmp_parse(de->d_name, NULL) != NV_TMP_NOT_OURS ? NV_WALK_FILE : 0;
	if (type == DT_REG)
		return local_is_tmp_name(de->d_name) ? 0 : NV_WALK_FILE;
	if (type == DT_DIR)
		return NV_WALK_DIR;
	return leftovers ? 0 : NV_WALK_FILE;
}

/* Opens the directory to list: the first beneath the root by its prefix, a
 * subdirectory by name in its parent; never through a symlink. */
static int local_list_fd(struct nv_conn *c, const char *prefix, intptr_t parent,
			 const char *name)
{
	char dir[PATH_MAX];
	size_t plen = strlen(prefix);

	if (name)
		return openat((int)parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (plen >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, prefix, plen + 1);
	if (plen)
		dir[plen - 1] = '\0';
	return nv_local_open_beneath(c, dir, O_RDONLY | O_DIRECTORY);
}

/* A listing skips a temp file; one of our exact names is noted for the
 * clean-up of leftovers (walk.h), which then need not walk here again. */
static int local_note_tmp(struct nv_conn *c, int dir, const char *prefix, const char *name)
{
	struct stat st;

	if (nv_tmp_parse(name, NULL) == NV_TMP_NOT_OURS ||
	    fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return nv_walk_seen_file(&c->seen, prefix, name, (uint64_t)st.st_size,
				 (int64_t)st.st_mtim.tv_sec);
}

/* The walk's "list this directory": its regular files and subdirectories. The
 * directory's fd stays open as its handle, for fstatat and openat below it.
 * A subdirectory holding a navette-lease/ of its own is another location's
 * root: a listing notes it, a walk of leftovers skips it whole (NV_ENOTFOUND),
 * as it skips what a clean listing covered. */
static int local_list_dir_as(struct nv_conn *c, nv_walk_dir *d, const char *prefix,
			     intptr_t parent, const char *name, intptr_t *handle, int leftovers)
{
	int fd, dfd, kind, rc = 0, nested = 0;
	struct dirent *de;
	DIR *dp;

	if (leftovers && nv_walk_seen_covers(c->seen, prefix))
		return nv_error_set(NV_ENOTFOUND, "%s/%s: listed already", c->root_path, prefix);
	fd = local_list_fd(c, prefix, parent, name);
	if (fd < 0) {
		/* Missing, or a file or a symlink (since readdir, or as the prefix):
		 * nothing to list there, and the walk skips it. */
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return nv_error_set(NV_ENOTFOUND, "%s/%s: no directory", c->root_path,
					    prefix);
		return nv_error_errno(errno, "listing %s/%s", c->root_path, prefix);
	}
	dfd = dup(fd); /* closedir() closes it; fd stays for the walk */
	if (dfd < 0 || !(dp = fdopendir(dfd))) {
		rc = nv_error_errno(errno, "listing %s/%s", c->root_path, prefix);
		if (dfd >= 0)
			close(dfd);
		close(fd);
		return rc;
	}
	for (;;) {
		errno = 0;
		if (!(de = readdir(dp))) {
			if (errno)
				rc = nv_error_errno(errno, "listing %s/%s", c->root_path, prefix);
			break;
		}
		kind = local_entry_kind(fd, de, leftovers);
		if (*prefix && kind == NV_WALK_DIR && !strcmp(de->d_name, NV_LEASE_DIRNAME))
			nested = 1;
		if (!kind && !leftovers && (rc = local_note_tmp(c, fd, prefix, de->d_name)))
			break;
		if (kind && (rc = nv_walk_add(d, de->d_name, kind, NULL)))
			break;
	}
	closedir(dp);
	if (!rc && nested && !leftovers)
		rc = nv_walk_seen_nested(&c->seen, prefix);
	else if (!rc && nested)
		rc = nv_error_set(NV_ENOTFOUND, "%s/%s: another location's root", c->root_path,
				  prefix);
	if (rc)
		close(fd);
	else
		*handle = fd;
	return rc;
}

static int local_list_dir(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
			  const char *name, intptr_t *handle)
{
	return local_list_dir_as(ctx, d, prefix, parent, name, handle, 0);
}

static int local_leftover_dir(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
			      const char *name, intptr_t *handle)
{
	return local_list_dir_as(ctx, d, prefix, parent, name, handle, 1);
}

/* The walk's "this file's entry": stat at the time it is yielded. */
static int local_list_file(void *ctx, intptr_t dir, const char *name, const char *key,
			   const void *data, nv_entry *out)
{
	struct nv_conn *c = ctx;
	struct stat st;

	(void)data;
	if (fstatat((int)dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 1; /* removed since readdir */
		return nv_error_errno(errno, "%s/%s", c->root_path, key);
	}
	if (S_ISDIR(st.st_mode))
		return 1; /* a directory since readdir: not walked into now */
	if (!S_ISREG(st.st_mode)) {
		out->flags = S_ISLNK(st.st_mode) ? NV_ENTRY_SYMLINK : NV_ENTRY_SPECIAL;
		return 0;
	}
	local_entry_fill(out, &st);
	return 0;
}

static void local_list_release(void *ctx, intptr_t handle)
{
	(void)ctx;
	close((int)handle);
}

static void local_list_done(void *ctx, const char *prefix, int clean)
{
	struct nv_conn *c = ctx;

	nv_walk_seen_done(&c->seen, prefix, clean);
}

static const nv_walk_ops local_walk_ops = {
	.file_data = 0,
	.list = local_list_dir,
	.file = local_list_file,
	.release = local_list_release,
	.done = local_list_done,
};

static const nv_walk_ops local_leftover_walk_ops = {
	.file_data = 0,
	.list = local_leftover_dir,
	.file = local_list_file,
	.release = local_list_release,
};

/* The whole tree's temp files; a missing root has none. */
int nv_local_walk_leftovers(struct nv_list **out, struct nv_conn *c)
{
	int rc;

	*out = NULL;
	if ((rc = nv_local_root(c, 0)) == 0)
		rc = nv_walk_open(out, &local_leftover_walk_ops, c, "");
	if (rc != NV_ENOTFOUND)
		return rc;
	nv_error_clear();
	return nv_walk_empty(out);
}

/* list_open: a missing root is NV_ENOTFOUND; a missing prefix lists nothing. */
int nv_local_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	size_t plen = strlen(prefix);
	int rc;

	*out = NULL;
	if (plen >= PATH_MAX)
		return nv_error_errno(ENAMETOOLONG, "list prefix %s", prefix);
	if (plen) {
		char dir[PATH_MAX];

		memcpy(dir, prefix, plen - 1);
		dir[plen - 1] = '\0';
		if ((rc = nv_key_check(dir)))
			return rc;
	}
	if ((rc = nv_local_root(c, 0)))
		return rc;
	rc = nv_walk_open(out, &local_walk_ops, c, prefix);
	if (rc != NV_ENOTFOUND)
		return rc;
	nv_error_clear(); /* nothing under that prefix */
	return nv_walk_empty(out);
}
