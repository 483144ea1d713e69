/* fuzz.h: what the fuzz targets share: libFuzzer's entry point (each fuzz_*.c
 * defines it), a string copy and property checks. Included by tests/fuzz only. */
#ifndef NV_FUZZ_H
#define NV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called by libFuzzer, or by standalone_main.c once per corpus file. Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string (cut at its first NUL, as a string argument would be);
 * malloc'd; aborts when memory runs out, which libFuzzer reports. */
static inline char *nv_fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A property the target checks failed: abort, so that the input is kept as a crash
 * (make fuzz closes the target's stderr: the stack trace names the line). */
static inline void nv_fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
	abort();
}
#define NV_FUZZ_ASSERT(cond)                                                           \
	do {                                                                           \
		if (!(cond))                                                           \
			nv_fuzz_fail(__FILE__, __LINE__, #cond);                       \
	} while (0)

#endif
