/* local.c: the local filesystem driver (scheme "file" and plain paths); every
 * operation is made relative to one root directory fd. Only src/driver.c calls it.
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
 * - A write goes to ".navette-tmp.<random>" beside its target, renamed into
 *   place at commit: a reader sees the old file or the whole new one. Listing
 *   skips that prefix; keys whose last component starts with it are refused.
 * - The root may not exist at open: the first write creates it (mkdir -p);
 *   until then stat and read find nothing, remove succeeds, and listing gives
 *   NV_ENOTFOUND (the engine reads a missing destination as an empty one).
 * - The directory of the last write stays open for the next one (a run writes
 *   a directory's files in a row). Like any writer holding a directory fd
 *   (rsync, tar), it follows that directory if someone moves it meanwhile.
 * - Durability, setting "fsync": each | batch (default) | none; see local_flush.
 * - Test hook: NAVETTE_LOCAL_NO_OPENAT2=1 forces the component walk.
 */
#include "driver/driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#define LOCAL_TMP_PREFIX ".navette-tmp."
#define LOCAL_TMP_PREFIX_LEN (sizeof(LOCAL_TMP_PREFIX) - 1)
#define LOCAL_WRITE_TRIES 3
#define LOCAL_BIG_FILE (256 * 1024)

enum local_fsync { LOCAL_FSYNC_BATCH, LOCAL_FSYNC_EACH, LOCAL_FSYNC_NONE };

/* Another filesystem mounted under the root that a batch flush must also sync. */
struct local_fs {
	dev_t dev;
	int fd; /* O_RDONLY directory on it, -1 if none could be opened (then sync()) */
};

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
	struct local_wdir *wdir; /* the last directory written to, kept open */
	char *rd_key;           /* the last key read and its open fd, so streaming */
	int rd_fd;              /* a big file is not one open per chunk */
};

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
	int created;            /* directories made for this write: pruned on abort */
	int failed;             /* a write failed: commit must not publish */
	char *key;
	const char *leaf;       /* last component, inside key */
	char tmp[LOCAL_TMP_PREFIX_LEN + 17];
	nv_write_opts opts;
	uint64_t written;
};

static void local_wdir_drop(struct nv_conn *c);

/* The driver's one errno -> nv_err mapping. The message names what failed. */
__attribute__((format(printf, 2, 3)))
static int local_errno(int errnum, const char *fmt, ...)
{
	char what[768];
	va_list ap;
	int code;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	switch (errnum) {
	case ENOENT: case ENOTDIR: case ELOOP: code = NV_ENOTFOUND; break;
	case EEXIST: case ENOTEMPTY: case EISDIR: code = NV_EEXISTS; break;
	case EACCES: case EPERM: case EROFS: case ETXTBSY: code = NV_EPERM; break;
	case ENOSPC: case EDQUOT: case EFBIG: code = NV_ENOSPC; break;
	case EINVAL: case ENAMETOOLONG: case EXDEV: code = NV_EINVAL; break;
	case EINTR: case EAGAIN: case ESTALE: code = NV_ERETRY; break;
	case ENOSYS: case EOPNOTSUPP: code = NV_ENOTSUP; break;
	case ENOMEM: case EMFILE: case ENFILE: code = NV_ERR; break;
	default: code = NV_EIO; break;
	}
	return nv_error_set(code, "%s: %s", what, strerror(errnum));
}

static int local_is_tmp_name(const char *name)
{
	return strncmp(name, LOCAL_TMP_PREFIX, LOCAL_TMP_PREFIX_LEN) == 0;
}

static const char *local_leaf(const char *key)
{
	const char *slash = strrchr(key, '/');

	return slash ? slash + 1 : key;
}

/* ---- Resolving paths beneath the root ---- */

static atomic_int local_no_openat2; /* set once the kernel says it has none */

static int local_is_dot_name(const char *s)
{
	return !*s || !strcmp(s, ".") || !strcmp(s, "..");
}

/* Fallback for local_open_beneath: one component at a time, none followed. */
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

/* Opens rel (a key, a directory without its trailing '/', or "" for the root)
 * beneath the root, following no symbolic link; the last component is opened
 * with flags | O_NOFOLLOW. Returns the fd, or -1 with errno set. */
static int local_open_beneath(const struct nv_conn *c, const char *rel, int flags)
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

