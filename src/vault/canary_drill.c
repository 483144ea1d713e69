/* canary_drill.c: a drill with a drill key: the canary catalog opened, the
 * canary files restored or checked on the reader pool, every other object's
 * stored bytes hashed, the chain and heartbeat checked as verify does.
 * Called through canary_drill.h. */
#include "canary_drill.h"
#include "canary.h"
#include "util/log.h"
#include "vault_select.h"
#include "vault_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int nv_canary_catalog(nv_vault *v, const nv_manifest *m, const nv_age_identity *id,
		      nv_catalog *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!m->canary)
		return nv_error_set(NV_ENOTFOUND, "generation %llu has no canary files: it was "
				    "pushed while the vault had no drill recipient (navette "
				    "drill-key add, then push)", (unsigned long long)m->generation);
	rc = nv_vault_catalog_named(v, m, m->canary, NV_CANARY_CATALOG_TYPE, id, out);
	if (rc == NV_EAUTH)
		return nv_error_wrap(rc, "this key opens no canary catalog of generation %llu "
				     "(not a drill recipient when it was pushed?)",
				     (unsigned long long)m->generation);
	return rc;
}

int nv_canary_jobs(const nv_manifest *m, const nv_catalog *cat, nv_vread_job **jobs,
		   size_t *ncanary, size_t *n, uint64_t *unlisted)
{
	unsigned char *taken = calloc(m->n ? m->n : 1, 1);
	const nv_obj_rec *crec = m->canary ? nv_manifest_find(m, m->canary) : NULL;

	*ncanary = *n = 0;
	*unlisted = 0;
	*jobs = calloc(cat->n + m->n + 1, sizeof(**jobs));
	if (!taken || !*jobs) {
		free(taken);
		free(*jobs);
		*jobs = NULL;
		return nv_error_set(NV_ERR, "out of memory");
	}
	if (crec)
		taken[crec - m->objs] = 1;
	for (size_t i = 0; i < cat->n; i++) {
		const nv_obj_rec *rec = nv_manifest_find(m, cat->e[i].object);

		if (!rec) {
			nv_log_item(NV_LOG_ERROR, "canary", cat->e[i].path, "the canary catalog "
				    "names an object the signed manifest does not list");
			(*unlisted)++;
			continue;
		}
		taken[rec - m->objs] = 1;
		(*jobs)[(*n)++] = (nv_vread_job){ .rec = rec, .entry = &cat->e[i] };
	}
	*ncanary = *n;
	for (size_t i = 0; i < m->n; i++)
		if (!taken[i])
			(*jobs)[(*n)++] = (nv_vread_job){ .rec = &m->objs[i] };
	free(taken);
	return 0;
}

/* The drill document, when the store has one, must verify and hold against
 * the pin (canary.h): a forged or rolled-back one is a problem of the vault. */
static void nv_canary_drill_doc(nv_vault *v, const nv_age_identity *id,
				nv_canary_drill_report *r)
{
	char mine[NV_AGE_RECIPIENT_MAX];
	nv_age_recipient rcp;
	nv_drill_doc d;
	int rc = nv_drill_load(v, &d), listed = 0;

	if (rc == NV_ENOTFOUND) {
		nv_log(NV_LOG_INFO, "%s", nv_error_msg());
		nv_error_clear();
		return;
	}
	if (rc) {
		nv_log_item(NV_LOG_ERROR, "drill-document", NV_VAULT_DRILL, nv_error_msg());
		r->problems++;
		r->out.differ++;
		return;
	}
	r->drill_serial = d.serial;
	if (nv_age_identity_recipient(id, &rcp) == 0 &&
	    nv_age_recipient_format(mine, sizeof(mine), &rcp) == 0)
		for (size_t i = 0; i < d.n_recipients; i++)
			listed |= strcmp(d.recipients[i], mine) == 0;
	if (!listed)
		nv_log(NV_LOG_WARN, "this key is not among the %zu drill recipients of %s "
		       "serial %llu", d.n_recipients, NV_VAULT_DRILL,
		       (unsigned long long)d.serial);
	nv_drill_doc_clear(&d);
}

