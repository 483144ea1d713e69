/* cmd_copy.c: the copy, sync and check commands over plain trees.
 * Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "cli_report.h"
#include "cmd_vault.h"
#include "keys.h"
#include "util/log.h"
#include "vault/vault.h" /* NV_VAULT_DESCRIPTOR */
#include "vault/vault_check.h"

#include <stdio.h>
#include <string.h>

static void nv_copy_summary(const nv_cli *c, const nv_engine_stats *st, int code)
{
	double mib = (double)st->copied_bytes / (1 << 20);
	nv_log_field x[] = {
		NV_LF_U("unchanged", st->skipped), NV_LF_U("mismatched", st->mismatched),
		NV_LF_B("dry_run", c->eng.dry_run), NV_LF_U("hashed", st->hashed),
		NV_LF_U("size_confirmed", st->size_confirmed),
		NV_LF_U("md5_confirmed", st->md5_confirmed), NV_LF_U("reread", st->reread),
		/* check's own */
		NV_LF_U("identical", st->identical), NV_LF_U("differ", st->differ),
		NV_LF_U("missing", st->missing), NV_LF_U("extra", st->extra),
	};
	char checked[200] = "";
	nv_summary s = {
		.files = st->copied, .bytes = st->copied_bytes, .failed = st->failed,
		.deleted = st->deleted, .seconds = st->seconds, .generation = -1,
		.exit_code = code, .extra = x, .n_extra = 7,
	};

	if (strcmp(c->command, "check") == 0) {
		s.files = st->identical + st->differ + st->missing;
		s.extra = x + 7;
		s.n_extra = 4;
		nv_log_summary(st->differ + st->missing + st->extra ? NV_LOG_WARN : NV_LOG_NOTICE,
		       &s, "%llu identical, %llu differ, %llu missing at destination, %llu only at "
		       "destination, %llu failed (%.2f s)",
		       (unsigned long long)st->identical, (unsigned long long)st->differ,
		       (unsigned long long)st->missing, (unsigned long long)st->extra,
		       (unsigned long long)st->failed, st->seconds);
		return;
	}
	/* what was checked of the copies (the JSON has every count, always) */
	if (st->hashed)
		snprintf(checked, sizeof(checked), "; SHA-256 computed for %llu, size confirmed "
			 "for %llu, MD5 for %llu, read back for %llu",
			 (unsigned long long)st->hashed, (unsigned long long)st->size_confirmed,
			 (unsigned long long)st->md5_confirmed, (unsigned long long)st->reread);
	nv_log_summary(NV_LOG_NOTICE, &s, "%s%llu copied (%.1f MiB, %.1f MiB/s), %llu unchanged, "
	       "%llu deleted, %llu failed, %llu failed verification, in %.2f s%s",
	       c->eng.dry_run ? "dry run: " : "",
	       (unsigned long long)st->copied, mib, st->seconds > 0 ? mib / st->seconds : 0.0,
	       (unsigned long long)st->skipped, (unsigned long long)st->deleted,
	       (unsigned long long)st->failed, (unsigned long long)st->mismatched, st->seconds,
	       checked);
	if (c->eng.backup && !c->eng.dry_run)
		nv_log(NV_LOG_NOTICE, "%llu file%s backed up to %s before being deleted or "
		       "replaced", (unsigned long long)st->backed_up, st->backed_up == 1 ? "" : "s",
		       c->eng.backup->text);
}

/* The options of unattended runs that only make sense together; 0 or an exit
 * code. The file age filter: --min-age and verify's --max-age flag. */
static int nv_copy_options(nv_cli *c)
{
	int code;

	if (c->eng.mode == NV_ENGINE_SYNC && !c->eng.delete_extra &&
	    (c->eng.delete_excluded || c->eng.guard.allow_empty_source ||
	     c->eng.guard.max_count >= 0 || c->eng.guard.max_pct >= 0)) {
		nv_log(NV_LOG_ERROR, "--delete-excluded, --allow-empty-source and --max-delete "
		       "go with --delete");
		return NV_EXIT_USAGE;
	}
	if ((code = nv_cli_filter(c)))
		return code;
	c->eng.lock = c->eng.mode == NV_ENGINE_CHECK ? NULL : c->command;
	c->eng.wait_lock_ms = c->wait_lock_ms;
	return 0;
}

/* The figures --metrics-file reports: what was copied, or for check what was
 * found identical; failures count every file that did not end as it should. */
static void nv_copy_metrics(nv_cli *c, const nv_engine_stats *st, int code)
{
	nv_metrics_figures f = { .bytes = st->copied_bytes, .objects = st->copied,
				 .failures = st->failed + st->mismatched };

	if (c->eng.mode == NV_ENGINE_CHECK) {
		f.bytes = 0;
		f.objects = st->identical;
		f.failures = st->failed + st->differ + st->missing + st->extra;
	}
	nv_cli_metrics_add(c, c->args[1], &f, code);
}

