/* glob.c: rclone's glob syntax (filter.h) without regular expressions: a
 * pattern is checked once, its {a,b} groups expanded into plain alternatives,
 * and each alternative matched by backtracking. Called by filter.c only. */
#include "glob.h"
#include "util/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* {a,b}{c,d}... multiplies: a pattern is a user's line, never this large. */
#define NV_GLOB_MAX_ALTS 256

struct nv_glob {
	int anchored;  /* a leading '/': from the root only */
	size_t n;
	char **alts;   /* brace-free; a directory pattern ("dir/") ends in "**" */
};

/* The character at s: its length, its code point in *cp. A byte that starts
 * no valid UTF-8 sequence is a character of its own, as Go's regexp reads it. */
static size_t nv_utf8(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;
	uint32_t c;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xE0) == 0xC0)
		n = 2, c = u[0] & 0x1F;
	else if ((u[0] & 0xF0) == 0xE0)
		n = 3, c = u[0] & 0x0F;
	else if ((u[0] & 0xF8) == 0xF0)
		n = 4, c = u[0] & 0x07;
	else
		n = 0, c = 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xC0) != 0x80) {
			n = 0;
			break;
		}
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (n == 0) {
		*cp = u[0];
		return 1;
	}
	*cp = c;
	return n;
}

/* A class, p just after its '['. Returns what follows its ']' (NULL when
 * there is none) and sets *hit when cp belongs to it. A ']' first in the
 * class is one of its characters, as in POSIX and Go. */
static const char *nv_class(const char *p, uint32_t cp, int *hit)
{
	const char *first;
	int neg = 0, in = 0;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	first = p;
	while (*p && (*p != ']' || p == first)) {
		uint32_t lo, hi;

		if (*p == '\\' && p[1])
			p++;
		p += nv_utf8(p, &lo);
		hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			p += nv_utf8(p, &hi);
		}
		in |= lo <= cp && cp <= hi;
	}
	if (*p != ']')
		return NULL;
	*hit = in != neg;
	return p + 1;
}

static int nv_glob_at(const char *p, const char *k);

/* p at a '*' ("**": any run, '/' too; "*": any run without '/'), k where it
 * starts: the shortest run that lets the rest match wins. */
static int nv_glob_star(const char *p, const char *k)
{
	int cross = p[1] == '*';
	uint32_t cp;

	for (p += cross ? 2 : 1;; k += nv_utf8(k, &cp)) {
		if (nv_glob_at(p, k))
			return 1;
		if (!*k || (*k == '/' && !cross))
			return 0;
	}
}

/* Does the brace-free pattern p match all of k? */
static int nv_glob_at(const char *p, const char *k)
{
	uint32_t cp;
	int hit;

	for (;;) {
		switch (*p) {
		case '\0':
			return *k == '\0';
		case '*':
			return nv_glob_star(p, k);
		case '?':
			if (!*k || *k == '/')
				return 0;
			k += nv_utf8(k, &cp);
			p++;
			break;
		case '[':
			if (!*k || *k == '/')
				return 0;
			k += nv_utf8(k, &cp);
			p = nv_class(p + 1, cp, &hit);
			if (!p || !hit)
				return 0;
			break;
		case '\\': /* the next character is itself */
			p++;
			/* fall through */
		default:
			if (*p != *k)
				return 0;
			p++;
			k++;
		}
	}
}

static int nv_glob_bad(const char *pattern, const char *why)
{
	return nv_error_set(NV_EINVAL, "bad pattern '%s': %s", pattern, why);
}

/* Refuses what the matcher would read wrongly, before anything is expanded. */
static int nv_glob_check(const char *pattern)
{
	int depth = 0, stars = 0, hit;
	const char *p, *end;

	for (p = pattern; *p; p++) {
		stars = *p == '*' ? stars + 1 : 0;
		switch (*p) {
		case '\\':
			if (!p[1])
				return nv_glob_bad(pattern, "it ends with '\\'");
			p++;
			break;
		case '*':
			if (stars > 2)
				return nv_glob_bad(pattern, "three '*' in a row");
			break;
		case '[':
			if (p[1] == '[' && p[2] == ':')
				return nv_glob_bad(pattern, "classes such as [[:alpha:]] are not "
						   "supported");
			if (!(end = nv_class(p + 1, 0, &hit)))
				return nv_glob_bad(pattern, "unmatched '['");
			p = end - 1;
			break;
		case ']':
			return nv_glob_bad(pattern, "unmatched ']'");
		case '{':
			if (p[1] == '{')
				return nv_glob_bad(pattern, "rclone's regular expressions {{...}} "
						   "are not supported");
			depth++;
			break;
		case '}':
			if (--depth < 0)
				return nv_glob_bad(pattern, "unmatched '}'");
			break;
		default:
			break;
		}
	}
	return depth ? nv_glob_bad(pattern, "unmatched '{'") : 0;
}

