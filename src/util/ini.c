/* ini.c: the config file's INI syntax (see ini.h), replacing libinih, whose packaged
 * build cuts lines at 199 bytes. Called by config.c only. */
#include "ini.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static int nv_ini_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims blanks (and a CR) at both ends of [*s, *e). */
static void nv_ini_trim(char **s, char **e)
{
	while (*s < *e && nv_ini_blank(**s))
		(*s)++;
	while (*e > *s && (nv_ini_blank((*e)[-1]) || (*e)[-1] == '\r'))
		(*e)--;
}

/* Where a comment starts in [s, e): a ';' after a blank, else e. */
static char *nv_ini_comment(char *s, char *e)
{
	for (char *p = s + 1; p < e; p++)
		if (*p == ';' && nv_ini_blank(p[-1]))
			return p;
	return e;
}

typedef struct nv_ini_state {
	const char *origin;
	size_t lineno;
	char *section; /* points into the caller's copy of the text */
} nv_ini_state;

static int nv_ini_bad(const nv_ini_state *st, const char *what)
{
	return nv_error_set(NV_EINVAL, "%s, line %zu: %s", st->origin, st->lineno, what);
}

/* One line, [s, e), NUL-terminated at e by the caller's copy. */
static int nv_ini_line(nv_ini_state *st, char *s, char *e, nv_ini_entry_fn fn, void *user)
{
	char *eq, *k_end, *v;

	if (memchr(s, '\0', (size_t)(e - s)))
		return nv_ini_bad(st, "a NUL byte in the line");
	nv_ini_trim(&s, &e);
	if (s == e || *s == ';' || *s == '#')
		return 0;
	if (*s == '[') {
		char *close = memchr(s, ']', (size_t)(e - s)), *rest;

		if (!close)
			return nv_ini_bad(st, "a section line needs its closing ]");
		rest = close + 1;
		nv_ini_trim(&rest, &e);
		if (rest != e && !(*rest == ';' && rest > close + 1))
			return nv_ini_bad(st, "only a comment (after a blank) may follow [section]");
		if (close == s + 1)
			return nv_ini_bad(st, "a section needs a name: [name]");
		*close = '\0';
		st->section = s + 1;
		return 0;
	}
	eq = memchr(s, '=', (size_t)(e - s));
	if (!eq || nv_ini_comment(s, eq) != eq)
		return nv_ini_bad(st, "expected key = value, [section], or a comment "
				  "(a line starting with ; or #)");
	k_end = eq;
	nv_ini_trim(&s, &k_end);
	if (s == k_end)
		return nv_ini_bad(st, "a key is missing before the =");
	if (!st->section)
		return nv_ini_bad(st, "a key before any [section]");
	*k_end = '\0';
	v = eq + 1;
	e = nv_ini_comment(v - 1, e);
	nv_ini_trim(&v, &e);
	*e = '\0';
	return fn(user, st->section, s, v);
}

int nv_ini_parse(const char *text, size_t len, const char *origin, nv_ini_entry_fn fn,
		 void *user)
{
	nv_ini_state st = { origin, 0, NULL };
	char *copy = malloc(len + 1), *s, *end;
	int rc = 0;

	if (!copy)
		return nv_error_set(NV_ERR, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	s = copy;
	end = copy + len;
	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (s < end && rc == 0) {
		char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end;

		st.lineno++;
		*e = '\0';
		rc = nv_ini_line(&st, s, e, fn, user);
		s = e + 1;
	}
	OPENSSL_clear_free(copy, len + 1); /* it held the secrets */
	return rc;
}
