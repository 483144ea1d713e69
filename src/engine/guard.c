/* guard.c: the delete guard (guard.h): an empty source, a count and a share of
 * the destination. Called by the engine only. */
#include "guard.h"

#include <stdio.h>

int nv_guard_check(const nv_guard_opts *o, const nv_guard_counts *c, const char *src,
		   const char *dst, char *msg, size_t cap)
{
	unsigned long long n = c->deletes, of = c->dst_files;
	int pct = o->max_pct;

	if (n == 0)
		return 0;
	if (c->src_files == 0 && !o->allow_empty_source) {
		snprintf(msg, cap, "%s lists no files: all %llu files at %s would be deleted "
			 "(a mistyped path or prefix lists as empty); if that is meant, add "
			 "--allow-empty-source", src, n, dst);
		return 1;
	}
	if (o->max_count >= 0 && n > (unsigned long long)o->max_count) {
		snprintf(msg, cap, "%llu files at %s would be deleted, more than --max-delete "
			 "%lld allows", n, dst, o->max_count);
		return 1;
	}
	if (pct < 0 && o->max_count < 0 && !(c->src_files == 0 && o->allow_empty_source))
		pct = NV_GUARD_DEFAULT_PCT;
	if (pct >= 0 && n * 100 > (unsigned long long)pct * of) {
		snprintf(msg, cap, "%llu of the %llu files at %s (%llu%%) would be deleted, more "
			 "than %d%%%s", n, of, dst, of ? n * 100 / of : 100, pct,
			 o->max_pct < 0 ? " (the default limit; allow more with --max-delete N "
			 "or N%)" : " (--max-delete)");
		return 1;
	}
	return 0;
}
