/* drill.h: a disaster-recovery drill of one vault: the newest generation (every
 * file, or a seeded sample) restored beneath a directory or streamed through,
 * each object read once and checked against the signed manifest and catalog
 * before anything is committed (object_read.h); the manifest chain back to
 * generation 1; the heartbeat's and the generation's ages (the RPO); the time
 * the restore took (the RTO). Everything lands in a report (drill_report.h
 * writes it). Called by cmd_drill.c. */
#ifndef NV_VAULT_DRILL_H
#define NV_VAULT_DRILL_H

#include <time.h>

#include "sample.h"
#include "util/exit.h"
#include "vault.h"

typedef enum nv_drill_mode {
	NV_DRILL_FULL,   /* every file of the generation */
	NV_DRILL_SAMPLE, /* a seeded sample of the files (sample.h) */
	/* A canary drill (issue 13) selects the canary catalog's files, opened
	 * with the drill key, plus a stored-bytes job for every other object:
	 * its plan goes beside the others in drill.c (nv_drill_plan). */
} nv_drill_mode;

typedef struct nv_drill_opts {
	nv_drill_mode mode;
	const nv_age_identity *id;
	const nv_location *target;   /* restore beneath it; NULL: stream (decrypt and
	                              * check each file, keep nothing) */
	nv_sample_spec sample;       /* NV_DRILL_SAMPLE: the share or count, the seed */
	long long max_age;           /* seconds the heartbeat may be old; < 0: any */
	unsigned workers;
	size_t buf_size;
	unsigned retries;
	double t0;                   /* nv_drill_clock() when the drill began, before
	                              * the vault was opened: the RTO counts from it */
} nv_drill_opts;

/* One problem: kind is the log's event (mismatch, missing, failed, catalog,
 * chain, bad-manifest, heartbeat, rollback, stale, ...), what the file's path
 * or the manifest or document it concerns, reason why. Raw text: each output
 * escapes it. */
typedef struct nv_drill_failure {
	char *kind, *what, *reason;
} nv_drill_failure;

/* The failures a report keeps in full; the others are counted only. */
#define NV_DRILL_FAILURES_KEPT 1000

typedef struct nv_drill_report {
	/* set by the caller (the command line) */
	const char *vault;        /* the location, without credentials */
	nv_drill_mode mode;
	const char *sample_arg;   /* --sample as given (NV_DRILL_SAMPLE) */
	uint64_t seed;
	const char *restore_to;   /* "scratch", "dir" or "none" (streamed) */
	const char *restore_path; /* where the files went; NULL when streamed */
	int kept;                 /* restore_path is left in place */
	long long max_age;        /* seconds; < 0: none */
	time_t started, finished;
	double duration;          /* seconds, the whole drill */
	int exit_code;
	const char *error;        /* what stopped the drill before its end, or NULL */
	/* set by nv_vault_drill */
	char vault_id[NV_VAULT_ID_HEX];
	uint64_t generation;      /* 0: none drilled */
	char generation_time[32];
	long long generation_age; /* seconds when the heartbeat was checked; -1: unknown */
	int have_heartbeat;       /* its signature verified */
	uint64_t heartbeat_generation;
	char heartbeat_time[32];
	long long heartbeat_age;  /* seconds, the RPO; -1: unknown */
	int rpo_exceeded;         /* older than max_age, or no heartbeat with max_age */
	uint64_t manifests;       /* manifests whose signature and chain link verified */
	uint64_t files_total, bytes_total;       /* the generation's */
	uint64_t files_selected, bytes_selected; /* what the drill set out to check */
	uint64_t sample_runs;     /* consecutive seeds from this one that check every file */
	uint64_t files_checked, bytes_checked;   /* restored (or streamed) and matching */
	double rto;               /* seconds from t0 to the last file restored and
	                           * flushed; < 0: no restore ran */
	nv_drill_failure *failures; /* the first NV_DRILL_FAILURES_KEPT */
	size_t n_failures;
	uint64_t failures_total;
	nv_outcome out;           /* for nv_exit_code (util/exit.h) */
} nv_drill_report;

/* Monotonic seconds, for opts.t0. */
double nv_drill_clock(void);

/* Drills generation m (its manifest's SHA-256 sha) of the open vault v, as
 * chosen by nv_vault_select_generation (the rollback rule applied). Each
 * problem is logged and kept in r, and never stops the other checks. Returns
 * 0, or the error that stopped the drill (r->out.fatal holds it): an identity
 * that opens no catalog (NV_EAUTH), a pool stopped by a store that cannot be
 * reached or a full disk. r->out is what nv_exit_code needs. */
int nv_vault_drill(nv_vault *v, const nv_manifest *m, const unsigned char sha[NV_SHA256_LEN],
		   const nv_drill_opts *o, nv_drill_report *r);
/* Frees what nv_vault_drill put in r (the failures). */
void nv_drill_report_clear(nv_drill_report *r);

#endif
