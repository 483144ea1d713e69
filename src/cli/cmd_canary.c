/* cmd_canary.c: drill --canary: a scheduled drill with a drill key (the
 * canary files restored or checked, every object's stored bytes hashed, the
 * chain and the heartbeat), see vault/canary_drill.h. Called by the drill
 * command when --canary is given. */
#include "cli.h"
#include "cmd_vault.h"
#include "keys.h"
#include "util/log.h"
#include "vault/canary_drill.h"

#include <stdio.h>

/* The summary: what was checked, the ages, and the exit code's reasons. */
static void nv_canary_summary(const nv_canary_drill_report *r, const char *vault, int restored,
			      int code)
{
	nv_log_field x[] = {
		NV_LF_U("canaries", r->canaries), NV_LF_U("objects", r->objects),
		NV_LF_U("manifests", r->manifests), NV_LF_U("problems", r->problems),
		NV_LF_U("drill_serial", r->drill_serial), NV_LF_I("heartbeat_age", r->heartbeat_age),
	};
	nv_summary s = {
		.files = r->canaries, .bytes = r->canary_bytes, .failed = r->problems,
		.seconds = r->seconds, .generation = r->generation ? (int64_t)r->generation : -1,
		.exit_code = code, .extra = x, .n_extra = NV_LF_COUNT(x),
	};
	char age[32] = "unknown";

	if (r->heartbeat_age >= 0)
		snprintf(age, sizeof(age), "%llds", r->heartbeat_age);
	nv_log_summary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &s, "canary drill of %s: %s: "
		       "generation %llu (%s), %llu canary files (%llu bytes) %s, "
		       "%llu objects good, %llu manifests verified, last push %s ago, %llu "
		       "problem%s, in %.2f s", vault, code ? "FAILED" : "ok",
		       (unsigned long long)r->generation, r->generation_time,
		       (unsigned long long)r->canaries, (unsigned long long)r->canary_bytes,
		       restored ? "restored" : "decrypted and checked", (unsigned long long)r->objects, (unsigned long long)r->manifests, age,
		       (unsigned long long)r->problems, r->problems == 1 ? "" : "s", r->seconds);
}

int nv_cmd_drill_canary(nv_cli *c, const nv_location *to)
{
	nv_canary_drill_opts o = {
		.target = to, .max_age = c->max_age ? c->max_age_seconds : -1,
		.workers = c->eng.transfers, .buf_size = c->eng.buffer_size,
		.retries = c->eng.retries,
	};
	nv_canary_drill_report r = { 0 };
	nv_vread_session s;
	int rc;

	if ((rc = nv_vread_open(&s, c, 0, NV_VREAD_IDENTITY)))
		goto out;
	o.id = s.id;
	nv_canary_drill(s.v, &o, &r);
	/* a key that opens no canary catalog is the user's: as a wrong identity */
	rc = nv_exit_code(&r.out);
	nv_canary_summary(&r, s.loc->text, to != NULL, rc);
	nv_cli_metrics_add(c, c->args[0], &(nv_metrics_figures){ .objects = r.objects,
		.failures = r.problems, .generation = r.generation }, rc);
out:
	nv_vread_close(&s);
	return rc;
}

/* The drill command until the full drill (issue 13, its own branch) is
 * merged: --canary only. */
int nv_cmd_drill(nv_cli *c)
{
	nv_location *to = NULL;
	int rc;

	if (!c->canary) {
		nv_log(NV_LOG_ERROR, "drill: only the canary drill (--canary) is built in here");
		return NV_EXIT_USAGE;
	}
	if (c->to && nv_location_parse(&to, c->to, c->cfg)) {
		nv_log(NV_LOG_ERROR, "--to: %s", nv_error_msg());
		return NV_EXIT_USAGE;
	}
	rc = nv_cmd_drill_canary(c, to);
	nv_location_free(to);
	return rc;
}
