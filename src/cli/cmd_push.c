/* cmd_push.c: the push command. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "keys.h"
#include "util/log.h"
#include "vault/vault_push.h"

#include <string.h>

/* A dry run's summary: what would be uploaded and published. */
static void nv_push_dry_summary(const nv_push_stats *st, nv_summary *s)
{
	nv_log_summary(NV_LOG_NOTICE, s, "dry run: %s %llu: %llu files, %llu read, %llu to "
		       "upload (%.1f MiB), %llu already stored, in %.2f s",
		       st->would_publish ? "would publish generation"
					 : "no change, would refresh the heartbeat of generation",
		       (unsigned long long)st->generation, (unsigned long long)st->files,
		       (unsigned long long)st->hashed, (unsigned long long)st->uploaded,
		       (double)st->uploaded_bytes / (1 << 20), (unsigned long long)st->reused,
		       st->seconds);
}

/* The summary, or the error that stopped the push as the summary's message. */
static void nv_push_summary(const nv_push_stats *st, int dry_run)
{
	nv_log_field x[] = {
		NV_LF_U("read", st->hashed), NV_LF_U("uploaded", st->uploaded),
		NV_LF_U("already_stored", st->reused), NV_LF_B("published", st->published),
		NV_LF_B("dry_run", dry_run), NV_LF_B("would_publish", st->would_publish),
	};
	nv_summary s = {
		.files = st->files, .bytes = st->uploaded_bytes,
		.failed = st->out.failed + st->out.differ, .seconds = st->seconds,
		.generation = st->generation ? (int64_t)st->generation : -1,
		.exit_code = nv_exit_code(&st->out), .extra = x,
		.n_extra = dry_run ? NV_LF_COUNT(x) : NV_LF_COUNT(x) - 2,
	};

	if (s.exit_code) {
		nv_log_summary(NV_LOG_ERROR, &s, "%s", nv_error_msg());
		return;
	}
	if (dry_run) {
		nv_push_dry_summary(st, &s);
		return;
	}
	nv_log_summary(NV_LOG_NOTICE, &s, "%s generation %llu: %llu files, %llu read, %llu "
		       "uploaded (%.1f MiB), %llu already stored, in %.2f s",
		       st->published ? "published" : "no change, refreshed the heartbeat of",
		       (unsigned long long)st->generation, (unsigned long long)st->files,
		       (unsigned long long)st->hashed, (unsigned long long)st->uploaded,
		       (double)st->uploaded_bytes / (1 << 20), (unsigned long long)st->reused,
		       st->seconds);
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
	if ((rc = nv_keys_signing_key(c, &sk)) ||
	    (rc = nv_vault_open(&v, dst, nv_keys_signing_pubkey(c)))) {
		st.out.fatal = rc;
		goto out_log;
	}
	nv_vault_push(v, src, sk, &c->eng, &st);
	ran = 1;
out_log:
	nv_push_summary(&st, c->eng.dry_run);
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
