/* shard.h: deterministic shards (--shard K/N): which shard a key belongs to,
 * by a hash that is the same on every host and version (docs/FORMAT.md,
 * section 14), and K/N and the run id from the command line or a scheduler.
 * Called by the CLI, the engine and the vault readers and replicator. */
#ifndef NV_SHARD_H
#define NV_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define NV_SHARD_MAX 1000000 /* shards of one run, at most */
#define NV_SHARD_RUN_MAX 64  /* bytes of a run id */

typedef struct nv_shard {
	unsigned k, n;                   /* shard k of n: 0 <= k < n */
	char run[NV_SHARD_RUN_MAX + 1];  /* the run id; "" when none was given */
	char label[24];                  /* "K/N", for logs and metrics */
} nv_shard;

/* The first 8 bytes of the SHA-256 of the key's bytes, as a big-endian
 * unsigned 64-bit number. A key belongs to shard (this mod n). */
uint64_t nv_shard_hash(const void *key, size_t len);
/* 1 when key (NUL-terminated) is shard s's; s NULL (not sharded): always 1. */
int nv_shard_mine(const nv_shard *s, const char *key);

/* "K/N": decimal numbers, 1 <= N <= NV_SHARD_MAX, K < N. NV_EINVAL with a
 * message when malformed. Leaves run empty. */
int nv_shard_parse(nv_shard *s, const char *arg);
/* --shard auto: K and N from the scheduler's environment. Slurm job arrays:
 * SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT,
 * the run id SLURM_ARRAY_JOB_ID; a sparse array (COUNT is not MAX - MIN + 1)
 * or a step other than 1 is refused. Kubernetes Indexed Jobs:
 * JOB_COMPLETION_INDEX of count (the Job's completions, --shard-count; 0:
 * not given, refused), the run id $JOB_NAME when set. count, when given with
 * Slurm, must equal its count. NV_EINVAL with a message naming the variable. */
int nv_shard_auto(nv_shard *s, unsigned count);
/* Sets the run id: 1 to NV_SHARD_RUN_MAX letters, digits, '.', '_' or '-'
 * (it goes into lease objects, metrics labels and file names). */
int nv_shard_set_run(nv_shard *s, const char *run);
/* The shard's own state folder under the state root: "shard-K-of-N". */
void nv_shard_dir(const nv_shard *s, char *buf, size_t cap);

#endif
