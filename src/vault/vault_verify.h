/* vault_verify.h: checks a vault from the outside in: every manifest's
 * signature and the hash chain, the newest generation's objects (present, then
 * stored SHA-256, then decrypted against the catalog) and the heartbeat's age.
 * Called by cmd_verify.c. */
#ifndef NV_VAULT_VERIFY_H
#define NV_VAULT_VERIFY_H

#include <stdarg.h>

#include "engine/shard.h"
#include "util/exit.h"
#include "sample.h"
#include "vault.h"
#include "vault_pull.h"

typedef enum nv_verify_level {
	NV_VERIFY_LIST, /* every object present with its stored size */
	NV_VERIFY_HASH, /* + the SHA-256 of its stored bytes */
	NV_VERIFY_DEEP, /* + decrypted, plaintext size and SHA-256 against the catalog */
} nv_verify_level;

typedef struct nv_verify_opts {
	nv_verify_level level;
	long long max_age;         /* seconds; < 0: the heartbeat is not checked */
	const nv_age_identity *id; /* DEEP */
	unsigned workers;
	size_t buf_size;
	unsigned retries;
	/* --shard: the objects of one shard, keyed by their stored names (every
	 * level, the catalog too); the signatures, the chain and the heartbeat
	 * are checked by every shard. NULL: every object. */
	const nv_shard *shard;
	const nv_sample_spec *sample; /* NULL: every object; else HASH and DEEP read
				       * only the sample's (sample.h), LIST sees all;
				       * with shard, the sample's objects of that shard */
} nv_verify_opts;

typedef struct nv_verify_report {
	uint64_t manifests;  /* manifests whose signature and chain link verified */
	uint64_t generation; /* the newest */
	uint64_t objects;    /* objects of the newest generation found good */
	uint64_t extra;      /* stored objects no longer in the newest generation */
	uint64_t problems;   /* each logged with the manifest or object it concerns */
	uint64_t failed;     /* of which objects that could not be read (I/O): not
	                      * differences, the check is incomplete */
	int fatal;           /* the nv_err that stopped the check before its end */
	nv_vread_note_fn note; /* may be NULL: told of each problem as it is logged
	                        * (nv_vault_verify clears it: for its parts below) */
	void *note_ctx;
	nv_sample_result sample; /* with opts.sample: what the sample chose */
} nv_verify_report;

/* Runs every check the level asks for; problems are logged and counted,
 * never stop the others. Returns 0, or an error when a check could not run
 * (r->fatal then holds it). The exit code is nv_exit_code over r->fatal,
 * r->failed and the other problems (nv_verify_outcome). */
int nv_vault_verify(nv_vault *v, const nv_verify_opts *o, nv_verify_report *r);
/* Parts of nv_vault_verify, for other readers (drill). The manifests: every
 * signature and each link of the hash chain back to generation 1 (r->manifests
 * counts those that verified). Returns 0, or the listing's error. */
int nv_verify_chain(nv_vault *v, nv_verify_report *r);
/* The signed heartbeat against the newest generation (newest, its manifest's
 * SHA-256 newest_sha): present, signed, not rolled back, naming that manifest
 * and, when max_age >= 0, at most max_age seconds old. hb (may be NULL) gets
 * the heartbeat once its signature verified (zeroed otherwise). */
void nv_verify_heartbeat(nv_vault *v, long long max_age, uint64_t newest,
			 const unsigned char newest_sha[NV_SHA256_LEN], nv_verify_report *r,
			 nv_heartbeat *hb);
/* One problem: logged (an item: kind, what, the message), told to r->note,
 * counted. */
void nv_verify_vproblem(nv_verify_report *r, const char *kind, const char *what,
			const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* The report as the one exit rule (util/exit.h) sees it. */
void nv_verify_outcome(const nv_verify_report *r, nv_outcome *out);

#endif
