/* walk.h: the sorted depth-first walk of a directory tree shared by the drivers
 * whose store has real directories. Called by drivers/local_list.c and drivers/sftp_list.c.
 *
 * Keys come out in global byte order (a-b < a/c < a0), as list_next must give
 * them: each directory is listed whole, its names sorted with a directory
 * "name" compared as "name/", and the walk goes depth-first in that order. Only
 * the directories on the current path are held, one sorted listing per level,
 * never the whole tree. The driver supplies the I/O through nv_walk_ops:
 * "list this directory's names with their kinds" and "this file's entry". */
#ifndef NV_WALK_H
#define NV_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "driver/driver.h"
#include "driver/tmpname.h"

enum nv_walk_kind {
	NV_WALK_FILE = 1, /* yielded, through ops->file */
	NV_WALK_DIR = 2,  /* entered, through ops->list */
};

/* A walk is the listing of the drivers that use it: their list_next and
 * list_close slots are nv_walk_next and nv_walk_close. */
typedef struct nv_list nv_walk;
typedef struct nv_walk_dir nv_walk_dir; /* the directory that ops->list is filling */

typedef struct nv_walk_ops {
	/* Bytes of the driver's own data kept with each file name (nv_walk_add
	 * copies them, ops->file gets them back, aligned for any type); 0 for none. */
	size_t file_data;
	/* must provide. Lists one directory: calls nv_walk_add() once for each name
	 * to walk (the driver leaves out what it does not list: symlinks, special
	 * files, its temp files; "." and ".." it may leave to the walk), and may set
	 * *handle to its own value for the directory (an fd), which the walk gives
	 * back to file() and, for a subdirectory, to list() as parent, then to
	 * release(). prefix is the directory's key prefix ("" or "a/b/"). For the
	 * first directory name is NULL and parent 0; otherwise name is the
	 * directory's name in parent's directory. On failure nothing is kept: the
	 * driver releases what it opened. A subdirectory answering NV_ENOTFOUND (gone
	 * since its parent was listed, or no longer a directory) is skipped. */
	int (*list)(void *ctx, nv_walk_dir *d, const char *prefix, intptr_t parent,
		    const char *name, intptr_t *handle);
	/* must provide. Fills *out for file name (key: its whole key) of the
	 * directory whose handle is dir; data is what nv_walk_add kept. The walk sets
	 * out->key. Returns 0 to yield it, 1 to skip it (gone, or no longer a
	 * regular file), or a negative nv_err that ends the walk's call. */
	int (*file)(void *ctx, intptr_t dir, const char *name, const char *key, const void *data,
		    nv_entry *out);
	/* may be NULL. Releases a directory's handle when the walk leaves it. */
	void (*release)(void *ctx, intptr_t handle);
	/* may be NULL. Called as the walk closes: prefix is where it started,
	 * clean 1 when it reached its end without an error on the way. */
	void (*done)(void *ctx, const char *prefix, int clean);
} nv_walk_ops;

/* From ops->list: adds name (one path component) of the directory being
 * listed; data (ops->file_data bytes) for a file, NULL for a directory.
 * "", "." and ".." and names holding a '/' are ignored. */
int nv_walk_add(nv_walk_dir *d, const char *name, enum nv_walk_kind kind, const void *data);

/* Starts a walk of the directory whose key prefix is prefix ("" or ending in
 * '/'), listing it at once. Its error, NV_ENOTFOUND included, is returned as it
 * came and nothing is kept. ops and ctx must outlive the walk. */
int nv_walk_open(nv_walk **out, const nv_walk_ops *ops, void *ctx, const char *prefix);
/* A walk that yields nothing: a prefix with no directory under it. */
int nv_walk_empty(nv_walk **out);
/* 0 with *out filled (out->key valid until the next call or close), NV_EOF at
 * the end, or the error of a directory or file (the walk may be called again:
 * it goes on after what failed). */
int nv_walk_next(nv_walk *w, nv_entry *out);
/* Accepts NULL; may be called before the end. */
void nv_walk_close(nv_walk *w);

/* ---- Leftovers: the temp files of interrupted writes (local, sftp) ---- */

/* What a driver's listings saw of them: a listing skips temp files, and notes
 * here those of an exact name (driver/tmpname.h), the subdirectories that are
 * another location's root (they hold a navette-lease/ of their own), and the
 * prefixes whose listing ended clean. A clean-up after a whole listing then
 * walks nothing again. Owned by the connection (NULL until something is seen). */
typedef struct nv_walk_seen nv_walk_seen;
int nv_walk_seen_file(nv_walk_seen **s, const char *prefix, const char *name, uint64_t size,
		      int64_t mtime);
int nv_walk_seen_nested(nv_walk_seen **s, const char *prefix);
/* From ops->done: a clean walk of prefix covers it (and all below). */
void nv_walk_seen_done(nv_walk_seen **s, const char *prefix, int clean);
/* 1 when prefix ("" or "a/b/") lies under one a clean listing covered. */
int nv_walk_seen_covers(const nv_walk_seen *s, const char *prefix);
void nv_walk_seen_free(nv_walk_seen *s);

/* The leftovers iterator of such a driver: what seen holds outside other
 * locations' roots, then what w yields (a walk over the prefixes no clean
 * listing covered, yielding temp files only; NULL for none). wrap takes w,
 * also when it fails; seen must outlive the iterator. next and close are the
 * drivers' leftovers_next and leftovers_close slots. */
int nv_walk_leftovers_wrap(struct nv_leftovers **out, nv_walk *w, const nv_walk_seen *seen);
int nv_walk_leftovers_next(struct nv_leftovers *it, nv_leftover *out);
void nv_walk_leftovers_close(struct nv_leftovers *it);

#endif
