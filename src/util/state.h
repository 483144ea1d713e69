/* state.h: navette's local state directory (pins, highest generation seen,
 * the pushing host's K_id and caches): private files written atomically.
 * Called by the vault modules and the engine's destination lock. */
#ifndef NV_STATE_H
#define NV_STATE_H

#include <stddef.h>

/* The state root: $NAVETTE_STATE_DIR, else $XDG_STATE_HOME/navette, else
 * ~/.local/state/navette. Written into buf (cap bytes). */
int nv_state_root(char *buf, size_t cap);
/* A dry run (process-wide, set before anything runs): nv_state_path creates
 * no directory and nv_state_write writes nothing (and returns 0), so that the
 * state directory is left exactly as it was. Locks are not taken at all. */
void nv_state_readonly(int on);
/* Builds root/rel into buf, creating the parent directories (mode 0700). */
int nv_state_path(char *buf, size_t cap, const char *rel);
/* A sharded run (engine/shard.h) keeps its locks and caches apart from the
 * other shards' (several may share one home over NFS) in the folder sub of
 * the root ("shard-0-of-8"); NULL: none. Process-wide, set before any use. */
void nv_state_set_scope(const char *sub);
/* nv_state_path for what a shard keeps to itself (locks/, metrics/): under
 * the scope when one is set. Trust (pins/, seen/, bound/) stays at the root,
 * shared by every shard: nv_state_path. */
int nv_state_own_path(char *buf, size_t cap, const char *rel);
/* Reads a whole state file (at most 64 MiB); NV_ENOTFOUND when absent; refused
 * when group or others may read it. *out is malloc'd and NUL-terminated. */
int nv_state_read(const char *path, char **out, size_t *len);
/* Writes a state file atomically (temp + fsync + rename), mode 0600. */
int nv_state_write(const char *path, const void *buf, size_t len);
/* Takes an exclusive flock on path (created 0600), waiting up to wait_ms
 * (0: not at all) for another holder, and naming holders: once taken, the file says holder (one line, "navette sync,
 * pid 42, started ..."); refused, the NV_EEXISTS message quotes what the
 * other holder wrote there. */
int nv_state_lock_named(int *fd, const char *path, const char *what, const char *holder,
			long long wait_ms);
/* Releases the lock and empties the file (so it names no holder). -1: nothing. */
void nv_state_unlock(int fd);

#endif
