/* standalone_main.c: runs a fuzz target over files without libFuzzer, so that make
 * check (gcc, ASan) replays each target's committed corpus. Linked into every
 * tests/fuzz/fuzz_* of the ordinary build; --enable-fuzzing links libFuzzer instead.
 *
 *   fuzz_NAME [FILE|DIR]...   each FILE, and each regular file directly in each DIR
 *   fuzz_NAME                 $NV_SRCDIR/tests/fuzz/corpus/NAME (what make check does)
 *
 * Exit 0 when every input ran (a crash aborts with the sanitizer's report), 1 when
 * there was nothing to run: a corpus missing from a tarball is a failure. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads the whole file into a buffer of exactly its size, so that ASan sees a read
 * past the end as libFuzzer's own copies would show it. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		uint8_t chunk[65536];
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		if (n == 0)
			break;
		if (len + n > cap) {
			uint8_t *grown = realloc(buf, len + n);

			if (!grown)
				abort();
			buf = grown;
			cap = len + n;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	if (!buf && !(buf = malloc(1)))
		abort();
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each regular file directly in dir, in name order (a crash then names the same
 * input on every run). Returns the number run, or -1. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	long ran = 0;

	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char **grown;

		if (e->d_name[0] == '.')
			continue;
		if (!(grown = realloc(names, (n + 1) * sizeof(*names))) ||
		    !(grown[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)))
			abort();
		names = grown;
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (ran >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			ran = run_file(names[i]) == 0 ? ran + 1 : -1;
		free(names[i]);
	}
	free(names);
	return ran;
}

static long run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return run_dir(path);
	return run_file(path) == 0 ? 1 : -1;
}

/* $NV_SRCDIR/tests/fuzz/corpus/NAME for a program called fuzz_NAME. */
static char *default_corpus(const char *argv0)
{
	const char *src = getenv("NV_SRCDIR"), *base = strrchr(argv0, '/');
	char *dir;

	base = base ? base + 1 : argv0;
	if (strncmp(base, "fuzz_", 5) == 0)
		base += 5;
	if (!src || !*src) {
		fprintf(stderr, "usage: %s FILE|DIR... (or set NV_SRCDIR to the source tree "
			"to run tests/fuzz/corpus/%s)\n", argv0, base);
		return NULL;
	}
	if (!(dir = malloc(strlen(src) + strlen(base) + 32)))
		abort();
	sprintf(dir, "%s/tests/fuzz/corpus/%s", src, base);
	return dir;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		char *dir = default_corpus(argv[0]);

		if (!dir)
			return 1;
		total = run_path(dir);
		printf("%s: %ld inputs from %s\n", argv[0], total, dir);
		free(dir);
	} else {
		for (int i = 1; i < argc && total >= 0; i++) {
			long n = run_path(argv[i]);

			total = n < 0 ? -1 : total + n;
		}
		printf("%s: %ld inputs\n", argv[0], total);
	}
	if (total <= 0) {
		fprintf(stderr, "%s: no input was run\n", argv[0]);
		return 1;
	}
	return 0;
}
