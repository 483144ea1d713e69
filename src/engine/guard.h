/* guard.h: the delete guard of sync --delete: whether the deletions a clean
 * pass recorded may go ahead, decided from counts alone, before any is sent.
 * Called by the engine; pure (no I/O), so a unit test covers every rule. */
#ifndef NV_GUARD_H
#define NV_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* Above this share of the destination, deletions are refused when no
 * --max-delete was given (README.md, "Unattended runs"). */
#define NV_GUARD_DEFAULT_PCT 50

typedef struct nv_guard_opts {
	int allow_empty_source; /* --allow-empty-source */
	long long max_count;    /* --max-delete N; -1: not given */
	int max_pct;            /* --max-delete N%; -1: not given */
} nv_guard_opts;

/* What the run counted, filters applied: files listed at the source, files
 * listed at the destination, and of those, the ones to be deleted. */
typedef struct nv_guard_counts {
	uint64_t src_files, dst_files, deletes;
} nv_guard_counts;

/* 0 when the deletions may go ahead; 1 when they are refused, with the
 * reason in msg (cap bytes, naming dst and the counts). The rules, in order:
 * nothing to delete passes; a source that lists no file is refused unless
 * allow_empty_source; more than max_count is refused; more than the
 * percentage (max_pct, else NV_GUARD_DEFAULT_PCT unless max_count was given
 * or an empty source was allowed) of dst_files is refused. */
int nv_guard_check(const nv_guard_opts *o, const nv_guard_counts *c, const char *src,
		   const char *dst, char *msg, size_t cap);

#endif
