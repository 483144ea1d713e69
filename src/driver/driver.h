/* driver.h: the storage driver interface (one versioned table of function
 * pointers per driver, SQLite-VFS style) and the nv_drv_* wrappers the engine calls.
 * Drivers implement nv_driver; nobody but src/driver.c calls a driver's slots. */
#ifndef NV_DRIVER_H
#define NV_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "util/config.h"
#include "util/error.h"

/* Opaque, driver-defined state. Each driver file defines these structs for itself. */
struct nv_conn;   /* one connection: a session, a curl handle, a root fd */
struct nv_list;   /* one listing in progress */
struct nv_writer; /* one object being written */
struct nv_leftovers; /* one listing of leftovers in progress (version 4) */

/* A parsed location. Built by nv_location_parse(); drivers only read it. */
typedef struct nv_location {
	const struct nv_driver *driver;
	char *text;      /* as the user wrote it, credentials stripped
	                  * (nv_location_public): for messages, holds no secret */
	char *remote;    /* config remote name for NAME:path, NULL for URL/path forms */
	char *authority; /* URL form: text between "scheme://" and the next '/'
	                  * (user@host:port, bucket, account); NULL otherwise */
	char *path;      /* URL form: the rest, starting with '/' (or "");
	                  * NAME:path form: what follows the colon;
	                  * local: an absolute, normalised directory path */
	nv_settings *settings; /* config + environment view for this location */
} nv_location;

enum nv_entry_flags {
	NV_ENTRY_HAS_MTIME = 1 << 0, /* mtime is the file's own (kept from its source) */
	NV_ENTRY_HAS_MODE = 1 << 1,
	NV_ENTRY_HAS_CTIME = 1 << 2, /* ctime_sec/ctime_nsec are the file's inode change time */
	NV_ENTRY_HAS_INODE = 1 << 3, /* inode (with dev) identifies the file on its file system */
	/* Not a file (list_next only): what a walk leaves out, named so that a
	 * report can say so; driver.c passes them to nv_drv_list_observe only. */
	NV_ENTRY_SYMLINK = 1 << 4,   /* a symbolic link (never followed) */
	NV_ENTRY_SPECIAL = 1 << 5,   /* a device, fifo or socket */
};
#define NV_ENTRY_NOT_FILE (NV_ENTRY_SYMLINK | NV_ENTRY_SPECIAL)

/* One object. In listings, key points into iterator memory valid until the
 * next list_next()/list_close(); from stat, key is left NULL. */
typedef struct nv_entry {
	const char *key;     /* relative to the location root, '/'-separated */
	uint64_t size;
	int64_t mtime_sec;
	int32_t mtime_nsec;
	uint32_t mode;       /* permission bits (07777) */
	unsigned flags;      /* enum nv_entry_flags */
	/* --- since driver version 3; zero (and their flags clear) from older drivers --- */
	int64_t ctime_sec;   /* NV_ENTRY_HAS_CTIME: a push's cache notices chmod, rename-over */
	int32_t ctime_nsec;
	uint64_t inode;      /* NV_ENTRY_HAS_INODE */
	uint64_t dev;
} nv_entry;

enum nv_write_flags {
	NV_WRITE_HAS_MTIME = 1 << 0,
	NV_WRITE_HAS_MODE = 1 << 1,
	NV_WRITE_EXCLUSIVE = 1 << 2, /* commit fails with NV_EEXISTS if the key exists */
};

typedef struct nv_write_opts {
	int64_t size;        /* total bytes when known, -1 otherwise (sizes parts) */
	int64_t mtime_sec;
	int32_t mtime_nsec;
	uint32_t mode;
	unsigned flags;      /* enum nv_write_flags */
} nv_write_opts;

enum nv_confirm {
	NV_CONFIRM_SIZE = 1 << 0,   /* the store reported the committed size */
	NV_CONFIRM_MD5 = 1 << 1,    /* the store checked a Content-MD5 of every part */
	NV_CONFIRM_SHA256 = 1 << 2, /* the store checked a SHA-256 of the bytes */
};

typedef struct nv_commit_info {
	uint64_t size;      /* bytes the store holds under the key */
	unsigned confirmed; /* enum nv_confirm: what the store itself vouched for */
} nv_commit_info;

/* What an interrupted write left behind (driver version 4): a temporary file
 * (local, sftp) or an incomplete multipart upload (s3). In listings, the
 * strings point into iterator memory valid until the next call. */
