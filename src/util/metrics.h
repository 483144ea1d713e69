/* metrics.h: --metrics-file: a run's end-of-run figures in the Prometheus text
 * format for node_exporter's textfile collector (one file per job), written
 * atomically (a temporary file in the same directory, then rename) with mode
 * 0644. Each series' last success time is kept in the state directory
 * (state.h), so that a failed run still reports the previous success.
 * Called by the command line (src/cli/cli_metrics.c) and tests. */
#ifndef NV_METRICS_H
#define NV_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nv_metrics nv_metrics;

/* What a command knows at its end, for one destination. */
typedef struct nv_metrics_figures {
	uint64_t bytes;     /* bytes the run moved (copied, uploaded, restored) */
	uint64_t objects;   /* objects it copied, uploaded, restored, or found good */
	uint64_t failures;  /* items that failed, failed verification, or differ */
	uint64_t generation; /* the vault's newest generation; 0: none (not written) */
} nv_metrics_figures;

/* A report for `command` to be written to path; the run's clock starts now. */
int nv_metrics_new(nv_metrics **out, const char *path, const char *command);
void nv_metrics_free(nv_metrics *m);

/* Adds one series, labelled {command, destination}. destination goes into the
 * label as given (escaped): the caller passes it with credentials stripped
 * (nv_location_public). Its duration runs from the previous series' end (or
 * the start), so a command that handles several vaults adds one per vault. */
int nv_metrics_add(nv_metrics *m, const char *destination, const nv_metrics_figures *f,
		   int exit_code);
/* Adds a series for destination that sums every series so far (its generation
 * left out), timed from the start of the run. */
int nv_metrics_add_total(nv_metrics *m, const char *destination, int exit_code);
size_t nv_metrics_count(const nv_metrics *m);
/* A sharded run: every series is also labelled {shard="K/N", run="ID"} (run
 * "" when none was given). Each shard keeps its own last success (its state
 * folder, util/state.h). */
int nv_metrics_set_shard(nv_metrics *m, const char *shard, const char *run);

/* Records each successful series' time in the state directory, reads back the
 * last success of the others, and writes the file. */
int nv_metrics_write(nv_metrics *m);

/* A label value in the exposition format: backslash, double quote and newline
 * escaped, bytes that are not UTF-8 replaced by U+FFFD (Prometheus refuses
 * them). malloc'd; NULL when out of memory. */
char *nv_metrics_label(const char *value);

#endif
