/* ini.h: a strict reader of the config file's INI syntax, any line length.
 * Called by config.c (and the config parser's tests). */
#ifndef NV_INI_H
#define NV_INI_H

#include <stddef.h>

/* Called once per key = value line, in file order; section is the last
 * [section] seen (never NULL). A nonzero return stops the parse and is returned. */
typedef int (*nv_ini_entry_fn)(void *user, const char *section, const char *key,
			       const char *value);

/* Parses len bytes of text (a whole file; NUL bytes allowed, and refused).
 * The syntax, line by line (LF or CRLF; a UTF-8 BOM before the first line is skipped):
 *   - blank, or first non-blank byte ; or #: a comment;
 *   - [name]: a section (name not empty, without ']');
 *   - key = value: key and value trimmed of blanks, the value may hold = ; #;
 *   - in a [section] line or a value, a ; after a blank (space or tab) starts a
 *     comment that runs to the end of the line.
 * Anything else, or a key before the first section, is NV_EINVAL with a message
 * "<origin>, line N: <what was expected>"; nothing is ever cut or skipped. */
int nv_ini_parse(const char *text, size_t len, const char *origin, nv_ini_entry_fn fn,
		 void *user);

#endif