typedef struct nv_leftover {
	const char *name;    /* temp file: its path under the root, last component a
	                      * name of driver/tmpname.h; upload: the key it was for */
	const char *upload;  /* upload: its id; NULL for a temp file */
	uint64_t size;       /* bytes it holds; 0 when the store does not say */
	int64_t time_sec;    /* temp file: last written; upload: initiated (Unix
	                      * seconds, the store's clock); 0 when unknown */
} nv_leftover;

enum nv_caps {
	NV_CAP_EXCLUSIVE = 1 << 0,   /* NV_WRITE_EXCLUSIVE is atomic (no race window) */
	NV_CAP_MTIME = 1 << 1,       /* keeps the mtime given at write, lists it back */
	NV_CAP_MODE = 1 << 2,        /* keeps permission bits */
	NV_CAP_SERVER_MD5 = 1 << 3,  /* the server rejects a part whose MD5 mismatches */
	NV_CAP_DURABLE = 1 << 4,     /* a commit is durable when it returns; flush is a no-op */
};

/* 3: nv_entry has ctime and inode (drivers of versions 1 and 2 still load:
 * driver.c clears every entry before a driver fills it).
 * 4: the leftovers slots (drivers of versions 1 to 3 still load: driver.c
 * reads them only from a table of version 4 or later, and a driver without
 * them has nothing to clean up).
 * 5: write_retarget (drivers of versions 1 to 4 still load: driver.c reads it
 * only from a version 5 table, and their keys stay fixed at write_open). */
#define NV_DRIVER_VERSION 5

/* The driver table. Fields are only ever appended; each version is marked.
 * Return values: 0 on success, a negative enum nv_err on failure with the
 * message set through nv_error_set(); NV_EOF (positive) only from list_next.
 * After NV_ERETRY any slot may be called again: the driver reconnects itself.
 * Keys passed to slots are already validated by driver.c (relative, no "..",
 * no "." or empty components, no leading or trailing '/'). */
