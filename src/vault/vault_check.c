/* vault_check.c: check --report on a vault pair (vault_check.h): the objects
 * of every signed manifest and the source's documents, each read on both
 * sides by the one pool; the destination's other files are extra, the
 * source's unreferenced objects (and a sharded push's runs/) not compared.
 * Called by cmd_copy.c. */
#include "vault_check.h"
#include "engine/lister.h"
#include "engine/pool.h"
#include "engine/transfer.h"
#include "util/log.h"
#include "util/membudget.h"
#include "util/progress.h"
#include "vault.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct nv_vc_item {
	char *name;
	int object;             /* named by a manifest: rec holds what it must be */
	nv_obj_rec rec;         /* .name unused */
	uint64_t generation;    /* the first manifest naming it */
} nv_vc_item;

struct nv_vcheck {
	const nv_location *src, *dst;
	nv_vault *v;
	nv_vc_item *it;         /* objects, then (after the listing) documents; sorted
				 * by name once complete */
	size_t n, cap, nobj;
	uint64_t generations;
	nv_report *r;
	const nv_shard *shard;  /* NULL, or --shard: the items keyed so are checked */
	uint64_t objects, documents; /* items submitted */
	nv_pool *pool;
	unsigned buf_size;
	_Atomic uint64_t identical, differ, missing;
};

typedef struct nv_vc_job {
	const nv_vc_item *it;
	int reading_dst;
} nv_vc_job;

static int nv_vc_cmp(const void *a, const void *b)
{
	return strcmp(((const nv_vc_item *)a)->name, ((const nv_vc_item *)b)->name);
}

static nv_vc_item *nv_vc_find(const nv_vcheck *vc, size_t n, const char *name)
{
	nv_vc_item k = { .name = (char *)name };

	return bsearch(&k, vc->it, n, sizeof(k), nv_vc_cmp);
}

static int nv_vc_add(nv_vcheck *vc, const char *name, const nv_obj_rec *rec, uint64_t gen)
{
	if (vc->n == vc->cap) {
		size_t ncap = vc->cap ? vc->cap * 2 : 256;
		nv_vc_item *g = realloc(vc->it, ncap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		vc->it = g;
		vc->cap = ncap;
	}
	vc->it[vc->n] = (nv_vc_item){ .name = strdup(name), .object = rec != NULL,
				      .generation = gen };
	if (rec)
		vc->it[vc->n].rec = *rec;
	return vc->it[vc->n++].name ? 0 : nv_error_set(NV_ERR, "out of memory");
}

/* Every generation's verified manifest; an object named twice keeps the
 * first (names are write-once: the same bytes). */
static int nv_vc_manifests(nv_vcheck *vc)
{
	unsigned char sha[NV_SHA256_LEN];
	uint64_t *gens;
	size_t ng, keep = 0;
	nv_manifest m;
	int rc;

	if ((rc = nv_vault_generations(vc->v, &gens, &ng)))
		return rc;
	for (size_t g = 0; !rc && g < ng; g++) {
		if ((rc = nv_vault_manifest(vc->v, gens[g], &m, sha)))
			break;
		for (size_t i = 0; !rc && i < m.n; i++)
			rc = nv_vc_add(vc, m.objs[i].name, &m.objs[i], gens[g]);
		nv_manifest_clear(&m);
	}
	vc->generations = ng;
	free(gens);
	if (rc)
		return nv_error_wrap(rc, "%s", vc->src->text);
	/* stable for equal names: qsort is not, so keep the lowest generation */
	qsort(vc->it, vc->n, sizeof(*vc->it), nv_vc_cmp);
	for (size_t i = 0; i < vc->n; i++) {
		if (keep && strcmp(vc->it[keep - 1].name, vc->it[i].name) == 0) {
			if (vc->it[i].generation < vc->it[keep - 1].generation)
				vc->it[keep - 1].generation = vc->it[i].generation;
			free(vc->it[i].name);
			continue;
		}
		vc->it[keep++] = vc->it[i];
	}
	vc->n = vc->nobj = keep;
	return 0;
}

int nv_vcheck_open(nv_vcheck **out, const nv_location *src, const nv_location *dst,
		   const char *signing_pubkey)
{
	nv_vcheck *vc = calloc(1, sizeof(*vc));
	int rc;

	*out = NULL;
	if (!vc)
		return nv_error_set(NV_ERR, "out of memory");
	vc->src = src;
	vc->dst = dst;
	if ((rc = nv_vault_open(&vc->v, src, signing_pubkey)) || (rc = nv_vc_manifests(vc))) {
		nv_vcheck_free(vc);
		return rc;
	}
	*out = vc;
	return 0;
}

const char *nv_vcheck_vault_id(const nv_vcheck *vc)
{
	return nv_vault_descriptor(vc->v)->vault_id;
}

void nv_vcheck_free(nv_vcheck *vc)
{
	if (!vc)
		return;
	for (size_t i = 0; i < vc->n; i++)
		free(vc->it[i].name);
	free(vc->it);
	nv_vault_close(vc->v);
	free(vc);
}

/* ---- the workers: both sides of one item ---- */

static int nv_vc_worker_open(void *run, void **out)
{
	nv_vcheck *vc = run;
	nv_xfer_ctx *x = calloc(1, sizeof(*x));
	int rc;

	*out = x;
	if (!x)
		return nv_error_set(NV_ERR, "out of memory");
	x->buf_size = vc->buf_size;
	x->buf = nv_mem_alloc(x->buf_size); /* from the run's budget (util/membudget.h) */
	x->sha = nv_sha256_new();
	if (!x->buf || !x->sha)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_drv_open(&x->src, vc->src)) || (rc = nv_drv_open(&x->dst, vc->dst)))
		return nv_error_wrap(rc, "connecting");
	return 0;
}

