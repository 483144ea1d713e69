/* local_read.c: the local driver's stat and ranged reads (one fd kept open
 * while a file is read on). Called by local.c (its table), local_write.c and
 * local_remove.c (to drop the cached fd). */
#include "local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCAL_BIG_FILE (256 * 1024)

/* Stats key as an object: symlinks and non-regular files are missing. */
static int local_stat_key(struct nv_conn *c, const char *key, struct stat *st)
{
	int rc, fd;

	if ((rc = nv_local_root(c, 0)))
		return rc;
	if (local_is_tmp_name(local_leaf(key)))
		return nv_error_set(NV_ENOTFOUND, "%s: no such object", key);
	if (!strchr(key, '/')) {
		if (fstatat(c->root, key, st, AT_SYMLINK_NOFOLLOW) < 0)
			return nv_error_errno(errno, "%s/%s", c->root_path, key);
	} else {
		if ((fd = nv_local_open_beneath(c, key, O_PATH)) < 0)
			return nv_local_lookup_errno(c, errno, "", key);
		rc = fstat(fd, st) < 0 ? nv_error_errno(errno, "%s/%s", c->root_path, key) : 0;
		close(fd);
		if (rc)
			return rc;
	}
	if (!S_ISREG(st->st_mode))
		return nv_error_set(NV_ENOTFOUND, "%s/%s is not a regular file", c->root_path,
				    key);
	return 0;
}

int nv_local_stat(struct nv_conn *c, const char *key, nv_entry *out)
{
	struct stat st;
	int rc = local_stat_key(c, key, &st);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	local_entry_fill(out, &st);
	return 0;
}

void nv_local_read_forget(struct nv_conn *c)
{
	if (c->rd_fd >= 0)
		close(c->rd_fd);
	c->rd_fd = -1;
	free(c->rd_key);
	c->rd_key = NULL;
}

static int local_read_open(struct nv_conn *c, const char *key)
{
	struct stat st;
	int fd, rc;

	nv_local_read_forget(c);
	if ((rc = nv_local_root(c, 0)))
		return rc;
	if (local_is_tmp_name(local_leaf(key)))
		return nv_error_set(NV_ENOTFOUND, "%s: no such object", key);
	/* O_NONBLOCK: opening a fifo must not hang; it is refused just below. */
	fd = nv_local_open_beneath(c, key, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return nv_local_lookup_errno(c, errno, "opening ", key);
	if (fstat(fd, &st) < 0)
		rc = nv_error_errno(errno, "%s/%s", c->root_path, key);
	else if (!S_ISREG(st.st_mode))
		rc = nv_error_set(NV_ENOTFOUND, "%s/%s is not a regular file", c->root_path, key);
	if (rc) {
		close(fd);
		return rc;
	}
	if (!(c->rd_key = strdup(key))) {
		close(fd);
		return nv_error_set(NV_ERR, "out of memory");
	}
	if (st.st_size > LOCAL_BIG_FILE) /* small files: the default readahead does */
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	c->rd_fd = fd;
	c->rd_size = (uint64_t)st.st_size;
	return 0;
}

/* read: reuses the open fd while the same key is read on from a non-zero
 * offset; a read from 0 reopens, so a replaced file is seen anew. */
int nv_local_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
		  size_t len, size_t *got)
{
	int rc;

	*got = 0;
	if (offset == 0 || !c->rd_key || strcmp(c->rd_key, key) != 0)
		if ((rc = local_read_open(c, key)))
			return rc;
	if (offset >= (uint64_t)INT64_MAX)
		return 0;
	if (len > (uint64_t)INT64_MAX - offset)
		len = (size_t)((uint64_t)INT64_MAX - offset);
	while (*got < len) {
		ssize_t n = pread(c->rd_fd, (char *)buf + *got, len - *got,
				  (off_t)(offset + *got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = nv_error_errno(errno, "reading %s/%s", c->root_path, key);
			nv_local_read_forget(c);
			return rc;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
		/* A short read that reached the size seen at open is the end: the
		 * pread that would only confirm it (one per small file) is saved. A
		 * file that grows meanwhile is caught by the caller's sizes and
		 * hashes, as it would be one call later. */
		if (*got < len && offset + *got >= c->rd_size)
			break;
	}
	return 0;
}
