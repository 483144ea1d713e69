/* backup.h: --backup-dir: what a sync would delete or overwrite is first
 * copied to the backup location under the same key, and only then removed or
 * replaced, so the only copy of a file is never lost.
 * Called by the engine (its planner and its workers). */
#ifndef NV_BACKUP_H
#define NV_BACKUP_H

#include <stddef.h>

#include "driver/driver.h"
#include "transfer.h"

/* Refuses (NV_EINVAL) a backup location that is the destination or holds
 * it (a backup key could land on a destination file). One inside the
 * destination is allowed: *hide then gets its key prefix there ("old/"),
 * which the run leaves out of both listings; "" otherwise. */
int nv_backup_place(const nv_location *dst, const nv_location *bak, char *hide, size_t cap);

/* Copies key from x->dst to bak as e lists it (e NULL: stat it first), with
 * its mtime and mode, checked as any copy is (transfer.h). NV_ENOTFOUND when
 * the key is gone from x->dst. Not yet durable: nv_drv_flush(bak) before
 * removing or replacing the original. */
int nv_backup_one(nv_xfer_ctx *x, nv_store *bak, const char *key, const nv_entry *e);

#endif
