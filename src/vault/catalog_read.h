/* catalog_read.h: a catalog read as a stream, so that a vault of a million
 * files is never held in memory at once: its stored bytes spooled to an
 * anonymous file (util/runs.h) and checked against the signed manifest
 * before anything is decrypted (FORMAT.md 3, rule 2), then decrypted and
 * parsed line by line under nv_catalog_parse's rules. Called by the readers
 * (pull_paged.c, ls). */
#ifndef NV_CATALOG_READ_H
#define NV_CATALOG_READ_H

#include "manifest_read.h"
#include "vault.h"

typedef struct nv_cread nv_cread;

/* Fetches the catalog object rec (its size and SHA-256 from a verified
 * manifest) of generation gen, checks it, and reads its header: a catalog of
 * this type, this vault and this generation. */
int nv_cread_open(nv_cread **out, nv_vault *v, const nv_obj_rec *rec, const char *type,
		  const nv_age_identity *id, uint64_t gen);
/* The catalog of the generation whose verified manifest mr (header head)
 * streams: its record found in one pass over mr, then nv_cread_open. */
int nv_cread_open_catalog(nv_cread **out, nv_vault *v, nv_mread *mr, const nv_manifest *head,
			  const nv_age_identity *id);
/* The next entry, checked (a safe path, sorted after the last, no file that
 * is also a directory): 0 with *out (its strings valid until the next call),
 * NV_EOF once the last chunk authenticated; NV_EMISMATCH otherwise. */
int nv_cread_next(nv_cread *r, nv_cat_entry *out);
/* Wipes what was decrypted. Accepts NULL. */
void nv_cread_close(nv_cread *r);

/* A catalog's entry lines checked one at a time as every reader checks them
 * (nv_catalog_parse_entry's rules, and the file/directory clash of paths that
 * need not be adjacent: "a", "a-b", "a/c"): nv_cread_next's check, and
 * push's of a catalog merged from shards (push_catalog.c). Zeroed to start. */
typedef struct nv_catcheck {
	nv_cat_entry cur;    /* the entry checked last */
	char **stack;        /* the earlier paths that prefix the last one */
	size_t depth, cap;
	uint64_t n;
} nv_catcheck;
/* The entry line at [p, end): 0 with *out (valid until the next call). */
int nv_catcheck_entry(nv_catcheck *c, const char *p, const char *end, nv_cat_entry *out);
void nv_catcheck_clear(nv_catcheck *c);

#endif