static int local_sync_dir(int dir, const char *what)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return local_errno(errno, "opening %s to sync it", what);
	if (fsync(fd) < 0)
		rc = local_errno(errno, "syncing %s", what);
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
					rc = local_sync_dir(dir, buf);
			} else if (errno != EEXIST) {
				rc = local_errno(errno, "creating directory %s/%s", c->root_path, buf);
			}
			if (!rc)
				next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (!rc && next < 0)
			rc = (errno == ENOTDIR || errno == ELOOP)
				? local_not_a_dir(dir, comp, buf)
				: local_errno(errno, "opening directory %s/%s", c->root_path, buf);
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

/* Opens directory rel[0..len) beneath the root as O_PATH (the root's own fd
 * when len is 0: never close that one), making missing components (0777 less
 * the umask) when create. *made counts the directories made. */
static int local_dir(struct nv_conn *c, const char *rel, size_t len, int create, int *out,
		     int *made)
{
	char buf[PATH_MAX];
	int fd;

	*out = c->root;
	if (len == 0)
		return 0;
	if (len >= sizeof(buf))
		return local_errno(ENAMETOOLONG, "%.*s", (int)len, rel);
	memcpy(buf, rel, len);
	buf[len] = '\0';
	fd = local_open_beneath(c, buf, O_PATH | O_DIRECTORY);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (!create || (errno != ENOENT && errno != ENOTDIR && errno != ELOOP))
		return local_errno(errno, "opening directory %s/%s", c->root_path, buf);
	return local_make_dirs(c, buf, out, made);
}

static void local_dir_close(const struct nv_conn *c, int dir)
{
	if (dir >= 0 && dir != c->root)
		close(dir);
}

/* Removes up to levels (-1: any number) now-empty parent directories of key,
 * deepest first, never the root; stops at the first that is not empty. Best
 * effort: it sets no error, so a caller's message survives. */
static void local_prune(struct nv_conn *c, const char *key, int levels)
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
			dir = local_open_beneath(c, buf, O_PATH | O_DIRECTORY);
			*up = '/';
			if (dir < 0)
				return;
		}
		rc = unlinkat(dir, up ? up + 1 : buf, AT_REMOVEDIR);
		local_dir_close(c, dir);
		if (rc < 0)
			return;
	}
}

/* ---- Connection ---- */

/* With fsync=each, a directory made is durable only once its parent is synced. */
static int local_sync_parent(char *path)
{
	char *slash = strrchr(path, '/');
	int fd, rc = 0;

	*slash = '\0';
	fd = open(slash == path ? "/" : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = local_errno(errno, "syncing %s", slash == path ? "/" : path);
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
		return local_errno(ENAMETOOLONG, "%s", path);
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
			return local_errno(errno, "creating %s", buf);
		}
		if (!ch)
			return 0;
		*p = ch;
	}
}

/* Opens the root fd if it is not open yet; creates the root when create. */
static int local_root(struct nv_conn *c, int create)
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
		return local_errno(errno, "opening %s", c->root_path);
	}
	if (fstat(fd, &st) < 0) {
		int rc = local_errno(errno, "%s", c->root_path);

		close(fd);
		return rc;
	}
	c->root = fd;
	c->root_dev = st.st_dev;
	return 0;
}

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
	/* Random per connection so that workers and concurrent runs do not collide
	 * (a collision only costs a retry: temp files are made O_EXCL). */
	if (getrandom(&c->tmp_next, sizeof(c->tmp_next), 0) != (ssize_t)sizeof(c->tmp_next))
		c->tmp_next = (uint64_t)(uintptr_t)c ^ (uint64_t)getpid() << 32;
	rc = local_root(c, 0);
	if (rc && rc != NV_ENOTFOUND) {
		free(c->root_path);
		free(c);
		return rc;
	}
	nv_error_clear();
	*out = c;
	return 0;
}

static void local_read_forget(struct nv_conn *c)
{
	if (c->rd_fd >= 0)
		close(c->rd_fd);
	c->rd_fd = -1;
	free(c->rd_key);
	c->rd_key = NULL;
}

