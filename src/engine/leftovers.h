/* leftovers.h: the clean-up of what interrupted runs left at a location they
 * wrote to (temporary files, incomplete multipart uploads), by the rule of
 * docs/FORMAT.md section 11, reported in one line. Called by the writing
 * commands as they start: the engine (copy, sync), replicate, push and pull
 * (its restore target). */
#ifndef NV_LEFTOVERS_H
#define NV_LEFTOVERS_H

#include <stdint.h>

#include "driver/driver.h"

/* A leftover older than this is dead whatever else is known (seconds;
 * NAVETTE_TEMP_MAX_AGE changes it). */
#define NV_LEFTOVER_MAX_AGE (24 * 3600)

typedef struct nv_leftover_stats {
	uint64_t removed;  /* temporary files removed */
	uint64_t aborted;  /* incomplete uploads aborted */
	uint64_t bytes;    /* what the removed files held (uploads: unknown, not counted) */
	uint64_t in_use;   /* kept: a live writer holds them */
	uint64_t kept;     /* kept: nothing shows yet that their writer is gone */
	uint64_t failed;   /* a listing or a removal failed (said in a warning) */
} nv_leftover_stats;

/* Cleans what interrupted runs left anywhere under s's root. Call it once the
 * run holds what it takes on that location (its lease, its locks) and before
 * it writes there: its own temporary files are spared by their run id, its
 * own uploads by coming later. A leftover goes when its writer is known to be
 * dead: this process holds the location's exclusive lease (lease.h), or the
 * driver can tell (a local temp file whose writer's lock is gone), or it is
 * older than the maximum age. Never fails the run: problems are warnings. st
 * may be NULL. */
void nv_leftovers_clean(nv_store *s, nv_leftover_stats *st);

#endif