typedef struct nv_driver {
	/* --- version 1 --- */
	int version;              /* must provide: NV_DRIVER_VERSION it was built for */
	const char *name;         /* must provide: "local", "sftp", "s3", "azure" */
	const char *const *schemes; /* must provide: NULL-terminated URL schemes */
	unsigned caps;            /* enum nv_caps */
	size_t min_part_size;     /* smallest multipart part; 0 if writes are not in parts */

	/* must provide. Opens a connection rooted at loc; checks credentials and
	 * that the root is reachable where that is cheap. *out belongs to the caller,
	 * released with close(). A missing root container/bucket is NV_ENOTFOUND. */
	int (*open)(struct nv_conn **out, const nv_location *loc);
	/* must provide. Accepts NULL. */
	void (*close)(struct nv_conn *c);

	/* must provide. Lists every object whose key starts with prefix ("" for
	 * all; otherwise it ends with '/'), recursively, files only, in strictly
	 * increasing byte order of keys (memcmp), as one stream: the driver pages
	 * internally and never holds the whole listing. A missing prefix lists
	 * nothing; a missing root is NV_ENOTFOUND. */
	int (*list_open)(struct nv_list **out, struct nv_conn *c, const char *prefix);
	/* must provide. 0 with *out filled, NV_EOF at the end, or an error. May
	 * also give, in key order, an entry flagged NV_ENTRY_SYMLINK or
	 * NV_ENTRY_SPECIAL (key set, the rest may be zero) for a name it leaves
	 * out: driver.c hands those to an observer, never to a caller as a file. */
	int (*list_next)(struct nv_list *it, nv_entry *out);
	/* must provide. Accepts NULL; may be called before the end. */
	void (*list_close)(struct nv_list *it);

	/* must provide. NV_ENOTFOUND when the key does not exist. */
	int (*stat)(struct nv_conn *c, const char *key, nv_entry *out);
	/* must provide. Reads up to len bytes at offset into buf; *got < len only
	 * at the end of the object; offset at or past the end gives 0 and *got = 0.
	 * NV_ENOTFOUND when the key does not exist. */
	int (*read)(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
		    size_t len, size_t *got);

	/* must provide. Starts writing key; nothing is visible under key before
	 * commit, and a reader sees either the old object or the whole new one. */
	int (*write_open)(struct nv_writer **out, struct nv_conn *c, const char *key,
			  const nv_write_opts *opts);
	/* must provide. Appends len bytes; the driver parts and buffers as it needs. */
	int (*write)(struct nv_writer *w, const void *buf, size_t len);
	/* must provide. Publishes the object and frees w, also on failure.
	 * With NV_WRITE_EXCLUSIVE an existing key gives NV_EEXISTS and is untouched. */
	int (*write_commit)(struct nv_writer *w, nv_commit_info *out);
	/* must provide. Discards everything written and frees w. May be called
	 * without commit (never after it); accepts NULL. */
	void (*write_abort)(struct nv_writer *w);

	/* must provide. Removing a missing key is not an error (returns 0). A
	 * store with directories (local, sftp) also removes the ones the removal
	 * left empty, up to the root (never the root itself). */
	int (*remove)(struct nv_conn *c, const char *key);
	/* may be NULL. Durability barrier: returns once everything committed
	 * through this connection survives a power cut. */
	int (*flush)(struct nv_conn *c);

	/* --- version 2 (driver.c reads these only when version >= 2) --- */
	/* Most keys remove_many takes in one call (S3: 1000); 0 when remove_many is NULL. */
	size_t max_remove_batch;
	/* may be NULL (nv_drv_remove_many then calls remove for each key). Removes
	 * keys[0..n), 1 <= n <= max_remove_batch, in one round trip. A missing key
	 * is not an error. Returns 0 when the request itself was answered, with
	 * results[i] set to 0 (removed or absent) or the negative nv_err of keys[i]
	 * (NV_ERETRY: that key may be tried again); for each failed key, msgs[i]
	 * gets a malloc'd message naming it (the caller frees; msgs[i] start NULL).
	 * Returns a negative nv_err when the request failed as a whole (NV_ERETRY:
	 * call again; some keys may be gone already): results are then meaningless
	 * and every msgs[i] stays NULL. */
	int (*remove_many)(struct nv_conn *c, const char *const *keys, size_t n, int *results,
			   char **msgs);

	/* --- version 4 (driver.c reads these only when version >= 4) --- */
	/* may be NULL, all four or none: nothing of an interrupted write stays
	 * (azure: the service drops uncommitted blocks after 7 days by itself).
	 * Lists, in any order, what interrupted writes may have left anywhere
	 * under the root: every file whose name is one of tmpname.h's exact forms
	 * (NV_TMP_RUN or NV_TMP_OLD, nothing else), or every incomplete multipart
	 * upload. A missing root lists nothing; NV_ENOTSUP: the server cannot
	 * list them. A directory that holds a navette-lease/ of its own (another
	 * location's root, below this one) is that location's business: left out. */
	int (*leftovers_open)(struct nv_leftovers **out, struct nv_conn *c);
	/* 0 with *out filled, NV_EOF at the end, or an error. */
	int (*leftovers_next)(struct nv_leftovers *it, nv_leftover *out);
	/* Accepts NULL; may be called before the end. */
	void (*leftovers_close)(struct nv_leftovers *it);
	/* Removes lo, as listed by leftovers_next, unless the driver can tell that
	 * a live writer holds it: NV_EEXISTS then, and nothing is touched. proven:
	 * the caller knows that its writer is dead (the lease, its age); 0: remove
	 * it only if the driver can tell that itself (local: every writer of an
	 * NV_TMP_RUN name holds a lock on it), else NV_ENOTSUP. Gone already:
	 * NV_ENOTFOUND. */
	int (*leftover_remove)(struct nv_conn *c, const nv_leftover *lo, int proven);

	/* --- version 5 (driver.c reads it only when version >= 5) --- */
	/* may be NULL: where the key of a write is fixed once it started (s3,
	 * azure: moving the bytes later is a server-side copy). Makes the open
	 * write w publish under key instead of the key it was opened with; only
	 * before commit, and at no cost in bytes (local, sftp: the temp file is
	 * renamed to the new key at commit, from the directory it was created in).
	 * A write whose contents name it (a vault object: its id is the hash of
	 * what it holds) can so be written before its name is known. */
	int (*write_retarget)(struct nv_writer *w, const char *key);
} nv_driver;

/* ---- Registry and locations (src/driver.c) ---- */

/* Compiled-in drivers, NULL-terminated. */
const nv_driver *const *nv_drivers(void);
const nv_driver *nv_driver_find(const char *name);

/* Parses "/path", "./rel", "file:///path", "scheme://authority/path" or
 * "NAME:path" (NAME a remote of cfg). cfg may be NULL. *out belongs to the caller. */
int nv_location_parse(nv_location **out, const char *text, const nv_config *cfg);
void nv_location_free(nv_location *loc);

