/* strbuf.c: the growing string (strbuf.h): doubling, NUL-terminated, sticky
 * on allocation failure. Everyone may call. */
#include "strbuf.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nv_sb_reserve(nv_sb *b, size_t extra)
{
	size_t need, cap;
	char *s;

	if (b->failed)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->failed = 1;
		return -1;
	}
	b->s = s;
	b->cap = cap;
	return 0;
}

void nv_sb_addn(nv_sb *b, const char *s, size_t n)
{
	if (nv_sb_reserve(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void nv_sb_add(nv_sb *b, const char *s)
{
	nv_sb_addn(b, s, strlen(s));
}

void nv_sb_addc(nv_sb *b, char c)
{
	nv_sb_addn(b, &c, 1);
}

void nv_sb_vaddf(nv_sb *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		b->failed = 1;
	else if (nv_sb_reserve(b, (size_t)n) == 0) {
		vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void nv_sb_addf(nv_sb *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nv_sb_vaddf(b, fmt, ap);
	va_end(ap);
}

const char *nv_sb_str(const nv_sb *b)
{
	return b->s ? b->s : "";
}

int nv_sb_ok(const nv_sb *b)
{
	return b->failed ? nv_error_set(NV_ERR, "out of memory") : 0;
}

char *nv_sb_take(nv_sb *b)
{
	char *s = b->failed ? NULL : b->s;

	if (b->failed)
		free(b->s);
	else if (!s)
		s = strdup("");
	memset(b, 0, sizeof(*b));
	return s;
}

void nv_sb_free(nv_sb *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}
