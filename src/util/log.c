/* log.c: the one sink of stderr: human lines escaped for a terminal, or JSON
 * Lines of one schema (log.h); one write per line under a lock, so lines of
 * several workers never interleave and an in-place progress line is cleared
 * before any other. Everyone may call. */
#include "nv_autoconf.h"

#include "log.h"
#include "escape.h"
#include "membudget.h"
#include "times.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int nv_log_as_json;
static int nv_log_verbosity;
static pthread_mutex_t nv_log_mu = PTHREAD_MUTEX_INITIALIZER;
static int nv_status_shown;      /* an in-place progress line is on the terminal */
static const char *nv_run_command = "";
static struct timespec nv_run_t0;
static int nv_run_started, nv_run_summarised;
static void (*nv_before_summary)(void);
static char nv_run_shard[24], nv_run_id[72]; /* a sharded run's "K/N" and run id */

static const char *const nv_level_names[] = { "error", "warning", "notice", "info", "debug" };

void nv_log_setup(int json, int verbosity)
{
	nv_log_as_json = json;
	nv_log_verbosity = verbosity;
}

int nv_log_json(void) { return nv_log_as_json; }

int nv_log_quiet(void) { return nv_log_verbosity < 0; }

const char *nv_log_command(void) { return nv_run_command; }

static int nv_log_enabled(enum nv_log_level lvl)
{
	if (lvl <= NV_LOG_WARN)
		return 1;
	return (int)lvl - 2 <= nv_log_verbosity;
}

/* Writes one finished line; a progress line on the terminal goes first. */
static void nv_log_write(const nv_sb *b, int status)
{
	static const char clear[] = "\r\033[K";

	pthread_mutex_lock(&nv_log_mu);
	if (nv_status_shown)
		fwrite(clear, 1, sizeof(clear) - 1, stderr);
	nv_status_shown = status;
	fwrite(nv_sb_str(b), 1, b->len, stderr);
	fflush(stderr);
	pthread_mutex_unlock(&nv_log_mu);
}

/* {"v":1,"time":"...","level":"...","event":"..." */
static void nv_json_begin(nv_sb *b, enum nv_log_level lvl, const char *event)
{
	struct timespec now;
	char ts[NV_TIME_LEN];

	clock_gettime(CLOCK_REALTIME, &now);
	if (nv_time_utc(ts, now.tv_sec) == 0)
		ts[19] = '\0'; /* the milliseconds go before the Z */
	nv_sb_addf(b, "{\"v\":%d,\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"event\":\"%s\"",
		    NV_LOG_SCHEMA, ts, now.tv_nsec / 1000000, nv_level_names[lvl], event);
}

static void nv_json_fields(nv_sb *b, const nv_log_field *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		switch (f[i].type) {
		case NV_LF_STR:
			if (f[i].s) {
				nv_json_field(b, f[i].name, f[i].s);
				continue;
			}
			break;
		case NV_LF_U64:
			nv_sb_addf(b, ",\"%s\":%llu", f[i].name, (unsigned long long)f[i].u);
			continue;
		case NV_LF_I64:
			nv_sb_addf(b, ",\"%s\":%lld", f[i].name, (long long)f[i].i);
			continue;
		case NV_LF_DBL:
			if (isfinite(f[i].d)) {
				nv_sb_addf(b, ",\"%s\":%.3f", f[i].name, f[i].d);
				continue;
			}
			break;
		case NV_LF_BOOL:
			nv_sb_addf(b, ",\"%s\":%s", f[i].name, f[i].u ? "true" : "false");
			continue;
		case NV_LF_NULL:
			break;
		}
		nv_sb_addf(b, ",\"%s\":null", f[i].name);
	}
}

/* One line: JSON (header, fields, then "msg"), or the human text escaped. */
static void nv_log_emit(enum nv_log_level lvl, const char *event, const nv_log_field *f1,
			size_t n1, const nv_log_field *f2, size_t n2, const char *human,
			const char *msg)
{
	nv_sb b = { 0 };

	if (nv_log_as_json) {
		nv_json_begin(&b, lvl, event);
		nv_json_fields(&b, f1, n1);
		nv_json_fields(&b, f2, n2);
		if (msg)
			nv_json_field(&b, "msg", msg);
		nv_sb_addn(&b, "}\n", 2);
	} else if (human) {
		nv_escape_human(&b, human, strlen(human));
		nv_sb_addc(&b, '\n');
	}
	if (b.len)
		nv_log_write(&b, 0);
	nv_sb_free(&b);
}

/* "navette: [error: |warning: ]msg" */
static void nv_log_human_msg(nv_sb *h, enum nv_log_level lvl, const char *msg)
{
	nv_sb_addf(h, "navette: %s%s", lvl == NV_LOG_ERROR ? "error: " :
		    lvl == NV_LOG_WARN ? "warning: " : "", msg);
}

