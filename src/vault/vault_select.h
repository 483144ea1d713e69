/* vault_select.h: what a reader reads: the generation (the newest one the
 * store does not withhold, or the one asked for) and, for pull, the catalog
 * entries its PATHs name. Called by cmd_vault.c (every reader) and cmd_pull.c. */
#ifndef NV_VAULT_SELECT_H
#define NV_VAULT_SELECT_H

#include "manifest_read.h"
#include "vault.h"
#include "vault_pull.h"

/* Generation want (> 0), or the newest: nv_vault_current, and then a signed
 * heartbeat naming a newer generation than every manifest means the store
 * withholds manifests: refused (NV_EMISMATCH) like any rollback, and
 * remembered. An absent heartbeat proves nothing here, an altered one is
 * logged and ignored (verify --max-age reports both). NV_ENOTFOUND when
 * there is no generation want; *gen = 0 for an empty vault. */
int nv_vault_select_generation(nv_vault *v, long long want, nv_manifest *out,
			       unsigned char sha[NV_SHA256_LEN], uint64_t *gen);

/* The same with the generation's manifest opened as a stream
 * (manifest_read.h): *out NULL for an empty vault. */
int nv_vault_select_generation_read(nv_vault *v, long long want, nv_mread **out,
				    nv_manifest *head, unsigned char sha[NV_SHA256_LEN],
				    uint64_t *gen);

/* The restore jobs of a pull of the generation m with its verified catalog
 * cat: every file, or those paths[0..npaths) name (a file itself, or all
 * beneath a directory). Every problem is logged here, naming the vault
 * (where): NV_ENOTFOUND when the vault has no generation yet (m cleared),
 * NV_EINVAL when a PATH names nothing, NV_EMISMATCH when the catalog names an
 * object its signed manifest does not list. *jobs malloc'd, pointing into m
 * and cat. */
int nv_pull_select(nv_vread_job **jobs, size_t *n, const nv_manifest *m,
		   const nv_catalog *cat, const char *const *paths, size_t npaths,
		   const char *where);

#endif
