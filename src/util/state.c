/* state.c: private state files under the state root, written atomically and
 * refused when others can read them. Called by the vault modules. */
#include "state.h"
#include "config.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A dry run's promise, kept in one place: nothing under the state root changes. */
static int nv_state_ro;

void nv_state_readonly(int on)
{
	nv_state_ro = on;
}

int nv_state_root(char *buf, size_t cap)
{
	const char *env = getenv("NAVETTE_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		n = snprintf(buf, cap, "%s", env);
	else if (xdg && *xdg)
		n = snprintf(buf, cap, "%s/navette", xdg);
	else if (home && *home)
		n = snprintf(buf, cap, "%s/.local/state/navette", home);
	else
		return nv_error_set(NV_EINVAL, "no state directory: set NAVETTE_STATE_DIR or HOME");
	if (n < 0 || (size_t)n >= cap)
		return nv_error_set(NV_EINVAL, "state directory path too long");
	return 0;
}

static int nv_mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			int e = errno;

			*p = '/';
			return nv_error_errno(e, "creating %s", path);
		}
		*p = '/';
	}
	return 0;
}

int nv_state_path(char *buf, size_t cap, const char *rel)
{
	char root[4096];
	int rc = nv_state_root(root, sizeof(root)), n;

	if (rc)
		return rc;
	n = snprintf(buf, cap, "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= cap)
		return nv_error_set(NV_EINVAL, "state path too long");
	return nv_state_ro ? 0 : nv_mkdirs(buf);
}

static char nv_state_scope[64];

void nv_state_set_scope(const char *sub)
{
	snprintf(nv_state_scope, sizeof(nv_state_scope), "%s", sub ? sub : "");
}

int nv_state_own_path(char *buf, size_t cap, const char *rel)
{
	char scoped[4200];

	if (!nv_state_scope[0])
		return nv_state_path(buf, cap, rel);
	snprintf(scoped, sizeof(scoped), "%s/%s", nv_state_scope, rel);
	return nv_state_path(buf, cap, scoped);
}

int nv_state_read(const char *path, char **out, size_t *len)
{
	struct stat st;

	*out = NULL;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return nv_error_set(NV_ENOTFOUND, "%s does not exist", path);
		return nv_error_errno(errno, "%s", path);
	}
	if (st.st_size > (64 << 20))
		return nv_error_set(NV_EINVAL, "%s is too large", path);
	return nv_read_private_file(path, out, len);
}

static int nv_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int nv_state_write(const char *path, const void *buf, size_t len)
{
	char tmp[4200];
	int fd, e;

	if (nv_state_ro)
		return 0; /* a dry run: what would be written is known, not kept */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return nv_error_errno(errno, "writing %s", tmp);
	if (nv_write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		return nv_error_errno(e, "writing %s", tmp);
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		return nv_error_errno(e, "renaming %s", tmp);
	}
	return 0;
}

/* What the holder of the lock at fd wrote (nv_state_lock_named), one line. */
static void nv_state_lock_holder(int fd, char *out, size_t cap)
{
	ssize_t n = pread(fd, out, cap - 1, 0);

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (!out[0])
		snprintf(out, cap, "a process that has not said who it is yet");
}

int nv_state_lock_named(int *fd, const char *path, const char *what, const char *holder,
			long long wait_ms)
{
	struct timespec pause = { 0, 200 * 1000000L };
	char who[512];
	size_t len = strlen(holder);

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return nv_error_errno(errno, "opening lock %s", path);
	while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		if (e != EWOULDBLOCK || wait_ms <= 0) {
			if (e == EWOULDBLOCK)
				nv_state_lock_holder(*fd, who, sizeof(who));
			close(*fd);
			*fd = -1;
			if (e != EWOULDBLOCK)
				return nv_error_errno(e, "locking %s", path);
			return nv_error_set(NV_EEXISTS, "%s is locked by %s on this host (lock %s); "
					    "wait for it with --wait-lock DURATION", what, who,
					    path);
		}
		nanosleep(&pause, NULL);
		wait_ms -= 200;
	}
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, holder, len, 0) != (ssize_t)len ||
	    pwrite(*fd, "\n", 1, (off_t)len) != 1) {
		int e = errno;

		nv_state_unlock(*fd);
		*fd = -1;
		return nv_error_errno(e, "writing lock %s", path);
	}
	return 0;
}

void nv_state_unlock(int fd)
{
	if (fd < 0)
		return;
	/* The next contender must not name a holder that has gone. */
	if (ftruncate(fd, 0) != 0) {
		/* best effort: a stale name is only a message */
	}
	close(fd);
}
