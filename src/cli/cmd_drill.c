/* cmd_drill.c: the drill command: checks its options, opens the vault (the
 * identity first), gives the drill (vault/drill.h) a scratch directory, --to
 * DIR or nothing (--no-keep), removes the scratch, prints the summary on
 * stdout and writes the reports. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "cmd_vault.h"
#include "keys.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/state.h"
#include "vault/drill_report.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define NV_TMPFS_MAGIC 0x01021994 /* linux/magic.h */

/* The options only the drill reads; usage errors are 2. */
static int nv_drill_options(nv_cli *c, nv_drill_opts *o, nv_drill_report *r)
{
	int rc = 0;

	o->mode = c->sample ? NV_DRILL_SAMPLE : NV_DRILL_FULL;
	o->max_age = r->max_age = c->max_age ? c->max_age_seconds : -1;
	o->workers = c->eng.transfers;
	o->buf_size = c->eng.buffer_size;
	o->retries = c->eng.retries;
	if (c->seed && !c->sample) {
		rc = nv_error_set(NV_EINVAL, "--seed goes with --sample");
		goto usage;
	}
	/* the default seed is the day number (sample.h), as verify's */
	if (c->sample && ((rc = nv_sample_parse(&o->sample, c->sample)) ||
			  (c->seed && (rc = nv_sample_seed_parse(&o->sample.seed, c->seed)))))
		goto usage;
	if (c->no_keep && c->to) {
		rc = nv_error_set(NV_EINVAL, "--no-keep writes nothing: it does not go with --to");
		goto usage;
	}
	r->mode = o->mode;
	r->restore_to = c->no_keep ? "none" : c->to ? "dir" : "scratch";
	r->sample_arg = c->sample;
	r->seed = o->sample.seed;
	return 0;
usage:
	nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return rc == NV_EINVAL ? NV_EXIT_USAGE : NV_EXIT_FATAL;
}

/* --to DIR: a local directory, absent or empty, so that what it holds after
 * the drill is what the drill restored. */
static int nv_drill_to(nv_cli *c, nv_location **out)
{
	struct dirent *de;
	DIR *d;

	if (nv_location_parse(out, c->to, c->cfg))
		return nv_error_wrap(NV_EINVAL, "--to");
	if (strcmp((*out)->driver->name, "local") != 0)
		return nv_error_set(NV_EINVAL, "--to takes a local directory, not %s", c->to);
	if (!(d = opendir((*out)->path)))
		return errno == ENOENT ? 0 : nv_error_errno(errno, "--to %s", c->to);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			break;
	closedir(d);
	if (de)
		return nv_error_set(NV_EINVAL, "--to %s is not empty: a drill restores into an "
				    "empty or new directory", c->to);
	return 0;
}

/* The default target: a new directory under the state directory (private,
 * and on a disk rather than a tmpfs on most systems); *dir its path. */
static int nv_drill_scratch(nv_cli *c, char **dir, nv_location **out)
{
	char path[4200], abs[PATH_MAX], *text;
	struct statfs fs;
	int rc;

	if ((rc = nv_state_path(path, sizeof(path), "drill/run.XXXXXX")))
		return rc;
	if (!mkdtemp(path) || !realpath(path, abs))
		return nv_error_errno(errno, "creating a scratch directory under %s", path);
	if (!(*dir = strdup(abs)) || asprintf(&text, "file://%s", abs) < 0)
		return nv_error_set(NV_ERR, "out of memory");
	rc = nv_location_parse(out, text, c->cfg);
	free(text);
	if (!rc && statfs(abs, &fs) == 0 && fs.f_type == NV_TMPFS_MAGIC)
		nv_log(NV_LOG_WARN, "the scratch directory %s is on a tmpfs: the RTO measured is "
		       "memory's, and a large vault may not fit (--to DIR restores elsewhere)", abs);
	return rc;
}

static int nv_drill_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0)
		nv_log(NV_LOG_WARN, "removing %s: %s", path, strerror(errno));
	return 0;
}

/* Removes the scratch directory: what the drill restored, never following a
 * symbolic link or leaving the file system. Returns 1 when it is gone. */
