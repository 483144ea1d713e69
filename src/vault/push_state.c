/* push_state.c: the pushing host's files for one vault, read at the start of a
 * push and kept up to date as it goes. Called through push_state.h. */
#include "push_state.h"
#include "push_landed.h"
#include "util/log.h"
#include "util/state.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct nv_push_state {
	char vault_id[NV_VAULT_ID_HEX];
	unsigned char kid[NV_KID_LEN];
	FILE *cache;           /* cache.tsv, read in path order as the walk asks */
	char *cache_line;      /* the line read last (getline's buffer) */
	size_t cache_cap;
	nv_cache_fact ahead;   /* the parsed fact of cache_line, unless eof */
	char *ahead_path;      /* points into cache_line */
	int cache_eof;
	FILE *cache_new;       /* cache.tsv.new while a push writes it */
	nv_landed *landed;     /* landed.tsv (push_landed.h) */
	int sizes_on;          /* nv_push_sizes_track was called */
	uint64_t size_floor;   /* no smaller size is kept (nor asked) */
	uint64_t *sizes;       /* open addressing, stored size + 1 (0: free) */
	size_t n_sizes, sizes_cap; /* a power of two, at least twice n_sizes */
};

static int nv_ps_path(const nv_push_state *s, nv_vstate which, char *out, size_t cap)
{
	return nv_vstate_path(out, cap, which, s->vault_id);
}

int nv_push_lock_take(nv_dest_lock **out, const nv_location *loc, const char *vault_id,
		      const char *command, long long wait_ms, const nv_shard *shard)
{
	char path[4200], what[80];
	nv_dest_lock_opts lo = { .command = command, .wait_ms = wait_ms, .also_path = path,
				 .also_what = what, .probe = 1, .shard = shard };
	int rc;

	*out = NULL;
	if ((rc = nv_vstate_path(path, sizeof(path), NV_VSTATE_LOCK, vault_id)))
		return rc;
	snprintf(what, sizeof(what), "vault %s", vault_id);
	return nv_dest_lock_take_opts(out, loc, &lo);
}

/* ---- K_id: push/<vault_id>/kid, 64 hex digits and a newline ---- */