static int nv_vc_worker_close(void *run, void *w, int ok)
{
	nv_xfer_ctx *x = w;

	(void)run;
	(void)ok;
	if (!x)
		return 0;
	nv_drv_close(x->src);
	nv_drv_close(x->dst);
	nv_sha256_free(x->sha);
	nv_mem_free(x->buf, x->buf_size);
	free(x);
	return 0;
}

/* Reads one side whole; *present 0 when the store has no such key. */
static int nv_vc_read(nv_xfer_ctx *x, nv_store *s, const char *name, nv_entry *e,
		      unsigned char sha[NV_SHA256_LEN], int *present)
{
	int rc = nv_xfer_hash(x, s, name, &e->size, sha);

	*present = rc != NV_ENOTFOUND;
	if (rc == NV_ENOTFOUND) {
		nv_error_clear();
		return 0;
	}
	return rc;
}

static int nv_vc_matches(const nv_vc_item *it, const nv_entry *e,
			 const unsigned char sha[NV_SHA256_LEN])
{
	return e->size == it->rec.size && memcmp(sha, it->rec.sha256, NV_SHA256_LEN) == 0;
}

static int nv_vc_attempt(void *run, void *w, void *item)
{
	unsigned char a[NV_SHA256_LEN], b[NV_SHA256_LEN];
	nv_vcheck *vc = run;
	nv_xfer_ctx *x = w;
	nv_vc_job *j = item;
	const nv_vc_item *it = j->it;
	nv_entry es = { 0 }, ed = { 0 };
	int hs, hd, rc;
	const char *verdict = "identical", *why = NULL;

	j->reading_dst = 0;
	if ((rc = nv_vc_read(x, x->src, it->name, &es, a, &hs)))
		return rc;
	j->reading_dst = 1;
	if ((rc = nv_vc_read(x, x->dst, it->name, &ed, b, &hd)))
		return rc;
	if (!hd) {
		verdict = "missing";
		atomic_fetch_add(&vc->missing, 1);
	} else if (it->object ? !nv_vc_matches(it, &ed, b) :
		   !hs || es.size != ed.size || memcmp(a, b, sizeof(a))) {
		verdict = "differ";
		why = it->object ? "the destination's bytes are not the manifest's" :
			"the destination's bytes are not the source's";
	} else if (it->object && (!hs || !nv_vc_matches(it, &es, a))) {
		verdict = "differ"; /* the replica is right, the source is damaged */
		why = hs ? "the source's bytes are not the manifest's" : "missing at the source";
	}
	if (strcmp(verdict, "differ") == 0)
		atomic_fetch_add(&vc->differ, 1);
	else if (!strcmp(verdict, "identical"))
		atomic_fetch_add(&vc->identical, 1);
	if (strcmp(verdict, "identical"))
		nv_log_item(NV_LOG_WARN, verdict, it->name, why ? why : "not at the destination");
	nv_report_file(vc->r, it->name, verdict,
		       &(nv_report_side){ hs ? &es : NULL, a, NV_HOW_READ },
		       &(nv_report_side){ hd ? &ed : NULL, b, NV_HOW_READ },
		       it->object ? &(nv_report_expect){ it->rec.size, it->rec.sha256,
							 it->generation } : NULL, why);
	return 0;
}

static int nv_vc_done(void *run, void *w, void *item, int rc)
{
	nv_vcheck *vc = run;
	nv_vc_job *j = item;

	(void)w;
	nv_progress_done(1, j->it->object ? j->it->rec.size : 0);
	if (rc && !(rc == NV_ECANCEL && nv_pool_stopped(vc->pool)))
		nv_report_failed(vc->r, j->it->name, NULL, 1 + j->reading_dst);
	return 0;
}

static const char *nv_vc_name(void *run, void *item)
{
	(void)run;
	return ((nv_vc_job *)item)->it->name;
}

