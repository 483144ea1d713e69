/* dest_lock.h: what a writing run holds on its destination: a local lock (flock
 * on a state file named after the destination) against runs on this host, then
 * the lease at the destination (lease.h) against runs on other hosts.
 * Called by the engine (copy, sync), push, pull (the local lock only) and
 * replicate. */
#ifndef NV_DEST_LOCK_H
#define NV_DEST_LOCK_H

#include <stddef.h>

#include "driver/driver.h"
#include "shard.h"

typedef struct nv_dest_lock nv_dest_lock;

/* The location written one way whatever its spelling allows: the driver, then
 * the authority (or [remote]) without a password, then the path without
 * repeated, leading or trailing '/' ("local:/srv/a", "s3://bkt/p/q",
 * "sftp://[box]/~/d", "sftp://u@h/d" for sftp://u:pw@h//d/). Two spellings of
 * one place through a remote and a URL still differ. */
int nv_location_canon(const nv_location *loc, char *buf, size_t cap);

typedef struct nv_dest_lock_opts {
	const char *command;   /* "sync", "push", ...: names this run to others */
	long long wait_ms;     /* --wait-lock: how long to wait in all; 0: not at all */
	int local_only;        /* pull: this host's lock only; no lease object is
				* ever written into a restore target */
	const char *also_path; /* NULL, or one more state file to flock under the
				* same holder (push: push/<vault_id>/lock, which
				* guards this host's files of that vault) ... */
	const char *also_what; /* ... and what it guards, for the message */
	int probe;             /* publishers (push, replicate): check once the lease
				* is held that the store refuses a second create of
				* one name, and warn once per process if it does not
				* (nv_lease_probe); nothing is changed by the answer */
	const nv_shard *shard; /* NULL, or one shard of a sharded run (shard.h): its
				* local lock and lease record are its own (its
				* state folder), its lease is shared under the run
				* id: the shards of one run hold the destination
				* together, any other run is refused and refuses
				* them. Named in the holder text. */
} nv_dest_lock_opts;

/* Takes the local lock (state dir: locks/<SHA-256 of the canonical
 * location>.lock), the further state lock if any, then the exclusive lease,
 * waiting up to o->wait_ms in all. Held by another: NV_EEXISTS, the message
 * naming the holder. The lease's name is recorded (locks/<...>.lease) until
 * it is removed: a lease that an earlier run of this state directory left
 * (killed, or its store gone at the end) is removed first, at once, since
 * holding the local lock proves that run over. */
int nv_dest_lock_take_opts(nv_dest_lock **out, const nv_location *dst,
			   const nv_dest_lock_opts *o);
/* The same for copy and sync: local lock and lease, command naming the run. */
int nv_dest_lock_take(nv_dest_lock **out, const nv_location *dst, const char *command,
		      long long wait_ms);
/* 1 once the lease could not be renewed: the run must stop writing. */
int nv_dest_lock_lost(const nv_dest_lock *l);
/* Releases the lease, then the local locks. Accepts NULL. */
void nv_dest_lock_release(nv_dest_lock *l);

#endif
