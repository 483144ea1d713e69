/* pull_paged.h: pull without holding the vault: the verified manifest as an
 * index by object (objindex.h), the catalog read as a stream
 * (catalog_read.h), the jobs it selects spooled in catalog order (util/runs.h)
 * and fed to the reader pool (vault_pull.h). Memory does not grow with the
 * number of files but for 8 bytes an object. Called by cmd_pull.c. */
#ifndef NV_PULL_PAGED_H
#define NV_PULL_PAGED_H

#include "manifest_read.h"
#include "vault_pull.h"

typedef struct nv_pull_sel {
	const char *const *paths; /* PATHs: a file, or all beneath a directory; */
	size_t npaths;            /* none: every file */
	const nv_shard *shard;    /* --shard: its files only; NULL: all */
	const char *where;        /* the vault, for messages */
} nv_pull_sel;

/* The plan of a pull of the generation whose verified manifest mr (header
 * head) streams, as nv_pull_select makes it: every selection problem is
 * logged here, before anything is restored (NV_ENOTFOUND: no generation yet;
 * NV_EINVAL: a PATH names nothing; NV_EMISMATCH: the catalog names an object
 * the manifest does not list, or does not verify; NV_EAUTH: o->id opens no
 * stanza of it). The selected files' sizes go to the progress. */
typedef struct nv_pull_plan nv_pull_plan;
int nv_pull_plan_make(nv_pull_plan **out, nv_vault *v, nv_mread *mr, const nv_manifest *head,
		      const nv_pull_sel *sel, const nv_vread_opts *o);
/* How many files it restores. */
uint64_t nv_pull_plan_count(const nv_pull_plan *p);
/* Runs it on the reader pool, as nv_vread_run does. */
int nv_pull_plan_run(nv_pull_plan *p, const nv_vread_opts *o, nv_vread_stats *st);
/* Accepts NULL. */
void nv_pull_plan_free(nv_pull_plan *p);

#endif
