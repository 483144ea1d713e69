/* lister.h: pipeline stage 1 — a driver's listing as a stream of entries in
 * strictly increasing byte order, checked. Called by the planner and commands. */
#ifndef NV_LISTER_H
#define NV_LISTER_H

#include "driver/driver.h"
#include "driver/tmpname.h"

/* Lease objects (engine/lease.h) live here; a listing of a whole location
 * (prefix "") never shows them, so no command copies, compares or deletes them. */
#define NV_LEASE_DIR NV_LEASE_DIRNAME "/"

typedef struct nv_sorted nv_sorted;

/* missing_ok: a root that does not exist lists as empty (a fresh destination). */
int nv_sorted_open(nv_sorted **out, nv_store *s, const char *prefix, int missing_ok);
/* 0 with *out (key valid until the next call), NV_EOF at the end, or an error.
 * Disorder or a duplicate key is NV_ERR (fatal): the caller must abort and must
 * not delete anything. Keys that could escape a root are skipped with a warning
 * and counted in nv_sorted_skipped(). */
int nv_sorted_next(nv_sorted *l, nv_entry *out);
unsigned long nv_sorted_skipped(const nv_sorted *l);
/* Tells fn of each name the listing leaves out: kind "symlink" or "special"
 * (not a file, driver.h), or "unsafe-name" (skipped, counted above; why is
 * the reason). The key is valid during the call. */
typedef void (*nv_sorted_skip_fn)(void *ctx, const char *key, const char *kind,
				  const char *why);
void nv_sorted_observe(nv_sorted *l, nv_sorted_skip_fn fn, void *ctx);
void nv_sorted_close(nv_sorted *l);

#endif
