/* manifest_read.h: a signed manifest read as a stream, so that a vault of a
 * million objects is never held in memory at once: fetched into an anonymous
 * spool (util/runs.h) while its signature is checked over the bytes as they
 * arrive, then parsed line by line under nv_manifest_parse's rules. Also the
 * choice of the generation every reader and push make (vault.h:
 * nv_vault_current). Called by push and the readers. */
#ifndef NV_MANIFEST_READ_H
#define NV_MANIFEST_READ_H

#include "vault.h"

typedef struct nv_mread nv_mread;

/* Fetches manifest gen and verifies its signature (nothing is parsed before),
 * then parses and checks its header (this vault, this generation) into *head:
 * head->n and head->bytes are the header's count and byte total, head->objs
 * NULL (nv_manifest_clear frees the rest). sha: the SHA-256 of its bytes. */
int nv_mread_open(nv_mread **out, nv_vault *v, uint64_t gen, nv_manifest *head,
		  unsigned char sha[NV_SHA256_LEN]);
/* The next object line: 0 with *out (its name valid until the next call),
 * NV_EOF after the last one, once the count, the byte total and the
 * catalogs' presence are checked; NV_EMISMATCH for a malformed line or one
 * out of order. */
int nv_mread_next(nv_mread *r, nv_obj_rec *out);
/* Reads the object lines again from the first. */
int nv_mread_rewind(nv_mread *r);
/* Reads every object line once (from the first), so that everything
 * nv_mread_next checks holds of the whole manifest; then rewinds. */
int nv_mread_check(nv_mread *r);
/* Accepts NULL. */
void nv_mread_close(nv_mread *r);

/* nv_vault_current (the rollback rule, the high-water mark) with the chosen
 * generation opened as a stream: *out NULL and *gen 0 for an empty vault. */
int nv_vault_current_read(nv_vault *v, long long want, nv_mread **out, nv_manifest *head,
			  unsigned char sha[NV_SHA256_LEN], uint64_t *gen);
/* The same, with every object line checked first (nv_mread_check), as
 * nv_vault_current parses the whole manifest before it is used: one that
 * fails is an error as there, *out NULL. */
int nv_vault_current_checked(nv_vault *v, long long want, nv_mread **out, nv_manifest *head,
			     unsigned char sha[NV_SHA256_LEN], uint64_t *gen);

#endif