static void local_close(struct nv_conn *c)
{
	if (!c)
		return;
	local_read_forget(c);
	local_wdir_drop(c);
	if (c->root >= 0)
		close(c->root);
	for (size_t i = 0; i < c->nfs; i++)
		if (c->fs[i].fd >= 0)
			close(c->fs[i].fd);
	free(c->fs);
	free(c->root_path);
	free(c);
}

/* ---- Listing: a depth-first walk holding one sorted directory per level ---- */

struct local_frame {
	int fd;        /* the directory, O_RDONLY */
	size_t keylen; /* length of its key prefix ("" or "dir/sub/") in it->key */
	char *arena;   /* its entries' names, NUL-separated; directories end in '/' */
	char **names;  /* sorted pointers into arena */
	size_t n, next;
};

struct nv_list {
	struct nv_conn *c;
	struct local_frame *stack;
	size_t depth, cap;
	char *key;
	size_t keycap;
};

static int local_name_cmp(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: byte order, as the contract wants. */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int local_key_room(struct nv_list *it, size_t need)
{
	char *grown;

	if (need <= it->keycap)
		return 0;
	grown = realloc(it->key, need * 2);
	if (!grown)
		return nv_error_set(NV_ERR, "out of memory");
	it->key = grown;
	it->keycap = need * 2;
	return 0;
}

static int local_arena_add(struct local_frame *f, size_t *used, size_t *cap,
			   const char *name, int is_dir)
{
	size_t len = strlen(name), need = *used + len + 2;

	if (need > *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		char *grown;

		while (ncap < need)
			ncap *= 2;
		if (!(grown = realloc(f->arena, ncap)))
			return nv_error_set(NV_ERR, "out of memory");
		f->arena = grown;
		*cap = ncap;
	}
	memcpy(f->arena + *used, name, len);
	*used += len;
	if (is_dir)
		f->arena[(*used)++] = '/';
	f->arena[(*used)++] = '\0';
	f->n++;
	return 0;
}

/* 1 for a regular file, 2 for a directory, 0 for anything to skip. */
static int local_entry_kind(int dir, const struct dirent *de)
{
	unsigned char type = de->d_type;
	struct stat st;

	if (type == DT_UNKNOWN) {
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return 0;
		type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
	}
	if (type == DT_REG)
		return local_is_tmp_name(de->d_name) ? 0 : 1;
	if (type == DT_DIR)
		return local_is_dot_name(de->d_name) ? 0 : 2;
	return 0; /* symlinks, devices, fifos, sockets */
}

/* Reads f->fd's entries and sorts them: a directory sorts as "name/", so the
 * depth-first walk yields keys in global byte order (a-b < a/c < a0). */
static int local_frame_load(struct local_frame *f, const struct nv_list *it)
{
	size_t used = 0, cap = 0, i = 0;
	struct dirent *de;
	int dfd = dup(f->fd), rc = 0;
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return local_errno(errno, "listing %s/%.*s", it->c->root_path, (int)f->keylen,
				   it->key);
	}
	for (;;) {
		int kind;

		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				rc = local_errno(errno, "listing %s/%.*s", it->c->root_path,
						 (int)f->keylen, it->key);
			break;
		}
		kind = local_entry_kind(f->fd, de);
		if (kind && (rc = local_arena_add(f, &used, &cap, de->d_name, kind == 2)))
			break;
	}
	closedir(d);
	if (rc || f->n == 0)
		return rc;
	if (!(f->names = malloc(f->n * sizeof(*f->names))))
		return nv_error_set(NV_ERR, "out of memory");
	for (char *p = f->arena; i < f->n; p += strlen(p) + 1)
		f->names[i++] = p;
	qsort(f->names, f->n, sizeof(*f->names), local_name_cmp);
	return 0;
}

static void local_frame_free(struct local_frame *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->arena);
	free(f->names);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

/* Pushes the directory fd (owned from here on) whose key prefix is it->key[0..keylen). */
static int local_push(struct nv_list *it, int fd, size_t keylen)
{
	struct local_frame *f;
	int rc;

	if (it->depth == it->cap) {
		size_t ncap = it->cap ? it->cap * 2 : 8;
		struct local_frame *grown = realloc(it->stack, ncap * sizeof(*grown));

		if (!grown) {
			close(fd);
			return nv_error_set(NV_ERR, "out of memory");
		}
		it->stack = grown;
		it->cap = ncap;
	}
	f = &it->stack[it->depth];
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->keylen = keylen;
	if ((rc = local_frame_load(f, it))) {
		local_frame_free(f);
		return rc;
	}
	it->depth++;
	return 0;
}