static int nv_drill_scratch_remove(const char *dir)
{
	struct stat st;

	nftw(dir, nv_drill_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return lstat(dir, &st) != 0;
}

/* raw escaped for a terminal, in t (emptied first). */
static const char *nv_drill_esc(nv_sb *t, const char *raw)
{
	t->len = 0;
	nv_escape_human(t, raw, strlen(raw));
	return nv_sb_str(t);
}

/* One line of the summary: "  label  text". */
__attribute__((format(printf, 3, 4)))
static void nv_drill_line(nv_sb *b, const char *label, const char *fmt, ...)
{
	va_list ap;

	nv_sb_addf(b, "  %-12s ", label);
	va_start(ap, fmt);
	nv_sb_vaddf(b, fmt, ap);
	va_end(ap);
	nv_sb_addc(b, '\n');
}

static void nv_drill_print_ages(nv_sb *b, nv_sb *t, const nv_drill_report *r)
{
	char age[32], max[32];

	nv_drill_age_text(age, r->generation_age);
	if (r->generation)
		nv_drill_line(b, "generation", "%llu, published %s (%s ago)",
			      (unsigned long long)r->generation, nv_drill_esc(t, r->generation_time),
			      age);
	nv_drill_age_text(age, r->heartbeat_age);
	nv_drill_age_text(max, r->max_age);
	if (!r->have_heartbeat)
		nv_drill_line(b, "last push", "unknown: no verified heartbeat");
	else if (r->max_age < 0)
		nv_drill_line(b, "last push", "%s (%s ago: the RPO)",
			      nv_drill_esc(t, r->heartbeat_time), age);
	else
		nv_drill_line(b, "last push", "%s (%s ago: the RPO, %s --max-age %s)",
			      nv_drill_esc(t, r->heartbeat_time), age,
			      r->rpo_exceeded ? "OLDER than" : "within", max);
}

static void nv_drill_print_failures(nv_sb *b, const nv_drill_report *r)
{
	nv_drill_line(b, "failures", "%llu%s", (unsigned long long)r->failures_total,
		      r->failures_total > r->n_failures ? " (the first ones:)" : "");
	for (size_t i = 0; i < r->n_failures; i++) {
		nv_sb_add(b, "    ");
		nv_escape_human(b, r->failures[i].kind, strlen(r->failures[i].kind));
		nv_sb_addc(b, ' ');
		nv_escape_human(b, r->failures[i].what, strlen(r->failures[i].what));
		nv_sb_add(b, ": ");
		nv_escape_human(b, r->failures[i].reason, strlen(r->failures[i].reason));
		nv_sb_addc(b, '\n');
	}
}

/* The human summary, on stdout (what a person or cron's mail reads; with -q
 * only when the drill failed). */
static void nv_drill_print(const nv_drill_report *r)
{
	nv_sb b = { 0 }, t = { 0 };

	if (nv_log_quiet() && !r->exit_code)
		return;
	nv_sb_addf(&b, "navette drill of %s: %s\n", nv_drill_esc(&t, r->vault),
		   r->exit_code ? "FAILED" : "passed");
	if (r->error)
		nv_drill_line(&b, "stopped by", "%s", nv_drill_esc(&t, r->error));
	if (r->vault_id[0])
		nv_drill_line(&b, "vault id", "%s", r->vault_id);
	if (!r->vault_id[0])
		goto out; /* stopped before the vault was open: nothing else to say */
	nv_drill_print_ages(&b, &t, r);
	nv_drill_line(&b, "manifests", "%llu verified back to generation 1",
		      (unsigned long long)r->manifests);
	if (r->mode == NV_DRILL_SAMPLE)
		nv_drill_line(&b, "sample", "%s of the files, seed %llu (seeds %llu to %llu "
			      "check every file)", r->sample_arg, (unsigned long long)r->seed,
			      (unsigned long long)r->seed, (unsigned long long)(r->seed +
			      (r->sample_runs ? r->sample_runs - 1 : 0)));
	nv_drill_line(&b, "files", "%llu of %llu %s (%llu in the generation)",
		      (unsigned long long)r->files_checked, (unsigned long long)r->files_selected,
		      r->restore_path ? "restored and checked" : "streamed and checked",
		      (unsigned long long)r->files_total);
	nv_drill_line(&b, "bytes", "%llu of %llu", (unsigned long long)r->bytes_checked,
		      (unsigned long long)r->bytes_selected);
	if (r->rto >= 0)
		nv_drill_line(&b, "RTO", "%.3f s (%.1f MB/s)", r->rto, r->rto > 0 ?
			      (double)r->bytes_checked / r->rto / 1e6 : 0.0);
	if (r->restore_path)
		nv_drill_line(&b, "restored to", "%s (%s)", nv_drill_esc(&t, r->restore_path),
			      r->kept ? "kept" : "removed");
	nv_drill_print_failures(&b, r);
out:
	nv_drill_line(&b, "exit status", "%d", r->exit_code);
	fputs(nv_sb_str(&b), stdout);
	fflush(stdout);
	nv_sb_free(&b);
	nv_sb_free(&t);
}

/* The log's summary (stderr, or JSON), the reports, the metrics. A report
 * that cannot be written makes the exit status 4. */
static int nv_drill_finish(nv_cli *c, nv_drill_report *r)
{
	nv_log_field x[] = {
		NV_LF_S("result", nv_drill_result(r)), NV_LF_U("selected", r->files_selected),
		NV_LF_U("manifests", r->manifests), NV_LF_I("heartbeat_age", r->heartbeat_age),
		NV_LF_D("rto", r->rto),
	};
	nv_summary sum = {
		.files = r->files_checked, .bytes = r->bytes_checked, .failed = r->failures_total,
		.generation = r->generation ? (int64_t)r->generation : -1,
		.exit_code = r->exit_code, .extra = x, .n_extra = NV_LF_COUNT(x),
	};
	int code = r->exit_code;

	nv_drill_print(r);
	if (r->error)
		nv_log_summary(NV_LOG_ERROR, &sum, "drill of %s: failed: %s", r->vault, r->error);
	else
		nv_log_summary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &sum, "drill of %s: %s: %llu of "
			       "%llu files checked, %llu failure%s", r->vault, nv_drill_result(r),
			       (unsigned long long)r->files_checked,
			       (unsigned long long)r->files_selected,
			       (unsigned long long)r->failures_total,
			       r->failures_total == 1 ? "" : "s");
	if (c->report && nv_drill_write_json(c->report, r)) {
		nv_log(NV_LOG_ERROR, "--report: %s", nv_error_msg());
		code = NV_EXIT_FATAL;
	}
	if (c->report_md && nv_drill_write_markdown(c->report_md, r)) {
		nv_log(NV_LOG_ERROR, "--report-md: %s", nv_error_msg());
		code = NV_EXIT_FATAL;
	}
	nv_cli_metrics_add(c, c->args[0], &(nv_metrics_figures){ .bytes = r->bytes_checked,
		.objects = r->files_checked, .failures = r->failures_total,
		.generation = r->generation }, code);
	return code;
}

