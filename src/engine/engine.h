/* engine.h: copy, sync and check of plain trees between any two locations,
 * through lister -> planner -> workers -> verifier. Called by the commands. */
#ifndef NV_ENGINE_H
#define NV_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "driver/driver.h"
#include "filter.h"
#include "guard.h"
#include "report.h"
#include "shard.h"

typedef enum nv_engine_mode {
	NV_ENGINE_COPY,  /* copy new and changed files, never delete */
	NV_ENGINE_SYNC,  /* copy, then (with delete_extra) delete what SRC lacks */
	NV_ENGINE_CHECK, /* compare only: SHA-256 of both sides, report differences */
} nv_engine_mode;

typedef struct nv_engine_opts {
	nv_engine_mode mode;
	unsigned transfers;   /* workers, each with its own connections */
	size_t buffer_size;   /* per worker */
	unsigned retries;     /* per object, for transient errors */
	int dry_run;
	int checksum;         /* decide by SHA-256 instead of size + mtime */
	int delete_extra;     /* sync --delete */
	int verify_reread;    /* --verify reread */
	int progress;         /* --progress: for the CLI, which reports (util/progress.h) */
	int size_only;        /* check: compare sizes only (no reading) */
	const char *notice_key; /* may be NULL: a source key the caller wants to hear of
				 * (sync of a vault: its descriptor), without a request */
	/* --- unattended runs (README.md "Unattended runs") --- */
	const char *lock;     /* copy, sync: NULL, or the command name ("sync") under
			       * which the run holds the destination's local lock and
			       * lease (dest_lock.h); a dry run takes neither */
	long long wait_lock_ms;   /* --wait-lock: how long to wait for either */
	const nv_filter *filter;  /* may be NULL: every key */
	int delete_excluded;      /* sync --delete --delete-excluded */
	nv_guard_opts guard;      /* the delete guard (guard.h) */
	const nv_location *backup; /* may be NULL: --backup-dir */
	/* --shard K/N (shard.h): the keys of one shard are worked on; NULL: all.
	 * Both listings are read whole, so the guard counts the whole tree and
	 * every shard decides alike; each deletes only its own keys. The lock is
	 * shared with the run's other shards (dest_lock.h). */
	const nv_shard *shard;
	/* --- reports (report.h) --- */
	nv_report *report;        /* may be NULL: --report, a line per file */
	const nv_hashbook *recorded; /* may be NULL: check --hashes-from */
} nv_engine_opts;

typedef struct nv_engine_stats {
	uint64_t copied, copied_bytes, skipped, deleted, failed, mismatched;
	uint64_t identical, differ, missing, extra; /* check mode */
	uint64_t backed_up;   /* files copied to --backup-dir before their removal or
			       * replacement */
	/* Of the files copied: whose SHA-256 was computed as they were sent (every
	 * one), whose stored size and MD5 the destination confirmed, and which
	 * were read back with the same SHA-256 (--verify reread). */
	uint64_t hashed, size_confirmed, md5_confirmed, reread;
	int noticed;          /* the source listed opts.notice_key */
	double seconds;
} nv_engine_stats;

void nv_engine_defaults(nv_engine_opts *o);
/* Runs to the end; returns an exit code (enum nv_exit in cli.h) and fills st. */
int nv_engine_run(const nv_location *src, const nv_location *dst, const nv_engine_opts *o,
		  nv_engine_stats *st);

#endif