static void local_list_close(struct nv_list *it)
{
	if (!it)
		return;
	while (it->depth > 0)
		local_frame_free(&it->stack[--it->depth]);
	free(it->stack);
	free(it->key);
	free(it);
}

/* list_open: a missing root is NV_ENOTFOUND; a missing prefix lists nothing. */
static int local_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	size_t plen = strlen(prefix);
	char dir[PATH_MAX];
	struct nv_list *it;
	int fd, rc;

	*out = NULL;
	if (plen >= sizeof(dir))
		return local_errno(ENAMETOOLONG, "list prefix %s", prefix);
	memcpy(dir, prefix, plen + 1);
	if (plen) {
		dir[plen - 1] = '\0';
		if ((rc = nv_key_check(dir)))
			return rc;
	}
	if ((rc = local_root(c, 0)))
		return rc;
	if (!(it = calloc(1, sizeof(*it))) || local_key_room(it, plen + 256)) {
		free(it);
		return nv_error_set(NV_ERR, "out of memory");
	}
	it->c = c;
	memcpy(it->key, prefix, plen + 1);
	fd = local_open_beneath(c, dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
			*out = it; /* nothing under that prefix */
			return 0;
		}
		rc = local_errno(errno, "listing %s/%s", c->root_path, prefix);
	} else {
		rc = local_push(it, fd, plen);
	}
	if (rc) {
		local_list_close(it);
		return rc;
	}
	*out = it;
	return 0;
}

static void local_entry_fill(nv_entry *out, const struct stat *st)
{
	out->size = (uint64_t)st->st_size;
	out->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	out->mtime_nsec = (int32_t)st->st_mtim.tv_nsec;
	out->mode = (uint32_t)(st->st_mode & 07777);
	out->flags = NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_MODE;
}

/* Enters the subdirectory that the top frame just yielded (name ends in '/'). */
static int local_enter(struct nv_list *it, char *name, size_t nlen, size_t keylen)
{
	int fd, parent = it->stack[it->depth - 1].fd;

	name[nlen - 1] = '\0';
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	name[nlen - 1] = '/';
	if (fd < 0) {
		/* Gone, or replaced by a symlink or a file since readdir: skip it. */
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 0;
		return local_errno(errno, "listing %s/%.*s", it->c->root_path,
				   (int)(keylen + nlen), it->key);
	}
	return local_push(it, fd, keylen + nlen);
}

static int local_list_next(struct nv_list *it, nv_entry *out)
{
	while (it->depth > 0) {
		struct local_frame *f = &it->stack[it->depth - 1];
		size_t keylen = f->keylen, nlen;
		struct stat st;
		char *name;
		int rc;

		if (f->next == f->n) {
			local_frame_free(f);
			it->depth--;
			continue;
		}
		name = f->names[f->next++];
		nlen = strlen(name);
		if ((rc = local_key_room(it, keylen + nlen + 1)))
			return rc;
		memcpy(it->key + keylen, name, nlen + 1);
		if (name[nlen - 1] == '/') {
			if ((rc = local_enter(it, name, nlen, keylen)))
				return rc;
			continue;
		}
		if (fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* removed since readdir */
			return local_errno(errno, "%s/%s", it->c->root_path, it->key);
		}
		if (!S_ISREG(st.st_mode))
			continue;
		memset(out, 0, sizeof(*out));
		out->key = it->key;
		local_entry_fill(out, &st);
		return 0;
	}
	return NV_EOF;
}

/* ---- Stat, read, remove ---- */

/* Stats key as an object: symlinks and non-regular files are missing. */
static int local_stat_key(struct nv_conn *c, const char *key, struct stat *st)
{
	int rc, fd;

	if ((rc = local_root(c, 0)))
		return rc;
	if (local_is_tmp_name(local_leaf(key)))
		return nv_error_set(NV_ENOTFOUND, "%s: no such object", key);
	if (!strchr(key, '/')) {
		if (fstatat(c->root, key, st, AT_SYMLINK_NOFOLLOW) < 0)
			return local_errno(errno, "%s/%s", c->root_path, key);
	} else {
		if ((fd = local_open_beneath(c, key, O_PATH)) < 0)
			return local_errno(errno, "%s/%s", c->root_path, key);
		rc = fstat(fd, st) < 0 ? local_errno(errno, "%s/%s", c->root_path, key) : 0;
		close(fd);
		if (rc)
			return rc;
	}
	if (!S_ISREG(st->st_mode))
		return nv_error_set(NV_ENOTFOUND, "%s/%s is not a regular file", c->root_path,
				    key);
	return 0;
}

