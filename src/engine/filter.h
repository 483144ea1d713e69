/* filter.h: which keys a run considers: --include/--exclude rules (rclone's
 * glob syntax, first matching rule wins), --files-from, --min-age/--max-age.
 * Called by the engine (copy, sync, check) and, later, by push.
 *
 * Patterns (README.md "Filters"; the differences from rclone are listed in
 * tests/integration/filter_rclone.sh):
 *   *       any run of characters but '/'      **     any run, '/' included
 *   ?       one character but '/'              [...]  one character of a class:
 *           ranges a-z, negation [!...] or [^...], never '/'
 *   {a,b}   either alternative (may nest)      \c     the character c itself
 *   a leading '/' anchors the pattern at the root; otherwise it matches at the
 *   start of any path element ("*.jpg" matches "a/b/x.jpg", "b/c" matches
 *   "a/b/c"); a trailing '/' matches a directory and everything below it.
 * Rules are tried in the order they were added; the first that matches a key
 * decides; a key no rule matches is included, unless there is an include
 * rule: then it is excluded ("include" implies "exclude everything else"). */
#ifndef NV_FILTER_H
#define NV_FILTER_H

#include <stdint.h>

#include "driver/driver.h"

typedef struct nv_filter nv_filter;

/* An empty filter: every key passes. *out belongs to the caller. */
int nv_filter_new(nv_filter **out);
/* Accepts NULL. */
void nv_filter_free(nv_filter *f);

/* Appends one rule after those already added; NV_EINVAL (message naming the
 * pattern) when it is malformed: an unmatched '[', ']', '{' or '}', a
 * trailing '\', three '*' in a row, an rclone regular expression {{...}}. */
int nv_filter_add(nv_filter *f, int include, const char *pattern);
/* Appends one rule per line of the file at path (--exclude-from): lines are
 * trimmed of blanks; empty lines and lines starting with '#' or ';' are skipped. */
int nv_filter_add_file(nv_filter *f, int include, const char *path);
/* --files-from: only the keys listed in the file at path (one per line, read
 * as nv_filter_add_file reads; leading and trailing '/' dropped) pass. As in
 * rclone, it cannot be combined with rules or ages (nv_filter_check). */
int nv_filter_files_from(nv_filter *f, const char *path);
/* --min-age, --max-age (seconds; -1 when not given), against now (Unix time):
 * only files whose modification time is at least min_age and at most max_age
 * before now pass. An entry that carries no time at all passes. */
void nv_filter_set_age(nv_filter *f, long long min_age, long long max_age, int64_t now);
/* NV_EINVAL with a message when the options given do not go together. */
int nv_filter_check(const nv_filter *f);

/* Calls fn once per rule, in the order given, with its text: "exclude *.tmp",
 * "include /photos/" (an --exclude-from file's rules one by one),
 * "files-from (N keys)", "min-age 3600s", "max-age 604800s": what a report
 * records of the filter (engine/report.h). f may be NULL: no call. */
void nv_filter_describe(const nv_filter *f, void (*fn)(void *ctx, const char *rule),
			void *ctx);
/* 1 when anything is filtered at all (f may be NULL: nothing is). */
int nv_filter_active(const nv_filter *f);
/* 1 when key passes the rules and --files-from (ages are not looked at). */
int nv_filter_key(const nv_filter *f, const char *key);
/* 1 when a listed entry passes the whole filter. f may be NULL. */
int nv_filter_entry(const nv_filter *f, const nv_entry *e);

#endif
