/* cli_report.c: --report, --hashes-from and --signing-key of check, copy and
 * sync (cli_report.h): a report is written whole, then signed from its bytes
 * on disk, so FILE.sig covers exactly what an auditor reads. Called by cmd_copy.c
 * and cmd_merge.c. */
#include "cli_report.h"
#include "keys.h"
#include "ssh/sshsig.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nv_cli_report_prepare(nv_cli *c, nv_cli_report *cr, const nv_location *src)
{
	memset(cr, 0, sizeof(*cr));
	if (!c->report && c->signing_key) {
		nv_log(NV_LOG_ERROR, "--signing-key signs the report: it goes with --report FILE");
		return NV_EXIT_USAGE;
	}
	if (c->report && c->eng.dry_run) {
		nv_log(NV_LOG_ERROR, "--report records what a run did: not with --dry-run");
		return NV_EXIT_USAGE;
	}
	if (c->hashes_from && c->eng.size_only) {
		nv_log(NV_LOG_ERROR, "--hashes-from spares reading SRC's files; --size-only reads "
		       "none: give one of them");
		return NV_EXIT_USAGE;
	}
	if (c->signing_key && nv_keys_signing_key(c, &cr->key)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return NV_EXIT_USAGE;
	}
	if (c->hashes_from && nv_hashbook_load(&cr->book, c->hashes_from, src)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		nv_sshkey_free(cr->key);
		cr->key = NULL;
		return NV_EXIT_USAGE;
	}
	if (cr->book)
		nv_log(NV_LOG_INFO, "--hashes-from %s: %zu files' SHA-256 recorded", c->hashes_from,
		       nv_hashbook_count(cr->book));
	c->eng.recorded = cr->book;
	return 0;
}

int nv_cli_report_open(nv_cli *c, nv_cli_report *cr, const nv_location *src,
		       const nv_location *dst, const char *compare, const char *vault_id)
{
	nv_report_head h = {
		.command = c->command, .compare = compare, .source = src,
		.destination = dst, .filter = c->eng.filter, .size_only = c->eng.size_only,
		.hashes_from = c->hashes_from, .vault_id = vault_id, .shard = c->eng.shard,
	};

	if (!c->report)
		return 0;
	if (nv_report_open(&cr->rep, c->report, &h)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return NV_EXIT_FATAL;
	}
	c->eng.report = cr->rep;
	return 0;
}

/* FILE.sig: the armored SSHSIG of FILE's bytes, written whole then renamed. */
int nv_cli_report_sign(const char *path, const nv_sshkey *k)
{
	char buf[65536], *armored = NULL, *sig = NULL, *part = NULL;
	nv_sshsig_ctx *ctx = NULL;
	FILE *in = fopen(path, "rb"), *out = NULL;
	size_t n;
	int rc;

	if (!in)
		return nv_error_errno(errno, "reading %s to sign it", path);
	rc = nv_sshsig_sign_begin(&ctx);
	while (!rc && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		rc = nv_sshsig_update(ctx, buf, n);
	if (!rc && ferror(in))
		rc = nv_error_errno(EIO, "reading %s to sign it", path);
	fclose(in);
	if (rc) {
		nv_sshsig_ctx_free(ctx);
		return rc;
	}
	if ((rc = nv_sshsig_sign_end(&armored, ctx, k, NV_SSHSIG_NS_REPORT)))
		return rc;
	if (!(sig = malloc(strlen(path) + 5)) || !(part = malloc(strlen(path) + 10))) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	sprintf(sig, "%s.sig", path);
	sprintf(part, "%s.sig.part", path);
	if (!(out = fopen(part, "w"))) {
		rc = nv_error_errno(errno, "writing %s", part);
	} else {
		int bad = fputs(armored, out) < 0;

		if ((fclose(out) != 0 || bad) && !rc)
			rc = nv_error_errno(errno ? errno : EIO, "writing %s", part);
		if (!rc && rename(part, sig) != 0)
			rc = nv_error_errno(errno, "renaming %s", sig);
		if (rc)
			remove(part);
	}
out:
	free(armored);
	free(sig);
	free(part);
	return rc;
}

int nv_cli_report_end(nv_cli *c, nv_cli_report *cr, int code)
{
	int stopped = code == NV_EXIT_FATAL || code == NV_EXIT_USAGE;
	const char *result = "";

	if (cr->rep) {
		if (nv_report_close(cr->rep, code, stopped, &result) ||
		    (cr->key && nv_cli_report_sign(c->report, cr->key))) {
			nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
			code = NV_EXIT_FATAL;
		} else {
			nv_log(NV_LOG_NOTICE, "report written to %s%s%s%s: result %s", c->report,
			       cr->key ? ", signed in " : "", cr->key ? c->report : "",
			       cr->key ? ".sig" : "", result);
		}
	}
	nv_hashbook_free(cr->book);
	nv_sshkey_free(cr->key);
	memset(cr, 0, sizeof(*cr));
	c->eng.report = NULL;
	c->eng.recorded = NULL;
	return code;
}