int nv_push_kid_save(const char *vault_id, const unsigned char kid[NV_KID_LEN])
{
	char path[4200], hex[2 * NV_KID_LEN + 1];
	int rc;

	if ((rc = nv_vstate_path(path, sizeof(path), NV_VSTATE_KID, vault_id)))
		return rc;
	nv_hex(hex, kid, NV_KID_LEN);
	hex[2 * NV_KID_LEN] = '\n';
	rc = nv_state_write(path, hex, sizeof(hex));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

static int nv_push_kid_load(nv_push_state *s)
{
	char path[4200], *buf;
	size_t len;
	int rc;

	if ((rc = nv_ps_path(s, NV_VSTATE_KID, path, sizeof(path))))
		return rc;
	rc = nv_state_read(path, &buf, &len);
	if (rc == NV_ENOTFOUND)
		return nv_error_set(NV_EINVAL, "this host holds no K_id for vault %s: push from "
				    "the host that ran init", s->vault_id);
	if (rc)
		return rc;
	buf[strcspn(buf, "\n")] = '\0';
	rc = nv_unhex(s->kid, sizeof(s->kid), buf) ? nv_error_set(NV_EINVAL, "%s is malformed",
								     path) : 0;
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

const unsigned char *nv_push_kid(const nv_push_state *s)
{
	return s->kid;
}

void nv_push_object_id(const nv_push_state *s, const unsigned char sha[NV_SHA256_LEN],
		       char id[NV_OBJECT_ID_HEX])
{
	nv_object_id(id, s->kid, sha);
}

/* ---- cache.tsv: path size mtime_ns ctime_ns inode sha256, sorted by path ----
 * Read as a stream beside the walk (which lists in the same byte order) and
 * written as a stream beside the catalog: a million files' facts are never
 * held in memory at once. */

static int nv_push_cache_load(nv_push_state *s)
{
	char path[4200];
	struct stat st;
	int fd;

	s->cache_eof = 1;
	if (nv_ps_path(s, NV_VSTATE_CACHE, path, sizeof(path)) != 0) {
		nv_error_clear();
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0; /* no cache: every file is hashed */
	/* a cache others could have written is not trusted (nv_state_read's rule) */
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) || !(s->cache = fdopen(fd, "r"))) {
		nv_log(NV_LOG_WARN, "%s ignored: group or others may access it", path);
		close(fd);
		return 0;
	}
	s->cache_eof = 0;
	return 0;
}

/* Reads the next well-formed line of the cache into s->ahead; at the end,
 * or at a line out of order (only a cache: the rest is ignored), eof. */
static void nv_cache_read_ahead(nv_push_state *s)
{
	char *prev = s->ahead_path ? strdup(s->ahead_path) : NULL;

	while (!s->cache_eof) {
		unsigned long long size, ino;
		long long mt, ct;
		char hex[NV_SHA256_HEX + 1], *tab;
		ssize_t n = getline(&s->cache_line, &s->cache_cap, s->cache);

		if (n <= 0) {
			s->cache_eof = 1;
			break;
		}
		if (!(tab = strchr(s->cache_line, '\t')))
			continue;
		*tab = '\0';
		if (sscanf(tab + 1, "%llu\t%lld\t%lld\t%llu\t%64s", &size, &mt, &ct, &ino, hex) != 5 ||
		    nv_unhex(s->ahead.sha, sizeof(s->ahead.sha), hex))
			continue;
		if (prev && strcmp(prev, s->cache_line) >= 0) {
			s->cache_eof = 1;
			break;
		}
		s->ahead_path = s->cache_line;
		s->ahead.size = size;
		s->ahead.ino = ino;
		s->ahead.mtime_ns = mt;
		s->ahead.ctime_ns = ct;
		s->ahead.have = 1;
		break;
	}
	if (s->cache_eof)
		s->ahead_path = NULL;
	free(prev);
}

void nv_push_cache_seek(nv_push_state *s, const char *path, nv_cache_fact *out)
{
	int c = 1;

	memset(out, 0, sizeof(*out));
	if (!s->ahead_path && !s->cache_eof)
		nv_cache_read_ahead(s);
	while (s->ahead_path && (c = strcmp(s->ahead_path, path)) < 0)
		nv_cache_read_ahead(s);
	if (s->ahead_path && c == 0)
		*out = s->ahead;
}

#define NV_CACHE_FLAGS (NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_CTIME | NV_ENTRY_HAS_INODE)

/* Wraps (in unsigned arithmetic, no overflow) for a file dated past year 2262:
 * the cache compares these numbers, it never reads them as times. */
static int64_t nv_ns(int64_t sec, int32_t nsec)
{
	return (int64_t)((uint64_t)sec * 1000000000u + (uint64_t)nsec);
}

int nv_push_cache_match(const nv_cache_fact *c, const nv_entry *e,
			unsigned char sha[NV_SHA256_LEN])
{
	/* Size and mtime alone can be kept by a rewrite (touch -r, a restore);
	 * ctime and inode cannot. A driver that does not report them leaves
	 * nothing to trust: the file is hashed. */
	if ((e->flags & NV_CACHE_FLAGS) != NV_CACHE_FLAGS || !c->have)
		return 0;
	if (c->size != e->size || c->ino != e->inode ||
	    c->mtime_ns != nv_ns(e->mtime_sec, e->mtime_nsec) ||
	    c->ctime_ns != nv_ns(e->ctime_sec, e->ctime_nsec))
		return 0;
	memcpy(sha, c->sha, NV_SHA256_LEN);
	return 1;
}

void nv_push_cache_fact(nv_cache_fact *out, const nv_entry *e,
			const unsigned char sha[NV_SHA256_LEN])
{
	memset(out, 0, sizeof(*out));
	/* what the next push could not trust is not worth a line */
	out->have = (e->flags & NV_CACHE_FLAGS) == NV_CACHE_FLAGS;
	out->size = e->size;
	out->ino = e->inode;
	out->mtime_ns = nv_ns(e->mtime_sec, e->mtime_nsec);
	out->ctime_ns = nv_ns(e->ctime_sec, e->ctime_nsec);
	memcpy(out->sha, sha, NV_SHA256_LEN);
}

static int nv_cache_new_path(const nv_push_state *s, char *final, char *path, size_t cap)
{
	int rc;

	if ((rc = nv_ps_path(s, NV_VSTATE_CACHE, final, cap)))
		return rc;
	if ((size_t)snprintf(path, cap, "%s.new", final) >= cap)
		return nv_error_set(NV_EINVAL, "state path too long");
	return 0;
}

int nv_push_cache_begin(nv_push_state *s)
{
	char path[4200], final[4200];
	int rc, fd;

	if ((rc = nv_cache_new_path(s, final, path, sizeof(path))))
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || !(s->cache_new = fdopen(fd, "w"))) {
		rc = nv_error_errno(errno, "writing %s", path);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return 0;
}

int nv_push_cache_put(nv_push_state *s, const char *path, const nv_cache_fact *f)
{
	char hex[NV_SHA256_HEX];

	if (!s->cache_new || !f->have)
		return 0;
	nv_hex(hex, f->sha, NV_SHA256_LEN);
	if (fprintf(s->cache_new, "%s\t%llu\t%lld\t%lld\t%llu\t%s\n", path,
		    (unsigned long long)f->size, (long long)f->mtime_ns, (long long)f->ctime_ns,
		    (unsigned long long)f->ino, hex) < 0)
		return nv_error_errno(errno, "writing the cache of vault %s", s->vault_id);
	return 0;
}

void nv_push_cache_abort(nv_push_state *s)
{
	char path[4200], final[4200];

	if (!s->cache_new)
		return;
	fclose(s->cache_new);
	s->cache_new = NULL;
	/* the path was made once by nv_push_cache_begin: this cannot fail now,
	 * and the error that made the caller abort keeps its message */
	if (nv_cache_new_path(s, final, path, sizeof(path)) == 0)
		unlink(path);
}

int nv_push_cache_commit(nv_push_state *s)
{
	char path[4200], final[4200];
	FILE *f = s->cache_new;
	int rc;

	if (!f)
		return 0;
	s->cache_new = NULL;
	if ((rc = nv_cache_new_path(s, final, path, sizeof(path)))) {
		fclose(f);
		return rc;
	}
	if (fclose(f) != 0)
		return nv_error_errno(errno, "writing %s", path);
	if (rename(path, final) != 0)
		return nv_error_errno(errno, "renaming %s", path);
	return 0;
}

/* ---- landed.tsv: id name size sha256 — objects that reached the store but
 * no published manifest yet; appended as they land ---- */

int nv_push_landed_find(const nv_push_state *s, const char *id, nv_obj_rec *out,
			char name[NV_OBJECT_NAME_MAX])
{
	return nv_landed_find(s->landed, id, out, name);
}

/* ---- stored sizes: a set, so a file no object can hold is read only once ---- */

static size_t nv_size_slot(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

/* The slot of key, or the free slot where it would go. */
static size_t nv_size_find(const nv_push_state *s, uint64_t key)
{
	size_t i = nv_size_slot(key, s->sizes_cap);

	while (s->sizes[i] && s->sizes[i] != key)
		i = (i + 1) & (s->sizes_cap - 1);
	return i;
}

int nv_push_size_seen(const nv_push_state *s, uint64_t stored_size)
{
	/* UINT64_MAX has no key, and a size not kept has no answer: seen, so
	 * such a file is hashed first, as before */
	return !s->sizes_on || stored_size < s->size_floor || stored_size == UINT64_MAX ||
	       (s->sizes_cap && s->sizes[nv_size_find(s, stored_size + 1)]);
}

int nv_push_size_add(nv_push_state *s, uint64_t stored_size)
{
	uint64_t key = stored_size + 1;

	if (nv_push_size_seen(s, stored_size))
		return 0;
	if ((s->n_sizes + 1) * 2 > s->sizes_cap) {
		size_t cap = s->sizes_cap ? s->sizes_cap * 2 : 256;
		uint64_t *old = s->sizes, *grown = calloc(cap, sizeof(*grown));
		size_t old_cap = s->sizes_cap;

		if (!grown)
			return nv_error_set(NV_ERR, "out of memory");
		s->sizes = grown;
		s->sizes_cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i])
				s->sizes[nv_size_find(s, old[i])] = old[i];
		free(old);
	}
	s->sizes[nv_size_find(s, key)] = key;
	s->n_sizes++;
	return 0;
}

