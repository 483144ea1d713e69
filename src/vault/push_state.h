/* push_state.h: what the pushing host keeps for one vault (docs/FORMAT.md 4):
 * K_id, the plaintext cache, the objects landed but not yet
 * published, the pending manifest and the last catalog body published.
 * Called by vault_push.c, push_publish.c, canary_push.c and vault.c (init);
 * calls none of them. */
#ifndef NV_PUSH_STATE_H
#define NV_PUSH_STATE_H

#include "driver/driver.h"
#include "engine/dest_lock.h"
#include "vault_doc.h"

typedef struct nv_push_state nv_push_state;

/* What the cache says of one file: unchanged size, mtime, ctime and inode
 * mean unchanged contents, so the file is not read again. */
typedef struct nv_cache_fact {
	int have;           /* 0: nothing cached (or nothing worth caching) */
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
	unsigned char sha[NV_SHA256_LEN]; /* of the plaintext */
} nv_cache_fact;

/* What one push learns of one source file: its listing, its catalog line and
 * the object that holds its contents. */
typedef struct nv_push_file {
	char *path;
	nv_entry e;         /* as the source driver listed it (.key NULL) */
	int failed;
	nv_cache_fact cached; /* what the cache said of path when it was listed */
	nv_cat_entry cat;   /* .path and .object point into this record */
	nv_obj_rec obj;     /* .name malloc'd */
} nv_push_file;

/* What a publisher of the vault at loc holds while it writes there (push,
 * publish; the shards of a push): this host's lock on the location and its
 * push/<vault_id>/lock (which guards this host's files of that vault), then
 * the lease there, exclusive, or shared under the run id of shard (not NULL):
 * two hosts never publish to one vault at once, even on a store that does
 * not enforce create-if-absent. command names the holder to others. */
int nv_push_lock_take(nv_dest_lock **out, const nv_location *loc, const char *vault_id,
		      const char *command, long long wait_ms, const nv_shard *shard);

/* Keeps K_id for vault_id on this host (init). */
int nv_push_kid_save(const char *vault_id, const unsigned char kid[NV_KID_LEN]);

/* Loads K_id (NV_EINVAL when this host has none), the cache and the landed
 * objects, and opens landed.tsv for appending, unless readonly (a dry run:
 * objects added then go to an anonymous file, util/runs.h). The caller holds the push lock
 * (push/<vault_id>/lock, taken with the vault's lock and lease by
 * vault_push.c), except for a dry run. *out to nv_push_state_close. */
int nv_push_state_open(nv_push_state **out, const char *vault_id, int readonly);
/* Accepts NULL. Wipes K_id. */
void nv_push_state_close(nv_push_state *s);

/* This vault's K_id (for keys derived from it: canary.h). */
const unsigned char *nv_push_kid(const nv_push_state *s);
/* The object id of a plaintext whose SHA-256 is sha, under this vault's K_id. */
void nv_push_object_id(const nv_push_state *s, const unsigned char sha[NV_SHA256_LEN],
		       char id[NV_OBJECT_ID_HEX]);

/* The fact cached for path (have 0 if none). The cache is read as a stream:
 * paths must be asked in increasing byte order (the walk's), each once. */
void nv_push_cache_seek(nv_push_state *s, const char *path, nv_cache_fact *out);
/* 1, with the cached SHA-256 in sha, when the listed entry e is the file of
 * fact c (same size, mtime, ctime and inode); else 0. */
int nv_push_cache_match(const nv_cache_fact *c, const nv_entry *e,
			unsigned char sha[NV_SHA256_LEN]);
/* The fact to cache for the listed entry e whose plaintext hashes to sha. */
void nv_push_cache_fact(nv_cache_fact *out, const nv_entry *e,
			const unsigned char sha[NV_SHA256_LEN]);
/* The next cache, written as a stream in path order (cache.tsv.new): begin,
 * put each file pushed, then commit (renamed over cache.tsv) or abort. */
int nv_push_cache_begin(nv_push_state *s);
int nv_push_cache_put(nv_push_state *s, const char *path, const nv_cache_fact *f);
int nv_push_cache_commit(nv_push_state *s);
void nv_push_cache_abort(nv_push_state *s);

/* Objects uploaded by this push or an interrupted one of this host, by id
 * (push_landed.h: 16 bytes of memory each, the records in landed.tsv).
 * 1 with *out (its name copied to name) when id landed. Not thread-safe: the
 * caller serialises these three. */
int nv_push_landed_find(const nv_push_state *s, const char *id, nv_obj_rec *out,
			char name[NV_OBJECT_NAME_MAX]);
/* A dry run's stand-in for the name of an object it would upload (recorded
 * in memory only): no object name starts with '(' (format.h), so a later file
 * with the same contents finds it "already stored" as it would in a real push. */
#define NV_PUSH_DRY_NAME "(would be uploaded)"
/* Records rec (in memory and appended to landed.tsv: a killed push loses none). */
int nv_push_landed_add(nv_push_state *s, const char *id, const nv_obj_rec *rec);
/* The stored sizes of the objects a push could find its files among, kept
 * from nv_push_sizes_track on and from floor up (a push asks of no smaller
 * size: a file that small is read once whatever is stored): those landed
 * (read from landed.tsv then, and added by nv_push_landed_add) and those the
 * caller adds (the generation it chains from). A plaintext whose stored size
 * is not among them cannot be stored yet; a size below floor, or asked before
 * tracking began, counts as seen. Not thread-safe either. */
int nv_push_sizes_track(nv_push_state *s, uint64_t floor);
int nv_push_size_add(nv_push_state *s, uint64_t stored_size);
int nv_push_size_seen(const nv_push_state *s, uint64_t stored_size);
/* A manifest naming them was published: landed.tsv starts over. */
void nv_push_landed_reset(nv_push_state *s);
/* Drops the objects whose id named says (1) the generation chained from
 * names (published by another host: a shard's, whose run publish
 * published), so that a shard's landed.tsv holds what no generation names
 * yet, as a push's does. */
void nv_push_landed_forget(nv_push_state *s, int (*named)(void *ctx, const char *id),
			   void *ctx);

/* The manifest recorded as being published: its generation and the hex
 * SHA-256 of its bytes. NV_ENOTFOUND when there is none (a malformed record
 * is dropped). */
int nv_push_pending_get(nv_push_state *s, uint64_t *gen, char sha_hex[NV_SHA256_HEX]);
int nv_push_pending_set(nv_push_state *s, uint64_t gen, const unsigned char sha[NV_SHA256_LEN]);
void nv_push_pending_clear(nv_push_state *s);

/* The hex SHA-256 of the last catalog body published and its generation
 * (0 and "" when unknown). */
void nv_push_last_get(nv_push_state *s, uint64_t *gen, char body_hex[NV_SHA256_HEX]);
int nv_push_last_set(nv_push_state *s, uint64_t gen, const char body_hex[NV_SHA256_HEX]);

#endif