static void nv_log_vrecord(enum nv_log_level lvl, const char *event, const nv_log_field *f1,
			   size_t n1, const nv_log_field *f2, size_t n2, const char *fmt,
			   va_list ap)
{
	nv_sb msg = { 0 }, human = { 0 };

	if (fmt) {
		nv_sb_vaddf(&msg, fmt, ap);
		nv_log_human_msg(&human, lvl, nv_sb_str(&msg));
	}
	nv_log_emit(lvl, event, f1, n1, f2, n2, fmt ? nv_sb_str(&human) : NULL,
		    fmt ? nv_sb_str(&msg) : NULL);
	nv_sb_free(&msg);
	nv_sb_free(&human);
}

void nv_log(enum nv_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (!nv_log_enabled(lvl))
		return;
	va_start(ap, fmt);
	nv_log_vrecord(lvl, "message", NULL, 0, NULL, 0, fmt, ap);
	va_end(ap);
}

void nv_log_record(enum nv_log_level lvl, const char *event, const nv_log_field *f, size_t nf,
		   const char *fmt, ...)
{
	va_list ap;

	if (!nv_log_enabled(lvl))
		return;
	va_start(ap, fmt);
	nv_log_vrecord(lvl, event, f, nf, NULL, 0, fmt, ap);
	va_end(ap);
}

static void nv_log_item_any(enum nv_log_level lvl, const char *action, const char *path,
			    const char *sha_hex, const char *reason, const nv_log_field *extra,
			    size_t n_extra)
{
	nv_log_field f[4] = {
		NV_LF_S("action", action), NV_LF_S("path", path),
	};
	size_t n = 2;
	nv_sb human = { 0 };

	if (!nv_log_enabled(lvl))
		return;
	/* absent values are left out rather than written as null */
	if (sha_hex)
		f[n++] = (nv_log_field)NV_LF_S("sha256", sha_hex);
	if (reason)
		f[n++] = (nv_log_field)NV_LF_S("reason", reason);
	nv_sb_addf(&human, "%s %s%s%s", action, path, reason ? ": " : "", reason ? reason : "");
	nv_log_emit(lvl, "item", f, n, extra, n_extra, nv_sb_str(&human), NULL);
	nv_sb_free(&human);
}

void nv_log_item(enum nv_log_level lvl, const char *action, const char *path,
		 const char *reason)
{
	nv_log_item_any(lvl, action, path, NULL, reason, NULL, 0);
}

void nv_log_item_sha(enum nv_log_level lvl, const char *action, const char *path,
		     const unsigned char sha[NV_SHA256_LEN])
{
	nv_log_item_sha_x(lvl, action, path, sha, NULL, NULL, 0);
}

void nv_log_item_sha_x(enum nv_log_level lvl, const char *action, const char *path,
		       const unsigned char sha[NV_SHA256_LEN], const char *reason,
		       const nv_log_field *extra, size_t n_extra)
{
	char hex[NV_SHA256_HEX];

	if (!nv_log_enabled(lvl))
		return; /* called per file: no hex for a line nobody asked for */
	if (sha)
		nv_hex(hex, sha, NV_SHA256_LEN);
	nv_log_item_any(lvl, action, path, sha ? hex : NULL, reason, extra, n_extra);
}

void nv_log_set_shard(const char *shard, const char *run)
{
	snprintf(nv_run_shard, sizeof(nv_run_shard), "%s", shard ? shard : "");
	snprintf(nv_run_id, sizeof(nv_run_id), "%s", run ? run : "");
}

/* A sharded run's fields of the start and the summary: "shard", then "run"
 * (null when none was given); nothing when not sharded. Returns how many. */
static size_t nv_log_shard_fields(nv_log_field *f)
{
	if (!nv_run_shard[0])
		return 0;
	f[0] = (nv_log_field)NV_LF_S("shard", nv_run_shard);
	f[1] = (nv_log_field)NV_LF_S("run", nv_run_id[0] ? nv_run_id : NULL);
	return 2;
}

void nv_log_start(const char *command, const char *const *locations, size_t n)
{
	nv_sb b = { 0 };

	nv_run_command = command;
	clock_gettime(CLOCK_MONOTONIC, &nv_run_t0);
	nv_run_started = 1;
	nv_run_summarised = 0;
	if (!nv_log_as_json || !nv_log_enabled(NV_LOG_NOTICE))
		return;
	nv_json_begin(&b, NV_LOG_NOTICE, "start");
	nv_json_field(&b, "command", command);
	nv_sb_add(&b, ",\"version\":\"" PACKAGE_VERSION "\",\"locations\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			nv_sb_addc(&b, ',');
		if (locations[i])
			nv_escape_json(&b, locations[i], strlen(locations[i]));
		else
			nv_sb_add(&b, "null"); /* out of memory */
	}
	nv_sb_addf(&b, "],\"pid\":%ld", (long)getpid());
	{
		nv_log_field f[2];

		nv_json_fields(&b, f, nv_log_shard_fields(f));
	}
	nv_sb_add(&b, "}\n");
	nv_log_write(&b, 0);
	nv_sb_free(&b);
}

