/* push_state.c: the pushing host's files for one vault, read at the start of a
 * push and kept up to date as it goes. Called through push_state.h. */
#include "push_state.h"
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

/* One cached fact about a source file: unchanged size, mtime, ctime and inode
 * mean unchanged contents, so the file is not read again. */
typedef struct nv_cache_rec {
	char *path;
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
	unsigned char sha[NV_SHA256_LEN];
} nv_cache_rec;

/* An object uploaded by this push or an earlier, interrupted one. */
typedef struct nv_landed {
	char id[NV_OBJECT_ID_HEX];
	nv_obj_rec rec;
} nv_landed;

struct nv_push_state {
	char vault_id[NV_VAULT_ID_HEX];
	unsigned char kid[NV_KID_LEN];
	nv_cache_rec *cache;   /* sorted by path */
	size_t n_cache;
	nv_landed *landed;     /* grows as this run uploads */
	size_t n_landed, cap_landed;
	size_t *landed_ix;     /* open-addressing index by id: slot = position + 1 */
	size_t ix_cap;         /* a power of two, at least twice n_landed */
	FILE *landed_log;
	uint64_t *sizes;       /* open addressing, stored size + 1 (0: free) */
	size_t n_sizes, sizes_cap; /* a power of two, at least twice n_sizes */
};

static int nv_ps_path(const nv_push_state *s, nv_vstate which, char *out, size_t cap)
{
	return nv_vstate_path(out, cap, which, s->vault_id);
}

int nv_push_list_add(nv_push_list *l, nv_push_file *f)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		nv_push_file **g = realloc(l->j, cap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		l->j = g;
		l->cap = cap;
	}
	l->j[l->n++] = f;
	return 0;
}

void nv_push_list_free(nv_push_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->j[i]->path);
		free(l->j[i]->obj.name);
		free(l->j[i]);
	}
	free(l->j);
	memset(l, 0, sizeof(*l));
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

/* ---- cache.tsv: path size mtime_ns ctime_ns inode sha256, sorted by path ---- */

static int nv_push_cache_load(nv_push_state *s)
{
	char path[4200], *buf, *line, *save = NULL;
	size_t len, cap = 0;
	int rc;

	if ((rc = nv_ps_path(s, NV_VSTATE_CACHE, path, sizeof(path))))
		return rc;
	if ((rc = nv_state_read(path, &buf, &len))) {
		nv_error_clear();
		return 0; /* no cache: every file is hashed */
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[4096], hex[NV_SHA256_HEX + 1];
		unsigned long long size, ino;
		long long mt, ct;
		nv_cache_rec *r;

		if (sscanf(line, "%4095[^\t]\t%llu\t%lld\t%lld\t%llu\t%64s", name, &size, &mt, &ct,
			   &ino, hex) != 6)
			continue;
		if (s->n_cache == cap) {
			nv_cache_rec *g = realloc(s->cache, (cap = cap ? cap * 2 : 256) * sizeof(*g));

			if (!g)
				break;
			s->cache = g;
		}
		r = &s->cache[s->n_cache];
		if (nv_unhex(r->sha, sizeof(r->sha), hex) || !(r->path = strdup(name)))
			continue;
		r->size = size;
		r->ino = ino;
		r->mtime_ns = mt;
		r->ctime_ns = ct;
		if (s->n_cache && strcmp(s->cache[s->n_cache - 1].path, r->path) >= 0) {
			free(r->path); /* out of order: ignore the rest, it is only a cache */
			break;
		}
		s->n_cache++;
	}
	free(buf);
	return 0;
}

