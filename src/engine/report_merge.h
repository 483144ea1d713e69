/* report_merge.h: check --merge-reports: the reports of shards 0..N-1 of one
 * run (check --shard K/N --run ID --report FILE) merged into the report an
 * unsharded run would have written (docs/FORMAT.md section 13). Called by
 * cli/cmd_merge.c. */
#ifndef NV_REPORT_MERGE_H
#define NV_REPORT_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "shard.h"

/* Every byte of every report as it is read, for the caller's signature
 * checks; the merged report is put in place only when all of them said 0.
 * Called report by report, in shard order: begin, bytes (the whole file,
 * header included, in order), end. Any may be NULL. A nonzero return stops
 * the merge with that error (its message set by the hook). */
typedef struct nv_merge_hooks {
	void *ctx;
	int (*begin)(void *ctx, const char *path);
	int (*bytes)(void *ctx, const void *p, size_t len);
	int (*end)(void *ctx, const char *path);
} nv_merge_hooks;

typedef struct nv_merge_result {
	unsigned shards;                   /* N */
	char run[NV_SHARD_RUN_MAX + 1];
	uint64_t files, not_compared;      /* the merged report's lines */
	char result[16];                   /* its summary's result */
	int exit_code;                     /* its summary's exit: the run's, as one */
} nv_merge_result;

/* Reads the n reports at paths, checks that they are shards 0..N-1 of one
 * run, each once, over the same two locations with the same filters and
 * options (their headers equal but for shard, run, started, navette and
 * hashes_from), and that each is whole and its own shard's (every line's key
 * in that shard, the summary's counts those of its lines); then writes out
 * (as out.part, renamed when whole): the merged header, every shard's lines
 * byte for byte, and one summary over all. 0 with *res filled; NV_EINVAL
 * when the set is not one run's (a shard missing, given twice, of another
 * run or other locations, not a shard's report); NV_EMISMATCH when a report
 * is damaged or edited; another error when out cannot be written. Every
 * refusal's message names the report and what is wrong. */
int nv_report_merge(const char *out, const char *const *paths, size_t n,
		    const nv_merge_hooks *hooks, nv_merge_result *res);

#endif
