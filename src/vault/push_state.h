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

/* What one push learns of one source file: its listing, its catalog line and
 * the object that holds its contents. */
typedef struct nv_push_file {
	char *path;
	nv_entry e;         /* as the source driver listed it (.key NULL) */
	int failed;
	nv_cat_entry cat;   /* .path and .object point into this record */
	nv_obj_rec obj;     /* .name malloc'd */
} nv_push_file;

/* A growing list of files (a push's jobs, publish's files read from partial
 * catalogs), each malloc'd with its .path and .obj.name. */
typedef struct nv_push_list {
	nv_push_file **j;
	size_t n, cap;
} nv_push_list;

/* Appends f (which the list then owns). */
int nv_push_list_add(nv_push_list *l, nv_push_file *f);
/* Frees every file (path, object name) and the list. */
void nv_push_list_free(nv_push_list *l);

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
 * objects added are then kept in memory only). The caller holds the push lock
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

/* 1, with the cached SHA-256 in sha, when the listed entry e is the file the
 * cache recorded under path (same size, mtime, ctime and inode); else 0. */
int nv_push_cache_lookup(const nv_push_state *s, const char *path, const nv_entry *e,
			 unsigned char sha[NV_SHA256_LEN]);
/* Replaces the cache with the files pushed (failed ones left out). */
int nv_push_cache_save(nv_push_state *s, nv_push_file *const *files, size_t n);

/* Objects uploaded by this push or an interrupted one of this host, by id.
 * Not thread-safe: the caller serialises these three. */
const nv_obj_rec *nv_push_landed_find(const nv_push_state *s, const char *id);
/* A dry run's stand-in for the name of an object it would upload (recorded
 * in memory only): no object name starts with '(' (format.h), so a later file
 * with the same contents finds it "already stored" as it would in a real push. */
#define NV_PUSH_DRY_NAME "(would be uploaded)"
/* Records rec (in memory and appended to landed.tsv: a killed push loses none). */
int nv_push_landed_add(nv_push_state *s, const char *id, const nv_obj_rec *rec);
/* The stored sizes of the objects a push could find its files among: those
 * landed (added by nv_push_landed_add and at open) and those the caller adds
 * (the manifest it chains from). A plaintext whose stored size is not among
 * them cannot be stored yet. Not thread-safe either. */
int nv_push_size_add(nv_push_state *s, uint64_t stored_size);
int nv_push_size_seen(const nv_push_state *s, uint64_t stored_size);
/* A manifest naming them was published: landed.tsv starts over. */
void nv_push_landed_reset(nv_push_state *s);
/* Drops the objects whose id m names (published by another host: a shard's,
 * whose run publish published), so that a shard's landed.tsv holds what no
 * generation names yet, as a push's does. */
void nv_push_landed_forget(nv_push_state *s, const nv_manifest *m);

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
