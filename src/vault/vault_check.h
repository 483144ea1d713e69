/* vault_check.h: `check --report` on a vault pair, without keys: every object
 * that the source's signed manifests name, read on both sides and checked
 * against the manifest's size and SHA-256; the vault's signed documents
 * (descriptor, manifests, heartbeat, their signatures) compared byte for
 * byte; anything else the destination holds is "extra" (docs/FORMAT.md 13).
 * Called by cmd_copy.c. */
#ifndef NV_VAULT_CHECK_H
#define NV_VAULT_CHECK_H

#include "engine/report.h"
#include "util/exit.h"

typedef struct nv_vcheck nv_vcheck;

typedef struct nv_vcheck_stats {
	uint64_t identical, differ, missing, extra; /* objects and documents */
	uint64_t objects, documents;                /* what the source names (and a
						     * shard's: its own), checked */
	uint64_t generations;
	nv_outcome out;                             /* for nv_exit_code */
	double seconds;
} nv_vcheck_stats;

/* Opens the source vault (the pin, or signing_pubkey on first contact),
 * verifies every manifest's signature and gathers what they name. */
int nv_vcheck_open(nv_vcheck **out, const nv_location *src, const nv_location *dst,
		   const char *signing_pubkey);
const char *nv_vcheck_vault_id(const nv_vcheck *vc);
/* Reads both sides on `workers` workers and writes a line per object and
 * document to r; st gets the counts. shard (NULL: all): only the objects,
 * documents and extra files whose names are its keys (engine/shard.h).
 * Returns 0, or the error that stopped it (also in st->out.fatal). */
int nv_vcheck_run(nv_vcheck *vc, unsigned workers, size_t buf_size, unsigned retries,
		  const nv_shard *shard, nv_report *r, nv_vcheck_stats *st);
void nv_vcheck_free(nv_vcheck *vc);

#endif
