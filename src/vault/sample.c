/* sample.c: the seeded sample (sample.h; the rule is docs/FORMAT.md section
 * 12). Pure arithmetic over the items it is given: no store, no clock but
 * nv_sample_today. Called by vault_verify.c and drill. */
#include "sample.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NV_SAMPLE_DOMAIN "navette-sample-v1"

uint32_t nv_sample_position(const char *id)
{
	unsigned char md[NV_SHA256_LEN];
	nv_sha256 *h = nv_sha256_new();

	if (!h)
		return 0; /* out of memory: one place for all still gives a sample, a poor one */
	nv_sha256_update(h, NV_SAMPLE_DOMAIN, sizeof(NV_SAMPLE_DOMAIN)); /* with its NUL */
	nv_sha256_update(h, id, strlen(id));
	nv_sha256_final(h, md);
	nv_sha256_free(h);
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
}

const char *nv_sample_group(const char *path, size_t *len)
{
	const char *slash = strchr(path, '/');

	*len = slash ? (size_t)(slash - path) : 0;
	return path;
}

uint64_t nv_sample_today(void)
{
	time_t now = time(NULL);

	return now > 0 ? (uint64_t)now / 86400 : 0;
}

static uint64_t nv_gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* num/den in lowest terms; 1/1 (or more) is every item. */
static int nv_sample_fraction(nv_sample_spec *s, uint64_t num, uint64_t den, const char *text)
{
	uint64_t g;

	if (num == 0 || den == 0 || num > den)
		return nv_error_set(NV_EINVAL, "--sample %s: the share must be above 0 and at "
				    "most the whole", text);
	g = nv_gcd(num, den);
	num /= g;
	den /= g;
	if (den > NV_SAMPLE_DEN_MAX)
		return nv_error_set(NV_EINVAL, "--sample %s: too fine a share (the denominator "
				    "may be at most %u)", text, NV_SAMPLE_DEN_MAX);
	s->kind = num == den ? NV_SAMPLE_ALL : NV_SAMPLE_FRACTION;
	s->num = (uint32_t)num;
	s->den = (uint32_t)den;
	return 0;
}

/* "12.5%": up to 4 decimals, so the share is an integer out of 10^6. */
static int nv_sample_percent(nv_sample_spec *s, const char *text)
{
	uint64_t v = 0;
	int decimals = -1;
	const char *p;

	for (p = text; *p != '%'; p++) {
		if (*p == '.' && decimals < 0 && p != text) {
			decimals = 0;
			continue;
		}
		if (*p < '0' || *p > '9' || decimals >= 4 || v > 1000000000)
			return nv_error_set(NV_EINVAL, "--sample takes a share such as 10%%, "
					    "12.5%% or 1/7, or a number of items, not '%s'", text);
		v = v * 10 + (uint64_t)(*p - '0');
		decimals += decimals >= 0;
	}
	if (p == text || p[1] || (decimals == 0))
		return nv_error_set(NV_EINVAL, "--sample takes a share such as 10%%, 12.5%% "
				    "or 1/7, or a number of items, not '%s'", text);
	for (int d = decimals < 0 ? 0 : decimals; d < 4; d++)
		v *= 10;
	return nv_sample_fraction(s, v, 1000000, text);
}

static int nv_sample_number(const char *t, const char *end, uint64_t *out)
{
	char *e;

	if (t == end || *t < '0' || *t > '9')
		return -1;
	*out = strtoull(t, &e, 10);
	return e == end && *out < (1ull << 62) ? 0 : -1;
}

int nv_sample_parse(nv_sample_spec *s, const char *text)
{
	const char *slash = strchr(text, '/'), *end = text + strlen(text);
	uint64_t a, b;

	memset(s, 0, sizeof(*s));
	s->seed = nv_sample_today();
	snprintf(s->text, sizeof(s->text), "%s", text);
	if (strlen(text) >= sizeof(s->text))
		return nv_error_set(NV_EINVAL, "--sample: '%.40s...' is too long", text);
	if (end > text && end[-1] == '%')
		return nv_sample_percent(s, text);
	if (slash) {
		if (nv_sample_number(text, slash, &a) || nv_sample_number(slash + 1, end, &b))
			return nv_error_set(NV_EINVAL, "--sample takes a share such as 1/7, not "
					    "'%s'", text);
		return nv_sample_fraction(s, a, b, text);
	}
	if (nv_sample_number(text, end, &a) || a == 0)
		return nv_error_set(NV_EINVAL, "--sample takes a share such as 10%% or 1/7, or "
				    "a number of items from 1, not '%s'", text);
	s->kind = NV_SAMPLE_COUNT;
	s->count = a;
	return 0;
}

int nv_sample_seed_parse(uint64_t *seed, const char *text)
{
	char *e;

	if (*text < '0' || *text > '9')
		return nv_error_set(NV_EINVAL, "--seed takes a number from 0, not '%s'", text);
	*seed = strtoull(text, &e, 10);
	if (*e || (*seed == UINT64_MAX && strcmp(text, "18446744073709551615")))
		return nv_error_set(NV_EINVAL, "--seed takes a number from 0 to 2^64-1, not "
				    "'%s'", text);
	return 0;
}

/* (a * b) mod m without overflow, a and b below m. */
static uint64_t nv_mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	uint64_t r = 0;

	while (b) {
		if (b & 1)
			r = r >= m - a ? r - (m - a) : r + a;
		a = a >= m - a ? a - (m - a) : a + a;
		b >>= 1;
	}
	return r;
}

