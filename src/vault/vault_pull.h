/* vault_pull.h: the reader's jobs, run on the one worker pool (engine/pool.h):
 * N workers, each with its own connections, read each object once
 * (object_read.h): stored bytes checked against a verified manifest, and in
 * the same pass decrypted and checked against the catalog (or restored).
 * Called by cmd_pull.c and vault_verify.c. */
#ifndef NV_VAULT_PULL_H
#define NV_VAULT_PULL_H

#include "age/age.h"
#include "driver/driver.h"
#include "engine/shard.h"
#include "util/exit.h"
#include "vault_doc.h"

typedef enum nv_vread_mode {
	NV_VREAD_HASH,    /* stored size and SHA-256 only */
	NV_VREAD_DEEP,    /* + decrypt; plaintext size and SHA-256 against the catalog */
	NV_VREAD_RESTORE, /* + write the plaintext beneath the target */
} nv_vread_mode;

typedef struct nv_vread_job {
	const nv_obj_rec *rec;     /* the verified manifest's record of the object */
	const nv_cat_entry *entry; /* the file it holds; NULL: stored bytes only */
} nv_vread_job;

/* Told of each problem as it is logged (kind: the log's event, such as
 * "mismatch"; what: the file, object or document; msg: why), for a caller that
 * keeps them (drill reports). Called from the pool's worker threads. */
typedef void (*nv_vread_note_fn)(void *ctx, const char *kind, const char *what,
				 const char *msg);

typedef struct nv_vread_opts {
	nv_vread_mode mode;
	const nv_location *vault;  /* each worker opens its own connection */
	const nv_location *target; /* RESTORE: the directory restored into */
	const nv_age_identity *id; /* DEEP, RESTORE */
	unsigned workers;
	size_t buf_size;           /* per worker, for the stored bytes */
	unsigned retries;          /* per job, for transient errors (util/retry.h) */
	int keep_modes;            /* RESTORE: 07777 instead of 0777 */
	nv_vread_note_fn note;     /* may be NULL; with note_ctx */
	void *note_ctx;
} nv_vread_opts;

typedef struct nv_vread_stats {
	uint64_t done;       /* jobs that passed */
	uint64_t bytes;      /* their plaintext (or, for HASH, stored) bytes */
	uint64_t mismatched; /* tampered, truncated or undecryptable objects */
	uint64_t missing;    /* objects the store does not have */
	uint64_t failed;     /* other errors on one job (I/O, a refused path, a full
	                      * disk): every job logged "failed", counted once */
	uint64_t stopped;    /* of failed, jobs whose error stopped the run */
	nv_outcome out;      /* for nv_exit_code: mismatched and missing objects are
	                      * differences, failed ones failures, out.fatal the nv_err
	                      * that stopped the run (its message in fatal_msg) */
	char fatal_msg[1024];
} nv_vread_stats;

/* Runs every job; each failure is logged naming the object (and the path).
 * Returns 0 unless the pool itself could not start; results are in st. Each
 * job reads its object once. A restored file is renamed into place only after
 * its last chunk authenticated, its stored bytes' size and SHA-256 equal the
 * manifest's and its plaintext size and SHA-256 the catalog's; the target is
 * flushed before a clean run returns. */
int nv_vread_run(const nv_vread_opts *o, const nv_vread_job *jobs, size_t n,
		 nv_vread_stats *st);

/* The same over jobs made one at a time (a vault of a million files: the
 * jobs are never all in memory): next gives the next job (0) or NV_EOF (any
 * other error stops the run as fatal, its message kept); free, if not NULL,
 * is called on each job given once the pool is done with it. n: how many
 * jobs will come (sizes the pool). The caller reports them to the progress
 * (nv_progress_known, nv_progress_listed) before. */
typedef struct nv_vread_feed {
	int (*next)(void *ctx, nv_vread_job **out);
	void (*free)(void *ctx, nv_vread_job *job);
	void *ctx;
	uint64_t n;
} nv_vread_feed;
int nv_vread_run_feed(const nv_vread_opts *o, const nv_vread_feed *feed, nv_vread_stats *st);
/* The bytes a job counts in the progress and the summary. */
uint64_t nv_vread_job_size(const nv_vread_opts *o, const nv_vread_job *j);

/* pull --shard (engine/shard.h): keeps, in order, the jobs of shard s, each
 * keyed by its catalog path (a job without a file: its object's name).
 * Returns how many are kept. */
size_t nv_vread_shard(nv_vread_job *jobs, size_t n, const nv_shard *s);

#endif
