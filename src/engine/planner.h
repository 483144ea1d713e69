/* planner.h: pipeline stage 2 — merge-joins the sorted source and destination
 * streams into actions. Called by the sync engine; nv_plan_decide is pure. */
#ifndef NV_PLANNER_H
#define NV_PLANNER_H

#include "filter.h"
#include "lister.h"

typedef enum nv_action {
	NV_ACT_SKIP,      /* same size and mtime (or same hash) */
	NV_ACT_COPY,      /* missing or different at the destination */
	NV_ACT_HASH,      /* same size, decide by SHA-256 of both sides */
	NV_ACT_STAT,      /* same size, destination listing has no mtime: stat it */
	NV_ACT_DELETE,    /* only at the destination, and deletion was asked for */
	NV_ACT_EXTRA,     /* only at the destination, nothing to do but report */
} nv_action;

typedef struct nv_plan_rules {
	int checksum;  /* compare contents, not size + mtime */
	int deleting;  /* this pass deletes destination-only keys */
	int copying;   /* this pass copies (0 for the delete pass) */
	const nv_filter *filter; /* may be NULL. Keys it excludes are left out of the
				  * plan on both sides: never copied, compared or deleted */
	int keep_excluded_dst;   /* --delete-excluded: excluded destination keys stay
				  * in the plan (as destination-only, so deleted) */
	const char *hide;        /* may be NULL: a key prefix left out on both sides
				  * whatever the filter says (--backup-dir inside DST) */
} nv_plan_rules;

/* Decides for one key. src or dst is NULL when the key exists on one side only. */
nv_action nv_plan_decide(const nv_plan_rules *r, const nv_entry *src, const nv_entry *dst);
/* Same mtime, to the precision both sides keep (a side with no sub-second part
 * compares at whole seconds). */
int nv_mtime_equal(const nv_entry *a, const nv_entry *b);

/* Called once per key (in key order) with the action; key and entries valid
 * during the call only. A nonzero return stops the plan and is returned. */
typedef int (*nv_plan_cb)(void *ctx, nv_action act, const char *key, const nv_entry *src,
			  const nv_entry *dst);

/* Runs the merge-join to the end of both streams. dst may be NULL (empty). */
int nv_plan_run(nv_sorted *src, nv_sorted *dst, const nv_plan_rules *r, nv_plan_cb cb,
		void *ctx);

#endif
