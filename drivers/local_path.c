/* local_path.c: the local driver's root directory and the paths beneath it:
 * opening (and making) the root, resolving keys without following a symlink,
 * making directories. Called by the other drivers/local*.c files only. */
#include "local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

/* ELOOP is a symlink met under O_NOFOLLOW or RESOLVE_NO_SYMLINKS. To stat,
 * read and remove, this driver's contract makes a symlink missing (it is not
 * an object), so there it is NV_ENOTFOUND, said here; everywhere else errno
 * goes through error.c's one mapping, where ELOOP is a refusal (NV_EINVAL). */
int nv_local_lookup_errno(const struct nv_conn *c, int errnum, const char *what,
			  const char *key)
{
	if (errnum == ELOOP)
		return nv_error_set(NV_ENOTFOUND, "%s%s/%s: a symbolic link is on its path (navette "
				    "does not follow symlinks under a location's root)", what,
				    c->root_path, key);
	return nv_error_errno(errnum, "%s%s/%s", what, c->root_path, key);
}

static atomic_int local_no_openat2; /* set once the kernel says it has none */

static int local_is_dot_name(const char *s)
{
	return !*s || !strcmp(s, ".") || !strcmp(s, "..");
}

/* Fallback for nv_local_open_beneath: one component at a time, none followed. */
static int local_walk_open(int root, const char *rel, int flags)
{
	char buf[PATH_MAX], *comp = buf, *slash;
	size_t len = strlen(rel);
	int dir = root, fd, saved;

	if (len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, rel, len + 1);
	for (;;) {
		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		if (local_is_dot_name(comp)) { /* keys are checked; this is the belt */
			fd = -1;
			errno = EXDEV;
		} else {
			fd = openat(dir, comp, slash ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
						: flags | O_NOFOLLOW | O_CLOEXEC);
		}
		saved = errno;
		if (dir != root)
			close(dir);
		errno = saved;
		if (fd < 0 || !slash)
			return fd;
		dir = fd;
		comp = slash + 1;
	}
}

int nv_local_open_beneath(const struct nv_conn *c, const char *rel, int flags)
{
	if (!*rel)
		return openat(c->root, ".", flags | O_CLOEXEC);
#ifdef SYS_openat2
	if (!c->walk && !atomic_load(&local_no_openat2)) {
		struct open_how how = {
			.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
		};
		long fd = syscall(SYS_openat2, c->root, rel, &how, sizeof(how));

		/* EPERM may be a seccomp filter that does not know openat2: walk. */
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return (int)fd;
		if (errno == ENOSYS)
			atomic_store(&local_no_openat2, 1);
	}
#endif
	return local_walk_open(c->root, rel, flags);
}

/* A write found something other than a directory on its path. */
static int local_not_a_dir(int dir, const char *comp, const char *path)
{
	struct stat st;

	if (fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return nv_error_set(NV_EINVAL, "%s is a symbolic link: navette does not follow "
				    "symlinks under a location's root", path);
	return nv_error_set(NV_EEXISTS, "%s exists and is not a directory", path);
}

int nv_local_sync_dir(int dir, const char *what)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return nv_error_errno(errno, "opening %s to sync it", what);
	if (fsync(fd) < 0)
		rc = nv_error_errno(errno, "syncing %s", what);
	close(fd);
	return rc;
}

/* mkdir -p below the root, one component at a time, following no symlink. */
static int local_make_dirs(struct nv_conn *c, char *buf, int *out, int *made)
{
	char *comp = buf, *slash;
	int dir = c->root, next, rc = 0;

	for (;;) {
		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		if (local_is_dot_name(comp)) { /* keys are checked; this is the belt */
			next = -1;
			errno = EXDEV;
		} else {
			next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(dir, comp, 0777) == 0) {
				(*made)++;
				if (c->fsync == LOCAL_FSYNC_EACH)
					rc = nv_local_sync_dir(dir, buf);
			} else if (errno != EEXIST) {
				rc = nv_error_errno(errno, "creating directory %s/%s", c->root_path,
						    buf);
			}
			if (!rc)
				next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (!rc && next < 0)
			rc = (errno == ENOTDIR || errno == ELOOP)
				? local_not_a_dir(dir, comp, buf)
				: nv_error_errno(errno, "opening directory %s/%s", c->root_path,
						 buf);
		if (dir != c->root)
			close(dir);
		if (rc) {
			if (next >= 0)
				close(next);
			return rc;
		}
		dir = next;
		if (!slash)
			break;
		*slash = '/';
		comp = slash + 1;
	}
	*out = dir;
	return 0;
}

int nv_local_dir(struct nv_conn *c, const char *rel, size_t len, int create, int *out,
		 int *made)
{
	char buf[PATH_MAX];
	int fd;

	*out = c->root;
	if (len == 0)
		return 0;
	if (len >= sizeof(buf))
		return nv_error_errno(ENAMETOOLONG, "%.*s", (int)len, rel);
	memcpy(buf, rel, len);
	buf[len] = '\0';
	fd = nv_local_open_beneath(c, buf, O_PATH | O_DIRECTORY);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (!create)
		return nv_local_lookup_errno(c, errno, "opening directory ", buf);
	if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
		return nv_error_errno(errno, "opening directory %s/%s", c->root_path, buf);
	return local_make_dirs(c, buf, out, made);
}

void nv_local_dir_close(const struct nv_conn *c, int dir)
{
	if (dir >= 0 && dir != c->root)
		close(dir);
}

/* With fsync=each, a directory made is durable only once its parent is synced. */
static int local_sync_parent(char *path)
{
	char *slash = strrchr(path, '/');
	int fd, rc = 0;

	*slash = '\0';
	fd = open(slash == path ? "/" : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = nv_error_errno(errno, "syncing %s", slash == path ? "/" : path);
	if (fd >= 0)
		close(fd);
	*slash = '/';
	return rc;
}

/* mkdir -p of the absolute root path: the user named it, symlinks in it count. */
static int local_make_root(const char *path, int sync_parents)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	int rc;

	if (len >= sizeof(buf))
		return nv_error_errno(ENAMETOOLONG, "%s", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		char ch = *p;

		if (ch != '/' && ch != '\0')
			continue;
		*p = '\0';
		if (p > buf + 1 && mkdir(buf, 0777) == 0) {
			if (sync_parents && (rc = local_sync_parent(buf)))
				return rc;
		} else if (p > buf + 1 && errno != EEXIST) {
			return nv_error_errno(errno, "creating %s", buf);
		}
		if (!ch)
			return 0;
		*p = ch;
	}
}

int nv_local_root(struct nv_conn *c, int create)
{
	struct stat st;
	int fd;

	if (c->root >= 0)
		return 0;
	fd = open(c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		int rc = local_make_root(c->root_path, c->fsync == LOCAL_FSYNC_EACH);

		if (rc)
			return rc;
		fd = open(c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return nv_error_set(NV_ENOTFOUND, "%s does not exist", c->root_path);
		if (errno == ENOTDIR) /* it, or a parent, is a file: never a tree */
			return nv_error_set(NV_EINVAL, "%s is not a directory", c->root_path);
		return nv_error_errno(errno, "opening %s", c->root_path);
	}
	if (fstat(fd, &st) < 0) {
		int rc = nv_error_errno(errno, "%s", c->root_path);

		close(fd);
		return rc;
	}
	c->root = fd;
	c->root_dev = st.st_dev;
	return 0;
}