/* Steps over one element of a checked pattern: an escape or a class whole. */
static const char *nv_glob_skip(const char *p)
{
	int hit;

	if (*p == '\\')
		return p + 2;
	if (*p == '[')
		return nv_class(p + 1, 0, &hit);
	return p + 1;
}

static int nv_glob_push(nv_glob *g, const char *pat, size_t len)
{
	char **a;

	if (g->n == NV_GLOB_MAX_ALTS)
		return nv_error_set(NV_EINVAL, "a pattern expands to more than %d alternatives",
				    NV_GLOB_MAX_ALTS);
	if (!(a = realloc(g->alts, (g->n + 1) * sizeof(*a))))
		return nv_error_set(NV_ERR, "out of memory");
	g->alts = a;
	if (!(a[g->n] = strndup(pat, len)))
		return nv_error_set(NV_ERR, "out of memory");
	g->n++;
	return 0;
}

/* Expands the first outermost {...} of a checked pattern, then the rest. */
static int nv_glob_expand(nv_glob *g, const char *pat)
{
	const char *open = NULL, *close = NULL, *alt, *p;
	int depth = 0, rc = 0;

	for (p = pat; *p && !close; p = nv_glob_skip(p)) {
		if (*p == '{' && depth++ == 0)
			open = p;
		else if (*p == '}' && --depth == 0)
			close = p;
	}
	if (!open)
		return nv_glob_push(g, pat, strlen(pat));
	for (alt = p = open + 1; !rc && p <= close; p = nv_glob_skip(p)) {
		char *one;

		if (*p == '{')
			depth++;
		else if (*p == '}' && depth)
			depth--;
		else if ((*p == ',' && depth == 0) || p == close) {
			size_t n1 = (size_t)(open - pat), n2 = (size_t)(p - alt);

			if (!(one = malloc(n1 + n2 + strlen(close + 1) + 1)))
				return nv_error_set(NV_ERR, "out of memory");
			memcpy(one, pat, n1);
			memcpy(one + n1, alt, n2);
			strcpy(one + n1 + n2, close + 1);
			rc = nv_glob_expand(g, one);
			free(one);
			alt = p + 1;
		}
	}
	return rc;
}

int nv_glob_compile(nv_glob **out, const char *pattern)
{
	nv_glob *g = calloc(1, sizeof(*g));
	size_t len = strlen(pattern);
	const char *body = pattern;
	char *whole = NULL;
	int rc;

	*out = NULL;
	if (!g)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_glob_check(pattern)))
		goto fail;
	if (*body == '/') {
		g->anchored = 1;
		body++;
	}
	/* A trailing '/' means the directory and everything below it: "**" is
	 * appended. */
	if (len && pattern[len - 1] == '/') {
		if (!(whole = malloc(strlen(body) + 3))) {
			rc = nv_error_set(NV_ERR, "out of memory");
			goto fail;
		}
		strcpy(whole, body);
		strcat(whole, "**");
		body = whole;
	}
	rc = nv_glob_expand(g, body);
	free(whole);
	if (rc)
		goto fail;
	*out = g;
	return 0;
fail:
	nv_glob_free(g);
	return rc;
}

int nv_glob_match(const nv_glob *g, const char *key)
{
	for (size_t i = 0; i < g->n; i++) {
		const char *k = key;

		if (nv_glob_at(g->alts[i], k))
			return 1;
		while (!g->anchored && (k = strchr(k, '/')))
			if (nv_glob_at(g->alts[i], ++k))
				return 1;
	}
	return 0;
}

void nv_glob_free(nv_glob *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->alts[i]);
	free(g->alts);
	free(g);
}