/* The location text as the user wrote it, credentials stripped, for what
 * others read (metrics labels): in URL forms, a "user:password@" and any query
 * string or fragment (SAS tokens) are dropped; paths and NAME:path are kept as
 * they are. malloc'd; NULL when out of memory. */
char *nv_location_public(const char *text);

/* Validates a key: relative, '/'-separated, no "..", "." or empty component,
 * no control bytes below 0x20, at most 1024 bytes. */
int nv_key_check(const char *key);

/* ---- The engine's calls: thin wrappers, the one place for tracing and
 * fault injection. nv_store owns its connection. ---- */
typedef struct nv_store nv_store;

int nv_drv_open(nv_store **out, const nv_location *loc);
void nv_drv_close(nv_store *s);
const nv_driver *nv_drv_driver(const nv_store *s);
const nv_location *nv_drv_location(const nv_store *s);

typedef struct nv_lister nv_lister;
int nv_drv_list_open(nv_lister **out, nv_store *s, const char *prefix);
int nv_drv_list_next(nv_lister *l, nv_entry *out);
/* fn(ctx, e) is called, during nv_drv_list_next, for each entry the listing
 * leaves out as no file (e->flags has NV_ENTRY_SYMLINK or NV_ENTRY_SPECIAL;
 * e->key valid during the call): check --report names what it did not compare. */
typedef void (*nv_list_skip_fn)(void *ctx, const nv_entry *e);
void nv_drv_list_observe(nv_lister *l, nv_list_skip_fn fn, void *ctx);
void nv_drv_list_close(nv_lister *l);

int nv_drv_stat(nv_store *s, const char *key, nv_entry *out);
int nv_drv_read(nv_store *s, const char *key, uint64_t offset, void *buf, size_t len,
		size_t *got);

typedef struct nv_wstream nv_wstream;
int nv_drv_write_open(nv_wstream **out, nv_store *s, const char *key,
		      const nv_write_opts *opts);
int nv_drv_write(nv_wstream *w, const void *buf, size_t len);
int nv_drv_write_commit(nv_wstream *w, nv_commit_info *out);
void nv_drv_write_abort(nv_wstream *w);
/* 1 when the driver of s can retarget an open write (its write_retarget slot). */
int nv_drv_can_retarget(const nv_store *s);
/* The write w publishes under key instead (checked as every key is); NV_ENOTSUP
 * when its driver cannot (nv_drv_can_retarget). On failure w stays open, for
 * the caller to abort. */
int nv_drv_write_retarget(nv_wstream *w, const char *key);

int nv_drv_remove(nv_store *s, const char *key);
/* Removes keys[0..n) with as few round trips as the driver allows (its
 * remove_many in batches of max_remove_batch, else one remove per key).
 * Every key is checked first: one invalid key fails the whole call with
 * NV_EINVAL and nothing is removed. Returns 0 with results[i] = 0 or the
 * negative nv_err of keys[i] (msgs, which may be NULL, gets a malloc'd message
 * for each failed key, caller frees), or a negative nv_err when a request failed
 * as a whole (NV_ERETRY: call again with the same keys; results are then
 * meaningless and msgs all NULL). Fault injection
 * counts one "remove" per batch request, or per key without remove_many. */
int nv_drv_remove_many(nv_store *s, const char *const *keys, size_t n, int *results,
		       char **msgs);
/* How many keys a remove_many call of driver d takes at once: 1 without one. */
size_t nv_drv_remove_batch(const nv_driver *d);
int nv_drv_flush(nv_store *s);

/* What interrupted writes left at s (driver version 4; see the slots).
 * NV_ENOTSUP from open: the driver or the server keeps no such list. Fault
 * injection counts one "leftovers" per open and per remove. */
typedef struct nv_leftover_list nv_leftover_list;
int nv_drv_leftovers_open(nv_leftover_list **out, nv_store *s);
int nv_drv_leftovers_next(nv_leftover_list *l, nv_leftover *out);
void nv_drv_leftovers_close(nv_leftover_list *l);
int nv_drv_leftover_remove(nv_store *s, const nv_leftover *lo, int proven);

/* Convenience built on the slots: whole small objects (manifests, descriptors). */
int nv_drv_put_buf(nv_store *s, const char *key, const void *buf, size_t len,
		   unsigned write_flags);
/* Reads a whole object of at most max bytes; *out is malloc'd, owned by the caller. */
int nv_drv_get_buf(nv_store *s, const char *key, size_t max, unsigned char **out,
		   size_t *len);

#endif
