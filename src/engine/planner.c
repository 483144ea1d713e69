/* planner.c: pipeline stage 2 — merge-join of two sorted streams, one key at a
 * time, so memory stays flat for millions of files (rsync's generator role). */
#include "planner.h"
#include "util/times.h"

#include <string.h>

int nv_mtime_equal(const nv_entry *a, const nv_entry *b)
{
	if (a->mtime_sec != b->mtime_sec)
		return 0;
	return a->mtime_nsec == 0 || b->mtime_nsec == 0 || a->mtime_nsec == b->mtime_nsec;
}

nv_action nv_plan_decide(const nv_plan_rules *r, const nv_entry *src, const nv_entry *dst)
{
	if (!src)
		return r->deleting ? NV_ACT_DELETE : NV_ACT_EXTRA;
	if (!r->copying)
		return NV_ACT_SKIP;
	if (!dst || src->size != dst->size)
		return NV_ACT_COPY;
	if (r->checksum)
		return NV_ACT_HASH;
	/* A source without mtimes can only be compared by size; so can one whose time
	 * is out of range (util/times.h), since the copy did not get that time. */
	if (!(src->flags & NV_ENTRY_HAS_MTIME) || !nv_time_in_range(src->mtime_sec))
		return NV_ACT_SKIP;
	if (!(dst->flags & NV_ENTRY_HAS_MTIME))
		return NV_ACT_STAT;
	return nv_mtime_equal(src, dst) ? NV_ACT_SKIP : NV_ACT_COPY;
}

/* Copies an entry so it survives the other stream advancing. */
typedef struct nv_held {
	nv_entry e;
	int have;
} nv_held;

/* Is e out of the plan? dst: e was listed at the destination. */
static int nv_plan_skips(const nv_plan_rules *r, const nv_entry *e, int dst)
{
	if (r->hide && *r->hide && strncmp(e->key, r->hide, strlen(r->hide)) == 0)
		return 1;
	return !(dst && r->keep_excluded_dst) && !nv_filter_entry(r->filter, e);
}

static int nv_plan_advance(nv_sorted *s, nv_held *h, const nv_plan_rules *r, int dst)
{
	int rc;

	h->have = 0;
	if (!s)
		return 0;
	do
		rc = nv_sorted_next(s, &h->e);
	while (rc == 0 && nv_plan_skips(r, &h->e, dst));
	if (rc == NV_EOF)
		return 0;
	if (rc)
		return rc;
	h->have = 1;
	return 0;
}

int nv_plan_run(nv_sorted *src, nv_sorted *dst, const nv_plan_rules *r, nv_plan_cb cb,
		void *ctx)
{
	nv_held a, b;
	int rc;

	if ((rc = nv_plan_advance(src, &a, r, 0)) || (rc = nv_plan_advance(dst, &b, r, 1)))
		return rc;
	while (a.have || b.have) {
		int cmp = !a.have ? 1 : !b.have ? -1 : strcmp(a.e.key, b.e.key);

		if (cmp < 0) {
			rc = cb(ctx, nv_plan_decide(r, &a.e, NULL), a.e.key, &a.e, NULL);
			if (rc || (rc = nv_plan_advance(src, &a, r, 0)))
				return rc;
		} else if (cmp > 0) {
			rc = cb(ctx, nv_plan_decide(r, NULL, &b.e), b.e.key, NULL, &b.e);
			if (rc || (rc = nv_plan_advance(dst, &b, r, 1)))
				return rc;
		} else {
			rc = cb(ctx, nv_plan_decide(r, &a.e, &b.e), a.e.key, &a.e, &b.e);
			if (rc || (rc = nv_plan_advance(src, &a, r, 0)) ||
			    (rc = nv_plan_advance(dst, &b, r, 1)))
				return rc;
		}
	}
	return 0;
}