static int local_stat(struct nv_conn *c, const char *key, nv_entry *out)
{
	struct stat st;
	int rc = local_stat_key(c, key, &st);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	local_entry_fill(out, &st);
	return 0;
}

static int local_read_open(struct nv_conn *c, const char *key)
{
	struct stat st;
	int fd, rc;

	local_read_forget(c);
	if ((rc = local_root(c, 0)))
		return rc;
	if (local_is_tmp_name(local_leaf(key)))
		return nv_error_set(NV_ENOTFOUND, "%s: no such object", key);
	/* O_NONBLOCK: opening a fifo must not hang; it is refused just below. */
	fd = local_open_beneath(c, key, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return local_errno(errno, "opening %s/%s", c->root_path, key);
	if (fstat(fd, &st) < 0)
		rc = local_errno(errno, "%s/%s", c->root_path, key);
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
	return 0;
}

/* read: reuses the open fd while the same key is read on from a non-zero
 * offset; a read from 0 reopens, so a replaced file is seen anew. */
static int local_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
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
			rc = local_errno(errno, "reading %s/%s", c->root_path, key);
			local_read_forget(c);
			return rc;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* remove: a missing key, a symlink or a non-regular file is left alone and
 * gives 0; then parent directories left empty are removed, never the root. */
static int local_remove(struct nv_conn *c, const char *key)
{
	const char *leaf = local_leaf(key);
	struct stat st;
	int dir, made = 0, rc;

	if ((rc = local_root(c, 0)) == NV_ENOTFOUND || (!rc && local_is_tmp_name(leaf))) {
		nv_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	if (c->rd_key && !strcmp(c->rd_key, key))
		local_read_forget(c);
	if ((rc = local_dir(c, key, (size_t)(leaf - key) - (leaf != key), 0, &dir, &made))) {
		if (rc != NV_ENOTFOUND)
			return rc;
		nv_error_clear();
		return 0;
	}
	if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		rc = 0;
	else if (unlinkat(dir, leaf, 0) < 0 && errno != ENOENT)
		rc = local_errno(errno, "removing %s/%s", c->root_path, key);
	else if (c->fsync == LOCAL_FSYNC_EACH)
		rc = local_sync_dir(dir, key);
	else
		c->dirty = 1;
	local_dir_close(c, dir);
	if (!rc)
		local_prune(c, key, -1);
	return rc;
}

/* ---- Writing: temp file beside the target, renamed at commit ---- */

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
static void local_wdir_drop(struct nv_conn *c)
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
	if ((rc = local_dir(c, key, len, 1, &fd, made)))
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
	local_wdir_drop(c);
	c->wdir = d;
	*out = d;
	return 0;
}

static void local_writer_free(struct nv_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	local_wdir_put(w->wdir);
	free(w->key);
	free(w);
}

/* Creates the temp file in w->dir; returns -1 with errno on failure. */
static int local_tmp_create(struct nv_writer *w)
{
	/* With a mode to keep, 0600 until commit: a private file is never readable
	 * while written. Without one, the umask and default ACLs decide, as for
	 * any new file. */
	mode_t mode = (w->opts.flags & NV_WRITE_HAS_MODE) ? 0600 : 0666;

	for (int i = 0; i < 8; i++) {
		snprintf(w->tmp, sizeof(w->tmp), "%s%016llx", LOCAL_TMP_PREFIX,
			 (unsigned long long)w->c->tmp_next++);
		w->fd = openat(w->dir, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			       O_CLOEXEC, mode);
		if (w->fd >= 0 || errno != EEXIST)
			break;
	}
	if (w->fd < 0)
		w->tmp[0] = '\0';
	return w->fd;
}

static int local_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
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
	if ((rc = local_root(c, 1)))
		return rc;
	if (!(w = calloc(1, sizeof(*w))) || !(w->key = strdup(key))) {
		free(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	w->c = c;
	w->fd = -1;
	w->leaf = w->key + (leaf - key);
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
			rc = local_errno(errno, "creating a temporary file for %s/%s",
					 c->root_path, key);
			break;
		}
		local_wdir_put(w->wdir);
		w->wdir = NULL;
		local_wdir_drop(c);
	}
	if (rc) {
		local_prune(c, key, w->created);
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

static int local_write(struct nv_writer *w, const void *buf, size_t len)
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
			return local_errno(n < 0 ? errno : EIO, "writing %s/%s", w->c->root_path,
					   w->key);
		}
		p += n;
		len -= (size_t)n;
		w->written += (uint64_t)n;
	}
	return 0;
}

