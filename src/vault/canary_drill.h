/* canary_drill.h: the reader's side of canary files (docs/FORMAT.md 2.8): a
 * drill that holds only a drill key opens the canary catalog, restores or
 * checks the canary files (each object read once, object_read.h) and checks
 * the stored bytes of every other object against the signed manifest without
 * decrypting anything. Called by the drill command. */
#ifndef NV_CANARY_DRILL_H
#define NV_CANARY_DRILL_H

#include "util/exit.h"
#include "vault.h"
#include "vault_pull.h"

/* The canary catalog generation m names, opened with id (a drill key, or the
 * owner's identity). NV_ENOTFOUND when m names none (pushed while the vault had
 * no drill recipient), NV_EAUTH when id opens it not, NV_EMISMATCH when it is
 * not what the signed manifest says. */
int nv_canary_catalog(nv_vault *v, const nv_manifest *m, const nv_age_identity *id,
		      nv_catalog *out);

/* The jobs of a canary drill: first one per canary file of cat (decrypted
 * and checked against cat), *ncanary of them, then a stored-bytes job for every
 * other object of m but the canary catalog (its bytes were checked when it was
 * opened): *n in all. A canary file whose object the manifest does not list is
 * logged and counted in *unlisted. *jobs malloc'd, pointing into m and cat. */
int nv_canary_jobs(const nv_manifest *m, const nv_catalog *cat, nv_vread_job **jobs,
		   size_t *ncanary, size_t *n, uint64_t *unlisted);

typedef struct nv_canary_drill_opts {
	const nv_age_identity *id;   /* the drill key */
	const nv_location *target;   /* restore the canaries there; NULL: check only */
	long long max_age;           /* the heartbeat's age limit (seconds); < 0: none */
	unsigned workers;
	size_t buf_size;
	unsigned retries;
} nv_canary_drill_opts;

typedef struct nv_canary_drill_report {
	uint64_t drill_serial;       /* of the drill document; 0: none at the store */
	uint64_t generation;
	char generation_time[32];
	uint64_t manifests;          /* manifests whose signature and chain verified */
	uint64_t canaries, canary_bytes; /* canary files that passed */
	uint64_t objects;            /* every object found good, canaries included */
	uint64_t problems;           /* each one logged naming what it concerns */
	long long heartbeat_age;     /* seconds; -1: no verified heartbeat */
	double seconds;              /* the canaries' restore (or check) and the hashes */
	nv_outcome out;              /* for nv_exit_code */
} nv_canary_drill_report;

/* A canary drill of v's newest generation: the manifests and their chain, the
 * newest one (no rollback), every object listed (verify --level list), the
 * heartbeat (max_age), then the canary jobs on the reader pool. Problems are
 * logged and counted; returns 0, or the error that stopped the drill (logged,
 * also in r->out.fatal): NV_EAUTH for a key that opens no canary catalog. */
int nv_canary_drill(nv_vault *v, const nv_canary_drill_opts *o, nv_canary_drill_report *r);

#endif