/* One item as the selection sorts it. */
typedef struct nv_sample_slot {
	const nv_sample_item *it;
	size_t i;
	uint32_t pos;
	uint64_t r;   /* how far after the window's start it lies */
} nv_sample_slot;

static int nv_slot_by_pos(const void *a, const void *b)
{
	const nv_sample_slot *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return strcmp(x->it->id, y->it->id);
}

static int nv_same_group(const nv_sample_item *a, const nv_sample_item *b)
{
	return a->group_len == b->group_len && memcmp(a->group, b->group, a->group_len) == 0;
}

/* By group, then first after the window's start, then id. */
static int nv_slot_by_group(const void *a, const void *b)
{
	const nv_sample_slot *x = a, *y = b;
	size_t n = x->it->group_len < y->it->group_len ? x->it->group_len : y->it->group_len;
	int c = memcmp(x->it->group, y->it->group, n);

	if (c || x->it->group_len != y->it->group_len)
		return c ? c : x->it->group_len < y->it->group_len ? -1 : 1;
	if (x->r != y->r)
		return x->r < y->r ? -1 : 1;
	return strcmp(x->it->id, y->it->id);
}

/* The window: a fraction keeps the positions in [seed x num/den, + num/den)
 * (mod 1), in units of 1/(den x 2^32); a count keeps `count` ranks from
 * seed x count (mod n). r is each item's distance from the window's start. */
static void nv_sample_window(const nv_sample_spec *s, nv_sample_slot *sl, size_t n,
			     unsigned char *keep, nv_sample_result *res)
{
	if (s->kind == NV_SAMPLE_FRACTION) {
		uint64_t m = (uint64_t)s->den << 32, len = (uint64_t)s->num << 32;
		uint64_t start = ((s->seed % s->den) * s->num % s->den) << 32;

		for (size_t i = 0; i < n; i++) {
			sl[i].r = ((uint64_t)sl[i].pos * s->den + m - start) % m;
			keep[sl[i].i] = sl[i].r < len;
		}
		res->runs = (s->den + s->num - 1) / s->num;
	} else if (s->kind == NV_SAMPLE_COUNT && s->count < n) {
		uint64_t start = nv_mulmod(s->seed % n, s->count, n);

		qsort(sl, n, sizeof(*sl), nv_slot_by_pos);
		for (size_t i = 0; i < n; i++) {
			sl[i].r = (i + n - start) % n;
			keep[sl[i].i] = sl[i].r < s->count;
		}
		res->runs = (n + s->count - 1) / s->count;
	} else {
		memset(keep, 1, n);
		res->runs = 1;
	}
}

int nv_sample_select(const nv_sample_spec *s, const nv_sample_item *items, size_t n,
		     unsigned char *keep, nv_sample_result *res)
{
	nv_sample_slot *sl;
	size_t big = 0, ngroup = 0;

	memset(res, 0, sizeof(*res));
	res->items = n;
	res->runs = 1;
	if (!n)
		return 0;
	if (!(sl = malloc(n * sizeof(*sl))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		sl[i] = (nv_sample_slot){ .it = &items[i], .i = i,
					  .pos = nv_sample_position(items[i].id) };
		if (items[i].size > items[big].size ||
		    (items[i].size == items[big].size && strcmp(items[i].id, items[big].id) < 0))
			big = i;
	}
	nv_sample_window(s, sl, n, keep, res);
	keep[big] = 1;
	/* The groups' slots first, sorted, the first of each run of a group kept. */
	for (size_t i = 0; i < n; i++)
		if (sl[i].it->group) {
			nv_sample_slot t = sl[ngroup];

			sl[ngroup++] = sl[i];
			sl[i] = t;
		}
	qsort(sl, ngroup, sizeof(*sl), nv_slot_by_group);
	for (size_t i = 0; i < ngroup; i++)
		if (i == 0 || !nv_same_group(sl[i - 1].it, sl[i].it))
			keep[sl[i].i] = 1;
	free(sl);
	for (size_t i = 0; i < n; i++) {
		keep[i] |= items[i].always != 0;
		res->bytes += items[i].size;
		res->kept += keep[i];
		res->kept_bytes += keep[i] ? items[i].size : 0;
	}
	return 0;
}

/* A shard's share of the sample: what res says of the shard's objects. */
static void nv_sample_shard(const nv_manifest *m, const nv_shard *shard,
			    const unsigned char *keep, nv_sample_result *res)
{
	res->items = res->bytes = res->kept = res->kept_bytes = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (!nv_shard_mine(shard, m->objs[i].name))
			continue;
		res->items++;
		res->bytes += m->objs[i].size;
		res->kept += keep[i];
		res->kept_bytes += keep[i] ? m->objs[i].size : 0;
	}
}

int nv_sample_manifest(const nv_sample_spec *s, const nv_manifest *m, const nv_shard *shard,
		       unsigned char *ok, nv_sample_result *res)
{
	nv_sample_item *it = calloc(m->n ? m->n : 1, sizeof(*it));
	unsigned char *keep = malloc(m->n ? m->n : 1);
	int rc = 0;

	if (!it || !keep)
		rc = nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; !rc && i < m->n; i++)
		it[i] = (nv_sample_item){ .id = m->objs[i].name, .size = m->objs[i].size,
					  .always = strcmp(m->objs[i].name, m->catalog) == 0 };
	if (!rc && (rc = nv_sample_select(s, it, m->n, keep, res)) == 0) {
		for (size_t i = 0; i < m->n; i++)
			ok[i] &= keep[i]; /* another shard's ok[i] is 0 already */
		if (shard)
			nv_sample_shard(m, shard, keep, res);
	}
	free(it);
	free(keep);
	return rc;
}
