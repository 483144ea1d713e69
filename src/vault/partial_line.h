/* partial_line.h: a partial catalog's file line in the one form its writer
 * gives it, read without a JSON tree (publish reads one line per file of a
 * run). Called by run_doc.c, which checks the fields and parses every other
 * form with jansson. */
#ifndef NV_PARTIAL_LINE_H
#define NV_PARTIAL_LINE_H

#include <stddef.h>
#include <stdint.h>

/* A string of the line: len bytes at s, inside the line, no terminator. */
typedef struct nv_pline_str {
	const char *s;
	size_t len;
} nv_pline_str;

/* The fields of a file line (docs/FORMAT.md 2.9), unchecked. */
typedef struct nv_pline {
	int64_t mode, mtime, mtime_ns, size, stored_size;
	nv_pline_str object, path, sha256, stored_sha256;
} nv_pline;

/* 0 with *out filled when line[0..len) is exactly what run_doc.c writes:
 * one object, its nine keys in sorted order, compact, each string printable
 * ASCII without an escape, each number an integer of at most 18 digits.
 * 1 for anything else (no message set): the caller parses it as JSON, which
 * accepts every such line alike, with the same values. */
int nv_pline_fast(nv_pline *out, const char *line, size_t len);

#endif
