/* drill_sample.h: which files a sampled drill restores: a seeded random share
 * or count of a catalog's files, always with the largest file and one file of
 * each top-level directory; the same seed on the same catalog takes the same
 * files. Called by drill.c, and by cmd_drill.c to check --sample and --seed. */
#ifndef NV_VAULT_DRILL_SAMPLE_H
#define NV_VAULT_DRILL_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "vault_doc.h"

typedef struct nv_sample_spec {
	int percent;    /* 1: pct of the files; 0: count files */
	double pct;     /* 0 < pct <= 100 */
	uint64_t count; /* >= 1 */
} nv_sample_spec;

/* "10%" or "2.5%" (a share of the files, above 0 and at most 100), or "N" (a
 * number of files, from 1). NV_EINVAL, with a message, otherwise. */
int nv_sample_parse(nv_sample_spec *out, const char *arg);
/* --seed: a whole number from 0 to 4294967295. NV_EINVAL otherwise. */
int nv_sample_seed_parse(uint32_t *out, const char *arg);

/* How many of n files spec asks for: a share rounded up (at least 1 of a
 * non-empty catalog), or the count (at most n). */
size_t nv_sample_want(const nv_sample_spec *spec, size_t n);

/* Sets sel[i] for the entries of cat the sample takes, *nsel their number.
 * Each file is ranked by SHA-256("navette-sample", NUL, the seed as 4 bytes
 * big-endian, its path); the sample is the largest file (the first by path
 * among equals), the best-ranked file of each top-level directory, then the
 * best-ranked others until it holds nv_sample_want files (more when the
 * directories alone need more). A file's rank depends on the seed and its
 * path only: adding files elsewhere does not change which of the old ones
 * rank first. */
int nv_sample_select(const nv_catalog *cat, const nv_sample_spec *spec, uint32_t seed,
		     unsigned char *sel, size_t *nsel);

#endif
