/* local_leftover.c: the local driver's leftovers: the temp files that
 * interrupted writes left, found by local_list.c's walk, and their removal
 * under the lock that every live writer holds on its own (local_write.c).
 * Called by local.c (its table) only. */
#include "local_int.h"
#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int nv_local_leftovers_open(struct nv_leftovers **out, struct nv_conn *c)
{
	nv_walk *w;
	int rc;

	*out = NULL;
	if ((rc = nv_local_walk_leftovers(&w, c)))
		return rc;
	return nv_walk_leftovers_wrap(out, w, c->seen);
}

/* Decides with fd's lock, which it keeps until fd is closed: a write lock of
 * a live writer refuses this read lock (NV_EEXISTS). A run-id name that no
 * one holds is dead: its writer took the lock right after creating it, and
 * local_write.c gives up a name that a clean-up locked first. An old name's
 * writer took no lock: only the caller's proof counts. */
static int local_leftover_decide(struct nv_conn *c, int fd, const nv_leftover *lo,
				 enum nv_tmp_kind kind, int proven)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
		if (kind == NV_TMP_RUN)
			proven = 1;
	} else if (errno == EAGAIN || errno == EACCES) {
		return nv_error_set(NV_EEXISTS, "%s/%s: a running writer holds it",
				    c->root_path, lo->name);
	}
	if (!proven)
		return nv_error_set(NV_ENOTSUP, "%s/%s: nothing tells whether its writer is "
				    "alive", c->root_path, lo->name);
	return 0;
}

/* Unlinks leaf from dir if it is still the file open at fd (only its writer
 * renames a temp file; this check costs one stat). */
static int local_leftover_unlink(struct nv_conn *c, int dir, int fd, const char *leaf,
				 const char *name)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0 || fstatat(dir, leaf, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev || !S_ISREG(b.st_mode))
		return nv_error_set(NV_ENOTFOUND, "%s/%s is gone", c->root_path, name);
	if (unlinkat(dir, leaf, 0) < 0)
		return nv_error_errno(errno, "removing %s/%s", c->root_path, name);
	if (c->fsync == LOCAL_FSYNC_EACH)
		return nv_local_sync_dir(dir, name);
	c->dirty = 1;
	return 0;
}

int nv_local_leftover_remove(struct nv_conn *c, const nv_leftover *lo, int proven)
{
	const char *leaf = local_leaf(lo->name);
	enum nv_tmp_kind kind = nv_tmp_parse(leaf, NULL);
	int dir, fd, rc;

	if (kind == NV_TMP_NOT_OURS || lo->upload)
		return nv_error_set(NV_EINVAL, "%s is not a temporary file of navette", lo->name);
	rc = nv_local_root(c, 0);
	if (!rc)
		rc = nv_local_dir(c, lo->name, (size_t)(leaf - lo->name) - (leaf != lo->name), 0,
				  &dir, NULL);
	if (rc)
		return rc;
	fd = openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = nv_error_errno(errno, "opening %s/%s", c->root_path, lo->name);
	} else {
		if (!(rc = local_leftover_decide(c, fd, lo, kind, proven)))
			rc = local_leftover_unlink(c, dir, fd, leaf, lo->name);
		close(fd); /* the lock goes once the name is gone */
	}
	nv_local_dir_close(c, dir);
	return rc;
}
