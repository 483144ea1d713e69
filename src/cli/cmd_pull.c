/* cmd_pull.c: the pull command: restores a generation of a vault (all of it or
 * the PATHs given) beneath a directory. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cmd_vault.h"
#include "util/log.h"
#include "vault/vault_pull.h"

#include <stdlib.h>
#include <string.h>

/* First catalog entry whose path is >= p (the catalog is sorted by path). */
static size_t nv_pull_lower_bound(const nv_catalog *cat, const char *p)
{
	size_t lo = 0, hi = cat->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(cat->e[mid].path, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Marks the entries a PATH names: the file itself, or everything beneath it
 * as a directory. Returns how many it names. */
static size_t nv_pull_mark(const nv_catalog *cat, const char *arg, unsigned char *sel)
{
	size_t n = strlen(arg), hits = 0;
	char *p;

	while (n > 1 && arg[n - 1] == '/')
		n--;
	if (!(p = strndup(arg, n)))
		return 0;
	for (size_t i = nv_pull_lower_bound(cat, p); i < cat->n; i++) {
		const char *path = cat->e[i].path;

		if (strncmp(path, p, n) != 0 || (path[n] != '\0' && path[n] != '/'))
			break;
		sel[i] = 1;
		hits++;
	}
	free(p);
	return hits;
}

/* The jobs for the selected entries; every object must be in the manifest. */
static int nv_pull_jobs(nv_cli *c, const nv_vread_session *s, nv_vread_job **out, size_t *n)
{
	unsigned char *sel = calloc(s->cat.n ? s->cat.n : 1, 1);
	nv_vread_job *jobs = calloc(s->cat.n ? s->cat.n : 1, sizeof(*jobs));
	int rc = NV_EXIT_OK;

	*out = NULL;
	*n = 0;
	if (!sel || !jobs) {
		nv_log(NV_LOG_ERROR, "out of memory");
		rc = NV_EXIT_FATAL;
		goto out;
	}
	if (c->nargs <= 2)
		memset(sel, 1, s->cat.n);
	for (int a = 2; a < c->nargs; a++)
		if (!nv_pull_mark(&s->cat, c->args[a], sel)) {
			nv_log(NV_LOG_ERROR, "%s: no file or directory of generation %llu is "
			       "named %s", s->loc->text, (unsigned long long)s->gen, c->args[a]);
			rc = NV_EXIT_USAGE;
		}
	for (size_t i = 0; i < s->cat.n && rc == NV_EXIT_OK; i++) {
		if (!sel[i])
			continue;
		jobs[*n].entry = &s->cat.e[i];
		jobs[*n].rec = nv_manifest_find(&s->m, s->cat.e[i].object);
		if (!jobs[*n].rec) {
			nv_log(NV_LOG_ERROR, "%s: the catalog names object %s for %s, which the "
			       "signed manifest of generation %llu does not list", s->loc->text,
			       s->cat.e[i].object, s->cat.e[i].path, (unsigned long long)s->gen);
			rc = NV_EXIT_DIFF;
		}
		(*n)++;
	}
out:
	free(sel);
	if (rc) {
		free(jobs);
		*n = 0;
		return rc;
	}
	*out = jobs;
	return 0;
}

int nv_cmd_pull(nv_cli *c)
{
	nv_vread_session s;
	nv_location *dst = NULL;
	nv_vread_job *jobs = NULL;
	nv_vread_stats st = { 0 };
	nv_vread_opts o = { .mode = NV_VREAD_RESTORE };
	size_t n = 0;
	int rc;

	if ((rc = nv_vread_open(&s, c, 0, NV_VREAD_CATALOG)))
		goto out;
	if (s.gen == 0) {
		nv_log(NV_LOG_ERROR, "%s: the vault has no generation yet: nothing to restore",
		       s.loc->text);
		rc = NV_EXIT_FATAL;
		goto out;
	}
	if (nv_cli_location(c, 1, &dst)) {
		rc = NV_EXIT_USAGE;
		goto out;
	}
	if ((rc = nv_pull_jobs(c, &s, &jobs, &n)))
		goto out;
	o.vault = s.loc;
	o.target = dst;
	o.id = s.id;
	o.workers = c->eng.transfers;
	o.buf_size = c->eng.buffer_size;
	o.retries = c->eng.retries;
	o.keep_modes = c->keep_modes;
	if (nv_vread_run(&o, jobs, n, &st)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		rc = NV_EXIT_FATAL;
		goto out;
	}
	if (st.fatal)
		nv_log(NV_LOG_ERROR, "%s", st.fatal_msg);
	/* --max-transfer stops a run on purpose: partial, as the exit rule says. */
	rc = st.fatal == NV_ELIMIT ? nv_exit_for_error(st.fatal) : nv_vread_exit(&st);
	nv_log(rc ? NV_LOG_ERROR : NV_LOG_NOTICE, "pull: generation %llu of %s into %s: %llu of "
	       "%zu files restored (%llu bytes), %llu tampered or undecryptable, %llu missing, "
	       "%llu failed", (unsigned long long)s.gen, s.loc->text, dst->text,
	       (unsigned long long)st.done, n, (unsigned long long)st.bytes,
	       (unsigned long long)st.mismatched, (unsigned long long)st.missing,
	       (unsigned long long)st.failed);
	nv_cli_metrics_add(c, c->args[1], &(nv_metrics_figures){
		.bytes = st.bytes, .objects = st.done,
		.failures = st.failed + st.mismatched + st.missing, .generation = s.gen }, rc);
out:
	free(jobs);
	nv_location_free(dst);
	nv_vread_close(&s);
	return rc;
}
