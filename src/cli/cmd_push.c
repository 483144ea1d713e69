/* cmd_push.c: the push command. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "keys.h"
#include "util/log.h"
#include "vault/vault_push.h"

#include <stdio.h>
#include <string.h>

/* A dry run's summary: what would be uploaded and published; canaries is
 * the canary files' part of it ("" when the vault has no drill recipient). */
static void nv_push_dry_summary(const nv_push_stats *st, nv_summary *s, const char *canaries)
{
	nv_log_summary(NV_LOG_NOTICE, s, "dry run: %s %llu: %llu files, %llu read, %llu to "
		       "upload (%.1f MiB), %llu already stored, in %.2f s%s",
		       st->would_publish ? "would publish generation"
					 : "no change, would refresh the heartbeat of generation",
		       (unsigned long long)st->generation, (unsigned long long)st->files,
		       (unsigned long long)st->hashed, (unsigned long long)st->uploaded,
		       (double)st->uploaded_bytes / (1 << 20), (unsigned long long)st->reused,
		       st->seconds, canaries);
}

/* A shard's summary (the log begins it with the shard and the run). */
static void nv_push_shard_summary(const nv_push_stats *st, nv_summary *s, int dry_run)
{
	nv_log_summary(NV_LOG_NOTICE, s, "%s%llu files, %llu read, %llu %s (%.1f MiB), %llu "
		       "already stored, in %.2f s; %s", dry_run ? "dry run: " : "",
		       (unsigned long long)st->files, (unsigned long long)st->hashed,
		       (unsigned long long)st->uploaded, dry_run ? "to upload" : "uploaded",
		       (double)st->uploaded_bytes / (1 << 20), (unsigned long long)st->reused,
		       st->seconds, dry_run ? "would write its partial catalog" :
		       "partial catalog written: publish once every shard of the run is done");
}

/* The summary, or the error that stopped the push as the summary's message. */
static void nv_push_summary(const nv_push_stats *st, int dry_run, int shard)
{
	nv_log_field x[] = {
		NV_LF_U("read", st->hashed), NV_LF_U("uploaded", st->uploaded),
		NV_LF_U("already_stored", st->reused), NV_LF_B("published", st->published),
		NV_LF_B("dry_run", dry_run), NV_LF_B("would_publish", st->would_publish),
		NV_LF_B("partial_catalog", st->partial),
	};
	nv_summary s = {
		.files = st->files, .bytes = st->uploaded_bytes,
		.failed = st->out.failed + st->out.differ, .seconds = st->seconds,
		.generation = st->generation ? (int64_t)st->generation : -1,
		.exit_code = nv_exit_code(&st->out), .extra = x, .n_extra = NV_LF_COUNT(x) - 3,
	};

	char canaries[96] = "";

	if (dry_run) /* dry_run, would_publish */
		s.n_extra += 2;
	if (shard) /* a shard's partial_catalog (after would_publish: it says nothing) */
		s.n_extra = NV_LF_COUNT(x);
	if (s.exit_code) {
		nv_log_summary(NV_LOG_ERROR, &s, "%s", nv_error_msg());
		return;
	}
	/* said only when the vault has drill recipients: otherwise as before */
	if (st->canaries)
		snprintf(canaries, sizeof(canaries), "; %llu canary files (%llu %s)",
			 (unsigned long long)st->canaries,
			 (unsigned long long)st->canaries_uploaded,
			 dry_run ? "to store" : "stored now");
	if (shard) {
		nv_push_shard_summary(st, &s, dry_run);
		return;
	}
	if (dry_run) {
		nv_push_dry_summary(st, &s, canaries);
		return;
	}
	nv_log_summary(NV_LOG_NOTICE, &s, "%s generation %llu: %llu files, %llu read, %llu "
		       "uploaded (%.1f MiB), %llu already stored, in %.2f s%s",
		       st->published ? "published" : "no change, refreshed the heartbeat of",
		       (unsigned long long)st->generation, (unsigned long long)st->files,
		       (unsigned long long)st->hashed, (unsigned long long)st->uploaded,
		       (double)st->uploaded_bytes / (1 << 20), (unsigned long long)st->reused,
		       st->seconds, canaries);
}

int nv_cmd_push(nv_cli *c)
{
	nv_location *src = NULL, *dst = NULL;
	nv_vault *v = NULL;
	nv_sshkey *sk = NULL;
	nv_push_stats st = { 0 };
	int rc, ran = 0, code;

	if ((code = nv_cli_filter(c)))
		return code;
	c->eng.wait_lock_ms = c->wait_lock_ms;
	if (nv_cli_location(c, 0, &src) || nv_cli_location(c, 1, &dst)) {
		st.out.fatal = NV_EINVAL;
		goto out;
	}
	if (src->driver != nv_driver_find("local")) {
		rc = nv_error_set(NV_EINVAL, "push reads a local directory; %s is not one",
				  src->text);
		st.out.fatal = rc;
		goto out_log;
	}
	/* A shard host holds no signing key (FORMAT.md 2.9): none is read. */
	if (c->eng.shard && c->signing_key)
		rc = nv_error_set(NV_EINVAL, "a shard of a push signs nothing: --signing-key goes "
				  "to navette publish, on the publishing host");
	else if (!c->eng.shard)
		rc = nv_keys_signing_key(c, &sk);
	else
		rc = 0;
	if (rc || (rc = nv_vault_open(&v, dst, nv_keys_signing_pubkey(c)))) {
		st.out.fatal = rc;
		goto out_log;
	}
	nv_vault_push(v, src, sk, &c->eng, &st);
	ran = 1;
out_log:
	nv_push_summary(&st, c->eng.dry_run, c->eng.shard != NULL);
out:
	nv_vault_close(v);
	nv_sshkey_free(sk);
	nv_location_free(src);
	nv_location_free(dst);
	code = nv_exit_code(&st.out);
	if (ran && !c->eng.dry_run) /* a dry run moved nothing */
		nv_cli_metrics_add(c, c->args[1], &(nv_metrics_figures){
			.bytes = st.uploaded_bytes, .objects = st.uploaded, .failures = st.out.failed,
			.generation = st.generation }, code);
	return code;
}
