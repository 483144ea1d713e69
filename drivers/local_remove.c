/* local_remove.c: the local driver's remove, and the pruning of directories a
 * removal or an aborted write leaves empty. Called by local.c (its table) and
 * local_write.c. */
#include "local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes up to levels (-1: any number) now-empty parent directories of key,
 * deepest first, never the root; stops at the first that is not empty. Best
 * effort: it sets no error, so a caller's message survives. */
void nv_local_prune(struct nv_conn *c, const char *key, int levels)
{
	char buf[PATH_MAX], *slash, *up;
	size_t len = strlen(key);

	if (len >= sizeof(buf))
		return;
	memcpy(buf, key, len + 1);
	while (levels-- != 0 && (slash = strrchr(buf, '/'))) {
		int dir = c->root, rc;

		*slash = '\0'; /* buf is now the directory to try */
		if ((up = strrchr(buf, '/'))) {
			*up = '\0';
			dir = nv_local_open_beneath(c, buf, O_PATH | O_DIRECTORY);
			*up = '/';
			if (dir < 0)
				return;
		}
		rc = unlinkat(dir, up ? up + 1 : buf, AT_REMOVEDIR);
		nv_local_dir_close(c, dir);
		if (rc < 0)
			return;
	}
}

/* remove: a missing key, a symlink or a non-regular file is left alone and
 * gives 0; then parent directories left empty are removed, never the root. */
int nv_local_remove(struct nv_conn *c, const char *key)
{
	const char *leaf = local_leaf(key);
	struct stat st;
	int dir, made = 0, rc;

	if ((rc = nv_local_root(c, 0)) == NV_ENOTFOUND || (!rc && local_is_tmp_name(leaf))) {
		nv_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	if (c->rd_key && !strcmp(c->rd_key, key))
		nv_local_read_forget(c);
	if ((rc = nv_local_dir(c, key, (size_t)(leaf - key) - (leaf != key), 0, &dir, &made))) {
		if (rc != NV_ENOTFOUND)
			return rc;
		nv_error_clear();
		return 0;
	}
	if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		rc = 0;
	else if (unlinkat(dir, leaf, 0) < 0 && errno != ENOENT)
		rc = nv_error_errno(errno, "removing %s/%s", c->root_path, key);
	else if (c->fsync == LOCAL_FSYNC_EACH)
		rc = nv_local_sync_dir(dir, key);
	else
		c->dirty = 1;
	nv_local_dir_close(c, dir);
	if (!rc)
		nv_local_prune(c, key, -1);
	return rc;
}
