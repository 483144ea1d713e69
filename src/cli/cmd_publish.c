/* cmd_publish.c: the publish command: --prepare (the run's key) and the
 * publication of a sharded push's run (vault/publish.h). Called by the
 * dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "keys.h"
#include "util/log.h"
#include "vault/publish.h"
#include "vault/run_key.h"

#include <stdio.h>

/* --prepare: the run's key, made once. */
static int nv_publish_prepare(nv_vault *v, const nv_sshkey *sk, const char *run)
{
	nv_run_doc doc;
	int again = 0, rc = nv_run_prepare(v, sk, run, &doc, &again);

	if (rc)
		return rc;
	nv_log(NV_LOG_NOTICE, "run %s %s in %s: key %s; now push the shards (push --shard K/N "
	       "--run %s), then publish --run %s", run, again ? "was prepared already" :
	       "prepared", nv_vault_location(v)->text, doc.recipient, run, run);
	return 0;
}

static void nv_publish_summary(const nv_publish_stats *st, const char *run)
{
	nv_log_field x[] = {
		NV_LF_S("run", run), NV_LF_U("shards", st->shards),
		NV_LF_U("objects_checked", st->objects), NV_LF_U("canaries", st->canaries),
		NV_LF_B("published", st->published),
	};
	nv_summary s = {
		.files = st->files, .bytes = st->bytes, .failed = st->out.failed + st->out.differ,
		.seconds = st->seconds, .generation = st->generation ? (int64_t)st->generation : -1,
		.exit_code = nv_exit_code(&st->out), .extra = x, .n_extra = NV_LF_COUNT(x),
	};

	if (s.exit_code) {
		nv_log_summary(NV_LOG_ERROR, &s, "%s", nv_error_msg());
		return;
	}
	nv_log_summary(NV_LOG_NOTICE, &s, "%s generation %llu from %u shards of run %s: %llu "
		       "files, %llu objects read back (%.1f MiB), in %.2f s",
		       st->published ? "published" : "no change, refreshed the heartbeat of",
		       (unsigned long long)st->generation, st->shards, run,
		       (unsigned long long)st->files, (unsigned long long)st->objects,
		       (double)st->bytes / (1 << 20), st->seconds);
}

int nv_cmd_publish(nv_cli *c)
{
	nv_publish_opts o = { .run = c->run, .wait_ms = c->wait_ms, .eng = &c->eng };
	nv_publish_stats st = { 0 };
	nv_location *loc = NULL;
	nv_vault *v = NULL;
	nv_sshkey *sk = NULL;
	int rc, code;

	if (!c->run || (c->prepare && c->wait_ms)) {
		nv_log(NV_LOG_ERROR, "%s", !c->run ? "publish needs --run ID: the run id its shards "
		       "were given" : "--wait goes with publishing, not with --prepare");
		return NV_EXIT_USAGE;
	}
	if (nv_cli_location(c, 0, &loc))
		return NV_EXIT_USAGE;
	if (!(rc = nv_keys_signing_key(c, &sk)) &&
	    !(rc = nv_vault_open(&v, loc, nv_keys_signing_pubkey(c)))) {
		if (c->prepare) {
			rc = nv_publish_prepare(v, sk, c->run);
		} else {
			rc = nv_vault_publish(v, sk, &o, &st);
			nv_publish_summary(&st, c->run);
			code = nv_exit_code(&st.out);
			nv_cli_metrics_add(c, c->args[0], &(nv_metrics_figures){
				.bytes = st.bytes, .objects = st.objects,
				.failures = st.out.failed + st.out.differ,
				.generation = st.generation }, code);
			goto out;
		}
	}
	if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	code = nv_exit_for_error(rc);
out:
	nv_vault_close(v);
	nv_sshkey_free(sk);
	nv_location_free(loc);
	return code;
}
