/* cmd_log.c: the log command: one line per generation (number, time, objects,
 * stored bytes, signature). Needs no identity. Called by cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "cmd_vault.h"
#include "util/escape.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One generation on stdout. The time and the error come from the store (a
 * signed manifest is still the signer's text): escaped (util/escape.h). */
static void nv_log_line(const nv_cli *c, uint64_t g, const nv_manifest *m, const char *err)
{
	nv_sb b = { 0 };

	if (c->json) {
		nv_sb_addf(&b, "{\"generation\":%llu", (unsigned long long)g);
		if (err) {
			nv_sb_add(&b, ",\"signature\":\"bad\"");
			nv_json_field(&b, "error", err);
		} else {
			nv_json_field(&b, "time", m->time);
			nv_sb_addf(&b, ",\"objects\":%zu,\"bytes\":%llu,\"signature\":\"ok\"",
				    m->n, (unsigned long long)m->bytes);
		}
		nv_sb_add(&b, "}\n");
	} else if (err) {
		nv_sb_addf(&b, "%8llu  %-20s  %8s  %14s  BAD: ", (unsigned long long)g, "-", "-",
			    "-");
		nv_escape_human(&b, err, strlen(err));
		nv_sb_addc(&b, '\n');
	} else {
		size_t at;

		nv_sb_addf(&b, "%8llu  ", (unsigned long long)g);
		at = b.len;
		nv_escape_human(&b, m->time, strlen(m->time));
		while (b.len - at < 20 && !b.failed) /* %-20s of the escaped text */
			nv_sb_addc(&b, ' ');
		nv_sb_addf(&b, "  %8zu  %14llu  signed\n", m->n, (unsigned long long)m->bytes);
	}
	fwrite(nv_sb_str(&b), 1, b.len, stdout);
	nv_sb_free(&b);
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
