/* cmd_log.c: the log command: one line per generation (number, time, objects,
 * stored bytes, signature). Needs no identity. Called by cli.c. */
#include "cli.h"
#include "cmd_vault.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>

static void nv_log_line(const nv_cli *c, uint64_t g, const nv_manifest *m, const char *err)
{
	char q[1200];

	if (c->json) {
		printf("{\"generation\":%llu", (unsigned long long)g);
		if (err) {
			nv_json_quote(q, sizeof(q), err);
			printf(",\"signature\":\"bad\",\"error\":%s}\n", q);
		} else {
			printf(",\"time\":\"%s\",\"objects\":%zu,\"bytes\":%llu,"
			       "\"signature\":\"ok\"}\n", m->time, m->n,
			       (unsigned long long)m->bytes);
		}
	} else if (err) {
		printf("%8llu  %-20s  %8s  %14s  BAD: %s\n", (unsigned long long)g, "-", "-",
		       "-", err);
	} else {
		printf("%8llu  %-20s  %8zu  %14llu  signed\n", (unsigned long long)g, m->time,
		       m->n, (unsigned long long)m->bytes);
	}
}

int nv_cmd_log(nv_cli *c)
{
	unsigned char sha[NV_SHA256_LEN];
	nv_vread_session s;
	uint64_t *gens = NULL;
	size_t n = 0, bad = 0;
	nv_manifest m;
	int rc;

	if ((rc = nv_vread_open(&s, c, 0, 0)))
		goto out;
	if ((rc = nv_vault_generations(s.v, &gens, &n))) {
		nv_log(NV_LOG_ERROR, "%s: %s", s.loc->text, nv_error_msg());
		rc = nv_exit_for_error(rc);
		goto out;
	}
	if (!c->json)
		printf("%8s  %-20s  %8s  %14s  %s\n", "gen", "time (UTC)", "objects", "bytes",
		       "signature");
	for (size_t i = 0; i < n; i++) {
		if (nv_vault_manifest(s.v, gens[i], &m, sha)) {
			nv_log_line(c, gens[i], NULL, nv_error_msg());
			bad++;
			continue;
		}
		nv_log_line(c, gens[i], &m, NULL);
		nv_manifest_clear(&m);
	}
	rc = bad ? NV_EXIT_DIFF : NV_EXIT_OK;
	if (bad)
		nv_log(NV_LOG_ERROR, "%s: %zu of %zu manifests do not verify", s.loc->text, bad, n);
out:
	free(gens);
	nv_vread_close(&s);
	if (fflush(stdout) != 0 && !rc)
		return NV_EXIT_FATAL;
	return rc;
}
