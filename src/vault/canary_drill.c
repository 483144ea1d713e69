/* canary_drill.c: the reader's side of canary files: the drill document
 * checked, the canary catalog opened with a drill key, and the objects left for
 * a stored-bytes check. Called through canary_drill.h. */
#include "canary_drill.h"
#include "canary.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

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

int nv_canary_others(const nv_manifest *m, const nv_catalog *cat, nv_vread_job **jobs,
		     size_t *n)
{
	unsigned char *used = calloc(m->n ? m->n : 1, 1);
	const nv_obj_rec *rec;

	*n = 0;
	*jobs = calloc(m->n ? m->n : 1, sizeof(**jobs));
	if (!used || !*jobs) {
		free(used);
		free(*jobs);
		*jobs = NULL;
		return nv_error_set(NV_ERR, "out of memory");
	}
	if (m->canary && (rec = nv_manifest_find(m, m->canary)))
		used[rec - m->objs] = 1;
	for (size_t i = 0; i < cat->n; i++)
		if ((rec = nv_manifest_find(m, cat->e[i].object)))
			used[rec - m->objs] = 1;
	for (size_t i = 0; i < m->n; i++)
		if (!used[i])
			(*jobs)[(*n)++] = (nv_vread_job){ .rec = &m->objs[i] };
	free(used);
	return 0;
}

int nv_canary_check_doc(nv_vault *v, const nv_age_identity *id, uint64_t *serial)
{
	char mine[NV_AGE_RECIPIENT_MAX];
	nv_age_recipient rcp;
	nv_drill_doc d;
	int rc = nv_drill_load(v, &d), listed = 0;

	*serial = 0;
	if (rc)
		return rc;
	*serial = d.serial;
	if (nv_age_identity_recipient(id, &rcp) == 0 &&
	    nv_age_recipient_format(mine, sizeof(mine), &rcp) == 0)
		for (size_t i = 0; i < d.n_recipients; i++)
			listed |= strcmp(d.recipients[i], mine) == 0;
	if (!listed)
		nv_log(NV_LOG_WARN, "this key is not among the %zu drill recipients of %s "
		       "serial %llu", d.n_recipients, NV_VAULT_DRILL,
		       (unsigned long long)d.serial);
	nv_drill_doc_clear(&d);
	return 0;
}
