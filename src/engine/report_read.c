/* report_read.c: the hash book of check --hashes-from (report.h): the source
 * sides that earlier reports read whole, looked up by path, size and mtime.
 * Held in memory (about 100 bytes a file), sorted, searched by bisection.
 * Called by cmd_copy.c (load) and engine.c (find). */
#include "report.h"
#include "util/error.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct nv_hashrec {
	char *key;
	uint64_t size;
	int64_t mtime_sec;
	int32_t mtime_nsec;
	unsigned char sha[NV_SHA256_LEN];
} nv_hashrec;

struct nv_hashbook {
	nv_hashrec *r;
	size_t n, cap;
};

void nv_hashbook_free(nv_hashbook *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->r[i].key);
	free(b->r);
	free(b);
}

size_t nv_hashbook_count(const nv_hashbook *b) { return b ? b->n : 0; }

/* "2026-12-03T01:02:03.123456789Z", as report.c writes it. */
static int nv_parse_mtime(const char *s, int64_t *sec, int32_t *nsec)
{
	struct tm tm = { 0 };
	int ns = 0, used = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%9dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ns, &used) != 7 || s[used] || ns < 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*sec = (int64_t)timegm(&tm);
	*nsec = ns;
	return 0;
}

/* The path of a line: "path", or the raw bytes of "path_hex". malloc'd. */
static char *nv_line_path(json_t *o)
{
	const char *hex = json_string_value(json_object_get(o, "path_hex"));
	const char *p = json_string_value(json_object_get(o, "path"));
	char *raw;

	if (!hex)
		return p ? strdup(p) : NULL;
	if (!(raw = calloc(strlen(hex) / 2 + 1, 1)) ||
	    nv_unhex((unsigned char *)raw, strlen(hex) / 2, hex)) {
		free(raw);
		return NULL;
	}
	return raw;
}

/* One file line whose source side was read whole; 0 if taken, 1 if not such a line. */
static int nv_hashbook_line(nv_hashbook *b, json_t *o)
{
	json_t *s = json_object_get(o, "source");
	const char *sha = json_string_value(json_object_get(s, "sha256"));
	const char *how = json_string_value(json_object_get(s, "how"));
	const char *mt = json_string_value(json_object_get(s, "mtime"));
	json_t *size = json_object_get(s, "size");
	nv_hashrec rec = { 0 };

	if (!json_is_object(s) || !sha || !how || strcmp(how, "read") || !mt ||
	    !json_is_integer(size) || json_integer_value(size) < 0 ||
	    nv_unhex(rec.sha, NV_SHA256_LEN, sha) || nv_parse_mtime(mt, &rec.mtime_sec,
								  &rec.mtime_nsec))
		return 1;
	rec.size = (uint64_t)json_integer_value(size);
	if (!(rec.key = nv_line_path(o)))
		return 1;
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 1024;
		nv_hashrec *g = realloc(b->r, ncap * sizeof(*g));

		if (!g) {
			free(rec.key);
			return nv_error_set(NV_ERR, "out of memory");
		}
		b->r = g;
		b->cap = ncap;
	}
	b->r[b->n++] = rec;
	return 0;
}

static int nv_hashrec_cmp(const void *a, const void *b)
{
	return strcmp(((const nv_hashrec *)a)->key, ((const nv_hashrec *)b)->key);
}

/* The lines of one report file; *other counts headers of other sources. */
static int nv_hashbook_read(nv_hashbook *b, FILE *f, const char *path, const char *want,
			    size_t *headers, size_t *other)
{
	char *line = NULL;
	const char *src;
	size_t cap = 0, lineno = 0;
	int mine = 0, rc = 0;
	ssize_t len;

	while (!rc && (len = getline(&line, &cap, f)) >= 0) {
		json_t *o = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
		const char *type = json_string_value(json_object_get(o, "type"));

		lineno++;
		if (!type) {
			rc = nv_error_set(NV_EINVAL, "--hashes-from %s: line %zu is not a line of a "
					  "navette report", path, lineno);
		} else if (strcmp(type, "header") == 0) {
			src = json_string_value(json_object_get(o, "source"));
			mine = src && strcmp(src, want) == 0;
			*other += !mine;
			(*headers)++;
		} else if (strcmp(type, "file") == 0 && mine && nv_hashbook_line(b, o) < 0) {
			rc = NV_ERR;
		}
		json_decref(o);
	}
	if (!rc && ferror(f))
		rc = nv_error_errno(errno, "--hashes-from %s", path);
	free(line);
	return rc;
}

int nv_hashbook_load(nv_hashbook **out, const char *path, const nv_location *source)
{
	nv_hashbook *b = calloc(1, sizeof(*b));
	char *want = nv_report_location(source);
	size_t headers = 0, other = 0;
	FILE *f = NULL;
	int rc;

	*out = NULL;
	if (!b || !want)
		rc = nv_error_set(NV_ERR, "out of memory");
	else if (!(f = fopen(path, "r")))
		rc = nv_error_errno(errno, "--hashes-from %s", path);
	else if (!(rc = nv_hashbook_read(b, f, path, want, &headers, &other)) && !headers)
		rc = nv_error_set(NV_EINVAL, "--hashes-from %s: not a navette report (no header "
				  "line)", path);
	else if (!rc && headers == other)
		rc = nv_error_set(NV_EINVAL, "--hashes-from %s: made for another source than "
				  "%s: its hashes say nothing of these files", path, want);
	if (f)
		fclose(f);
	free(want);
	if (rc) {
		nv_hashbook_free(b);
		return rc;
	}
	qsort(b->r, b->n, sizeof(*b->r), nv_hashrec_cmp);
	*out = b;
	return 0;
}

int nv_hashbook_find(const nv_hashbook *b, const char *key, const nv_entry *e,
		     unsigned char sha[NV_SHA256_LEN])
{
	nv_hashrec k = { .key = (char *)key };
	const nv_hashrec *hit;
	size_t lo, hi;

	if (!b || !b->n || !((e->flags & NV_ENTRY_HAS_MTIME) || e->mtime_sec))
		return 0;
	if (!(hit = bsearch(&k, b->r, b->n, sizeof(*b->r), nv_hashrec_cmp)))
		return 0;
	/* a key recorded by several runs: any with this size and time will do */
	lo = hi = (size_t)(hit - b->r);
	while (lo > 0 && strcmp(b->r[lo - 1].key, key) == 0)
		lo--;
	while (hi + 1 < b->n && strcmp(b->r[hi + 1].key, key) == 0)
		hi++;
	for (size_t i = lo; i <= hi; i++)
		if (b->r[i].size == e->size && b->r[i].mtime_sec == e->mtime_sec &&
		    b->r[i].mtime_nsec == e->mtime_nsec) {
			memcpy(sha, b->r[i].sha, NV_SHA256_LEN);
			return 1;
		}
	return 0;
}
