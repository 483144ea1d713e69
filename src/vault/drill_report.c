/* drill_report.c: the drill report as JSON and as Markdown, each written
 * atomically (util/state.h's private writer: mode 0600, temporary file,
 * fsync, rename). Called through drill_report.h. */
#include "nv_autoconf.h"

#include "drill_report.h"
#include "util/escape.h"
#include "util/state.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *nv_drill_result(const nv_drill_report *r)
{
	return r->exit_code == 0 ? "passed" : "failed";
}

const char *nv_drill_mode_name(nv_drill_mode m)
{
	switch (m) {
	case NV_DRILL_SAMPLE: return "sample";
	case NV_DRILL_FULL: break;
	}
	return "full";
}

void nv_drill_age_text(char out[32], long long s)
{
	if (s < 0)
		snprintf(out, 32, "unknown");
	else if (s < 60)
		snprintf(out, 32, "%llds", s);
	else if (s < 3600)
		snprintf(out, 32, "%lldm %llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, 32, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, 32, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

/* ---- JSON ---- */

static void nv_js_str(nv_sb *b, const char *name, const char *s)
{
	if (s && *s)
		nv_json_field(b, name, s);
	else
		nv_sb_addf(b, ",\"%s\":null", name);
}

static void nv_js_u(nv_sb *b, const char *name, uint64_t v)
{
	nv_sb_addf(b, ",\"%s\":%llu", name, (unsigned long long)v);
}

/* A count of seconds, null when unknown (< 0). */
static void nv_js_secs(nv_sb *b, const char *name, long long v)
{
	if (v < 0)
		nv_sb_addf(b, ",\"%s\":null", name);
	else
		nv_sb_addf(b, ",\"%s\":%lld", name, v);
}

static void nv_js_time(nv_sb *b, const char *name, time_t t)
{
	char s[32];

	nv_time_format(s, t);
	nv_js_str(b, name, s);
}

static void nv_js_failures(nv_sb *b, const nv_drill_report *r)
{
	nv_sb_add(b, ",\"failures\":[");
	for (size_t i = 0; i < r->n_failures; i++) {
		nv_sb_add(b, i ? ",{" : "{");
		nv_json_member(b, "kind", r->failures[i].kind);
		nv_json_field(b, "path", r->failures[i].what);
		nv_json_field(b, "reason", r->failures[i].reason);
		nv_sb_addc(b, '}');
	}
	nv_sb_addc(b, ']');
	nv_js_u(b, "failures_total", r->failures_total);
}

void nv_drill_json(nv_sb *b, const nv_drill_report *r)
{
	nv_sb_add(b, "{\"format\":\"navette-drill-report\",\"version\":1,"
		  "\"navette\":\"" PACKAGE_VERSION "\"");
	nv_js_str(b, "result", nv_drill_result(r));
	nv_sb_addf(b, ",\"exit_code\":%d", r->exit_code);
	nv_js_str(b, "error", r->error);
	nv_js_str(b, "vault", r->vault);
	nv_js_str(b, "vault_id", r->vault_id);
	nv_js_str(b, "mode", nv_drill_mode_name(r->mode));
	nv_js_time(b, "started", r->started);
	nv_js_time(b, "finished", r->finished);
	nv_sb_addf(b, ",\"duration_seconds\":%.3f", r->duration);
	nv_sb_add(b, ",\"restore\":{");
	nv_json_member(b, "to", r->restore_to);
	nv_js_str(b, "path", r->restore_path);
	nv_sb_addf(b, ",\"kept\":%s}", r->kept ? "true" : "false");
	if (r->mode == NV_DRILL_SAMPLE)
		nv_sb_addf(b, ",\"sample\":{\"asked\":\"%s\",\"seed\":%llu,\"runs_for_all\":%llu}",
			   r->sample_arg ? r->sample_arg : "", (unsigned long long)r->seed,
			   (unsigned long long)r->sample_runs);
	else
		nv_sb_add(b, ",\"sample\":null");
	if (r->generation) {
		nv_sb_addf(b, ",\"generation\":{\"number\":%llu", (unsigned long long)r->generation);
		nv_js_str(b, "time", r->generation_time);
		nv_js_secs(b, "age_seconds", r->generation_age);
		nv_sb_addc(b, '}');
	} else {
		nv_sb_add(b, ",\"generation\":null");
	}
	if (r->have_heartbeat) {
		nv_sb_addf(b, ",\"heartbeat\":{\"generation\":%llu",
			   (unsigned long long)r->heartbeat_generation);
		nv_js_str(b, "time", r->heartbeat_time);
		nv_js_secs(b, "age_seconds", r->heartbeat_age);
		nv_sb_addc(b, '}');
	} else {
		nv_sb_add(b, ",\"heartbeat\":null");
	}
	nv_sb_addf(b, ",\"rpo\":{\"exceeded\":%s", r->rpo_exceeded ? "true" : "false");
	nv_js_secs(b, "heartbeat_age_seconds", r->heartbeat_age);
	nv_js_secs(b, "generation_age_seconds", r->generation_age);
	nv_js_secs(b, "max_age_seconds", r->max_age);
	nv_sb_addc(b, '}');
	nv_js_u(b, "manifests_verified", r->manifests);
	nv_sb_addf(b, ",\"files\":{\"total\":%llu", (unsigned long long)r->files_total);
	nv_js_u(b, "selected", r->files_selected);
	nv_js_u(b, "checked", r->files_checked);
	nv_sb_addf(b, "},\"bytes\":{\"total\":%llu", (unsigned long long)r->bytes_total);
	nv_js_u(b, "selected", r->bytes_selected);
	nv_js_u(b, "checked", r->bytes_checked);
	nv_sb_addc(b, '}');
	if (r->rto >= 0)
		nv_sb_addf(b, ",\"rto\":{\"seconds\":%.3f,\"bytes_per_second\":%.0f}", r->rto,
			   r->rto > 0 ? (double)r->bytes_checked / r->rto : 0.0);
	else
		nv_sb_add(b, ",\"rto\":null");
	nv_js_failures(b, r);
	nv_sb_add(b, "}\n");
}

/* ---- Markdown ---- */

void nv_md_escape(nv_sb *b, const char *s)
{
	nv_sb h = { 0 };
	const char *p, *t;

	nv_escape_human(&h, s, strlen(s));
	for (p = t = nv_sb_str(&h); *p; p++) {
		/* "www." would start an autolink (GFM), as "http:" would */
		if (strchr("\\`*_[]()<>!&|~:$#=^", *p) ||
		    (*p == '.' && p - t >= 3 && strncasecmp(p - 3, "www", 3) == 0))
			nv_sb_addc(b, '\\');
		nv_sb_addc(b, *p);
	}
	nv_sb_free(&h);
}

/* A time from the store: rewritten from its value when it parses (nothing
 * to escape then), escaped otherwise. */
static void nv_md_time(nv_sb *b, const char *raw)
{
	char out[32];
	time_t t;

	if (nv_time_parse(&t, raw) == 0) {
		nv_time_format(out, t);
		nv_sb_add(b, out);
	} else {
		nv_md_escape(b, raw);
	}
}

/* One row of the summary table: the label is ours, the value already
 * Markdown (escaped by the caller where it holds untrusted text). */
__attribute__((format(printf, 3, 4)))
static void nv_md_row(nv_sb *b, const char *label, const char *fmt, ...)
{
	va_list ap;

	nv_sb_addf(b, "| %s | ", label);
	va_start(ap, fmt);
	nv_sb_vaddf(b, fmt, ap);
	va_end(ap);
	nv_sb_add(b, " |\n");
}

static void nv_md_restore(nv_sb *b, const nv_drill_report *r)
{
	nv_sb_add(b, "| Restored to | ");
	if (!r->restore_path) {
		nv_sb_add(b, "nowhere: streamed through, checked and discarded (--no-keep)");
	} else {
		nv_md_escape(b, r->restore_path);
		nv_sb_add(b, r->kept ? " (kept)" : " (a scratch directory, removed afterwards)");
	}
	nv_sb_add(b, " |\n");
}

static void nv_md_ages(nv_sb *b, const nv_drill_report *r)
{
	char age[32], max[32];

	nv_drill_age_text(max, r->max_age);
	nv_sb_add(b, "| Generation | ");
	if (r->generation) {
		nv_drill_age_text(age, r->generation_age);
		nv_sb_addf(b, "%llu, published ", (unsigned long long)r->generation);
		nv_md_time(b, r->generation_time);
		nv_sb_addf(b, " (%s ago) |\n", age);
	} else {
		nv_sb_add(b, "none |\n");
	}
	nv_sb_add(b, "| Last push (heartbeat): the RPO | ");
	if (r->have_heartbeat) {
		nv_drill_age_text(age, r->heartbeat_age);
		nv_md_time(b, r->heartbeat_time);
		nv_sb_addf(b, ", %s ago, naming generation %llu |\n", age,
			   (unsigned long long)r->heartbeat_generation);
	} else {
		nv_sb_add(b, "no verified heartbeat |\n");
	}
	if (r->max_age >= 0)
		nv_md_row(b, "RPO within --max-age", "%s (at most %s)",
			  r->rpo_exceeded ? "**no**" : "yes", max);
	else
		nv_md_row(b, "RPO within --max-age", "no bound given");
}

static void nv_md_failures(nv_sb *b, const nv_drill_report *r)
{
	if (!r->failures_total)
		return;
	nv_sb_add(b, "\n## Failures\n\n| Kind | Path | Reason |\n|---|---|---|\n");
	for (size_t i = 0; i < r->n_failures; i++) {
		nv_sb_add(b, "| ");
		nv_md_escape(b, r->failures[i].kind);
		nv_sb_add(b, " | ");
		nv_md_escape(b, r->failures[i].what);
		nv_sb_add(b, " | ");
		nv_md_escape(b, r->failures[i].reason);
		nv_sb_add(b, " |\n");
	}
	if (r->failures_total > r->n_failures)
		nv_sb_addf(b, "\nThe first %zu of %llu failures are listed; the log names "
			   "every one.\n", r->n_failures, (unsigned long long)r->failures_total);
}

void nv_drill_markdown(nv_sb *b, const nv_drill_report *r)
{
	char started[32], finished[32], took[32];

	nv_time_format(started, r->started);
	nv_time_format(finished, r->finished);
	nv_drill_age_text(took, (long long)(r->duration + 0.5));
	nv_sb_addf(b, "# navette disaster-recovery drill: %s\n\n| | |\n|---|---|\n",
		   r->exit_code ? "FAILED" : "PASSED");
	nv_md_row(b, "Result", "**%s** (exit status %d)", nv_drill_result(r), r->exit_code);
	if (r->error) {
		nv_sb_add(b, "| Stopped by | ");
		nv_md_escape(b, r->error);
		nv_sb_add(b, " |\n");
	}
	nv_sb_add(b, "| Vault | ");
	nv_md_escape(b, r->vault ? r->vault : "");
	nv_sb_addf(b, " |\n| Vault id | %s |\n", r->vault_id[0] ? r->vault_id : "unknown");
	nv_md_row(b, "Drill", "%s, from %s to %s (%s)", r->mode == NV_DRILL_SAMPLE ?
		  "a seeded sample of the files" : "every file of the generation", started,
		  finished, took);
	if (r->mode == NV_DRILL_SAMPLE) {
		nv_sb_add(b, "| Sample | ");
		nv_md_escape(b, r->sample_arg ? r->sample_arg : "");
		nv_sb_addf(b, " of the files, seed %llu, with the largest file and one per "
			   "top-level directory; seeds %llu to %llu check every file |\n",
			   (unsigned long long)r->seed, (unsigned long long)r->seed,
			   (unsigned long long)(r->seed + (r->sample_runs ? r->sample_runs - 1 : 0)));
	}
	nv_md_ages(b, r);
	nv_md_row(b, "Manifest chain", "%llu manifests verified back to generation 1",
		  (unsigned long long)r->manifests);
	nv_md_row(b, "Files checked", "%llu of %llu selected (%llu in the generation)",
		  (unsigned long long)r->files_checked, (unsigned long long)r->files_selected,
		  (unsigned long long)r->files_total);
	nv_md_row(b, "Bytes checked", "%llu of %llu selected (%llu in the generation)",
		  (unsigned long long)r->bytes_checked, (unsigned long long)r->bytes_selected,
		  (unsigned long long)r->bytes_total);
	if (r->rto >= 0)
		nv_md_row(b, "Time to restore (RTO)", "%.3f s, %.1f MB/s", r->rto,
			  r->rto > 0 ? (double)r->bytes_checked / r->rto / 1e6 : 0.0);
	else
		nv_md_row(b, "Time to restore (RTO)", "not measured: no restore ran");
	nv_md_restore(b, r);
	nv_md_row(b, "Failures", "%llu", (unsigned long long)r->failures_total);
	nv_md_failures(b, r);
	nv_sb_add(b, "\nEach file was read once from the store: its stored bytes checked "
		  "against the signed manifest and its contents against the signed catalog "
		  "(SHA-256) before it was committed. Report written by navette "
		  PACKAGE_VERSION ".\n");
}

static int nv_drill_save(const char *path, const nv_drill_report *r,
			 void (*render)(nv_sb *, const nv_drill_report *))
{
	nv_sb b = { 0 };
	int rc;

	render(&b, r);
	if ((rc = nv_sb_ok(&b)) == 0)
		rc = nv_state_write(path, b.s, b.len);
	nv_sb_free(&b);
	return rc;
}

int nv_drill_write_json(const char *path, const nv_drill_report *r)
{
	return nv_drill_save(path, r, nv_drill_json);
}

int nv_drill_write_markdown(const char *path, const nv_drill_report *r)
{
	return nv_drill_save(path, r, nv_drill_markdown);
}
