/* local_write.c: the local driver's writes: a file without a name (O_TMPFILE)
 * linked under the target's name at commit, else a temp file beside the
 * target renamed into place; the directory of the last write kept open. The
 * writer holds an open-file-description lock on a temp file until it is
 * renamed or removed, which tells a clean-up (local_leftover.c) that it is
 * alive. Called by local.c (its table and close) only. */
#include "local_int.h"
#include "util/log.h"
#include "util/times.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCAL_WRITE_TRIES 3

/* An open directory that writes go to, shared by the connection's cache and
 * the writers using it. */
struct local_wdir {
	int fd;                 /* O_PATH */
	int refs;
	size_t len;
	char path[];            /* relative to the root, no trailing '/' */
};

struct nv_writer {
	struct nv_conn *c;
	struct local_wdir *wdir; /* the target's directory; NULL for the root */
	int dir;                /* its fd (c->root when wdir is NULL) */
	int fd;                 /* the temp file, -1 once closed */
	int lockfd;             /* a duplicate keeping its lock past close(fd), or -1 */
	int locked;             /* fd holds the lock (the file system has locks) */
	int created;            /* directories made for this write: pruned on abort */
	int failed;             /* a write failed: commit must not publish */
	int anon;               /* fd is an O_TMPFILE: no name until commit links it */
	char *key;
	const char *leaf;       /* last component, inside key */
	/* write_retarget: where the temp file goes at commit instead (target NULL:
	 * key's own directory, as opened). The temp file stays in dir; an
	 * O_TMPFILE, made in dir, is linked straight there. */
	char *target;
	const char *tleaf;
	struct local_wdir *twdir;
	int tdir, tcreated;
	char tmp[NV_TMP_NAME_SIZE];
	nv_write_opts opts;
	uint64_t written;
};

/* Remembers a filesystem other than the root's that a batch flush must sync. */
static void local_note_fs(struct nv_conn *c, dev_t dev, int dir)
{
	struct local_fs *grown;

	if (dev == c->root_dev)
		return;
	for (size_t i = 0; i < c->nfs; i++)
		if (c->fs[i].dev == dev)
			return;
	grown = realloc(c->fs, (c->nfs + 1) * sizeof(*grown));
	if (!grown) {
		c->root_dev = (dev_t)-1; /* no memory to track it: flush falls back to sync() */
		return;
	}
	c->fs = grown;
	c->fs[c->nfs].dev = dev;
	c->fs[c->nfs].fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c->nfs++;
}

static void local_wdir_put(struct local_wdir *d)
{
	if (d && --d->refs == 0) {
		close(d->fd);
		free(d);
	}
}

/* Forgets the cached write directory (it may have been removed). */
void nv_local_wdir_drop(struct nv_conn *c)
{
	local_wdir_put(c->wdir);
	c->wdir = NULL;
}

/* The directory key[0..len) for a write, made if missing, as a reference the
 * writer releases (NULL for the root itself). The last one stays cached in the
 * connection: a run writes a directory's files one after another. */
static int local_wdir_get(struct nv_conn *c, const char *key, size_t len,
			  struct local_wdir **out, int *made)
{
	struct local_wdir *d = c->wdir;
	struct stat st;
	int fd, rc;

	*out = NULL;
	if (len == 0)
		return 0;
	if (d && d->len == len && memcmp(d->path, key, len) == 0) {
		d->refs++;
		*out = d;
		return 0;
	}
	if ((rc = nv_local_dir(c, key, len, 1, &fd, made)))
		return rc;
	if (!(d = malloc(sizeof(*d) + len + 1))) {
		close(fd);
		return nv_error_set(NV_ERR, "out of memory");
	}
	d->fd = fd;
	d->refs = 2; /* the writer's and the cache's */
	d->len = len;
	memcpy(d->path, key, len);
	d->path[len] = '\0';
	if (c->fsync == LOCAL_FSYNC_BATCH && fstat(fd, &st) == 0)
		local_note_fs(c, st.st_dev, fd);
	nv_local_wdir_drop(c);
	c->wdir = d;
	*out = d;
	return 0;
}

