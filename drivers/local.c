/* local.c: the local filesystem driver (scheme "file" and plain paths); every
 * operation is made relative to one root directory fd. Only src/driver.c calls it.
 * This file: the table, open, close and flush; the slots live in local_list.c,
 * local_read.c, local_write.c and local_remove.c, paths in local_path.c.
 *
 * What it does, and what it leaves out (SQLite's demovfs is the model):
 * - Keys are files under the root. Below the root no symbolic link is ever
 *   followed: listing skips symlinks (and so never enters a symlinked
 *   directory), stat, read and remove treat them as missing, and a write whose
 *   parent path passes through one is refused (NV_EINVAL). Paths resolve with
 *   openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it, else
 *   by a walk component by component with O_NOFOLLOW. Symlinks in the root path
 *   itself are the user's choice and are followed.
 * - Only regular files are objects: directories, devices, fifos and sockets are
 *   skipped by listing and are missing to stat and read.
 * - A write goes to a file without a name (O_TMPFILE) in its target's
 *   directory, linked under the target's name at commit: a reader sees the old
 *   file or the whole new one, and a writer that dies leaves nothing. Where the
 *   file system has no O_TMPFILE (NFS), /proc is missing, or the target exists
 *   and is replaced, it goes to ".navette-tmp.<run id>.<random>" beside its
 *   target (driver/tmpname.h), renamed into place at commit. Listing skips that
 *   prefix; keys whose last component starts with it are refused. The writer
 *   holds a lock on its temp file (an open file description lock, which NFS
 *   passes to the server) until the rename: a clean-up never removes the temp
 *   file of a live writer, and one that nobody holds is dead (local_leftover.c).
 *   A write retargeted before its commit (write_retarget) is linked or renamed
 *   into the new key's directory instead.
 * - The root may not exist at open: the first write creates it (mkdir -p);
 *   until then stat and read find nothing, remove succeeds, and listing gives
 *   NV_ENOTFOUND (the engine reads a missing destination as an empty one).
 * - The directory of the last write stays open for the next one (a run writes
 *   a directory's files in a row). Like any writer holding a directory fd
 *   (rsync, tar), it follows that directory if someone moves it meanwhile.
 * - Durability, setting "fsync": each | batch (default) | none; see local_flush.
 * - Test hooks: NAVETTE_LOCAL_NO_OPENAT2=1 forces the component walk,
 *   NAVETTE_LOCAL_NO_TMPFILE=1 named temp files for every write.
 */
#include "local_int.h"
#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int local_fsync_mode(const nv_location *loc, enum local_fsync *out)
{
	const char *v = loc->settings ? nv_settings_get(loc->settings, "fsync", NULL) : NULL;

	*out = LOCAL_FSYNC_BATCH;
	if (!v || !strcmp(v, "batch"))
		return 0;
	if (!strcmp(v, "each"))
		*out = LOCAL_FSYNC_EACH;
	else if (!strcmp(v, "none"))
		*out = LOCAL_FSYNC_NONE;
	else
		return nv_error_set(NV_EINVAL, "setting fsync: '%s' is not one of each, batch, "
				    "none", v);
	return 0;
}

/* open: succeeds when the root does not exist yet (see the header comment). */
static int local_open(struct nv_conn **out, const nv_location *loc)
{
	struct nv_conn *c;
	enum local_fsync mode;
	int rc;

	*out = NULL;
	if (!loc->path || loc->path[0] != '/')
		return nv_error_set(NV_EINVAL, "location '%s': the local driver needs an "
				    "absolute path", loc->text);
	if ((rc = local_fsync_mode(loc, &mode)))
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->root_path = strdup(loc->path))) {
		free(c);
		return nv_error_set(NV_ERR, "out of memory");
	}
	c->root = -1;
	c->rd_fd = -1;
	c->fsync = mode;
	c->walk = getenv("NAVETTE_LOCAL_NO_OPENAT2") != NULL;
	c->anon = getenv("NAVETTE_LOCAL_NO_TMPFILE") ? -1 : 0;
	/* Random per connection so that workers and concurrent runs do not collide
	 * (a collision only costs a retry: temp files are made O_EXCL). */
	if (getrandom(&c->tmp_next, sizeof(c->tmp_next), 0) != (ssize_t)sizeof(c->tmp_next))
		c->tmp_next = (uint64_t)(uintptr_t)c ^ (uint64_t)getpid() << 32;
	rc = nv_local_root(c, 0);
	if (rc && rc != NV_ENOTFOUND) {
		free(c->root_path);
		free(c);
		return rc;
	}
	nv_error_clear();
	*out = c;
	return 0;
}