static double nv_run_seconds(void)
{
	struct timespec now;

	if (!nv_run_started)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - nv_run_t0.tv_sec) +
	       (double)(now.tv_nsec - nv_run_t0.tv_nsec) / 1e9;
}

__attribute__((format(printf, 5, 6)))
static void nv_log_summary_msg(enum nv_log_level lvl, const nv_log_field *f, size_t nf,
			       const nv_summary *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nv_log_vrecord(lvl, "summary", f, nf, s->extra, s->n_extra, fmt, ap);
	va_end(ap);
}

void nv_log_vsummary(enum nv_log_level lvl, const nv_summary *s, const char *fmt, va_list ap)
{
	nv_log_field f[] = {
		NV_LF_S("command", nv_run_command),
		NV_LF_U("files", s->files),
		NV_LF_U("bytes", s->bytes),
		NV_LF_U("failed", s->failed),
		NV_LF_U("deleted", s->deleted),
		NV_LF_D("duration", s->seconds > 0 ? s->seconds : nv_run_seconds()),
		NV_LF_I("generation", s->generation),
		NV_LF_I("exit", s->exit_code),
		NV_LF_U("peak_buffer_bytes", nv_membudget_peak()),
		NV_LF_NULL_("shard"), NV_LF_NULL_("run"), /* filled when sharded */
	};
	size_t nf = 9 + nv_log_shard_fields(f + 9);
	nv_sb msg = { 0 };

	nv_run_summarised = 1;
	if (nv_before_summary)
		nv_before_summary();
	if (s->generation < 0)
		f[6] = (nv_log_field)NV_LF_NULL_("generation");
	if (!nv_log_enabled(lvl))
		return;
	if (!fmt || nf == 9) {
		nv_log_vrecord(lvl, "summary", f, nf, s->extra, s->n_extra, fmt, ap);
		return;
	}
	/* A shard's summary says which shard it is, in both forms. */
	nv_sb_addf(&msg, "shard %s%s%s: ", nv_run_shard, nv_run_id[0] ? " of run " : "",
		   nv_run_id);
	nv_sb_vaddf(&msg, fmt, ap);
	nv_log_summary_msg(lvl, f, nf, s, "%s", nv_sb_str(&msg));
	nv_sb_free(&msg);
}

void nv_log_summary(enum nv_log_level lvl, const nv_summary *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nv_log_vsummary(lvl, s, fmt, ap);
	va_end(ap);
}

/* nv_log_summary without the format check: the one caller passes no message. */
static void nv_log_summary_any(enum nv_log_level lvl, const nv_summary *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nv_log_vsummary(lvl, s, fmt, ap);
	va_end(ap);
}

void nv_log_finish(int exit_code)
{
	nv_summary s = { .generation = -1, .exit_code = exit_code };

	if (!nv_run_started || nv_run_summarised || !nv_log_as_json)
		return;
	/* no message: the human output stays as the command left it */
	nv_log_summary_any(exit_code ? NV_LOG_ERROR : NV_LOG_NOTICE, &s, NULL);
}

void nv_log_on_summary(void (*fn)(void))
{
	nv_before_summary = fn;
}

void nv_log_progress(const char *line, int inplace, const nv_log_field *f, size_t nf)
{
	nv_sb b = { 0 };

	if (nv_log_as_json) {
		nv_json_begin(&b, NV_LOG_NOTICE, "progress");
		nv_json_field(&b, "command", nv_run_command);
		nv_json_fields(&b, f, nf);
		nv_sb_addn(&b, "}\n", 2);
		nv_log_write(&b, 0);
	} else {
		if (inplace)
			nv_sb_addc(&b, '\r');
		nv_escape_human(&b, line, strlen(line));
		nv_sb_add(&b, inplace ? "\033[K" : "\n");
		nv_log_write(&b, inplace);
	}
	nv_sb_free(&b);
}

void nv_log_progress_clear(void)
{
	nv_sb none = { 0 };

	nv_log_write(&none, 0);
}

void nv_log_trace(const char *fmt, ...)
{
	nv_sb msg = { 0 };
	va_list ap;

	va_start(ap, fmt);
	nv_sb_vaddf(&msg, fmt, ap);
	va_end(ap);
	nv_log_emit(NV_LOG_DEBUG, "trace", NULL, 0, NULL, 0, nv_sb_str(&msg), nv_sb_str(&msg));
	nv_sb_free(&msg);
}