/* The key the write publishes under (what its messages name). */
static const char *local_wkey(const struct nv_writer *w)
{
	return w->target ? w->target : w->key;
}

static void local_writer_free(struct nv_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->lockfd >= 0)
		close(w->lockfd); /* after the rename or unlink: the lock goes last */
	local_wdir_put(w->wdir);
	local_wdir_put(w->twdir);
	free(w->key);
	free(w->target);
	free(w);
}

/* Locks the new temp file (write lock, whole file, owned by the open file
 * description: no other fd of this process releases it). 1 when a clean-up
 * got to the name between its creation and this lock: it holds the lock, or
 * already removed the file; the writer then takes another name. Without locks
 * on this file system the file is written unlocked (a clean-up then has no
 * proof of its own that its writer is gone). */
static int local_tmp_lock(struct nv_writer *w)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct stat st;

	if (fcntl(w->fd, F_OFD_SETLK, &fl) < 0)
		return errno == EAGAIN || errno == EACCES;
	w->locked = 1;
	return fstat(w->fd, &st) == 0 && st.st_nlink == 0;
}

/* A file without a name in w->dir (O_TMPFILE), 1 when made. Per small file
 * it spares the directory an entry made and removed and the rename's lookups:
 * a fifth less CPU per file written here (bench/RESULTS.md, issue 16). Its
 * link at commit goes through /proc/self/fd (linkat's AT_EMPTY_PATH needs a
 * capability); without /proc, or where the file system refuses O_TMPFILE,
 * the connection uses named temp files from then on. */
static int local_anon_create(struct nv_writer *w, mode_t mode)
{
	struct nv_conn *c = w->c;

	if (c->anon == 0)
		c->anon = access("/proc/self/fd", X_OK) == 0 ? 1 : -1;
	if (c->anon < 0)
		return 0;
	w->fd = openat(w->dir, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, mode);
	if (w->fd >= 0) {
		w->anon = 1;
		return 1;
	}
	if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
		c->anon = -1;
	return errno == ENOENT ? -1 : 0; /* a missing directory: the caller looks again */
}

/* Creates the temp file in w->dir; returns -1 with errno on failure. */
static int local_tmp_create(struct nv_writer *w)
{
	/* With a mode to keep, 0600 until commit: a private file is never readable
	 * while written. Without one, the umask and default ACLs decide, as for
	 * any new file. */
	mode_t mode = (w->opts.flags & NV_WRITE_HAS_MODE) ? 0600 : 0666;
	int anon = local_anon_create(w, mode);

	if (anon)
		return anon > 0 ? w->fd : -1;
	for (int i = 0; i < 8; i++) {
		nv_tmp_name(w->tmp, w->c->tmp_next++);
		w->fd = openat(w->dir, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			       O_CLOEXEC, mode);
		if (w->fd < 0) {
			if (errno != EEXIST)
				break;
			continue;
		}
		if (!local_tmp_lock(w))
			break;
		close(w->fd); /* the clean-up that holds it removes it */
		w->fd = -1;
		w->locked = 0;
		errno = EEXIST;
	}
	if (w->fd < 0)
		w->tmp[0] = '\0';
	return w->fd;
}