static void local_close(struct nv_conn *c)
{
	if (!c)
		return;
	nv_local_read_forget(c);
	nv_local_wdir_drop(c);
	nv_walk_seen_free(c->seen);
	if (c->root >= 0)
		close(c->root);
	for (size_t i = 0; i < c->nfs; i++)
		if (c->fs[i].fd >= 0)
			close(c->fs[i].fd);
	free(c->fs);
	free(c->root_path);
	free(c);
}

static int local_syncfs(int dir, const char *what)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0) { /* cannot read the directory: the global barrier will do */
		sync();
		return 0;
	}
	if (syncfs(fd) < 0)
		rc = nv_error_errno(errno, "syncing the filesystem of %s", what);
	close(fd);
	return rc;
}

/* flush, by the fsync setting:
 * - each: every commit already synced its file and directory: nothing to do.
 * - batch: nothing was synced per file; one syncfs() of the root's filesystem
 *   (and of any other filesystem mounted below it that was written) makes
 *   everything durable at once. It is a filesystem-wide barrier, as git's
 *   batched fsync is: the engine calls it once, before the run reports success
 *   or publishes anything (a manifest) that names the files.
 * - none: nothing, ever (as rclone). */
static int local_flush(struct nv_conn *c)
{
	int rc = 0;

	if (c->fsync != LOCAL_FSYNC_BATCH || !c->dirty || c->root < 0)
		return 0;
	if (c->root_dev == (dev_t)-1)
		sync();
	else
		rc = local_syncfs(c->root, c->root_path);
	for (size_t i = 0; !rc && i < c->nfs; i++) {
		if (c->fs[i].fd < 0)
			sync();
		else if (syncfs(c->fs[i].fd) < 0)
			rc = nv_error_errno(errno, "syncing a filesystem under %s", c->root_path);
	}
	if (!rc)
		c->dirty = 0;
	return rc;
}

static const char *const local_schemes[] = { "file", NULL };

const nv_driver nv_driver_local = {
	.version = NV_DRIVER_VERSION,
	.name = "local",
	.schemes = local_schemes,
	.caps = NV_CAP_EXCLUSIVE | NV_CAP_MTIME | NV_CAP_MODE,
	.min_part_size = 0,          /* writes are a plain stream, not parts */
	.open = local_open,          /* the root may not exist yet */
	.close = local_close,
	.list_open = nv_local_list_open,
	.list_next = nv_walk_next,   /* the walk is the listing */
	.list_close = nv_walk_close,
	.stat = nv_local_stat,
	.read = nv_local_read,        /* pread on a cached fd */
	.write_open = nv_local_write_open,
	.write = nv_local_write,
	.write_commit = nv_local_write_commit,
	.write_abort = nv_local_write_abort,
	.remove = nv_local_remove,
	.flush = local_flush,
	/* version 4: temp files of interrupted writes, and their writers' locks */
	.leftovers_open = nv_local_leftovers_open,
	.leftovers_next = nv_walk_leftovers_next,
	.leftovers_close = nv_walk_leftovers_close,
	.leftover_remove = nv_local_leftover_remove,
	/* version 5: a write's name may be decided after its last byte */
	.write_retarget = nv_local_write_retarget,
};