/* One pass of jobs on the reader pool, counted into r. */
static int nv_canary_run(const nv_canary_drill_opts *o, nv_vault *v, nv_vread_mode mode,
			 const nv_vread_job *jobs, size_t n, nv_canary_drill_report *r,
			 nv_vread_stats *st)
{
	nv_vread_opts ro = {
		.mode = mode, .vault = nv_vault_location(v), .target = o->target, .id = o->id,
		.workers = o->workers, .buf_size = o->buf_size, .retries = o->retries,
	};
	int rc;

	memset(st, 0, sizeof(*st));
	if (!n)
		return 0;
	if ((rc = nv_vread_run(&ro, jobs, n, st)))
		return rc;
	r->objects += st->done;
	r->problems += st->mismatched + st->missing + st->failed;
	r->out.failed += st->out.failed;
	r->out.differ += st->out.differ;
	if (st->out.fatal) {
		nv_log(NV_LOG_ERROR, "%s", st->fatal_msg);
		return nv_error_set(st->out.fatal, "%s", st->fatal_msg);
	}
	return 0;
}

/* The chain, the newest generation, every object present, the heartbeat:
 * verify --level list, its problems counted here. */
static int nv_canary_verify_list(nv_vault *v, const nv_canary_drill_opts *o,
				 nv_canary_drill_report *r)
{
	nv_verify_opts vo = { .level = NV_VERIFY_LIST, .max_age = o->max_age,
			      .workers = o->workers, .buf_size = o->buf_size,
			      .retries = o->retries };
	nv_verify_report vr;
	nv_outcome out;
	int rc = nv_vault_verify(v, &vo, &vr);

	nv_verify_outcome(&vr, &out);
	r->manifests = vr.manifests;
	r->problems += vr.problems;
	r->out.failed += out.failed;
	r->out.differ += out.differ;
	return rc;
}

static void nv_canary_heartbeat_age(nv_vault *v, nv_canary_drill_report *r)
{
	nv_heartbeat hb;
	time_t t;

	r->heartbeat_age = -1;
	if (nv_vault_heartbeat(v, &hb) == 0 && nv_time_parse(&t, hb.time) == 0)
		r->heartbeat_age = (long long)(time(NULL) - t);
	nv_error_clear();
}

/* The canary files (timed: the drill's restore), then every other object. */
static int nv_canary_objects(nv_vault *v, const nv_canary_drill_opts *o, const nv_manifest *m,
			     nv_canary_drill_report *r)
{
	nv_catalog cat = { 0 };
	nv_vread_job *jobs = NULL;
	nv_vread_stats st;
	size_t nc = 0, n = 0;
	uint64_t unlisted = 0;
	int rc = nv_canary_catalog(v, m, o->id, &cat), opened = rc == 0;

	if (rc == NV_EAUTH)
		return rc;
	if (rc) { /* no canary to restore: every object is still hashed */
		char key[NV_MANIFEST_NAME_MAX];

		nv_manifest_name(key, m->generation);
		nv_log_item(NV_LOG_ERROR, "canary", m->canary ? m->canary : key, nv_error_msg());
		r->problems++;
		r->out.differ++;
	}
	if (!(rc = nv_canary_jobs(m, &cat, &jobs, &nc, &n, &unlisted))) {
		r->problems += unlisted;
		r->out.differ += unlisted;
		rc = nv_canary_run(o, v, o->target ? NV_VREAD_RESTORE : NV_VREAD_DEEP, jobs, nc,
				   r, &st);
		r->canaries = st.done;
		r->canary_bytes = st.bytes;
		r->objects += opened; /* the canary catalog: its bytes checked as it was read */
	}
	if (!rc)
		rc = nv_canary_run(o, v, NV_VREAD_HASH, jobs + nc, n - nc, r, &st);
	free(jobs);
	nv_catalog_clear(&cat);
	return rc;
}

int nv_canary_drill(nv_vault *v, const nv_canary_drill_opts *o, nv_canary_drill_report *r)
{
	unsigned char sha[NV_SHA256_LEN];
	struct timespec t0, t1;
	nv_manifest m = { 0 };
	int rc;

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nv_canary_drill_doc(v, o->id, r);
	if (!(rc = nv_canary_verify_list(v, o, r)) &&
	    !(rc = nv_vault_select_generation(v, -1, &m, sha, &r->generation))) {
		snprintf(r->generation_time, sizeof(r->generation_time), "%s", m.time);
		if (r->generation)
			rc = nv_canary_objects(v, o, &m, r);
	}
	if (rc) /* logged now: what follows clears the message */
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	nv_canary_heartbeat_age(v, r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!rc && !r->generation) {
		nv_log_item(NV_LOG_ERROR, "empty", nv_vault_location(v)->text, "the vault has no "
			    "generation yet: nothing to drill");
		r->problems++;
		r->out.differ++;
	}
	if (rc && !r->out.fatal)
		r->out.fatal = rc;
	nv_manifest_clear(&m);
	return rc;
}