int nv_local_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
			const nv_write_opts *opts)
{
	const char *leaf = local_leaf(key);
	size_t dirlen = (size_t)(leaf - key) - (leaf != key);
	struct nv_writer *w;
	int rc;

	*out = NULL;
	if (local_is_tmp_name(leaf))
		return nv_error_set(NV_EINVAL, "key '%s': names starting with '%s' are kept for "
				    "navette's temporary files", key, LOCAL_TMP_PREFIX);
	if ((rc = nv_local_root(c, 1)))
		return rc;
	if (!(w = calloc(1, sizeof(*w))) || !(w->key = strdup(key))) {
		free(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	w->c = c;
	w->fd = -1;
	w->lockfd = -1;
	w->leaf = w->key + (leaf - key);
	w->tdir = -1;
	w->opts = opts ? *opts : (nv_write_opts){ .size = -1 };
	/* The directory may be gone since it was cached, or pruned by a concurrent
	 * remove between mkdir and the create: look it up again. */
	for (int tries = 0;; tries++) {
		if ((rc = local_wdir_get(c, key, dirlen, &w->wdir, &w->created)))
			break;
		w->dir = w->wdir ? w->wdir->fd : c->root;
		if (local_tmp_create(w) >= 0)
			break;
		if (errno != ENOENT || tries == LOCAL_WRITE_TRIES) {
			rc = nv_error_errno(errno, "creating a temporary file for %s/%s",
					 c->root_path, key);
			break;
		}
		local_wdir_put(w->wdir);
		w->wdir = NULL;
		nv_local_wdir_drop(c);
	}
	if (rc) {
		nv_local_prune(c, key, w->created);
		local_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Each write(2) copies at most this much. On the 6.18 VMs we benchmark on,
 * one 1 MiB write(2) into fresh page cache ran at 300 MB/s, ten times slower
 * than the same bytes written 32 KiB at a time (bench/RESULTS.md, "Local writes
 * in 32 KiB pieces"); the extra system calls cost ~30 ms per GiB elsewhere. */
#define LOCAL_WRITE_PIECE (32u * 1024)

int nv_local_write(struct nv_writer *w, const void *buf, size_t len)
{
	const char *p = buf;

	if (w->failed)
		return nv_error_set(NV_EIO, "writing %s: an earlier write failed", w->key);
	while (len > 0) {
		ssize_t n = write(w->fd, p, len < LOCAL_WRITE_PIECE ? len : LOCAL_WRITE_PIECE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->failed = 1;
			return nv_error_errno(n < 0 ? errno : EIO, "writing %s/%s", w->c->root_path,
					   w->key);
		}
		p += n;
		len -= (size_t)n;
		w->written += (uint64_t)n;
	}
	return 0;
}

void nv_local_write_abort(struct nv_writer *w)
{
	if (!w)
		return;
	if (w->tmp[0])
		unlinkat(w->dir, w->tmp, 0); /* still locked: no clean-up races this */
	if (w->created || w->tcreated)
		nv_local_wdir_drop(w->c); /* about to be pruned */
	if (w->target)
		nv_local_prune(w->c, w->target, w->tcreated);
	nv_local_prune(w->c, w->key, w->created);
	local_writer_free(w);
}

/* The directory w goes to at commit: key's, made if missing (again, after a
 * concurrent prune: it holds nothing of w before the rename). */
static int local_target_dir(struct nv_writer *w, const char *key)
{
	const char *leaf = local_leaf(key);
	size_t dirlen = (size_t)(leaf - key) - (leaf != key);
	struct local_wdir *d = NULL;
	int made = 0, rc;

	if ((rc = local_wdir_get(w->c, key, dirlen, &d, &made))) {
		nv_local_prune(w->c, key, made);
		return rc;
	}
	local_wdir_put(w->twdir);
	w->twdir = d;
	w->tdir = d ? d->fd : w->c->root;
	w->tcreated += made;
	return 0;
}

int nv_local_write_retarget(struct nv_writer *w, const char *key)
{
	const char *leaf = local_leaf(key);
	char *copy, *was = w->target;
	int was_created = w->tcreated, rc;

	if (local_is_tmp_name(leaf))
		return nv_error_set(NV_EINVAL, "key '%s': names starting with '%s' are kept for "
				    "navette's temporary files", key, LOCAL_TMP_PREFIX);
	if (!(copy = strdup(key)))
		return nv_error_set(NV_ERR, "out of memory");
	w->tcreated = 0;
	if ((rc = local_target_dir(w, key))) {
		w->tcreated = was_created;
		free(copy);
		return rc;
	}
	if (was)
		nv_local_prune(w->c, was, was_created);
	free(was);
	w->target = copy;
	w->tleaf = copy + (leaf - key);
	return 0;
}

/* A file system clamps a time it cannot hold (ext4 stops in 2446) and says
 * nothing: we do. Not for its coarser clock (FAT keeps even seconds). */
static void local_mtime_check(const struct nv_writer *w, int fd)
{
	int64_t want = w->opts.mtime_sec, got;
	char g[NV_TIME_LEN], x[NV_TIME_LEN];
	struct stat st;

	/* Every file system navette writes to holds 1980 to 2038 (FAT's first
	 * year, 32-bit seconds' last): no fstat per file for those. */
	if (want >= 315532800 && want < 2147483647)
		return;
	if (fstat(fd, &st) != 0)
		return;
	got = st.st_mtim.tv_sec;
	if ((got > want ? (uint64_t)got - (uint64_t)want : (uint64_t)want - (uint64_t)got) <= 2)
		return;
	nv_time_utc(g, got);
	nv_time_utc(x, want);
	nv_log(NV_LOG_WARN, "%s: the file system stored mtime %s instead of %s", local_wkey(w), g,
	       x);
}

/* Sets mode and mtime, syncs if asked, and closes the temp file. */
static int local_tmp_finish(struct nv_writer *w)
{
	const nv_write_opts *o = &w->opts;
	int fd = w->fd;

	w->fd = -1;
	if ((o->flags & NV_WRITE_HAS_MODE) && fchmod(fd, (mode_t)(o->mode & 07777)) < 0)
		goto fail;
	if (o->flags & NV_WRITE_HAS_MTIME) {
		/* After the last write, which would have set mtime to now. */
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { o->mtime_sec, o->mtime_nsec } };

		if (futimens(fd, ts) < 0)
			goto fail;
		local_mtime_check(w, fd);
	}
	if (w->c->fsync == LOCAL_FSYNC_EACH && fsync(fd) < 0)
		goto fail;
	if (w->anon) {
		w->fd = fd; /* closing it would drop the file: linked first */
		return 0;
	}
	/* The lock must outlive fd until the rename: a duplicate keeps the open
	 * file description, and so the lock, while close(fd) still reports. */
	if (w->locked)
		w->lockfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	/* close() is where some filesystems (NFS) report a failed write. */
	if (close(fd) < 0)
		return nv_error_errno(errno, "writing %s/%s", w->c->root_path, local_wkey(w));
	return 0;
fail:
	{
		int rc = nv_error_errno(errno, "finishing %s/%s", w->c->root_path, local_wkey(w));

		close(fd);
		return rc;
	}
}

/* Renames the temp file to leaf in to; NV_WRITE_EXCLUSIVE never replaces.
 * -1 with errno set on failure. */
static int local_rename_tmp(struct nv_writer *w, int to, const char *leaf)
{
	if (!(w->opts.flags & NV_WRITE_EXCLUSIVE))
		return renameat(w->dir, w->tmp, to, leaf);
	if (renameat2(w->dir, w->tmp, to, leaf, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* The filesystem cannot rename without replacing: a hard link is as atomic. */
	if (linkat(w->dir, w->tmp, to, leaf, 0) < 0)
		return -1;
	unlinkat(w->dir, w->tmp, 0);
	return 0;
}

/* Where the write is published: the retargeted key's directory and name, else
 * its own. */
static int local_dest_dir(const struct nv_writer *w)
{
	return w->target ? w->tdir : w->dir;
}

static const char *local_dest_leaf(const struct nv_writer *w)
{
	return w->target ? w->tleaf : w->leaf;
}

/* The directory the write is published into was removed meanwhile: another
 * write's abort pruned the directories it made, which looked empty (a file
 * without a name keeps no entry there, and a retargeted write's temp file
 * stays in the directory it was opened in). Made again. */
static int local_dest_again(struct nv_writer *w)
{
	size_t dirlen = (size_t)(w->leaf - w->key) - (w->leaf != w->key);
	int made = 0, rc;

	nv_local_wdir_drop(w->c);
	if (w->target)
		return local_target_dir(w, w->target);
	local_wdir_put(w->wdir);
	w->wdir = NULL;
	if ((rc = local_wdir_get(w->c, w->key, dirlen, &w->wdir, &made)))
		return rc;
	w->created |= made;
	w->dir = w->wdir ? w->wdir->fd : w->c->root;
	return 0;
}

/* Links the O_TMPFILE proc (its /proc/self/fd path) over the existing file
 * it replaces: under a temp name beside it first, locked as any (the lock is
 * the open file description's, held until the file is closed: a clean-up
 * that finds the name sees a live writer), then renamed over it. */
static int local_link_replace(struct nv_writer *w, const char *proc)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	const char *root = w->c->root_path, *key = local_wkey(w);
	int to = local_dest_dir(w), rc;

	(void)fcntl(w->fd, F_OFD_SETLK, &fl);
	for (int i = 0;; i++) {
		nv_tmp_name(w->tmp, w->c->tmp_next++);
		if (linkat(AT_FDCWD, proc, to, w->tmp, AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != EEXIST || i == 7) {
			w->tmp[0] = '\0';
			return nv_error_errno(errno, "linking into %s/%s", root, key);
		}
	}
	rc = renameat(to, w->tmp, to, local_dest_leaf(w)) < 0 ?
		nv_error_errno(errno, "renaming into %s/%s", root, key) : 0;
	if (rc)
		unlinkat(to, w->tmp, 0); /* still locked: no clean-up races this */
	w->tmp[0] = '\0';
	return rc;
}

/* Publishes the write under its key (or the key it was retargeted to): the
 * temp file renamed there, or the O_TMPFILE linked there (the writer closes
 * it after); NV_WRITE_EXCLUSIVE never replaces. The link goes through
 * /proc/self/fd (linkat's AT_EMPTY_PATH needs a capability). */
static int local_publish(struct nv_writer *w)
{
	const char *root = w->c->root_path, *key = local_wkey(w);
	char proc[32];
	int rc;

	if (w->anon)
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
	for (int tries = 0;; tries++) {
		if (w->anon ? linkat(AT_FDCWD, proc, local_dest_dir(w), local_dest_leaf(w),
				     AT_SYMLINK_FOLLOW) == 0 :
			      local_rename_tmp(w, local_dest_dir(w), local_dest_leaf(w)) == 0)
			break;
		if (errno == EEXIST && w->anon && !(w->opts.flags & NV_WRITE_EXCLUSIVE))
			return local_link_replace(w, proc);
		if (errno == EEXIST)
			return nv_error_set(NV_EEXISTS, "%s/%s already exists", root, key);
		/* The destination's directory held no entry of this write: it may
		 * have been pruned meanwhile (local_dest_again). */
		if (errno == ENOENT && (w->anon || w->target) && tries < LOCAL_WRITE_TRIES) {
			if ((rc = local_dest_again(w)))
				return rc;
			continue;
		}
		return nv_error_errno(errno, "%s into %s/%s", w->anon ? "linking" : "renaming",
				      root, key);
	}
	w->tmp[0] = '\0';
	return 0;
}

int nv_local_write_commit(struct nv_writer *w, nv_commit_info *out)
{
	struct nv_conn *c = w->c;
	int rc;

	if (w->failed)
		rc = nv_error_set(NV_EIO, "%s/%s: not committed after a failed write",
				  c->root_path, local_wkey(w));
	else if (!(rc = local_tmp_finish(w)))
		rc = local_publish(w);
	if (rc) {
		nv_local_write_abort(w);
		return rc;
	}
	if (c->rd_key && !strcmp(c->rd_key, local_wkey(w)))
		nv_local_read_forget(c);
	if (c->fsync == LOCAL_FSYNC_EACH)
		rc = nv_local_sync_dir(local_dest_dir(w), local_wkey(w));
	else if (c->fsync == LOCAL_FSYNC_BATCH)
		c->dirty = 1;
	if (out) {
		/* Every write(2) returned its full count and close() succeeded. */
		out->size = w->written;
		out->confirmed = NV_CONFIRM_SIZE;
	}
	local_writer_free(w);
	return rc;
}
