/* drill_sample.c: the seeded sample of a drill: each file ranked by a hash of
 * the seed and its path, the largest file and one per top-level directory
 * always in. Called through drill_sample.h. */
#include "drill_sample.h"
#include "util/error.h"
#include "util/hash.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int nv_sample_parse(nv_sample_spec *out, const char *arg)
{
	size_t n = strlen(arg);
	char *end;

	memset(out, 0, sizeof(*out));
	errno = 0;
	if (n > 1 && arg[n - 1] == '%' && strspn(arg, "0123456789.") == n - 1) {
		out->percent = 1;
		out->pct = strtod(arg, &end);
		if (end == arg + n - 1 && !errno && out->pct > 0 && out->pct <= 100)
			return 0;
	} else if (n && strspn(arg, "0123456789") == n) {
		unsigned long long c = strtoull(arg, &end, 10);

		out->count = c;
		if (!*end && !errno && c >= 1)
			return 0;
	}
	return nv_error_set(NV_EINVAL, "--sample takes a share of the files (10%%, 0.5%%: above "
			    "0, at most 100) or a number of files (25), not '%s'", arg);
}

int nv_sample_seed_parse(uint32_t *out, const char *arg)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!*arg || strspn(arg, "0123456789") != strlen(arg) || *end || errno || v > UINT32_MAX)
		return nv_error_set(NV_EINVAL, "--seed takes a whole number from 0 to 4294967295, "
				    "not '%s'", arg);
	*out = (uint32_t)v;
	return 0;
}

size_t nv_sample_want(const nv_sample_spec *spec, size_t n)
{
	double want;

	if (!n)
		return 0;
	if (!spec->percent)
		return spec->count < n ? (size_t)spec->count : n;
	want = ceil((double)n * spec->pct / 100.0);
	return want < 1 ? 1 : want > (double)n ? n : (size_t)want;
}

/* A file's rank: the first 8 bytes of SHA-256("navette-sample" NUL seed path). */
static uint64_t nv_sample_rank(nv_sha256 *h, uint32_t seed, const char *path)
{
	static const char tag[] = "navette-sample";
	unsigned char be[4] = { seed >> 24, seed >> 16, seed >> 8, seed }, d[NV_SHA256_LEN];
	uint64_t r = 0;

	nv_sha256_update(h, tag, sizeof(tag)); /* the NUL too */
	nv_sha256_update(h, be, sizeof(be));
	nv_sha256_update(h, path, strlen(path));
	nv_sha256_final(h, d);
	for (int i = 0; i < 8; i++)
		r = r << 8 | d[i];
	return r;
}

typedef struct nv_ranked {
	uint64_t rank;
	size_t i; /* catalog index: ties (a 64-bit collision) fall back to path order */
} nv_ranked;

static int nv_ranked_cmp(const void *a, const void *b)
{
	const nv_ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Length of the top-level directory of path ("a/b/c": 1), 0 for a file at
 * the top. The catalog is sorted by path, so a directory's files are
 * contiguous: every path between two that start "d/" starts "d/" too. */
static size_t nv_sample_topdir(const char *path)
{
	const char *slash = strchr(path, '/');

	return slash ? (size_t)(slash - path) : 0;
}

/* The mandatory part: the largest file, and each top-level directory's
 * best-ranked file. */
static void nv_sample_mandatory(const nv_catalog *cat, const uint64_t *rank,
				unsigned char *sel)
{
	size_t big = 0, best = 0, dlen = 0;

	for (size_t i = 0; i < cat->n; i++) {
		const char *p = cat->e[i].path;
		size_t l = nv_sample_topdir(p);

		if (cat->e[i].size > cat->e[big].size)
			big = i;
		if (l && l == dlen && strncmp(p, cat->e[best].path, l + 1) == 0) {
			if (rank[i] < rank[best])
				best = i;
			continue;
		}
		if (dlen)
			sel[best] = 1; /* the directory before this entry ended */
		dlen = l;
		best = i;
	}
	if (dlen)
		sel[best] = 1;
	if (cat->n)
		sel[big] = 1;
}

int nv_sample_select(const nv_catalog *cat, const nv_sample_spec *spec, uint32_t seed,
		     unsigned char *sel, size_t *nsel)
{
	size_t want = nv_sample_want(spec, cat->n), have = 0;
	nv_ranked *order = calloc(cat->n ? cat->n : 1, sizeof(*order));
	uint64_t *rank = calloc(cat->n ? cat->n : 1, sizeof(*rank));
	nv_sha256 *h = nv_sha256_new();

	*nsel = 0;
	if (!order || !rank || !h) {
		free(order);
		free(rank);
		nv_sha256_free(h);
		return nv_error_set(NV_ERR, "out of memory");
	}
	memset(sel, 0, cat->n);
	for (size_t i = 0; i < cat->n; i++) {
		rank[i] = nv_sample_rank(h, seed, cat->e[i].path);
		order[i] = (nv_ranked){ .rank = rank[i], .i = i };
	}
	nv_sample_mandatory(cat, rank, sel);
	for (size_t i = 0; i < cat->n; i++)
		have += sel[i];
	qsort(order, cat->n, sizeof(*order), nv_ranked_cmp);
	for (size_t k = 0; k < cat->n && have < want; k++)
		if (!sel[order[k].i]) {
			sel[order[k].i] = 1;
			have++;
		}
	*nsel = have;
	free(order);
	free(rank);
	nv_sha256_free(h);
	return 0;
}
