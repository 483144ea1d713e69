/* dest_lock.h: what a writing run holds on its destination: a local lock (flock
 * on a state file named after the destination) against runs on this host, then
 * the lease at the destination (lease.h) against runs on other hosts.
 * Called by the engine (copy, sync); push and replicate may use it later. */
#ifndef NV_DEST_LOCK_H
#define NV_DEST_LOCK_H

#include <stddef.h>

#include "driver/driver.h"
#include "shard.h"

typedef struct nv_dest_lock nv_dest_lock;

/* The location written one way whatever its spelling allows: the driver, then
 * the authority (or [remote]), then the path without repeated, leading or
 * trailing '/' ("local:/srv/a", "s3://bkt/p/q", "sftp://[box]/~/d"). Two
 * spellings of one place through a remote and a URL still differ. */
int nv_location_canon(const nv_location *loc, char *buf, size_t cap);

/* Takes the local lock (state dir: locks/<SHA-256 of the canonical
 * location>.lock), then the exclusive lease, waiting up to wait_ms in all
 * (0: not at all). Held by another: NV_EEXISTS, the message naming the
 * holder. command ("sync", "copy") names this run to others. */
int nv_dest_lock_take(nv_dest_lock **out, const nv_location *dst, const char *command,
		      long long wait_ms);
/* The same for one shard of a sharded run (shard.h; NULL: nv_dest_lock_take):
 * the local lock is the shard's own (its state folder), the lease is taken in
 * shared mode under the run id: the shards of one run hold the destination
 * together, any other run (sharded or not) is refused and refuses them. */
int nv_dest_lock_take_shard(nv_dest_lock **out, const nv_location *dst, const char *command,
			    long long wait_ms, const nv_shard *shard);
/* 1 once the lease could not be renewed: the run must stop writing. */
int nv_dest_lock_lost(const nv_dest_lock *l);
/* Releases the lease, then the local lock. Accepts NULL. */
void nv_dest_lock_release(nv_dest_lock *l);

#endif
