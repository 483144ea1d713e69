/* escape.h: the one escaping of untrusted text (names, keys, manifest fields,
 * messages that embed them) for the terminal and for JSON. Everyone may call;
 * log.c and the commands' stdout printers (ls, log) are the output sites.
 *
 * Strings stay raw inside navette; each output form escapes once, where it
 * writes (never a string escaped twice, never one escaped for the wrong form).
 *
 * Human form (reversible): "\\" for a backslash; "\xHH" for a byte that is a
 * C0 control, DEL, or not part of valid UTF-8; "\u{H...}" (lowercase hex, no
 * leading zeros) for a valid code point that is a C1 control (U+0080-U+009F),
 * U+2028, U+2029, or a bidi control (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069). Anything else, other UTF-8 included, is written as is.
 *
 * JSON form (RFC 8259): a string literal with quotes; '"' and '\' escaped,
 * controls as \b \f \n \r \t or \u00XX, DEL, C1, U+2028/U+2029 and bidi
 * controls as \uXXXX; a byte that is not valid UTF-8 becomes \ufffd and the
 * caller is told, so it can carry the raw bytes in a "<field>_hex" field. */
#ifndef NV_ESCAPE_H
#define NV_ESCAPE_H

#include <stdio.h>

#include "strbuf.h"

/* 1 when the n bytes of s are well-formed UTF-8 (what JSON can carry). */
int nv_utf8_valid(const char *s, size_t n);
/* Appends the n bytes of s, escaped for a terminal. */
void nv_escape_human(nv_sb *b, const char *s, size_t n);
/* Writes s escaped for a terminal; the stdio result (EOF on error). */
int nv_escape_fputs(const char *s, FILE *f);
/* Appends s as a JSON string literal; returns 1 when s held bytes that are
 * not valid UTF-8 (written as \ufffd), else 0. */
int nv_escape_json(nv_sb *b, const char *s, size_t n);
/* Appends "name":<s as JSON>, and ,"name_hex":"<the raw bytes in hex>" when
 * s is not valid UTF-8: lossless, and every line stays valid JSON. */
void nv_json_member(nv_sb *b, const char *name, const char *s);
/* The same after a comma: another member of an object begun before. */
void nv_json_field(nv_sb *b, const char *name, const char *s);

#endif
