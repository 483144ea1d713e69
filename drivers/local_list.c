/* local_list.c: the local driver's listing, through drivers/walk.c's sorted
 * walk over directory fds. Called by local.c (its table) only. */
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

/* What the walk does with a directory entry; 0 to skip it (our temp files).
 * Symlinks, devices, fifos and sockets are listed as no file (driver.h,
 * NV_ENTRY_NOT_FILE). readdir's d_type spares a stat per name. */
static int local_entry_kind(int dir, const struct dirent *de)
{
	unsigned char type = de->d_type;
	struct stat st;

	if (type == DT_UNKNOWN) {
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return 0;
		type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
	}
	if (type == DT_REG)
		return local_is_tmp_name(de->d_name) ? 0 : NV_WALK_FILE;
	return type == DT_DIR ? NV_WALK_DIR : NV_WALK_FILE;
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

/* The walk's "list this directory": its regular files and subdirectories. The
 * directory's fd stays open as its handle, for fstatat and openat below it. */
static int local_list_dir(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
			  const char *name, intptr_t *handle)
{
	struct nv_conn *c = ctx;
	int fd = local_list_fd(c, prefix, parent, name), dfd, kind, rc = 0;
	struct dirent *de;
	DIR *dp;

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
		kind = local_entry_kind(fd, de);
		if (kind && (rc = nv_walk_add(d, de->d_name, kind, NULL)))
			break;
	}
	closedir(dp);
	if (rc)
		close(fd);
	else
		*handle = fd;
	return rc;
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

static const nv_walk_ops local_walk_ops = {
	.file_data = 0,
	.list = local_list_dir,
	.file = local_list_file,
	.release = local_list_release,
};

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
