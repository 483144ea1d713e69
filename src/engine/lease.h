/* lease.h: the lease: a lock held at a remote location by writing one object
 * per holder under navette-lease/ (docs/FORMAT.md, section 10). Called by the
 * writing commands (replicate, push, sync) and by `navette unlock`. */
#ifndef NV_LEASE_H
#define NV_LEASE_H

#include <stdint.h>

#include "driver/driver.h"
#include "lister.h" /* NV_LEASE_DIR */
#define NV_LEASE_TTL_DEFAULT 60      /* seconds */
/* The create-if-absent probe's names (nv_lease_probe): no lease key starts so,
 * since a lease key starts with a host name, which holds no '.'. */
#define NV_LEASE_PROBE NV_LEASE_DIR ".probe."

typedef enum nv_lease_mode {
	NV_LEASE_EXCLUSIVE, /* one run */
	NV_LEASE_SHARED,    /* the shards of one run (same run id) */
} nv_lease_mode;

typedef struct nv_lease_opts {
	nv_lease_mode mode;
	const char *run_id;     /* NULL: this process's (driver/tmpname.h) */
	unsigned ttl;           /* seconds; 0: NV_LEASE_TTL_DEFAULT (or $NAVETTE_LEASE_TTL) */
	long long wait_ms;      /* --wait-lock: how long to wait for a holder; 0: do not */
	const char *command;    /* "replicate", "push", ... for the holder's description */
	const char *dead_key;   /* NULL, or a lease this caller knows to be dead (its
				 * own earlier run's, dest_lock.h): removed first */
} nv_lease_opts;

typedef struct nv_lease nv_lease;

/* Takes the lease at loc: writes this holder's object, lists the folder, waits
 * a moment and lists again; the oldest live conflicting lease wins. Held by
 * another: NV_EEXISTS with a message naming the holder (after wait_ms, if
 * given). While held, a thread renews the object every TTL/3 with its own
 * connection. *out belongs to the caller (nv_lease_release). */
int nv_lease_acquire(nv_lease **out, const nv_location *loc, const nv_lease_opts *o);
/* The create-if-absent probe, for publishers: a store that ignores
 * If-None-Match makes publication rest on the lease alone. Writes NV_LEASE_PROBE<random> twice with NV_WRITE_EXCLUSIVE through the
 * lease's connection, then removes it. 1 when the second create was accepted
 * (the store does not enforce create-if-absent), 0 when it was refused as it
 * should be, or an error of the probe itself. Changes nothing else. */
int nv_lease_probe(nv_lease *l);
/* 1 once a renewal failed: the holder must stop writing. */
int nv_lease_lost(const nv_lease *l);
/* This holder's object name (under NV_LEASE_DIR). */
const char *nv_lease_key(const nv_lease *l);
/* Stops renewing and removes this holder's object. Accepts NULL. Returns 0,
 * or the error of a removal that failed (the object is then left behind). */
int nv_lease_release(nv_lease *l);

/* 1 when this process holds an exclusive lease at loc (the same location
 * object, or one of the same driver written the same way) that it has not
 * lost: no other run that takes the lease is writing there. */
int nv_lease_held(const nv_location *loc);

/* `navette unlock`: removes the leases at loc that are stale to this observer
 * (unchanged for a full TTL, watched for up to watch_ms), or every lease with
 * remove_all. *removed counts them. */
int nv_lease_unlock(const nv_location *loc, int remove_all, long long watch_ms,
		    unsigned *removed);

#endif
