/* cmd_pull.c: the pull command: restores a generation of a vault (all of it or
 * the PATHs given) beneath a directory. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "cmd_vault.h"
#include "engine/dest_lock.h"
#include "util/log.h"
#include "vault/pull_paged.h"
#include "vault/vault_pull.h"
#include "vault/vault_select.h"

#include <stdarg.h>
#include <stdlib.h>

__attribute__((format(printf, 5, 6)))
static void nv_pull_summary(const nv_vread_session *s, const nv_vread_stats *st, size_t n,
			    int code, const char *fmt, ...)
{
	nv_log_field x[] = {
		NV_LF_U("selected", n), NV_LF_U("mismatched", st->mismatched),
		NV_LF_U("missing", st->missing),
	};
	nv_summary sum = {
		.files = st->done, .bytes = st->bytes, .failed = st->failed + st->mismatched +
		st->missing, .generation = (int64_t)s->gen, .exit_code = code, .extra = x,
		.n_extra = NV_LF_COUNT(x),
	};
	va_list ap;

	va_start(ap, fmt);
	nv_log_vsummary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &sum, fmt, ap);
	va_end(ap);
}

int nv_cmd_pull(nv_cli *c)
{
	nv_vread_session s;
	nv_location *dst = NULL;
	nv_pull_plan *plan = NULL;
	nv_vread_stats st = { 0 };
	nv_vread_opts o = { .mode = NV_VREAD_RESTORE };
	/* This host's lock on the restore target, no lease: a restore target
	 * gets the vault's files and nothing else. */
	nv_dest_lock_opts lo = { .command = "pull", .wait_ms = c->wait_lock_ms,
				 .local_only = 1 };
	nv_dest_lock *lock = NULL;
	size_t n = 0;
	int rc;

	/* The manifest and catalog as streams (pull_paged.h): a vault of a
	 * million files is restored in bounded memory. */
	if ((rc = nv_vread_open(&s, c, 0, NV_VREAD_IDENTITY | NV_VREAD_STREAM)))
		goto out;
	o.id = s.id;
	/* which files (--shard: its files only): every problem is logged by the
	 * selection; an identity that opens no stanza is the wrong key: the user's */
	if ((rc = nv_pull_plan_make(&plan, s.v, s.mr, &s.m, &(nv_pull_sel){
		.paths = (const char *const *)c->args + 2,
		.npaths = c->nargs > 2 ? (size_t)c->nargs - 2 : 0,
		.shard = c->eng.shard, .where = s.loc->text }, &o))) {
		rc = rc == NV_EAUTH ? NV_EXIT_USAGE : nv_exit_for_error(rc);
		goto out;
	}
	n = (size_t)nv_pull_plan_count(plan);
	if (nv_cli_location(c, 1, &dst)) {
		rc = NV_EXIT_USAGE;
		goto out;
	}
	if (nv_dest_lock_take_opts(&lock, dst, &lo)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		rc = nv_exit_for_error(nv_error_code());
		goto out;
	}
	o.vault = s.loc;
	o.target = dst;
	o.id = s.id;
	o.workers = c->eng.transfers;
	o.buf_size = c->eng.buffer_size;
	o.retries = c->eng.retries;
	o.keep_modes = c->keep_modes;
	if (nv_pull_plan_run(plan, &o, &st)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		rc = NV_EXIT_FATAL;
		goto out;
	}
	if (st.out.fatal)
		nv_log(NV_LOG_ERROR, "%s", st.fatal_msg);
	rc = nv_exit_code(&st.out);
	nv_pull_summary(&s, &st, n, rc, "pull: generation %llu of %s into %s: %llu of "
	       "%zu files restored (%llu bytes), %llu tampered or undecryptable, %llu missing, "
	       "%llu failed", (unsigned long long)s.gen, s.loc->text, dst->text,
	       (unsigned long long)st.done, n, (unsigned long long)st.bytes,
	       (unsigned long long)st.mismatched, (unsigned long long)st.missing,
	       (unsigned long long)st.failed);
	nv_cli_metrics_add(c, c->args[1], &(nv_metrics_figures){
		.bytes = st.bytes, .objects = st.done,
		.failures = st.failed + st.mismatched + st.missing, .generation = s.gen }, rc);
out:
	nv_dest_lock_release(lock);
	nv_pull_plan_free(plan);
	nv_location_free(dst);
	nv_vread_close(&s);
	return rc;
}
