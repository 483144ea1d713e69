/* strbuf.h: the growing string every layer builds text in (log lines whose
 * length depends on untrusted names, HTTP requests, XML bodies). Everyone
 * may call. */
#ifndef NV_STRBUF_H
#define NV_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* Zero-initialise ({ 0 }). An allocation failure sets `failed` and turns
 * every later append into a no-op, so builders check once at the end. */
typedef struct nv_sb {
	char *s;       /* NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
	int failed;
} nv_sb;

/* Room for extra more bytes (and the NUL); 0, or -1 with failed set. */
int nv_sb_reserve(nv_sb *b, size_t extra);
void nv_sb_add(nv_sb *b, const char *s);
void nv_sb_addn(nv_sb *b, const char *s, size_t n);
void nv_sb_addc(nv_sb *b, char c);
void nv_sb_addf(nv_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nv_sb_vaddf(nv_sb *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The text so far ("" when empty). */
const char *nv_sb_str(const nv_sb *b);
/* 0, or NV_ERR with a message when an append failed. */
int nv_sb_ok(const nv_sb *b);
/* Returns the string (caller frees) and resets b; NULL if an append failed. */
char *nv_sb_take(nv_sb *b);
void nv_sb_free(nv_sb *b);

#endif
