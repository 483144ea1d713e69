/* log.h: messages and events to stderr, human or JSON Lines (--log-json),
 * thread-safe, one write per line. Everyone may call; nothing here ever
 * prints a secret it was not given.
 *
 * Untrusted text (names, keys, manifest fields, error messages that embed
 * them) is passed raw: the sink escapes it once for the form it writes
 * (util/escape.h). Never pass text already escaped.
 *
 * JSON Lines: every line is one object {"v":1,"time":..,"level":..,"event":..}
 * with event "start", "item", "progress", "summary", "message" or "trace";
 * docs/navette.1 (JSON LOG) is the schema. */
#ifndef NV_LOG_H
#define NV_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/* The schema's version: the "v" of every JSON line. */
#define NV_LOG_SCHEMA 1

/* NOTICE is shown by default (summaries), INFO with -v (each file), DEBUG with -vv. */
enum nv_log_level { NV_LOG_ERROR, NV_LOG_WARN, NV_LOG_NOTICE, NV_LOG_INFO, NV_LOG_DEBUG };

void nv_log_setup(int json, int verbosity); /* verbosity: -1 quiet, 0 normal, 1+ verbose */
int nv_log_json(void);
int nv_log_quiet(void);

/* A free-text message: "navette: [error: |warning: ]<text>"; JSON event "message". */
void nv_log(enum nv_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One event about one object: "copied", "deleted", "failed", ...
 * Human form: "<action> <path>[: reason]"; JSON: event "item" with action,
 * path and reason. nv_log_item_sha adds the SHA-256 to the JSON form only. */
void nv_log_item(enum nv_log_level lvl, const char *action, const char *path,
		 const char *reason);
void nv_log_item_sha(enum nv_log_level lvl, const char *action, const char *path,
		     const unsigned char sha[NV_SHA256_LEN]);

/* A named value of a JSON line. Build them with the NV_LF_* macros. */
typedef enum { NV_LF_STR, NV_LF_U64, NV_LF_I64, NV_LF_DBL, NV_LF_BOOL, NV_LF_NULL } nv_lf_type;
typedef struct nv_log_field {
	const char *name;
	nv_lf_type type;
	const char *s;     /* NV_LF_STR (NULL: null) */
	uint64_t u;        /* NV_LF_U64, NV_LF_BOOL */
	int64_t i;
	double d;
} nv_log_field;
#define NV_LF_S(n, v) { .name = (n), .type = NV_LF_STR, .s = (v) }
#define NV_LF_U(n, v) { .name = (n), .type = NV_LF_U64, .u = (uint64_t)(v) }
#define NV_LF_I(n, v) { .name = (n), .type = NV_LF_I64, .i = (int64_t)(v) }
#define NV_LF_D(n, v) { .name = (n), .type = NV_LF_DBL, .d = (double)(v) }
#define NV_LF_B(n, v) { .name = (n), .type = NV_LF_BOOL, .u = !!(v) }
#define NV_LF_NULL_(n) { .name = (n), .type = NV_LF_NULL }
#define NV_LF_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* An event with fields of its own; the human form is the message (if fmt is
 * not NULL) as nv_log writes it. replicate/verify --all report each vault as
 * an "item" this way. */
void nv_log_record(enum nv_log_level lvl, const char *event, const nv_log_field *f, size_t nf,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* nv_log_item with the SHA-256 (may be NULL), a reason (may be NULL) and
 * fields of its own after them, all in the JSON form only but the reason. */
void nv_log_item_sha_x(enum nv_log_level lvl, const char *action, const char *path,
		       const unsigned char sha[NV_SHA256_LEN], const char *reason,
		       const nv_log_field *extra, size_t n_extra);

/* A sharded run (--shard): its start and summary events carry "shard" ("K/N")
 * and "run" (the run id, null when none), and the human summary begins
 * "shard K/N of run ID: ". NULL shard: not sharded. Set before the start. */
void nv_log_set_shard(const char *shard, const char *run);

/* The run began: JSON only (event "start": the command and its location
 * arguments, as the caller gives them: credentials already stripped, see
 * nv_location_public). Also starts the clock of the summary. */
void nv_log_start(const char *command, const char *const *locations, size_t n);
/* The command's name given to nv_log_start ("" before). */
const char *nv_log_command(void);

/* The run's outcome. Human form: the message, as nv_log writes it; JSON:
 * event "summary" with these as fields, the message in "msg". */
typedef struct nv_summary {
	uint64_t files, bytes, failed, deleted;
	double seconds;       /* 0: since nv_log_start */
	int64_t generation;   /* < 0: none (null) */
	int exit_code;
	const nv_log_field *extra; /* the command's own counts, may be NULL */
	size_t n_extra;
} nv_summary;
void nv_log_summary(enum nv_log_level lvl, const nv_summary *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void nv_log_vsummary(enum nv_log_level lvl, const nv_summary *s, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* After the command: a run that wrote no summary gets one with its exit code
 * (JSON only: the human output is as the command left it). */
void nv_log_finish(int exit_code);

/* progress.c only: one progress report. JSON: event "progress" with f;
 * human: the line, rewritten in place when inplace (a terminal: the next
 * line written clears it first), else a line of its own. */
void nv_log_progress(const char *line, int inplace, const nv_log_field *f, size_t nf);
/* Removes an in-place progress line from the terminal. */
void nv_log_progress_clear(void);
/* progress.c only: fn (or NULL) runs before a summary is written, so that
 * the last progress report comes before it. */
void nv_log_on_summary(void (*fn)(void));

/* A debugging trace (NAVETTE_HTTP_TRACE): always written; human form the
 * text alone, JSON event "trace". */
void nv_log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