static void nv_vc_free_item(void *run, void *item)
{
	(void)run;
	free(item);
}

static const nv_pool_ops nv_vc_ops = {
	.worker_open = nv_vc_worker_open,
	.worker_close = nv_vc_worker_close,
	.attempt = nv_vc_attempt,
	.done = nv_vc_done,
	.name = nv_vc_name,
	.free_item = nv_vc_free_item,
};

/* ---- the listings ---- */

/* The source's files: its documents join the items (outside objects/), its
 * objects that no manifest names are not compared. */
static int nv_vc_list_source(nv_vcheck *vc)
{
	size_t olen = strlen(NV_VAULT_OBJECTS);
	nv_sorted *l;
	nv_entry e;
	int rc;

	if ((rc = nv_sorted_open(&l, nv_vault_store(vc->v), "", 0)))
		return rc;
	nv_report_observe(vc->r, l, NULL, NULL);
	while ((rc = nv_sorted_next(l, &e)) == 0) {
		/* a sharded push's run folder lives until publish: never replicated */
		if (strncmp(e.key, NV_VAULT_RUNS, strlen(NV_VAULT_RUNS)) == 0)
			continue;
		if (strncmp(e.key, NV_VAULT_OBJECTS, olen) != 0)
			rc = nv_vc_add(vc, e.key, NULL, 0);
		else if (!nv_vc_find(vc, vc->nobj, e.key) && nv_shard_mine(vc->shard, e.key))
			nv_report_skip(vc->r, "source", e.key, "unreferenced",
				       "an object no manifest names (a push that did not finish)");
		if (rc)
			break;
	}
	nv_sorted_close(l);
	if (rc != NV_EOF)
		return nv_error_wrap(rc, "listing %s", vc->src->text);
	qsort(vc->it, vc->n, sizeof(*vc->it), nv_vc_cmp);
	return 0;
}

/* What the destination holds beyond the items. */
static int nv_vc_list_destination(nv_vcheck *vc, nv_store *s, uint64_t *extra)
{
	nv_sorted *l;
	nv_entry e;
	int rc;

	if ((rc = nv_sorted_open(&l, s, "", 1)))
		return nv_error_wrap(rc, "listing %s", vc->dst->text);
	nv_report_observe(vc->r, NULL, l, NULL);
	while ((rc = nv_sorted_next(l, &e)) == 0)
		if (!nv_vc_find(vc, vc->n, e.key) && nv_shard_mine(vc->shard, e.key)) {
			(*extra)++;
			nv_log_item(NV_LOG_WARN, "extra", e.key, "only at the destination");
			nv_report_sizes(vc->r, e.key, "extra", NULL, &e);
		}
	nv_sorted_close(l);
	return rc == NV_EOF ? 0 : nv_error_wrap(rc, "listing %s", vc->dst->text);
}

static int nv_vc_submit(nv_vcheck *vc)
{
	for (size_t i = 0; i < vc->n; i++) {
		nv_vc_job *j;

		if (!nv_shard_mine(vc->shard, vc->it[i].name))
			continue; /* another shard's */
		if (!(j = calloc(1, sizeof(*j))))
			return nv_error_set(NV_ERR, "out of memory");
		j->it = &vc->it[i];
		*(j->it->object ? &vc->objects : &vc->documents) += 1;
		nv_progress_known(1, j->it->object ? j->it->rec.size : 0);
		if (nv_pool_submit(vc->pool, j)) {
			free(j);
			return NV_ECANCEL;
		}
	}
	return 0;
}

int nv_vcheck_run(nv_vcheck *vc, unsigned workers, size_t buf_size, unsigned retries,
		  const nv_shard *shard, nv_report *r, nv_vcheck_stats *st)
{
	nv_pool_opts po = { .workers = workers, .retries = retries };
	struct timespec t0, t1;
	nv_store *ds = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vc->r = r;
	vc->buf_size = (unsigned)buf_size;
	vc->shard = shard;
	if (!(rc = nv_vc_list_source(vc)) && !(rc = nv_drv_open(&ds, vc->dst)))
		rc = nv_vc_list_destination(vc, ds, &st->extra);
	nv_drv_close(ds);
	if (!rc && !(rc = nv_pool_start(&vc->pool, &po, &nv_vc_ops, vc))) {
		rc = nv_vc_submit(vc);
		nv_progress_listed();
		nv_pool_finish(vc->pool, &st->out);
		if (rc == NV_ECANCEL && st->out.fatal)
			rc = 0; /* a worker's error, reported as such */
	}
	if (rc && !st->out.fatal)
		st->out.fatal = rc;
	st->identical = vc->identical;
	st->differ = vc->differ;
	st->missing = vc->missing;
	st->objects = vc->objects;
	st->documents = vc->documents;
	st->generations = vc->generations;
	st->out.differ += st->differ + st->missing + st->extra;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return st->out.fatal;
}
