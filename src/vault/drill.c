/* drill.c: the drill's steps: the plan (catalog, selection), the restore on
 * the reader pool (vault_pull.h, one read per object), the manifest chain and
 * the heartbeat (vault_verify.h), each problem kept for the report. Called
 * through drill.h. */
#include "drill.h"
#include "util/log.h"
#include "vault_pull.h"
#include "vault_verify.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The problems of one drill, noted from the pool's threads as well. */
typedef struct nv_drill_run {
	nv_drill_report *r;
	pthread_mutex_t mu;
	nv_verify_report vr; /* the drill's own problems, the chain's, the heartbeat's */
	int stale;           /* the heartbeat check said "stale" */
} nv_drill_run;

double nv_drill_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nv_drill_note(void *ctx, const char *kind, const char *what, const char *msg)
{
	nv_drill_run *d = ctx;
	nv_drill_report *r = d->r;

	pthread_mutex_lock(&d->mu);
	r->failures_total++;
	if (strcmp(kind, "stale") == 0)
		d->stale = 1;
	if (r->n_failures < NV_DRILL_FAILURES_KEPT) {
		nv_drill_failure *f;

		if (r->n_failures % 64 == 0) {
			f = realloc(r->failures, (r->n_failures + 64) * sizeof(*f));
			if (!f)
				goto out; /* counted, not kept */
			r->failures = f;
		}
		f = &r->failures[r->n_failures];
		f->kind = strdup(kind);
		f->what = strdup(what);
		f->reason = strdup(msg);
		if (f->kind && f->what && f->reason)
			r->n_failures++;
		else {
			free(f->kind);
			free(f->what);
			free(f->reason);
		}
	}
out:
	pthread_mutex_unlock(&d->mu);
}

/* A problem the drill finds itself, logged and counted as verify's are. */
__attribute__((format(printf, 4, 5)))
static void nv_drill_fail(nv_drill_run *d, const char *kind, const char *what,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nv_verify_vproblem(&d->vr, kind, what, fmt, ap);
	va_end(ap);
}

/* What the drill restores: the catalog's entries it selects, each with the
 * manifest's record of its object. A catalog naming an object the manifest
 * does not list is a failure of that file; the others still run. */
static int nv_drill_jobs(nv_drill_run *d, const nv_manifest *m, const nv_catalog *cat,
			 const unsigned char *sel, nv_vread_job **jobs, size_t *n)
{
	nv_drill_report *r = d->r;

	*n = 0;
	if (!(*jobs = calloc(cat->n ? cat->n : 1, sizeof(**jobs))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < cat->n; i++) {
		const nv_cat_entry *e = &cat->e[i];
		const nv_obj_rec *rec;

		if (!sel[i])
			continue;
		r->files_selected++;
		r->bytes_selected += e->size;
		if (!(rec = nv_manifest_find(m, e->object))) {
			nv_drill_fail(d, "catalog", e->path, "the catalog names object %s, which the "
				      "signed manifest of generation %llu does not list", e->object,
				      (unsigned long long)m->generation);
			continue;
		}
		(*jobs)[(*n)++] = (nv_vread_job){ .rec = rec, .entry = e };
	}
	return 0;
}

/* A sampled drill's files: a file's identity is its path, its group its
 * top-level directory (files at the top have none). */
static int nv_drill_sample(nv_drill_report *r, const nv_catalog *cat,
			   const nv_sample_spec *spec, unsigned char *sel)
{
	nv_sample_item *it = calloc(cat->n ? cat->n : 1, sizeof(*it));
	nv_sample_result res;
	int rc;

	if (!it)
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < cat->n; i++) {
		it[i] = (nv_sample_item){ .id = cat->e[i].path, .size = cat->e[i].size };
		it[i].group = nv_sample_group(cat->e[i].path, &it[i].group_len);
		if (!it[i].group_len)
			it[i].group = NULL;
	}
	rc = nv_sample_select(spec, it, cat->n, sel, &res);
	r->sample_runs = res.runs;
	free(it);
	return rc;
}

/* The plan of the mode: which catalog, which of its files. A catalog that
 * cannot be trusted is a failure (the chain and heartbeat are still
 * checked); an identity that opens none stops the drill (NV_EAUTH). *sel is
 * left NULL when there is nothing to restore. */
static int nv_drill_plan(nv_drill_run *d, nv_vault *v, const nv_manifest *m,
			 const nv_drill_opts *o, nv_catalog *cat, unsigned char **sel)
{
	nv_drill_report *r = d->r;
	int rc;

	if ((rc = nv_vault_catalog(v, m, o->id, cat))) {
		if (rc == NV_EAUTH)
			return rc;
		nv_drill_fail(d, "catalog", m->catalog, "%s", nv_error_msg());
		return 0;
	}
	r->files_total = cat->n;
	for (size_t i = 0; i < cat->n; i++)
		r->bytes_total += cat->e[i].size;
	if (!(*sel = calloc(cat->n ? cat->n : 1, 1)))
		return nv_error_set(NV_ERR, "out of memory");
	switch (o->mode) {
	case NV_DRILL_SAMPLE:
		return nv_drill_sample(r, cat, &o->sample, *sel);
	case NV_DRILL_FULL:
		memset(*sel, 1, cat->n);
		break;
	}
	return 0;
}

