/* tmpname.h: the names of navette's temporary files and this process's run id
 * (docs/FORMAT.md section 11). Called by the drivers whose writes go through a
 * temporary file (local, sftp), by the lease (its "run") and by the clean-up of
 * what interrupted runs left (engine/leftovers.c). */
#ifndef NV_TMPNAME_H
#define NV_TMPNAME_H

#include <stdint.h>

/* Every temporary file's name starts with it; listings skip such names and no
 * key's last component may start with it. */
#define NV_TMP_PREFIX ".navette-tmp."
#define NV_TMP_PREFIX_LEN (sizeof(NV_TMP_PREFIX) - 1)
#define NV_RUN_ID_LEN 16 /* lower-case hex digits */
/* ".navette-tmp.<run id>.<16 hex>" and its NUL */
#define NV_TMP_NAME_SIZE (NV_TMP_PREFIX_LEN + NV_RUN_ID_LEN + 1 + 16 + 1)

/* The folder of lease objects at a location's root (engine/lease.h): a
 * directory holding one is another location's root. */
#define NV_LEASE_DIRNAME "navette-lease"

/* This process's run id: 64 random bits as 16 lower-case hex digits, drawn once.
 * A process id would not do: two containers on one host reuse the same pids. */
const char *nv_run_id(void);

/* ".navette-tmp.<run id>.<unique as 16 hex digits>" into out. */
void nv_tmp_name(char out[NV_TMP_NAME_SIZE], uint64_t unique);

enum nv_tmp_kind {
	NV_TMP_NOT_OURS = 0, /* anything else, ".navette-tmp-x" and ".navette-tmp.x" too */
	NV_TMP_RUN,          /* ".navette-tmp.<16 hex>.<16 hex>": run[] gets its run id */
	NV_TMP_OLD,          /* ".navette-tmp.<16 hex>": made before names had a run id */
};

/* What a name (one path component) is, matched exactly: lower-case hex only,
 * nothing before or after. run may be NULL. */
enum nv_tmp_kind nv_tmp_parse(const char *leaf, char run[NV_RUN_ID_LEN + 1]);

/* 1 when leaf starts with NV_TMP_PREFIX (ours or not): never listed, never a key. */
int nv_tmp_reserved(const char *leaf);

#endif
