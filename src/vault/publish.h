/* publish.h: `navette publish`: one generation from the partial catalogs of a
 * sharded push's run (docs/FORMAT.md 2.9), published by push_publish.c as a
 * single push would publish it. Called by cmd_publish.c. */
#ifndef NV_PUBLISH_H
#define NV_PUBLISH_H

#include "engine/engine.h"
#include "util/exit.h"
#include "vault.h"

typedef struct nv_publish_opts {
	const char *run;          /* the run id (--run) */
	long long wait_ms;        /* --wait: how long to wait for the shards still
				   * missing (and for their lease); 0: not at all */
	const nv_engine_opts *eng; /* transfers, buffer_size, retries: the object checks */
} nv_publish_opts;

typedef struct nv_publish_stats {
	unsigned shards;          /* N, once the partial catalogs were found */
	uint64_t files;           /* files of the merged catalog */
	uint64_t objects, bytes;  /* distinct objects read back and their stored bytes */
	uint64_t canaries;        /* canary files of the generation */
	uint64_t generation;      /* published, or the current one when nothing changed */
	int published;
	double seconds;
	nv_outcome out;           /* for nv_exit_code */
} nv_publish_stats;

/* Holds the vault's locks and its exclusive lease (as push does: the run's
 * shards, which share it, must be over), finds shards 0..N-1 of o->run, each
 * partial catalog present (else NV_ENOTFOUND naming the missing ones: exit 4)
 * and authentic (else NV_EMISMATCH naming the shard: exit 1), reads every
 * object they record and compares its stored size and SHA-256 (a difference
 * names the shard: exit 1), merges and publishes with push_publish.c, signed
 * with sk; then removes the run's partial catalogs, its document and this
 * host's identity for it. With o->wait_ms, waits until the shards are all
 * present first. Returns 0 or the error that stopped it; st filled either way. */
int nv_vault_publish(nv_vault *v, const nv_sshkey *sk, const nv_publish_opts *o,
		     nv_publish_stats *st);

#endif