static void local_write_abort(struct nv_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp[0])
		unlinkat(w->dir, w->tmp, 0);
	if (w->created)
		local_wdir_drop(w->c); /* about to be pruned */
	local_prune(w->c, w->key, w->created);
	local_writer_free(w);
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
	}
	if (w->c->fsync == LOCAL_FSYNC_EACH && fsync(fd) < 0)
		goto fail;
	/* close() is where some filesystems (NFS) report a failed write. */
	if (close(fd) < 0)
		return local_errno(errno, "writing %s/%s", w->c->root_path, w->key);
	return 0;
fail:
	{
		int rc = local_errno(errno, "finishing %s/%s", w->c->root_path, w->key);

		close(fd);
		return rc;
	}
}

/* Renames the temp file to the target; NV_WRITE_EXCLUSIVE never replaces. */
static int local_publish(struct nv_writer *w)
{
	const char *root = w->c->root_path;

	if (!(w->opts.flags & NV_WRITE_EXCLUSIVE)) {
		if (renameat(w->dir, w->tmp, w->dir, w->leaf) < 0)
			return local_errno(errno, "renaming into %s/%s", root, w->key);
		w->tmp[0] = '\0';
		return 0;
	}
	if (renameat2(w->dir, w->tmp, w->dir, w->leaf, RENAME_NOREPLACE) == 0) {
		w->tmp[0] = '\0';
		return 0;
	}
	if (errno == EEXIST)
		return nv_error_set(NV_EEXISTS, "%s/%s already exists", root, w->key);
	if (errno != EINVAL && errno != ENOSYS)
		return local_errno(errno, "renaming into %s/%s", root, w->key);
	/* The filesystem cannot rename without replacing: a hard link is as atomic. */
	if (linkat(w->dir, w->tmp, w->dir, w->leaf, 0) < 0) {
		if (errno == EEXIST)
			return nv_error_set(NV_EEXISTS, "%s/%s already exists", root, w->key);
		return local_errno(errno, "linking into %s/%s", root, w->key);
	}
	unlinkat(w->dir, w->tmp, 0);
	w->tmp[0] = '\0';
	return 0;
}

static int local_write_commit(struct nv_writer *w, nv_commit_info *out)
{
	struct nv_conn *c = w->c;
	int rc;

	if (w->failed)
		rc = nv_error_set(NV_EIO, "%s/%s: not committed after a failed write",
				  c->root_path, w->key);
	else if (!(rc = local_tmp_finish(w)))
		rc = local_publish(w);
	if (rc) {
		local_write_abort(w);
		return rc;
	}
	if (c->rd_key && !strcmp(c->rd_key, w->key))
		local_read_forget(c);
	if (c->fsync == LOCAL_FSYNC_EACH)
		rc = local_sync_dir(w->dir, w->key);
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

/* ---- Durability ---- */

static int local_syncfs(int dir, const char *what)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0) { /* cannot read the directory: the global barrier will do */
		sync();
		return 0;
	}
	if (syncfs(fd) < 0)
		rc = local_errno(errno, "syncing the filesystem of %s", what);
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
			rc = local_errno(errno, "syncing a filesystem under %s", c->root_path);
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
	.list_open = local_list_open,
	.list_next = local_list_next,
	.list_close = local_list_close,
	.stat = local_stat,
	.read = local_read,          /* pread on a cached fd */
	.write_open = local_write_open,
	.write = local_write,
	.write_commit = local_write_commit,
	.write_abort = local_write_abort,
	.remove = local_remove,
	.flush = local_flush,
};
