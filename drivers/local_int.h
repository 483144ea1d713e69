/* local_int.h: the local driver's connection and what its files share.
 * Private to drivers/local*.c. Calls go one way: local.c (table, open, close,
 * flush) -> local_list, local_read, local_write, local_remove, local_leftover
 * -> local_path; local_leftover also uses local_list's walk;
 * local_write and local_remove also use local_read's cache, local_write
 * local_remove's pruning. */
#ifndef NV_LOCAL_INT_H
#define NV_LOCAL_INT_H

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "driver/driver.h"
#include "driver/tmpname.h"

#define LOCAL_TMP_PREFIX NV_TMP_PREFIX

enum local_fsync { LOCAL_FSYNC_BATCH, LOCAL_FSYNC_EACH, LOCAL_FSYNC_NONE };

/* Another filesystem mounted under the root that a batch flush must also sync. */
struct local_fs {
	dev_t dev;
	int fd; /* O_RDONLY directory on it, -1 if none could be opened (then sync()) */
};

struct local_wdir; /* local_write.c */

struct nv_conn {
	char *root_path;
	int root;               /* O_PATH fd of the root; -1 while it does not exist */
	dev_t root_dev;
	enum local_fsync fsync;
	int dirty;              /* committed or removed something since the last flush */
	struct local_fs *fs;
	size_t nfs;
	int walk;               /* resolve by component walk (test hook), not openat2 */
	uint64_t tmp_next;      /* temp names: a random start, then counted up */
	int anon;               /* writes to O_TMPFILE files: 1 yes, -1 no, 0 not known yet */
	struct local_wdir *wdir; /* the last directory written to, kept open */
	char *rd_key;           /* the last key read and its open fd, so streaming */
	int rd_fd;              /* a big file is not one open per chunk */
	uint64_t rd_size;       /* its size when opened: a short read there is its end */
	struct nv_walk_seen *seen; /* temp files the listings skipped (walk.h) */
};

static inline int local_is_tmp_name(const char *name)
{
	return nv_tmp_reserved(name);
}

static inline const char *local_leaf(const char *key)
{
	const char *slash = strrchr(key, '/');

	return slash ? slash + 1 : key;
}

/* One stat as an entry, for listings and stat alike. ctime and the inode
 * come with the stat that listing does anyway: a vault push's cache reads them
 * here instead of a stat of its own. */
static inline void local_entry_fill(nv_entry *out, const struct stat *st)
{
	out->size = (uint64_t)st->st_size;
	out->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	out->mtime_nsec = (int32_t)st->st_mtim.tv_nsec;
	out->mode = (uint32_t)(st->st_mode & 07777);
	out->ctime_sec = (int64_t)st->st_ctim.tv_sec;
	out->ctime_nsec = (int32_t)st->st_ctim.tv_nsec;
	out->inode = (uint64_t)st->st_ino;
	out->dev = (uint64_t)st->st_dev;
	out->flags = NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_MODE | NV_ENTRY_HAS_CTIME |
		     NV_ENTRY_HAS_INODE;
}

/* local_path.c: the root, and paths beneath it. */
/* Opens the root fd if it is not open yet; creates the root when create. */
int nv_local_root(struct nv_conn *c, int create);
/* Opens rel (a key, a directory without its trailing '/', or "" for the root)
 * beneath the root, following no symbolic link; the last component is opened
 * with flags | O_NOFOLLOW. Returns the fd, or -1 with errno set. */
int nv_local_open_beneath(const struct nv_conn *c, const char *rel, int flags);
/* Opens directory rel[0..len) beneath the root as O_PATH (the root's own fd
 * when len is 0: never close that one), making missing components (0777 less
 * the umask) when create. *made counts the directories made. */
int nv_local_dir(struct nv_conn *c, const char *rel, size_t len, int create, int *out,
		 int *made);
void nv_local_dir_close(const struct nv_conn *c, int dir);
int nv_local_sync_dir(int dir, const char *what);
/* The error of looking key up to stat, read or remove it (see local_path.c). */
int nv_local_lookup_errno(const struct nv_conn *c, int errnum, const char *what,
			  const char *key);

/* local_list.c: the slot (list_next and list_close are walk.c's), and the
 * same walk over what interrupted writes left (our temp names, nothing else). */
int nv_local_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix);
int nv_local_walk_leftovers(struct nv_list **out, struct nv_conn *c);

/* local_leftover.c: the leftovers slots. */
int nv_local_leftovers_open(struct nv_leftovers **out, struct nv_conn *c);
int nv_local_leftover_remove(struct nv_conn *c, const nv_leftover *lo, int proven);

/* local_read.c: the slots, and the cached read fd. */
int nv_local_stat(struct nv_conn *c, const char *key, nv_entry *out);
int nv_local_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf, size_t len,
		  size_t *got);
/* Closes the cached read fd (the key was replaced, removed, or the end). */
void nv_local_read_forget(struct nv_conn *c);

/* local_remove.c: the slot, and pruning emptied directories. */
int nv_local_remove(struct nv_conn *c, const char *key);
/* Removes up to levels (-1: any number) now-empty parent directories of key,
 * deepest first, never the root; best effort, sets no error. */
void nv_local_prune(struct nv_conn *c, const char *key, int levels);

/* local_write.c: the slots, and the cached write directory. */
int nv_local_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
			const nv_write_opts *opts);
int nv_local_write(struct nv_writer *w, const void *buf, size_t len);
int nv_local_write_commit(struct nv_writer *w, nv_commit_info *out);
void nv_local_write_abort(struct nv_writer *w);
int nv_local_write_retarget(struct nv_writer *w, const char *key);
/* Forgets the cached write directory (it may have been removed). */
void nv_local_wdir_drop(struct nv_conn *c);

#endif
