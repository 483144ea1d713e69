/* cmd_merge.c: check --merge-reports OUT REPORT...: the reports of one
 * sharded check merged into one proof of migration (engine/report_merge.h),
 * each shard's signature checked over the bytes as they are merged, the
 * result signed as check signs its report. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "cli_report.h"
#include "engine/report_merge.h"
#include "keys.h"
#include "ssh/sshsig.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NV_MERGE_SIG_MAX 65536 /* nv_sshsig_verify's own limit */

typedef struct nv_merge_sigs {
	const nv_sshkey *signer; /* whose signature a signed report must carry */
	nv_sshsig_ctx *ctx;      /* the report being read, when signed */
	unsigned checked;        /* signatures found good */
} nv_merge_sigs;

/* REPORT.sig, malloc'd. */
static int nv_merge_read_sig(const char *path, char **out, size_t *len)
{
	char *name = malloc(strlen(path) + 5), *buf = malloc(NV_MERGE_SIG_MAX + 1);
	FILE *f = NULL;
	int rc = 0;

	*out = NULL;
	if (!name || !buf) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	sprintf(name, "%s.sig", path);
	if (!(f = fopen(name, "r"))) {
		rc = nv_error_set(NV_EMISMATCH, "%s has no signature (%s: %s)", path, name,
				  strerror(errno));
		goto out;
	}
	*len = fread(buf, 1, NV_MERGE_SIG_MAX + 1, f);
	if (ferror(f) || *len > NV_MERGE_SIG_MAX)
		rc = nv_error_set(NV_EMISMATCH, "%s: unreadable or not a signature", name);
	fclose(f);
	if (!rc) {
		*out = buf;
		buf = NULL;
	}
out:
	free(name);
	free(buf);
	return rc;
}

/* 1 when path.sig exists. */
static int nv_merge_signed(const char *path)
{
	char name[4200];
	struct stat st;

	snprintf(name, sizeof(name), "%s.sig", path);
	return stat(name, &st) == 0;
}

static int nv_merge_sig_begin(void *ctx, const char *path)
{
	nv_merge_sigs *s = ctx;
	size_t len = 0;
	char *sig = NULL;
	int rc;

	if (!nv_merge_signed(path)) /* accepted unsigned: nv_merge_sig_plan decided */
		return 0;
	if (!(rc = nv_merge_read_sig(path, &sig, &len)) && (rc = nv_sshsig_verify_begin(&s->ctx, sig, len, s->signer,
						NV_SSHSIG_NS_REPORT)))
		nv_error_wrap(rc, "%s.sig", path);
	free(sig);
	return rc;
}

static int nv_merge_sig_bytes(void *ctx, const void *p, size_t len)
{
	nv_merge_sigs *s = ctx;

	return s->ctx ? nv_sshsig_update(s->ctx, p, len) : 0;
}

static int nv_merge_sig_end(void *ctx, const char *path)
{
	nv_merge_sigs *s = ctx;
	int rc;

	if (!s->ctx)
		return 0;
	rc = nv_sshsig_verify_end(s->ctx);
	s->ctx = NULL;
	if (rc)
		return nv_error_wrap(rc, "%s does not match its signature %s.sig (edited after it "
				     "was signed?)", path, path);
	s->checked++;
	return 0;
}

/* Which reports are checked, said before anything is read: a signed report
 * always, which needs a key (--signing-pubkey, or --signing-key's public
 * half); with --signing-pubkey every report must be signed. 0 or an exit code. */
static int nv_merge_sig_plan(nv_cli *c, const nv_sshkey *signer, int all)
{
	for (int i = 0; i < c->nargs; i++) {
		int sig = nv_merge_signed(c->args[i]);

		if (all && !sig) {
			nv_log(NV_LOG_ERROR, "%s has no signature (%s.sig): with --signing-pubkey "
			       "every shard's report must be signed by that key", c->args[i],
			       c->args[i]);
			return NV_EXIT_DIFF;
		}
		if (!signer && sig) {
			nv_log(NV_LOG_ERROR, "%s is signed (%s.sig): give --signing-pubkey KEY.pub, "
			       "the key that signed the shards' reports (or --signing-key, when that "
			       "key signed them), so that the signatures are checked",
			       c->args[i], c->args[i]);
			return NV_EXIT_USAGE;
		}
	}
	return 0;
}