/* Opens the vault with the identity loaded first, so that a passphrase typed
 * on the terminal is not part of the RTO. */
static int nv_drill_open(nv_cli *c, nv_vread_session *s, nv_drill_opts *o)
{
	nv_age_identity *id = NULL;
	int code;

	if (nv_keys_identity(c, &id)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return NV_EXIT_USAGE;
	}
	o->t0 = nv_drill_clock();
	code = nv_vread_open(s, c, 0, NV_VREAD_CURRENT);
	s->id = id; /* nv_vread_close frees it */
	o->id = id;
	return code;
}

/* Where the files go: --to DIR, nothing (--no-keep), or a scratch directory. */
static int nv_drill_target(nv_cli *c, nv_drill_report *r, nv_location **t, char **scratch)
{
	int rc = 0;

	if (c->to) {
		if (!(rc = nv_drill_to(c, t)))
			r->restore_path = (*t)->path;
		r->kept = 1;
	} else if (!c->no_keep && !(rc = nv_drill_scratch(c, scratch, t))) {
		r->restore_path = *scratch;
	}
	if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return rc == NV_EINVAL ? NV_EXIT_USAGE : rc ? NV_EXIT_FATAL : 0;
}

int nv_cmd_drill(nv_cli *c)
{
	nv_drill_report r = { .started = time(NULL), .restore_to = "none", .rto = -1,
			      .generation_age = -1, .heartbeat_age = -1 };
	nv_drill_opts o = { 0 };
	nv_vread_session s = { 0 };
	nv_location *target = NULL;
	char *scratch = NULL, *pub = nv_location_public(c->args[0]), *err = NULL;
	double t0 = nv_drill_clock();
	int code, rc;

	r.vault = pub ? pub : c->args[0];
	if ((code = nv_drill_options(c, &o, &r)))
		goto out;
	if (!(code = nv_drill_target(c, &r, &target, &scratch)) && !(code = nv_drill_open(c, &s, &o))) {
		o.target = target;
		rc = nv_vault_drill(s.v, &s.m, s.sha, &o, &r);
		if (rc)
			err = strdup(nv_error_msg());
		code = nv_exit_code(&r.out);
	} else {
		err = strdup(nv_error_msg());
	}
	if (scratch && (r.kept = !nv_drill_scratch_remove(scratch)))
		nv_log(NV_LOG_WARN, "the scratch directory %s could not be removed", scratch);
	r.error = err;
	r.exit_code = code;
	r.finished = time(NULL);
	r.duration = nv_drill_clock() - t0;
	code = nv_drill_finish(c, &r);
out:
	nv_drill_report_clear(&r);
	nv_location_free(target);
	nv_vread_close(&s);
	free(scratch);
	free(pub);
	free(err);
	return code;
}