static const nv_cache_rec *nv_cache_find(const nv_push_state *s, const char *path)
{
	size_t lo = 0, hi = s->n_cache;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->cache[mid].path, path);

		if (c == 0)
			return &s->cache[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

#define NV_CACHE_FLAGS (NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_CTIME | NV_ENTRY_HAS_INODE)

/* Wraps (in unsigned arithmetic, no overflow) for a file dated past year 2262:
 * the cache compares these numbers, it never reads them as times. */
static int64_t nv_ns(int64_t sec, int32_t nsec)
{
	return (int64_t)((uint64_t)sec * 1000000000u + (uint64_t)nsec);
}

int nv_push_cache_lookup(const nv_push_state *s, const char *path, const nv_entry *e,
			 unsigned char sha[NV_SHA256_LEN])
{
	const nv_cache_rec *c;

	/* Size and mtime alone can be kept by a rewrite (touch -r, a restore);
	 * ctime and inode cannot. A driver that does not report them leaves
	 * nothing to trust: the file is hashed. */
	if ((e->flags & NV_CACHE_FLAGS) != NV_CACHE_FLAGS || !(c = nv_cache_find(s, path)))
		return 0;
	if (c->size != e->size || c->ino != e->inode ||
	    c->mtime_ns != nv_ns(e->mtime_sec, e->mtime_nsec) ||
	    c->ctime_ns != nv_ns(e->ctime_sec, e->ctime_nsec))
		return 0;
	memcpy(sha, c->sha, NV_SHA256_LEN);
	return 1;
}

int nv_push_cache_save(nv_push_state *s, nv_push_file *const *files, size_t n)
{
	char path[4200], final[4200], hex[NV_SHA256_HEX];
	FILE *f;
	int rc;

	if ((rc = nv_ps_path(s, NV_VSTATE_CACHE, final, sizeof(final))))
		return rc;
	if ((size_t)snprintf(path, sizeof(path), "%s.new", final) >= sizeof(path))
		return nv_error_set(NV_EINVAL, "state path too long");
	f = fopen(path, "w");
	if (!f)
		return nv_error_errno(errno, "writing %s", path);
	fchmod(fileno(f), 0600);
	for (size_t i = 0; i < n; i++) {
		const nv_push_file *j = files[i];

		/* what the next push could not trust is not worth a line */
		if (j->failed || (j->e.flags & NV_CACHE_FLAGS) != NV_CACHE_FLAGS)
			continue;
		nv_hex(hex, j->cat.sha256, NV_SHA256_LEN);
		fprintf(f, "%s\t%llu\t%lld\t%lld\t%llu\t%s\n", j->path,
			(unsigned long long)j->cat.size,
			(long long)nv_ns(j->cat.mtime, j->cat.mtime_ns),
			(long long)nv_ns(j->e.ctime_sec, j->e.ctime_nsec),
			(unsigned long long)j->e.inode, hex);
	}
	if (fclose(f) != 0)
		return nv_error_errno(errno, "writing %s", path);
	if (rename(path, final) != 0)
		return nv_error_errno(errno, "renaming %s", path);
	return 0;
}

/* ---- landed.tsv: id name size sha256 — objects that reached the store but
 * no published manifest yet; appended as they land ---- */

/* The first 16 hex digits of an id (an HMAC output) are already uniform. */
static size_t nv_id_slot(const char *id, size_t cap)
{
	return (size_t)strtoull((char[17]){ id[0], id[1], id[2], id[3], id[4], id[5], id[6],
					   id[7], id[8], id[9], id[10], id[11], id[12], id[13],
					   id[14], id[15], 0 }, NULL, 16) & (cap - 1);
}

static void nv_landed_index(nv_push_state *s, size_t pos)
{
	size_t i = nv_id_slot(s->landed[pos].id, s->ix_cap);

	/* the latest upload of an id replaces an earlier one */
	while (s->landed_ix[i] && strcmp(s->landed[s->landed_ix[i] - 1].id, s->landed[pos].id))
		i = (i + 1) & (s->ix_cap - 1);
	s->landed_ix[i] = pos + 1;
}

const nv_obj_rec *nv_push_landed_find(const nv_push_state *s, const char *id)
{
	size_t i;

	if (!s->ix_cap)
		return NULL;
	for (i = nv_id_slot(id, s->ix_cap); s->landed_ix[i]; i = (i + 1) & (s->ix_cap - 1))
		if (strcmp(s->landed[s->landed_ix[i] - 1].id, id) == 0)
			return &s->landed[s->landed_ix[i] - 1].rec;
	return NULL;
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
	/* UINT64_MAX has no key: seen, so such a file is hashed first, as before */
	return stored_size == UINT64_MAX ||
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

static int nv_landed_insert(nv_push_state *s, const char *id, const nv_obj_rec *rec)
{
	nv_landed *l;

	if (s->n_landed == s->cap_landed) {
		size_t cap = s->cap_landed ? s->cap_landed * 2 : 64;
		nv_landed *g = realloc(s->landed, cap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		s->landed = g;
		s->cap_landed = cap;
	}
	if (nv_push_size_add(s, rec->size))
		return NV_ERR;
	l = &s->landed[s->n_landed];
	memcpy(l->id, id, NV_OBJECT_ID_HEX);
	l->rec = *rec;
	if (!(l->rec.name = strdup(rec->name)))
		return nv_error_set(NV_ERR, "out of memory");
	s->n_landed++;
	if (s->n_landed * 2 > s->ix_cap) {
		size_t cap = s->ix_cap ? s->ix_cap * 2 : 256, *ix = calloc(cap, sizeof(*ix));

		if (!ix)
			return nv_error_set(NV_ERR, "out of memory");
		free(s->landed_ix);
		s->landed_ix = ix;
		s->ix_cap = cap;
		for (size_t i = 0; i < s->n_landed; i++)
			nv_landed_index(s, i);
	} else {
		nv_landed_index(s, s->n_landed - 1);
	}
	return 0;
}

/* One line of landed.tsv (a dry run has no file: nothing). */
static void nv_landed_write(nv_push_state *s, const char *id, const nv_obj_rec *rec)
{
	char hex[NV_SHA256_HEX];

	if (!s->landed_log)
		return;
	nv_hex(hex, rec->sha256, NV_SHA256_LEN);
	fprintf(s->landed_log, "%s\t%s\t%llu\t%s\n", id, rec->name,
		(unsigned long long)rec->size, hex);
	fflush(s->landed_log);
}

int nv_push_landed_add(nv_push_state *s, const char *id, const nv_obj_rec *rec)
{
	int rc = nv_landed_insert(s, id, rec);

	if (!rc)
		nv_landed_write(s, id, rec);
	return rc;
}

void nv_push_landed_reset(nv_push_state *s)
{
	if (s->landed_log && ftruncate(fileno(s->landed_log), 0) != 0)
		nv_log(NV_LOG_WARN, "cannot reset landed.tsv");
}

void nv_push_landed_forget(nv_push_state *s, const nv_manifest *m)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n_landed; i++) {
		if (nv_manifest_find_id(m, s->landed[i].id))
			free(s->landed[i].rec.name);
		else
			s->landed[k++] = s->landed[i];
	}
	if (k == s->n_landed)
		return;
	s->n_landed = k;
	memset(s->landed_ix, 0, s->ix_cap * sizeof(*s->landed_ix));
	nv_push_landed_reset(s);
	for (size_t i = 0; i < k; i++) {
		nv_landed_index(s, i);
		nv_landed_write(s, s->landed[i].id, &s->landed[i].rec);
	}
}

static int nv_push_landed_load(nv_push_state *s, int readonly)
{
	char path[4200], *buf, *line, *save = NULL;
	size_t len;
	int rc, fd;

	if ((rc = nv_ps_path(s, NV_VSTATE_LANDED, path, sizeof(path))))
		return rc;
	if (nv_state_read(path, &buf, &len) == 0) {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char id[NV_SHA256_HEX + 1], name[256], hex[NV_SHA256_HEX + 1];
			unsigned long long size;
			nv_obj_rec r;

			if (sscanf(line, "%64s\t%255s\t%llu\t%64s", id, name, &size, hex) != 4 ||
			    nv_unhex(r.sha256, sizeof(r.sha256), hex))
				continue;
			r.name = name;
			r.size = size;
			nv_landed_insert(s, id, &r);
		}
		free(buf);
	}
	nv_error_clear();
	if (readonly)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	s->landed_log = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!s->landed_log) {
		if (fd >= 0)
			close(fd);
		return nv_error_errno(errno, "opening %s", path);
	}
	return 0;
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
	for (size_t i = 0; i < s->n_cache; i++)
		free(s->cache[i].path);
	free(s->cache);
	for (size_t i = 0; i < s->n_landed; i++)
		free(s->landed[i].rec.name);
	free(s->landed);
	free(s->landed_ix);
	free(s->sizes);
	if (s->landed_log)
		fclose(s->landed_log);
	OPENSSL_cleanse(s->kid, sizeof(s->kid));
	free(s);
}