/* check --report on a vault pair (vault/vault_check.h): object by object
 * against the source's signed manifests; no filter applies there. */
static int nv_check_vault(nv_cli *c, const nv_location *src, const nv_location *dst,
			  nv_cli_report *cr)
{
	nv_vcheck *vc = NULL;
	nv_vcheck_stats st;
	int code;

	if (nv_filter_active(c->eng.filter) || c->eng.size_only || c->hashes_from) {
		nv_log(NV_LOG_ERROR, "%s is a vault: check --report reads every object its "
		       "manifests name; filters, --size-only and --hashes-from do not apply",
		       src->text);
		return NV_EXIT_USAGE;
	}
	if (nv_vcheck_open(&vc, src, dst, nv_keys_signing_pubkey(c))) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return nv_exit_for_error(nv_error_code());
	}
	if (!(code = nv_cli_report_open(c, cr, src, dst, "objects", nv_vcheck_vault_id(vc)))) {
		if (nv_vcheck_run(vc, c->eng.transfers, c->eng.buffer_size, c->eng.retries,
				  c->eng.shard, cr->rep, &st))
			nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		code = nv_cli_report_end(c, cr, nv_exit_code(&st.out));
		nv_log_field x[] = {
			NV_LF_U("identical", st.identical), NV_LF_U("differ", st.differ),
			NV_LF_U("missing", st.missing), NV_LF_U("extra", st.extra),
			NV_LF_U("objects", st.objects), NV_LF_U("documents", st.documents),
		};
		nv_summary s = { .files = st.identical + st.differ + st.missing,
				 .failed = st.out.failed, .seconds = st.seconds, .generation = -1,
				 .exit_code = code, .extra = x, .n_extra = NV_LF_COUNT(x) };
		nv_log_summary(code ? NV_LOG_WARN : NV_LOG_NOTICE, &s, "vault %s, %llu manifests: "
			       "%llu objects and %llu documents: %llu identical, %llu differ, %llu "
			       "missing at destination, %llu only at destination, %llu failed "
			       "(%.2f s)", nv_vcheck_vault_id(vc), (unsigned long long)st.generations,
			       (unsigned long long)st.objects, (unsigned long long)st.documents,
			       (unsigned long long)st.identical, (unsigned long long)st.differ,
			       (unsigned long long)st.missing, (unsigned long long)st.extra,
			       (unsigned long long)st.out.failed, st.seconds);
	}
	nv_vcheck_free(vc);
	return code;
}

int nv_cmd_copy(nv_cli *c)
{
	nv_location *src = NULL, *dst = NULL, *bak = NULL;
	nv_engine_stats st;
	nv_cli_report cr = { 0 };
	int code;

	if (strcmp(c->command, "copy") == 0)
		c->eng.mode = NV_ENGINE_COPY;
	else if (strcmp(c->command, "check") == 0)
		c->eng.mode = NV_ENGINE_CHECK;
	else
		c->eng.mode = NV_ENGINE_SYNC;
	if (c->verify_hash) {
		nv_log(NV_LOG_ERROR, "--verify hash is for replicate; copy and sync take size or "
		       "reread");
		return NV_EXIT_USAGE;
	}
	if ((code = nv_copy_options(c)))
		return code;
	if (nv_cli_location(c, 0, &src) || nv_cli_location(c, 1, &dst)) {
		code = NV_EXIT_USAGE;
		goto out;
	}
	if ((code = nv_cli_report_prepare(c, &cr, src)))
		goto out;
	if (c->backup_dir) {
		if (nv_location_parse(&bak, c->backup_dir, c->cfg)) {
			nv_log(NV_LOG_ERROR, "--backup-dir: %s", nv_error_msg());
			code = NV_EXIT_USAGE;
			goto out;
		}
		c->eng.backup = bak;
	}
	if (c->eng.mode == NV_ENGINE_CHECK && c->report && (code = nv_vread_is_vault(src))) {
		if (code < 0) {
			nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
			code = nv_exit_for_error(code);
		} else {
			code = nv_check_vault(c, src, dst, &cr);
		}
		goto out;
	}
	if (c->eng.mode != NV_ENGINE_CHECK)
		c->eng.notice_key = NV_VAULT_DESCRIPTOR;
	if ((code = nv_cli_report_open(c, &cr, src, dst, "files", NULL)))
		goto out;
	code = nv_cli_report_end(c, &cr, nv_engine_run(src, dst, &c->eng, &st));
	if (st.noticed) /* known from the listing: no request of its own */
		nv_log(NV_LOG_WARN, "%s is a navette vault: %s copied it as plain files, in key "
		       "order and unchecked; `navette replicate` checks every object against the "
		       "signed manifests and publishes in an order that keeps the copy a "
		       "complete vault", src->text, c->command);
	nv_copy_summary(c, &st, code);
	nv_copy_metrics(c, &st, code);
out:
	code = nv_cli_report_end(c, &cr, code);
	nv_location_free(src);
	nv_location_free(dst);
	nv_location_free(bak);
	return code;
}
