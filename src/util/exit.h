/* exit.h: the one exit rule: how a run's outcome maps to navette's exit code,
 * and how an error is classed (retry, fail this item, stop the run).
 * Everyone may call; documented in README.md ("Exit codes") and navette.1. */
#ifndef NV_EXIT_H
#define NV_EXIT_H

#include <stdint.h>

enum nv_exit {
	NV_EXIT_OK = 0,
	NV_EXIT_DIFF = 1,    /* differences found or verification failed */
	NV_EXIT_USAGE = 2,   /* usage or configuration error, credentials refused */
	NV_EXIT_PARTIAL = 3, /* some items failed, the rest done */
	NV_EXIT_FATAL = 4,   /* the run could not proceed */
};

/* What a run counted. Everything a command knows at its end goes here. */
typedef struct nv_outcome {
	int fatal;        /* 0, or the nv_err that stopped the whole run */
	uint64_t failed;  /* items that could not be done (I/O, network, permission) */
	uint64_t differ;  /* differences, mismatches, missing or tampered objects */
} nv_outcome;

/* The rule, in this order:
 * 1. the run was stopped (fatal): credentials refused (NV_EAUTH) or a usage or
 *    configuration error (NV_EINVAL) give 2; a verification failure that
 *    stopped it (NV_EMISMATCH: bad signature, rollback, wrong vault) gives 1;
 *    a limit the user set (NV_ELIMIT: --max-transfer reached) gives 3, as a
 *    partial run: what was not done is left for the next run; anything else 4;
 * 2. some items failed: 3 (also when there were differences too);
 * 3. differences or verification failures: 1;
 * 4. 0. */
int nv_exit_code(const nv_outcome *o);

/* Of two runs' exit codes (one per vault of --all), the one that says more:
 * 4, then 2, then 3, then 1, then 0 (a stopped run outranks a partial one). */
int nv_exit_worst(int a, int b);

/* A command that failed outright with rc: nv_exit_code of {.fatal = rc}. */
int nv_exit_for_error(int rc);

typedef enum nv_err_class {
	NV_CLASS_OK,    /* rc == 0 */
	NV_CLASS_RETRY, /* transient: the item may be tried again (NV_ERETRY) */
	NV_CLASS_ITEM,  /* this item failed; the run goes on */
	NV_CLASS_DIFF,  /* this item differs or failed verification (NV_EMISMATCH) */
	NV_CLASS_FATAL, /* the whole run stops: NV_EAUTH, NV_ENOSPC, NV_ECANCEL, NV_ELIMIT */
} nv_err_class;

/* The one classification of an item's error for every pool. NV_EPERM (one
 * unreadable file) fails that item only, as rsync does; credentials refused
 * stop the run and are never retried. */
nv_err_class nv_err_classify(int rc);

#endif