static int nv_size_of_landed(void *ctx, const char *id, const nv_obj_rec *r)
{
	(void)id;
	return nv_push_size_add(ctx, r->size);
}

int nv_push_sizes_track(nv_push_state *s, uint64_t floor)
{
	s->sizes_on = 1;
	s->size_floor = floor;
	return nv_landed_each(s->landed, nv_size_of_landed, s);
}

int nv_push_landed_add(nv_push_state *s, const char *id, const nv_obj_rec *rec)
{
	int rc = nv_landed_add(s->landed, id, rec);

	return rc ? rc : nv_push_size_add(s, rec->size);
}

void nv_push_landed_reset(nv_push_state *s)
{
	nv_landed_reset(s->landed);
}

void nv_push_landed_forget(nv_push_state *s, int (*named)(void *ctx, const char *id),
			   void *ctx)
{
	/* kept, an object another host published is only stat'ed again when
	 * met: a failure here costs no correctness */
	if (nv_landed_drop(s->landed, named, ctx) != 0) {
		nv_log(NV_LOG_WARN, "landed.tsv keeps objects published since: %s",
		       nv_error_msg());
		nv_error_clear();
	}
}

static int nv_push_landed_load(nv_push_state *s, int readonly)
{
	char path[4200];
	int rc;

	if ((rc = nv_ps_path(s, NV_VSTATE_LANDED, path, sizeof(path))))
		return rc;
	return nv_landed_open(&s->landed, path, readonly);
}

