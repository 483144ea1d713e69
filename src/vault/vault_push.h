/* vault_push.h: push — encrypt a local tree into a vault as a new signed
 * generation (docs/FORMAT.md 2.6). Called by cmd_push.c. */
#ifndef NV_VAULT_PUSH_H
#define NV_VAULT_PUSH_H

#include "engine/engine.h"
#include "util/exit.h"
#include "vault.h"

typedef struct nv_push_stats {
	uint64_t files, hashed, uploaded, uploaded_bytes, reused;
	uint64_t canaries;     /* canary files of the generation (0: no drill recipient) */
	uint64_t canaries_uploaded; /* canary objects this push stored (a dry run: would) */
	uint64_t generation;   /* published, or the current one when nothing changed */
	int published;         /* a new generation was published */
	int would_publish;     /* a dry run: one would be (generation is its number) */
	int partial;           /* a shard: its partial catalog was written */
	double seconds;
	nv_outcome out;        /* for nv_exit_code: files that failed or differed, or
	                        * the error that stopped the push */
} nv_push_stats;

/* Pushes the tree at src into v, signing with sk (which must be the vault's
 * signing key). Uses o->transfers workers, o->buffer_size, o->retries, the
 * files o->filter passes, o->wait_lock_ms for the vault's locks and lease;
 * with o->shard (a run id set), only the files of that shard, no signing key
 * (sk may be NULL), the lease shared with the run's other shards, no canary
 * files, and instead of a generation the shard's partial catalog for the
 * run's key (FORMAT.md 2.9), which publish turns into one generation;
 * o->dry_run writes nothing anywhere (no lock, no lease, no object, no state:
 * the caller also sets util/state.h's nv_state_readonly) and says what would
 * be uploaded.
 * Returns 0, or an error code with the message set (nothing published);
 * st is filled either way. */
int nv_vault_push(nv_vault *v, const nv_location *src, const nv_sshkey *sk,
		  const nv_engine_opts *o, nv_push_stats *st);

#endif
