/* pull_paged.c: the selection of a pull made in one pass over the catalog
 * stream, each job checked against the manifest's index and spooled, then
 * the spool fed to the reader pool. Called through pull_paged.h. */
#include "pull_paged.h"
#include "catalog_read.h"
#include "objindex.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A job as spooled; the path follows it. */
typedef struct nv_jrec {
	uint64_t size, osize;
	int64_t mtime;
	int32_t mtime_ns;
	uint32_t mode;
	unsigned char sha[NV_SHA256_LEN], osha[NV_SHA256_LEN];
	char object[NV_OBJECT_NAME_MAX];
} nv_jrec;

/* A job handed to the pool, with the strings it points to. */
typedef struct nv_pjob {
	nv_vread_job job;
	nv_obj_rec rec;
	nv_cat_entry entry;
	char object[NV_OBJECT_NAME_MAX];
	char path[];
} nv_pjob;

/* Whether the PATH arg names path: the file itself, or anything beneath it
 * as a directory (trailing slashes ignored). */
static int nv_path_named(const char *arg, const char *path)
{
	size_t n = strlen(arg);

	while (n > 1 && arg[n - 1] == '/')
		n--;
	return strncmp(arg, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Spools e (selected) with its object's record; its size goes to the progress. */
static int nv_pull_spool(nv_runs *spool, const nv_objindex *ix, const nv_cat_entry *e,
			 const nv_pull_sel *sel, uint64_t gen, const nv_vread_opts *o)
{
	char name[NV_OBJECT_NAME_MAX];
	unsigned char key[8];
	uint64_t seq = nv_runs_count(spool);
	nv_obj_rec rec;
	nv_vread_job j = { .rec = &rec, .entry = e };
	nv_jrec r;
	int rc;

	if (!nv_objindex_find_name(ix, e->object, &rec, name))
		return nv_error_set(NV_EMISMATCH, "%s: the catalog names object %s for %s, which "
				    "the signed manifest of generation %llu does not list",
				    sel->where, e->object, e->path, (unsigned long long)gen);
	memset(&r, 0, sizeof(r));
	r.size = e->size;
	r.mtime = e->mtime;
	r.mtime_ns = e->mtime_ns;
	r.mode = e->mode;
	memcpy(r.sha, e->sha256, NV_SHA256_LEN);
	r.osize = rec.size;
	memcpy(r.osha, rec.sha256, NV_SHA256_LEN);
	snprintf(r.object, sizeof(r.object), "%s", name);
	for (int i = 7; i >= 0; i--, seq >>= 8) /* big-endian: sorted = in catalog order */
		key[i] = (unsigned char)seq;
	nv_progress_known(1, nv_vread_job_size(o, &j));
	if ((rc = nv_runs_add(spool, key, sizeof(key), &r, sizeof(r))))
		return rc;
	return nv_runs_add(spool, key, sizeof(key), e->path, strlen(e->path));
}

/* One pass over the catalog: the jobs selected, spooled; the PATHs that
 * named nothing logged (NV_EINVAL). */
static int nv_pull_select_paged(nv_vault *v, const nv_objindex *ix, const nv_manifest *head,
				const nv_pull_sel *sel, const nv_vread_opts *o, nv_runs *spool)
{
	char name[NV_OBJECT_NAME_MAX];
	size_t *hits = calloc(sel->npaths ? sel->npaths : 1, sizeof(*hits));
	nv_cread *cr = NULL;
	nv_cat_entry e;
	nv_obj_rec crec;
	int rc = hits ? 0 : nv_error_set(NV_ERR, "out of memory");

	if (!rc && !nv_objindex_find_name(ix, head->catalog, &crec, name))
		rc = nv_error_set(NV_EMISMATCH, "catalog %s not in the manifest", head->catalog);
	if (!rc)
		rc = nv_cread_open(&cr, v, &crec, NV_CATALOG_TYPE, o->id, head->generation);
	while (!rc && (rc = nv_cread_next(cr, &e)) == 0) {
		int pick = !sel->npaths;

		for (size_t a = 0; a < sel->npaths; a++)
			if (nv_path_named(sel->paths[a], e.path)) {
				hits[a]++;
				pick = 1;
			}
		if (pick && nv_shard_mine(sel->shard, e.path))
			rc = nv_pull_spool(spool, ix, &e, sel, head->generation, o);
	}
	nv_cread_close(cr);
	if (rc == NV_EOF)
		rc = 0;
	else if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	for (size_t a = 0; a < sel->npaths && (!rc || rc == NV_EINVAL); a++) {
		if (hits[a])
			continue;
		rc = nv_error_set(NV_EINVAL, "%s: no file or directory of generation %llu is "
				  "named %s", sel->where, (unsigned long long)head->generation,
				  sel->paths[a]);
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	}
	free(hits);
	return rc;
}

static int nv_pull_next(void *ctx, nv_vread_job **out)
{
	nv_runs *spool = ctx;
	nv_run_rec a, b;
	nv_jrec r;
	nv_pjob *j;
	int rc = nv_runs_next(spool, &a);

	if (rc)
		return rc;
	if (a.vlen != sizeof(r))
		return nv_error_set(NV_EMISMATCH, "a record of the pull's spool was altered");
	memcpy(&r, a.val, sizeof(r));
	if ((rc = nv_runs_next(spool, &b)))
		return rc == NV_EOF ? nv_error_set(NV_EMISMATCH, "the pull's spool ends early") : rc;
	if (!(j = calloc(1, sizeof(*j) + b.vlen + 1)))
		return nv_error_set(NV_ERR, "out of memory");
	memcpy(j->path, b.val, b.vlen);
	memcpy(j->object, r.object, sizeof(j->object));
	j->rec = (nv_obj_rec){ .name = j->object, .size = r.osize };
	memcpy(j->rec.sha256, r.osha, NV_SHA256_LEN);
	j->entry = (nv_cat_entry){ .path = j->path, .size = r.size, .mode = r.mode,
				   .mtime = r.mtime, .mtime_ns = r.mtime_ns, .object = j->object };
	memcpy(j->entry.sha256, r.sha, NV_SHA256_LEN);
	j->job = (nv_vread_job){ .rec = &j->rec, .entry = &j->entry };
	*out = &j->job;
	return 0;
}

static void nv_pull_free(void *ctx, nv_vread_job *job)
{
	(void)ctx;
	free((nv_pjob *)job); /* job is the first member */
}

struct nv_pull_plan {
	nv_objindex *ix;
	nv_runs *spool;
	uint64_t n;
};

int nv_pull_plan_make(nv_pull_plan **out, nv_vault *v, nv_mread *mr, const nv_manifest *head,
		      const nv_pull_sel *sel, const nv_vread_opts *o)
{
	nv_pull_plan *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (!p) {
		rc = nv_error_set(NV_ERR, "out of memory");
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return rc;
	}
	if (head->generation == 0) {
		rc = nv_error_set(NV_ENOTFOUND, "%s: the vault has no generation yet: nothing to "
				  "restore", sel->where);
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	} else if ((rc = nv_objindex_build(&p->ix, mr)) || (rc = nv_runs_new_state(&p->spool))) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	} else if (!(rc = nv_pull_select_paged(v, p->ix, head, sel, o, p->spool)) &&
		   (rc = nv_runs_sort(p->spool))) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	}
	if (rc) {
		nv_pull_plan_free(p);
		return rc;
	}
	p->n = nv_runs_count(p->spool) / 2;
	*out = p;
	return 0;
}

uint64_t nv_pull_plan_count(const nv_pull_plan *p)
{
	return p->n;
}

int nv_pull_plan_run(nv_pull_plan *p, const nv_vread_opts *o, nv_vread_stats *st)
{
	nv_vread_feed feed = { .next = nv_pull_next, .free = nv_pull_free, .ctx = p->spool,
			       .n = p->n };

	nv_progress_listed();
	return nv_vread_run_feed(o, &feed, st);
}

void nv_pull_plan_free(nv_pull_plan *p)
{
	if (!p)
		return;
	nv_runs_free(p->spool);
	nv_objindex_free(p->ix);
	free(p);
}
