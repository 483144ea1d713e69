/* partial_line.c: a partial catalog's file line in its writer's form, read by
 * hand: jansson's tree for each of a run's files cost publish a fifth of its
 * CPU. Called through partial_line.h (by run_doc.c only). */
#include "partial_line.h"

#include <string.h>

#define NV_PLINE_DIGITS 18 /* below 10^18: no int64_t overflow to think about */

/* A quoted string of printable ASCII, no backslash: the JSON string whose
 * value is those very bytes. 0 and *p past its closing quote, or 1. */
static int nv_pline_string(const char **p, const char *end, nv_pline_str *out)
{
	const char *s = *p;

	if (s >= end || *s++ != '"')
		return 1;
	out->s = s;
	for (; s < end && *s != '"'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '\\')
			return 1; /* an escape, a control or a byte beyond ASCII: jansson's */
	if (s >= end)
		return 1;
	out->len = (size_t)(s - out->s);
	*p = s + 1;
	return 0;
}

/* A JSON integer: an optional '-', then 0 or a digit 1-9 and more digits. */
static int nv_pline_int(const char **p, const char *end, int64_t *out)
{
	const char *s = *p;
	int neg = s < end && *s == '-';
	int64_t v = 0;
	size_t n = 0;

	s += neg;
	for (; s < end && *s >= '0' && *s <= '9'; s++, n++) {
		if (n == NV_PLINE_DIGITS || (n == 1 && v == 0))
			return 1; /* too long for this path, or a leading zero (not JSON) */
		v = v * 10 + (*s - '0');
	}
	if (!n)
		return 1;
	*out = neg ? -v : v;
	*p = s;
	return 0;
}

int nv_pline_fast(nv_pline *out, const char *line, size_t len)
{
	/* the writer's order: json_dumps with JSON_SORT_KEYS (run_doc.c) */
	const struct {
		const char *key;
		int64_t *num;
		nv_pline_str *str;
	} f[] = {
		{ "mode", &out->mode, NULL }, { "mtime", &out->mtime, NULL },
		{ "mtime_ns", &out->mtime_ns, NULL }, { "object", NULL, &out->object },
		{ "path", NULL, &out->path }, { "sha256", NULL, &out->sha256 },
		{ "size", &out->size, NULL }, { "stored_sha256", NULL, &out->stored_sha256 },
		{ "stored_size", &out->stored_size, NULL },
	};
	const char *p = line, *end = line + len;
	const size_t n = sizeof(f) / sizeof(*f);

	if (p >= end || *p++ != '{')
		return 1;
	for (size_t i = 0; i < n; i++) {
		size_t klen = strlen(f[i].key);

		if ((size_t)(end - p) < klen + 3 || p[0] != '"' || memcmp(p + 1, f[i].key, klen) ||
		    p[klen + 1] != '"' || p[klen + 2] != ':')
			return 1;
		p += klen + 3;
		if (f[i].num ? nv_pline_int(&p, end, f[i].num) : nv_pline_string(&p, end, f[i].str))
			return 1;
		if (p >= end || *p++ != (i + 1 < n ? ',' : '}'))
			return 1;
	}
	return p == end ? 0 : 1;
}
