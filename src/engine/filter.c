/* filter.c: the rules of filter.h in the order given, the --files-from set
 * (sorted, searched by bisection) and the age window. Called by the engine
 * and by the command line that builds the filter. */
#include "filter.h"
#include "glob.h"
#include "util/error.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nv_rule {
	int include;
	nv_glob *glob;
	char *text;          /* the pattern as given, for nv_filter_describe */
} nv_rule;

struct nv_filter {
	nv_rule *rules;
	size_t nrules;
	int any_include;     /* then a key no rule matches is excluded */
	char **files;        /* --files-from, sorted; NULL when not given */
	size_t nfiles;
	int files_given;
	long long min_age, max_age; /* seconds, -1: not given */
	int64_t now;
};

int nv_filter_new(nv_filter **out)
{
	nv_filter *f = calloc(1, sizeof(*f));

	*out = f;
	if (!f)
		return nv_error_set(NV_ERR, "out of memory");
	f->min_age = f->max_age = -1;
	return 0;
}

void nv_filter_free(nv_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nrules; i++) {
		nv_glob_free(f->rules[i].glob);
		free(f->rules[i].text);
	}
	for (size_t i = 0; i < f->nfiles; i++)
		free(f->files[i]);
	free(f->rules);
	free(f->files);
	free(f);
}

int nv_filter_add(nv_filter *f, int include, const char *pattern)
{
	nv_rule *r = realloc(f->rules, (f->nrules + 1) * sizeof(*r));
	int rc;

	if (!r)
		return nv_error_set(NV_ERR, "out of memory");
	f->rules = r;
	if ((rc = nv_glob_compile(&r[f->nrules].glob, pattern)))
		return rc;
	if (!(r[f->nrules].text = strdup(pattern))) {
		nv_glob_free(r[f->nrules].glob);
		return nv_error_set(NV_ERR, "out of memory");
	}
	r[f->nrules++].include = include;
	f->any_include |= include;
	return 0;
}

/* Calls fn on every meaningful line of the file at path, trimmed (rclone's
 * reading of rule and file lists). */
static int nv_filter_lines(const char *path, int (*fn)(void *, char *), void *ctx)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, *s, *e;
	size_t cap = 0;
	int rc = 0;

	if (!fp)
		return nv_error_errno(errno, "reading %s", path);
	while (!rc && getline(&line, &cap, fp) >= 0) {
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		if (*s && *s != '#' && *s != ';')
			rc = fn(ctx, s);
	}
	if (!rc && ferror(fp))
		rc = nv_error_errno(errno, "reading %s", path);
	free(line);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

typedef struct nv_rule_ctx {
	nv_filter *f;
	int include;
	const char *path;
} nv_rule_ctx;

static int nv_filter_rule_line(void *ctx, char *line)
{
	nv_rule_ctx *c = ctx;
	int rc = nv_filter_add(c->f, c->include, line);

	return rc ? nv_error_wrap(rc, "%s", c->path) : 0;
}

int nv_filter_add_file(nv_filter *f, int include, const char *path)
{
	nv_rule_ctx c = { f, include, path };

	return nv_filter_lines(path, nv_filter_rule_line, &c);
}

static int nv_filter_file_line(void *ctx, char *line)
{
	nv_filter *f = ctx;
	char **g;
	size_t n;

	while (*line == '/')
		line++;
	for (n = strlen(line); n && line[n - 1] == '/'; n--)
		;
	if (!n)
		return 0;
	if (!(g = realloc(f->files, (f->nfiles + 1) * sizeof(*g))) ||
	    !(g[f->nfiles] = strndup(line, n))) {
		if (g)
			f->files = g;
		return nv_error_set(NV_ERR, "out of memory");
	}
	f->files = g;
	f->nfiles++;
	return 0;
}

static int nv_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nv_filter_files_from(nv_filter *f, const char *path)
{
	int rc;

	f->files_given = 1;
	if ((rc = nv_filter_lines(path, nv_filter_file_line, f)))
		return rc;
	qsort(f->files, f->nfiles, sizeof(*f->files), nv_cmp_str);
	return 0;
}

void nv_filter_set_age(nv_filter *f, long long min_age, long long max_age, int64_t now)
{
	f->min_age = min_age;
	f->max_age = max_age;
	f->now = now;
}

int nv_filter_check(const nv_filter *f)
{
	if (f->files_given && (f->nrules || f->min_age >= 0 || f->max_age >= 0))
		return nv_error_set(NV_EINVAL, "--files-from takes the place of every other "
				    "filter (as in rclone): use it without --include, --exclude, "
				    "--exclude-from, --min-age and --max-age");
	if (f->min_age >= 0 && f->max_age >= 0 && f->min_age > f->max_age)
		return nv_error_set(NV_EINVAL, "--min-age (%llds) is larger than --max-age "
				    "(%llds): no file could pass", f->min_age, f->max_age);
	return 0;
}

void nv_filter_describe(const nv_filter *f, void (*fn)(void *ctx, const char *rule),
			void *ctx)
{
	char line[64];

	if (!f)
		return;
	for (size_t i = 0; i < f->nrules; i++) {
		char *r = malloc(strlen(f->rules[i].text) + 9);

		if (!r) {
			fn(ctx, "(out of memory)");
			continue;
		}
		sprintf(r, "%s %s", f->rules[i].include ? "include" : "exclude", f->rules[i].text);
		fn(ctx, r);
		free(r);
	}
	if (f->files_given) {
		snprintf(line, sizeof(line), "files-from (%zu keys)", f->nfiles);
		fn(ctx, line);
	}
	if (f->min_age >= 0) {
		snprintf(line, sizeof(line), "min-age %llds", f->min_age);
		fn(ctx, line);
	}
	if (f->max_age >= 0) {
		snprintf(line, sizeof(line), "max-age %llds", f->max_age);
		fn(ctx, line);
	}
}

int nv_filter_active(const nv_filter *f)
{
	return f && (f->nrules || f->files_given || f->min_age >= 0 || f->max_age >= 0);
}

int nv_filter_key(const nv_filter *f, const char *key)
{
	if (!f)
		return 1;
	if (f->files_given)
		return bsearch(&key, f->files, f->nfiles, sizeof(*f->files), nv_cmp_str) != NULL;
	for (size_t i = 0; i < f->nrules; i++)
		if (nv_glob_match(f->rules[i].glob, key))
			return f->rules[i].include;
	return !f->any_include;
}

int nv_filter_entry(const nv_filter *f, const nv_entry *e)
{
	/* S3 and Azure list their own modification time without the flag (it is
	 * not the file's kept one): for an age, that time is what there is. */
	int timed = (e->flags & NV_ENTRY_HAS_MTIME) || e->mtime_sec != 0;

	if (!f)
		return 1;
	if (timed && f->min_age >= 0 && e->mtime_sec > f->now - f->min_age)
		return 0;
	if (timed && f->max_age >= 0 && e->mtime_sec < f->now - f->max_age)
		return 0;
	return nv_filter_key(f, e->key);
}
