/* sample.h: the seeded sample of `verify --sample` (and of drills): which
 * items of a list one run checks, decided from the seed and each item's
 * identity alone, so that any host and any later version picks the same ones
 * and consecutive seeds rotate through the whole list (docs/FORMAT.md section
 * 12 is the rule, with test vectors). Called by vault_verify.c and drill. */
#ifndef NV_SAMPLE_H
#define NV_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/shard.h"
#include "vault_doc.h"

#define NV_SAMPLE_DEN_MAX (1u << 20) /* finest fraction: keeps a x den in 64 bits */

typedef enum nv_sample_kind {
	NV_SAMPLE_ALL,      /* every item (no --sample, or 100%) */
	NV_SAMPLE_FRACTION, /* the items whose position falls in this run's window */
	NV_SAMPLE_COUNT,    /* count items, by rank of position */
} nv_sample_kind;

typedef struct nv_sample_spec {
	nv_sample_kind kind;
	uint32_t num, den;  /* FRACTION: num/den in lowest terms, 0 < num < den */
	uint64_t count;     /* COUNT: at least 1 */
	uint64_t seed;      /* the run's window (FORMAT.md 12); default nv_sample_today() */
	char text[24];      /* the --sample value as given, for summaries */
} nv_sample_spec;

typedef struct nv_sample_item {
	const char *id;     /* its identity: an object's name, a file's path */
	uint64_t size;
	const char *group;  /* NULL, or group_len bytes naming its group (a file's
			     * top-level directory, nv_sample_group): one of each
			     * group is kept whatever the window */
	size_t group_len;
	int always;         /* kept whatever the window (a catalog) */
} nv_sample_item;

typedef struct nv_sample_result {
	uint64_t items, bytes;      /* of the whole list */
	uint64_t kept, kept_bytes;  /* what this run checks */
	uint64_t runs;              /* consecutive seeds that check every item together */
} nv_sample_result;

/* "10%", "12.5%" (up to 4 decimals), "1/7" (denominator up to
 * NV_SAMPLE_DEN_MAX) or a count "250"; the seed becomes nv_sample_today().
 * NV_EINVAL with the reason. */
int nv_sample_parse(nv_sample_spec *s, const char *text);
/* A decimal seed, 0 to 2^64-1. NV_EINVAL with the reason. */
int nv_sample_seed_parse(uint64_t *seed, const char *text);
/* Days since 1970-01-01 UTC: the default seed, one more every day. */
uint64_t nv_sample_today(void);
/* An identity's place on the circle: the first 4 bytes (big-endian) of
 * SHA-256("navette-sample-v1" NUL id). */
uint32_t nv_sample_position(const char *id);
/* The top-level directory of a '/'-separated path ("a" of "a/b/c", length in
 * *len); "" for a file at the top. */
const char *nv_sample_group(const char *path, size_t *len);

/* Sets keep[i] to 1 for the items this run checks, 0 for the others: the
 * window's, the largest (ties: the smallest id in byte order), one of each
 * group (the first after the window's start) and the `always` ones. */
int nv_sample_select(const nv_sample_spec *s, const nv_sample_item *items, size_t n,
		     unsigned char *keep, nv_sample_result *res);
/* verify's use: the objects of manifest m, its catalog always; clears ok[i]
 * of the objects left out (the deeper checks read only ok ones). shard (NULL:
 * none): the sample is still chosen from all of m, as an unsharded run
 * chooses it, so that the shards of one run read that sample together, each
 * its own objects; res then counts the shard's objects only (runs unchanged). */
int nv_sample_manifest(const nv_sample_spec *s, const nv_manifest *m, const nv_shard *shard,
		       unsigned char *ok, nv_sample_result *res);

#endif
