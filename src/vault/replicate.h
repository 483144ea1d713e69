/* replicate.h: copy a vault between any two locations without keys: trust
 * the source first, copy objects checked against the signed manifests, then
 * publish in an order that keeps the replica a complete vault at every
 * moment (docs/FORMAT.md section 2.7). Called by cmd_replicate.c. */
#ifndef NV_REPLICATE_H
#define NV_REPLICATE_H

#include <stddef.h>
#include <stdint.h>

#include "driver/driver.h"
#include "engine/shard.h"

typedef enum nv_rverify {
	NV_RVERIFY_SIZE,   /* a present object counts when its size is the manifest's */
	NV_RVERIFY_REREAD, /* and every copy is read back and hashed */
	NV_RVERIFY_HASH,   /* and every present object is hashed; a bad one repaired */
} nv_rverify;

typedef struct nv_replicate_opts {
	const char *signing_pubkey; /* first contact; else the pin decides */
	unsigned transfers;
	size_t buffer_size;
	unsigned retries;
	nv_rverify verify;
	long long wait_lock_ms;     /* --wait-lock */
	/* --shard: copies the objects of one shard (keyed by their stored names)
	 * under the run's shared lease, and publishes nothing: a manifest must
	 * never show before every shard's objects are there. A final unsharded
	 * run then finds them all and publishes (FORMAT.md section 14). NULL:
	 * the whole vault, published. */
	const nv_shard *shard;
	int dry_run;                /* say what would be copied and published; write
				     * nothing (no lock, no lease; the caller also sets
				     * util/state.h's nv_state_readonly) */
} nv_replicate_opts;

typedef struct nv_replicate_stats {
	char vault_id[40];
	uint64_t generation;        /* the source's newest */
	uint64_t copied, copied_bytes, present, repaired;
	uint64_t generations;       /* manifests published at the destination */
	int heartbeat;              /* 1: the destination's heartbeat was replaced */
	/* (a dry run: copied, copied_bytes, generations and heartbeat are what
	 * would be; repaired counts objects that would be replaced) */
	uint64_t failed, differ;
	double seconds;
} nv_replicate_stats;

/* Runs one replication; returns an exit code (util/exit.h), the error logged. */
int nv_replicate(const nv_location *src, const nv_location *dst, const nv_replicate_opts *o,
		 nv_replicate_stats *st);

#endif
