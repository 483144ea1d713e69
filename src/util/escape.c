/* escape.c: untrusted text escaped for a terminal or for JSON (escape.h),
 * over one strict UTF-8 decoder. Everyone may call. */
#include "escape.h"

#include <stdint.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF), its code point in
 * *cp; 0 when s[0] does not start one. */
static size_t nv_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t v, lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

int nv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;

	for (; i < n; i += len)
		if (!(len = nv_utf8_next(p + i, n - i, &cp)))
			return 0;
	return 1;
}

/* Code points that move the cursor, reorder text or end a line somewhere
 * (C1 controls, line and paragraph separators, the Bidi_Control property). */
static int nv_cp_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

void nv_escape_human(nv_sb *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len;
	uint32_t cp;

	while (i < n) {
		len = nv_utf8_next(p + i, n - i, &cp);
		if (len && cp >= 0x20 && cp != 0x7f && cp != '\\' && !nv_cp_hidden(cp)) {
			i += len;
			run += len;
			continue;
		}
		nv_sb_addn(b, s + i - run, run); /* the safe text before this one */
		run = 0;
		if (!len || cp < 0x20 || cp == 0x7f)
			nv_sb_addf(b, "\\x%02x", p[i]);
		else if (cp == '\\')
			nv_sb_addn(b, "\\\\", 2);
		else
			nv_sb_addf(b, "\\u{%x}", (unsigned)cp);
		i += len ? len : 1;
	}
	nv_sb_addn(b, s + i - run, run);
}

int nv_escape_fputs(const char *s, FILE *f)
{
	nv_sb b = { 0 };
	int rc;

	nv_escape_human(&b, s, strlen(s));
	rc = b.failed ? EOF : fputs(nv_sb_str(&b), f);
	nv_sb_free(&b);
	return rc;
}

int nv_escape_json(nv_sb *b, const char *s, size_t n)
{
	static const char short_forms[] = "btn\0fr"; /* \b \t \n, \f \r (0x08-0x0d) */
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len;
	int invalid = 0;
	uint32_t cp;

	nv_sb_addc(b, '"');
	while (i < n) {
		len = nv_utf8_next(p + i, n - i, &cp);
		if (len && cp >= 0x20 && cp != 0x7f && cp != '"' && cp != '\\' && !nv_cp_hidden(cp)) {
			i += len;
			run += len;
			continue;
		}
		nv_sb_addn(b, s + i - run, run);
		run = 0;
		if (!len) {
			nv_sb_addn(b, "\\ufffd", 6);
			invalid = 1;
		} else if (cp == '"' || cp == '\\') {
			nv_sb_addc(b, '\\');
			nv_sb_addc(b, (char)cp);
		} else if (cp >= 0x08 && cp <= 0x0d && short_forms[cp - 8]) {
			nv_sb_addc(b, '\\');
			nv_sb_addc(b, short_forms[cp - 8]);
		} else {
			nv_sb_addf(b, "\\u%04x", (unsigned)cp);
		}
		i += len ? len : 1;
	}
	nv_sb_addn(b, s + i - run, run);
	nv_sb_addc(b, '"');
	return invalid;
}

void nv_json_member(nv_sb *b, const char *name, const char *s)
{
	size_t n = strlen(s);

	nv_sb_addf(b, "\"%s\":", name);
	if (!nv_escape_json(b, s, n))
		return;
	nv_sb_addf(b, ",\"%s_hex\":\"", name);
	for (size_t i = 0; i < n; i++)
		nv_sb_addf(b, "%02x", (unsigned char)s[i]);
	nv_sb_addc(b, '"');
}

void nv_json_field(nv_sb *b, const char *name, const char *s)
{
	nv_sb_addc(b, ',');
	nv_json_member(b, name, s);
}