/* OUT replaces a file: never one of the reports it merges. */
static int nv_merge_out_ok(nv_cli *c)
{
	struct stat o, r;

	if (stat(c->merge_reports, &o) != 0)
		return 0;
	for (int i = 0; i < c->nargs; i++)
		if (stat(c->args[i], &r) == 0 && r.st_dev == o.st_dev && r.st_ino == o.st_ino) {
			nv_log(NV_LOG_ERROR, "--merge-reports %s is one of the reports to merge: "
			       "give another file for the merged report", c->merge_reports);
			return NV_EXIT_USAGE;
		}
	return 0;
}

static int nv_merge_keys(nv_cli *c, nv_sshkey **key, nv_sshkey **pub)
{
	const char *p = c->signing_pubkey;

	if (c->signing_key && nv_keys_signing_key(c, key))
		goto bad;
	if (p && (strncmp(p, "ssh-", 4) == 0 ? nv_sshkey_parse_public(pub, p) :
		  nv_sshkey_load_public(pub, p))) {
		nv_error_wrap(NV_EINVAL, "--signing-pubkey");
		goto bad;
	}
	return 0;
bad:
	nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return NV_EXIT_USAGE;
}

static void nv_merge_summary(nv_cli *c, const nv_merge_result *r, unsigned checked,
			     int signed_, int code)
{
	nv_log_field x[] = {
		NV_LF_U("shards", r->shards), NV_LF_S("run", r->run),
		NV_LF_U("not_compared", r->not_compared), NV_LF_S("result", r->result),
		NV_LF_S("report", c->merge_reports), NV_LF_U("signatures_checked", checked),
	};
	char sigs[64] = "";
	nv_summary s = { .files = r->files, .generation = -1, .exit_code = code, .extra = x,
			 .n_extra = NV_LF_COUNT(x) };

	if (checked)
		snprintf(sigs, sizeof(sigs), " (%u signature%s checked)", checked,
			 checked == 1 ? "" : "s");
	nv_log_summary(code ? NV_LOG_WARN : NV_LOG_NOTICE, &s, "merged the reports of the %u "
		       "shards of run %s%s into %s%s%s%s: %llu files, %llu not compared: result %s",
		       r->shards, r->run, sigs, c->merge_reports, signed_ ? ", signed in " : "",
		       signed_ ? c->merge_reports : "", signed_ ? ".sig" : "",
		       (unsigned long long)r->files, (unsigned long long)r->not_compared,
		       r->result);
}

int nv_cmd_merge_reports(nv_cli *c)
{
	nv_sshkey *key = NULL, *pub = NULL;
	nv_merge_sigs sigs = { 0 };
	nv_merge_hooks hooks = { &sigs, nv_merge_sig_begin, nv_merge_sig_bytes, nv_merge_sig_end };
	nv_merge_result res;
	int code, rc;

	if ((code = nv_merge_keys(c, &key, &pub)))
		goto out;
	sigs.signer = pub ? pub : key;
	if ((code = nv_merge_out_ok(c)) || (code = nv_merge_sig_plan(c, sigs.signer, pub != NULL)))
		goto out;
	if ((rc = nv_report_merge(c->merge_reports, (const char *const *)c->args,
				  (size_t)c->nargs, sigs.signer ? &hooks : NULL, &res))) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		code = nv_exit_for_error(rc);
		goto out;
	}
	code = res.exit_code;
	if (key && nv_cli_report_sign(c->merge_reports, key)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		code = NV_EXIT_FATAL;
		goto out;
	}
	nv_merge_summary(c, &res, sigs.checked, key != NULL, code);
out:
	nv_sshsig_ctx_free(sigs.ctx);
	nv_sshkey_free(key);
	nv_sshkey_free(pub);
	return code;
}