/* The restore (or the stream) of the jobs on the reader pool; the RTO is
 * the time from the drill's start to its end, the target flushed. */
static int nv_drill_restore(nv_drill_run *d, nv_vault *v, const nv_drill_opts *o,
			    const nv_vread_job *jobs, size_t n)
{
	nv_drill_report *r = d->r;
	nv_vread_opts ro = {
		.mode = o->target ? NV_VREAD_RESTORE : NV_VREAD_DEEP,
		.vault = nv_vault_location(v),
		.target = o->target,
		.id = o->id,
		.workers = o->workers,
		.buf_size = o->buf_size,
		.retries = o->retries,
		.note = nv_drill_note,
		.note_ctx = d,
	};
	nv_vread_stats st;
	int rc;

	if ((rc = nv_vread_run(&ro, jobs, n, &st)))
		return rc;
	r->rto = nv_drill_clock() - o->t0;
	r->files_checked = st.done;
	r->bytes_checked = st.bytes;
	r->out.failed += st.out.failed;
	r->out.differ += st.out.differ;
	if (st.out.fatal) {
		r->out.fatal = st.out.fatal;
		return nv_error_set(st.out.fatal, "%s", st.fatal_msg);
	}
	return 0;
}

/* The manifests back to generation 1 and the heartbeat, as verify checks
 * them; the ages are taken when the heartbeat was read. */
static int nv_drill_history(nv_drill_run *d, nv_vault *v, const nv_manifest *m,
			    const unsigned char sha[NV_SHA256_LEN], const nv_drill_opts *o)
{
	nv_drill_report *r = d->r;
	nv_heartbeat hb;
	time_t t, now;
	int rc;

	if ((rc = nv_verify_chain(v, &d->vr)))
		return rc;
	r->manifests = d->vr.manifests;
	nv_verify_heartbeat(v, o->max_age, m->generation, sha, &d->vr, &hb);
	now = time(NULL);
	if (hb.time[0] && nv_time_parse(&t, hb.time) == 0) {
		r->have_heartbeat = 1;
		r->heartbeat_generation = hb.generation;
		memcpy(r->heartbeat_time, hb.time, sizeof(r->heartbeat_time));
		r->heartbeat_age = now - t;
	}
	if (m->generation && nv_time_parse(&t, m->time) == 0)
		r->generation_age = now - t; /* taken again: the same now as the heartbeat's */
	nv_error_clear();
	r->rpo_exceeded = d->stale || (o->max_age >= 0 && !r->have_heartbeat);
	return 0;
}

int nv_vault_drill(nv_vault *v, const nv_manifest *m, const unsigned char sha[NV_SHA256_LEN],
		   const nv_drill_opts *o, nv_drill_report *r)
{
	nv_drill_run d = { .r = r, .vr = { .note = nv_drill_note } };
	nv_vread_job *jobs = NULL;
	nv_catalog cat = { 0 };
	unsigned char *sel = NULL;
	size_t n = 0;
	time_t t;
	int rc = 0;

	d.vr.note_ctx = &d;
	pthread_mutex_init(&d.mu, NULL);
	memcpy(r->vault_id, nv_vault_descriptor(v)->vault_id, sizeof(r->vault_id));
	r->generation = m->generation;
	memcpy(r->generation_time, m->time, sizeof(r->generation_time));
	r->generation_age = r->heartbeat_age = -1;
	r->rto = -1;
	if (m->generation && nv_time_parse(&t, m->time) == 0)
		r->generation_age = time(NULL) - t;
	nv_error_clear();
	if (!m->generation)
		nv_drill_fail(&d, "empty", nv_vault_location(v)->text, "the vault has no "
			      "generation yet: nothing to restore");
	else if (!(rc = nv_drill_plan(&d, v, m, o, &cat, &sel)) && sel)
		rc = nv_drill_jobs(&d, m, &cat, sel, &jobs, &n);
	if (!rc && sel)
		rc = nv_drill_restore(&d, v, o, jobs, n);
	if (!rc)
		rc = nv_drill_history(&d, v, m, sha, o);
	r->out.differ += d.vr.problems - d.vr.failed;
	r->out.failed += d.vr.failed;
	if (rc) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		if (!r->out.fatal)
			r->out.fatal = rc;
	}
	free(jobs);
	free(sel);
	nv_catalog_clear(&cat);
	pthread_mutex_destroy(&d.mu);
	return rc;
}

void nv_drill_report_clear(nv_drill_report *r)
{
	for (size_t i = 0; i < r->n_failures; i++) {
		free(r->failures[i].kind);
		free(r->failures[i].what);
		free(r->failures[i].reason);
	}
	free(r->failures);
	r->failures = NULL;
	r->n_failures = 0;
}