/* ---- pending and last: "<generation> <hex SHA-256>\n" ---- */

static int nv_push_gen_sha_read(nv_push_state *s, nv_vstate which, uint64_t *gen,
				char hex[NV_SHA256_HEX])
{
	char path[4200], *buf;
	unsigned long long g;
	size_t len;
	int rc;

	*gen = 0;
	hex[0] = '\0';
	if ((rc = nv_ps_path(s, which, path, sizeof(path))) ||
	    (rc = nv_state_read(path, &buf, &len)))
		return rc;
	rc = sscanf(buf, "%llu %64s", &g, hex) == 2 ? 0 : NV_EINVAL;
	free(buf);
	if (rc) {
		hex[0] = '\0';
		return nv_error_set(NV_EINVAL, "%s is malformed", path);
	}
	*gen = g;
	return 0;
}

static int nv_push_gen_sha_write(nv_push_state *s, nv_vstate which, uint64_t gen,
				 const char hex[NV_SHA256_HEX])
{
	char path[4200], line[128];
	int rc;

	if ((rc = nv_ps_path(s, which, path, sizeof(path))))
		return rc;
	snprintf(line, sizeof(line), "%llu %s\n", (unsigned long long)gen, hex);
	return nv_state_write(path, line, strlen(line));
}

int nv_push_pending_get(nv_push_state *s, uint64_t *gen, char sha_hex[NV_SHA256_HEX])
{
	int rc = nv_push_gen_sha_read(s, NV_VSTATE_PENDING, gen, sha_hex);

	if (rc == NV_EINVAL) {
		nv_push_pending_clear(s);
		return nv_error_set(NV_ENOTFOUND, "no pending manifest");
	}
	return rc;
}

int nv_push_pending_set(nv_push_state *s, uint64_t gen, const unsigned char sha[NV_SHA256_LEN])
{
	char hex[NV_SHA256_HEX];

	nv_hex(hex, sha, NV_SHA256_LEN);
	return nv_push_gen_sha_write(s, NV_VSTATE_PENDING, gen, hex);
}

void nv_push_pending_clear(nv_push_state *s)
{
	char path[4200];

	if (nv_ps_path(s, NV_VSTATE_PENDING, path, sizeof(path)) == 0)
		unlink(path);
}

void nv_push_last_get(nv_push_state *s, uint64_t *gen, char body_hex[NV_SHA256_HEX])
{
	if (nv_push_gen_sha_read(s, NV_VSTATE_LAST, gen, body_hex))
		nv_error_clear(); /* unknown: the catalog is compared with nothing */
}

int nv_push_last_set(nv_push_state *s, uint64_t gen, const char body_hex[NV_SHA256_HEX])
{
	return nv_push_gen_sha_write(s, NV_VSTATE_LAST, gen, body_hex);
}

/* ---- the whole ---- */

int nv_push_state_open(nv_push_state **out, const char *vault_id, int readonly)
{
	nv_push_state *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return nv_error_set(NV_ERR, "out of memory");
	snprintf(s->vault_id, sizeof(s->vault_id), "%s", vault_id);
	if ((rc = nv_push_kid_load(s)) || (rc = nv_push_cache_load(s)) ||
	    (rc = nv_push_landed_load(s, readonly))) {
		nv_push_state_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void nv_push_state_close(nv_push_state *s)
{
	if (!s)
		return;
	if (s->cache)
		fclose(s->cache);
	free(s->cache_line);
	nv_push_cache_abort(s);
	nv_landed_close(s->landed);
	free(s->sizes);
	OPENSSL_cleanse(s->kid, sizeof(s->kid));
	free(s);
}
