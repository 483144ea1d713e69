/* conformance.c: nv-conformance LOCATION, the one suite every driver runs through
 * (via the nv_drv_* wrappers only). Called by tests/driver/<driver>.sh scripts. */
#include "util/config.h"
#include "driver/driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define CONF_KEY_MAX 1100

struct conf {
	nv_store *s;
	unsigned caps;
	size_t min_part;
	char run[64];     /* "nv-conformance-<random>/": everything this run makes */
	char prefix[128]; /* run + case name + '/' */
};

static int conf_n, conf_passed, conf_failed;

__attribute__((format(printf, 2, 3)))
static int conf_check(int good, const char *fmt, ...)
{
	va_list ap;

	conf_n++;
	printf("%sok %d - ", good ? "" : "not ", conf_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (good)
		conf_passed++;
	else
		conf_failed++;
	return good;
}

/* rc must be want; the message names both codes when it is not. */
static int conf_rc(int rc, int want, const char *what)
{
	if (rc == want)
		return conf_check(1, "%s", what);
	return conf_check(0, "%s: got %d (%s), wanted %d (%s)%s%s", what, rc, nv_error_name(rc),
			  want, nv_error_name(want), rc ? ": " : "", rc ? nv_error_msg() : "");
}

static void conf_skip(const char *what, const char *why)
{
	conf_n++;
	conf_passed++;
	printf("ok %d - %s # SKIP %s\n", conf_n, what, why);
}

/* The full key of name under the current case; a ring of buffers so that a
 * call may use a few at once. */
static const char *conf_key(const struct conf *t, const char *name)
{
	static char ring[4][CONF_KEY_MAX];
	static unsigned next;
	char *k = ring[next++ % 4];

	snprintf(k, CONF_KEY_MAX, "%s%s", t->prefix, name);
	return k;
}

static void conf_case(struct conf *t, const char *name)
{
	snprintf(t->prefix, sizeof(t->prefix), "%s%s/", t->run, name);
	printf("# %s\n", name);
}

static void conf_fill(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)((i * 131u + (i >> 9) * 7u + seed) & 0xff);
}

static int conf_put(struct conf *t, const char *name, const void *buf, size_t len,
		    unsigned flags)
{
	return nv_drv_put_buf(t->s, conf_key(t, name), buf, len, flags);
}

/* Reads the whole object in chunks; 1 when it holds exactly want[0..len). */
static int conf_same(struct conf *t, const char *key, const unsigned char *want, size_t len)
{
	size_t chunk = 256 * 1024, got, off = 0;
	unsigned char *buf = malloc(chunk);
	int same = buf != NULL;

	while (same) {
		if (nv_drv_read(t->s, key, off, buf, chunk, &got) != 0) {
			same = 0;
			break;
		}
		if (got == 0)
			break;
		if (off + got > len || memcmp(buf, want + off, got) != 0)
			same = 0;
		off += got;
	}
	free(buf);
	return same && off == len;
}

static void conf_keys_free(char **keys, int n)
{
	for (int i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* Collects the keys listed under prefix; returns the count or -1 on error.
 * A stream that is not strictly increasing fails a check here. */
static int conf_list(struct conf *t, const char *prefix, char ***keys, uint64_t **sizes)
{
	nv_lister *l;
	nv_entry e;
	int n = 0, rc, sorted = 1;

	*keys = NULL;
	if (sizes)
		*sizes = NULL;
	if (nv_drv_list_open(&l, t->s, prefix) != 0)
		return -1;
	while ((rc = nv_drv_list_next(l, &e)) == 0) {
		char **kg = realloc(*keys, (size_t)(n + 1) * sizeof(*kg));

		if (!kg)
			break;
		*keys = kg;
		if (sizes) {
			uint64_t *sg = realloc(*sizes, (size_t)(n + 1) * sizeof(*sg));

			if (!sg)
				break;
			*sizes = sg;
			(*sizes)[n] = e.size;
		}
		if (n > 0 && strcmp((*keys)[n - 1], e.key) >= 0)
			sorted = 0;
		(*keys)[n++] = strdup(e.key);
	}
	nv_drv_list_close(l);
	if (!sorted)
		conf_check(0, "listing of '%s' strictly increasing in byte order", prefix);
	if (rc != NV_EOF) {
		conf_keys_free(*keys, n);
		*keys = NULL;
		if (sizes) {
			free(*sizes);
			*sizes = NULL;
		}
		return -1;
	}
	return n;
}

static int conf_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the current case's prefix and checks that it holds nothing. */
static void conf_expect_empty(struct conf *t, const char *what)
{
	char **keys;
	int n = conf_list(t, t->prefix, &keys, NULL);

	conf_check(n == 0, "%s: nothing listed under %s (got %d)", what, t->prefix, n);
	conf_keys_free(keys, n);
}

/* ---- Cases ---- */

static void conf_roundtrip(struct conf *t)
{
	unsigned char data[1000];
	nv_write_opts o = { .size = sizeof(data), .mtime_sec = 1600000000, .mtime_nsec = 0,
			    .mode = 0640, .flags = NV_WRITE_HAS_MTIME | NV_WRITE_HAS_MODE };
	nv_commit_info info = { 0, 0 };
	const char *key;
	unsigned char *back = NULL;
	size_t len = 0;
	nv_wstream *w;
	nv_entry e;

	conf_case(t, "roundtrip");
	key = conf_key(t, "hello.txt");
	conf_fill(data, sizeof(data), 1);
	if (!conf_rc(nv_drv_write_open(&w, t->s, key, &o), 0, "write_open"))
		return;
	conf_rc(nv_drv_write(w, data, sizeof(data)), 0, "write 1000 bytes");
	conf_rc(nv_drv_write_commit(w, &info), 0, "commit");
	conf_check(info.size == sizeof(data) || !(info.confirmed & NV_CONFIRM_SIZE),
		   "commit reports the size it confirms (%llu)", (unsigned long long)info.size);
	if (conf_rc(nv_drv_stat(t->s, key, &e), 0, "stat after put"))
		conf_check(e.size == sizeof(data), "stat size 1000 (got %llu)",
			   (unsigned long long)e.size);
	if (t->caps & NV_CAP_MTIME)
		conf_check((e.flags & NV_ENTRY_HAS_MTIME) && e.mtime_sec == 1600000000,
			   "mtime kept (got %lld)", (long long)e.mtime_sec);
	if (t->caps & NV_CAP_MODE)
		conf_check((e.flags & NV_ENTRY_HAS_MODE) && e.mode == 0640,
			   "mode kept (got %o)", (unsigned)e.mode);
	if (conf_rc(nv_drv_get_buf(t->s, key, 1 << 20, &back, &len), 0, "get_buf"))
		conf_check(len == sizeof(data) && memcmp(back, data, len) == 0,
			   "read back the same 1000 bytes");
	free(back);
	conf_rc(nv_drv_remove(t->s, key), 0, "remove");
	conf_rc(nv_drv_stat(t->s, key, &e), NV_ENOTFOUND, "stat after remove");
}

/* 25 keys past a 7-entry page, with the keys that per-directory sorting gets wrong. */
static void conf_listing(struct conf *t)
{
	static const char *const names[] = {
		"a-b", "a/c", "a0", "a/d/e", "a/d-x", "a/d/f/g", "b", "n/1/2/3/x", "n/1/2/y",
		"n/1-2", "z.", "Z", "~",
	};
	size_t nn = sizeof(names) / sizeof(names[0]);
	char *want[25], filler[32];
	uint64_t *sizes;
	char **keys;
	int n, i, all = 1, ok_sizes = 1;

	conf_case(t, "listing");
	for (i = 0; i < 25; i++) {
		const char *name = (size_t)i < nn ? names[i] : filler;

		if ((size_t)i >= nn)
			snprintf(filler, sizeof(filler), "f/%02d", i);
		want[i] = strdup(conf_key(t, name));
		if (conf_put(t, name, name, strlen(name), 0) != 0)
			all = 0;
	}
	conf_check(all, "put 25 keys");
	qsort(want, 25, sizeof(want[0]), conf_cmp);
	n = conf_list(t, t->prefix, &keys, &sizes);
	conf_check(n == 25, "listed 25 keys past a 7-entry page (got %d)", n);
	for (i = 0; n == 25 && i < 25; i++) {
		if (strcmp(keys[i], want[i]) != 0)
			all = 0;
		if (sizes[i] != strlen(want[i]) - strlen(t->prefix))
			ok_sizes = 0;
	}
	conf_check(n == 25 && all, "keys in global byte order (a-b < a/c < a0)");
	conf_check(n == 25 && ok_sizes, "listed sizes match");
	if (n == 25 && !all)
		for (i = 0; i < 25; i++)
			printf("#   listed %-40s wanted %s\n", keys[i], want[i]);
	conf_keys_free(keys, n);
	free(sizes);
	all = 1;
	for (i = 0; i < 25; i++) {
		if (nv_drv_remove(t->s, want[i]) != 0)
			all = 0;
		free(want[i]);
	}
	conf_check(all, "remove 25 keys");
	conf_expect_empty(t, "after removing");
}

static void conf_prefix_listing(struct conf *t)
{
	static const char *const names[] = { "dir/x", "dir/sub/y", "dir-sib", "dirx", "di", "dir0" };
	size_t nn = sizeof(names) / sizeof(names[0]);
	char dirp[CONF_KEY_MAX], **keys;
	int n, all = 1;

	conf_case(t, "prefix");
	for (size_t i = 0; i < nn; i++)
		if (conf_put(t, names[i], "p", 1, 0) != 0)
			all = 0;
	conf_check(all, "put 6 keys");
	snprintf(dirp, sizeof(dirp), "%sdir/", t->prefix);
	n = conf_list(t, dirp, &keys, NULL);
	conf_check(n == 2 && !strcmp(keys[0], conf_key(t, "dir/sub/y")) &&
		   !strcmp(keys[1], conf_key(t, "dir/x")),
		   "listing 'dir/' gives dir/sub/y, dir/x only (got %d keys)", n);
	conf_keys_free(keys, n);
	snprintf(dirp, sizeof(dirp), "%snope/", t->prefix);
	n = conf_list(t, dirp, &keys, NULL);
	conf_check(n == 0, "a missing prefix lists nothing (got %d)", n);
	conf_keys_free(keys, n);
	for (size_t i = 0; i < nn; i++)
		nv_drv_remove(t->s, conf_key(t, names[i]));
	conf_expect_empty(t, "after removing");
}

static void conf_ranged(struct conf *t)
{
	unsigned char data[1000], buf[200];
	const char *key;
	size_t got;

	conf_case(t, "ranged");
	key = conf_key(t, "r.bin");
	conf_fill(data, sizeof(data), 3);
	if (!conf_rc(conf_put(t, "r.bin", data, sizeof(data), 0), 0, "put 1000 bytes"))
		return;
	got = 99;
	conf_rc(nv_drv_read(t->s, key, 0, buf, 100, &got), 0, "read 100 at 0");
	conf_check(got == 100 && !memcmp(buf, data, 100), "bytes 0..99 (got %zu)", got);
	conf_rc(nv_drv_read(t->s, key, 500, buf, 100, &got), 0, "read 100 at 500");
	conf_check(got == 100 && !memcmp(buf, data + 500, 100), "bytes 500..599 (got %zu)", got);
	conf_rc(nv_drv_read(t->s, key, 990, buf, 100, &got), 0, "read 100 at 990");
	conf_check(got == 10 && !memcmp(buf, data + 990, 10), "short read at the end: 10 (got %zu)",
		   got);
	got = 99;
	conf_rc(nv_drv_read(t->s, key, 1000, buf, 100, &got), 0, "read exactly at EOF");
	conf_check(got == 0, "at EOF got 0 (got %zu)", got);
	got = 99;
	conf_rc(nv_drv_read(t->s, key, 5000, buf, 100, &got), 0, "read past EOF");
	conf_check(got == 0, "past EOF got 0 (got %zu)", got);
	conf_rc(nv_drv_read(t->s, key, 1, buf, 1, &got), 0, "read 1 at 1");
	conf_check(got == 1 && buf[0] == data[1], "byte 1");
	nv_drv_remove(t->s, key);
}

/* Writes data in odd-sized pieces; size is what write_open is told (-1: unknown). */
static int conf_write_pieces(struct conf *t, const char *key, const unsigned char *data,
			     size_t len, int64_t size, nv_commit_info *info)
{
	static const size_t pieces[] = { 1, 7919, 65537, 3, 1048573, 524287, 13 };
	nv_write_opts o = { .size = size };
	nv_wstream *w;
	size_t off = 0;
	int rc, i = 0;

	if ((rc = nv_drv_write_open(&w, t->s, key, &o)))
		return rc;
	while (off < len) {
		size_t n = pieces[i++ % (sizeof(pieces) / sizeof(pieces[0]))];

		if (n > len - off)
			n = len - off;
		if ((rc = nv_drv_write(w, data + off, n))) {
			nv_drv_write_abort(w);
			return rc;
		}
		off += n;
	}
	return nv_drv_write_commit(w, info);
}

static void conf_multipart(struct conf *t)
{
	size_t len = t->min_part ? 2 * t->min_part + 1 : 3u << 20;
	unsigned char *data = malloc(len);
	nv_commit_info info = { 0, 0 };
	const char *key;
	nv_entry e;

	conf_case(t, "multipart");
	if (!conf_check(data != NULL, "allocate %zu bytes", len))
		return;
	conf_fill(data, len, 5);
	key = conf_key(t, "big.bin");
	conf_rc(conf_write_pieces(t, key, data, len, (int64_t)len, &info), 0,
		"write 2 parts + 1 byte in odd pieces (size known)");
	conf_check(!(info.confirmed & NV_CONFIRM_SIZE) || info.size == len,
		   "commit size %llu", (unsigned long long)info.size);
	if (conf_rc(nv_drv_stat(t->s, key, &e), 0, "stat"))
		conf_check(e.size == len, "size %zu (got %llu)", len, (unsigned long long)e.size);
	conf_check(conf_same(t, key, data, len), "read back identical");
	conf_fill(data, len, 6);
	conf_rc(conf_write_pieces(t, key, data, len, -1, &info), 0,
		"overwrite in odd pieces (size unknown)");
	conf_check(conf_same(t, key, data, len), "read back identical");
	conf_rc(nv_drv_remove(t->s, key), 0, "remove");
	free(data);
}

static void conf_abort(struct conf *t)
{
	unsigned char data[4096];
	nv_write_opts o = { .size = -1 };
	const char *key;
	nv_wstream *w;
	nv_entry e;

	conf_case(t, "abort");
	key = conf_key(t, "sub/aborted");
	conf_fill(data, sizeof(data), 7);
	if (conf_rc(nv_drv_write_open(&w, t->s, key, &o), 0, "write_open")) {
		conf_rc(nv_drv_write(w, data, sizeof(data)), 0, "write");
		nv_drv_write_abort(w);
	}
	conf_rc(nv_drv_stat(t->s, key, &e), NV_ENOTFOUND, "aborted key is not found");
	conf_expect_empty(t, "after abort");
	if (conf_rc(nv_drv_write_open(&w, t->s, key, &o), 0, "write_open again"))
		nv_drv_write_abort(w);
	conf_rc(nv_drv_stat(t->s, key, &e), NV_ENOTFOUND, "abort with no write leaves nothing");
	conf_expect_empty(t, "after the empty abort");
}

static void conf_exclusive(struct conf *t)
{
	unsigned char *back = NULL;
	size_t len = 0;

	conf_case(t, "exclusive");
	if (!(t->caps & NV_CAP_EXCLUSIVE)) {
		conf_skip("exclusive write", "driver has no NV_CAP_EXCLUSIVE");
		return;
	}
	conf_rc(conf_put(t, "once", "old", 3, NV_WRITE_EXCLUSIVE), 0,
		"exclusive write of a new key");
	conf_rc(conf_put(t, "once", "newer", 5, NV_WRITE_EXCLUSIVE), NV_EEXISTS,
		"exclusive write of an existing key");
	if (conf_rc(nv_drv_get_buf(t->s, conf_key(t, "once"), 100, &back, &len), 0, "read"))
		conf_check(len == 3 && !memcmp(back, "old", 3), "old content intact");
	free(back);
	nv_drv_remove(t->s, conf_key(t, "once"));
}

static void conf_overwrite(struct conf *t)
{
	unsigned char *back = NULL;
	size_t len = 0;
	const char *key;

	conf_case(t, "overwrite");
	key = conf_key(t, "o");
	conf_rc(conf_put(t, "o", "first version", 13, 0), 0, "put");
	conf_rc(conf_put(t, "o", "second, longer version", 22, 0), 0, "overwrite longer");
	if (!nv_drv_get_buf(t->s, key, 100, &back, &len))
		conf_check(len == 22 && !memcmp(back, "second, longer version", 22),
			   "longer content replaces");
	free(back);
	back = NULL;
	conf_rc(conf_put(t, "o", "3rd", 3, 0), 0, "overwrite shorter");
	if (conf_rc(nv_drv_get_buf(t->s, key, 100, &back, &len), 0, "read"))
		conf_check(len == 3 && !memcmp(back, "3rd", 3), "shorter content replaces");
	free(back);
	nv_drv_remove(t->s, key);
}

static void conf_names(struct conf *t)
{
	static const char *const names[] = {
		"caf\xc3\xa9.txt", "\xe6\x97\xa5\xe6\x9c\xac/\xe6\x96\x87\xe5\xad\x97 x",
		"with space/and more spaces .txt", "plus+sign+", "a+b c%20d&e=f?g#h",
	};
	size_t nn = sizeof(names) / sizeof(names[0]);
	char **keys, *want[5];
	int n, all = 1;

	conf_case(t, "names");
	for (size_t i = 0; i < nn; i++) {
		unsigned char *back = NULL;
		size_t len = 0;
		nv_entry e;

		want[i] = strdup(conf_key(t, names[i]));
		if (!conf_rc(conf_put(t, names[i], names[i], strlen(names[i]), 0), 0, names[i]))
			continue;
		conf_check(!nv_drv_stat(t->s, want[i], &e) && e.size == strlen(names[i]),
			   "stat '%s'", names[i]);
		conf_check(!nv_drv_get_buf(t->s, want[i], 100, &back, &len) &&
			   len == strlen(names[i]) && !memcmp(back, names[i], len),
			   "read '%s'", names[i]);
		free(back);
	}
	qsort(want, nn, sizeof(want[0]), conf_cmp);
	n = conf_list(t, t->prefix, &keys, NULL);
	for (int i = 0; n == (int)nn && i < n; i++)
		if (strcmp(keys[i], want[i]) != 0)
			all = 0;
	conf_check(n == (int)nn && all, "listing gives the exact bytes, sorted (got %d)", n);
	conf_keys_free(keys, n);
	for (size_t i = 0; i < nn; i++) {
		conf_rc(nv_drv_remove(t->s, want[i]), 0, "remove");
		free(want[i]);
	}
	conf_expect_empty(t, "after removing");
}

static void conf_missing(struct conf *t)
{
	unsigned char buf[16];
	size_t got = 5;
	nv_entry e;

	conf_case(t, "missing");
	conf_rc(nv_drv_stat(t->s, conf_key(t, "no-such-key"), &e), NV_ENOTFOUND, "stat missing");
	conf_rc(nv_drv_read(t->s, conf_key(t, "no-such-key"), 0, buf, sizeof(buf), &got),
		NV_ENOTFOUND, "read missing");
	conf_rc(nv_drv_remove(t->s, conf_key(t, "no-such-key")), 0, "remove missing");
	conf_rc(nv_drv_remove(t->s, conf_key(t, "no/such/dir/key")), 0,
		"remove missing in a missing directory");
	conf_rc(conf_put(t, "twice", "x", 1, 0), 0, "put");
	conf_rc(nv_drv_remove(t->s, conf_key(t, "twice")), 0, "remove");
	conf_rc(nv_drv_remove(t->s, conf_key(t, "twice")), 0, "remove again");
	conf_rc(nv_drv_stat(t->s, conf_key(t, "twice"), &e), NV_ENOTFOUND, "gone");
}

/* nv_drv_remove_many works for every driver: batched where the driver has
 * remove_many, one remove per key otherwise. */
static void conf_remove_many(struct conf *t)
{
	char k[3][CONF_KEY_MAX], bad[CONF_KEY_MAX];
	const char *keys[3] = { k[0], k[1], k[2] }, *with_bad[2] = { k[0], bad };
	int res[3] = { 9, 9, 9 };
	char *msgs[3] = { NULL, NULL, NULL };
	nv_entry e;

	conf_case(t, "remove-many");
	snprintf(k[0], sizeof(k[0]), "%s", conf_key(t, "one with space"));
	snprintf(k[1], sizeof(k[1]), "%s", conf_key(t, "no-such-key"));
	snprintf(k[2], sizeof(k[2]), "%s", conf_key(t, "dir/caf\xc3\xa9"));
	snprintf(bad, sizeof(bad), "%s", conf_key(t, "../escape"));
	conf_rc(conf_put(t, "one with space", "1", 1, 0), 0, "put a first key");
	conf_rc(conf_put(t, "dir/caf\xc3\xa9", "22", 2, 0), 0, "put a second key");
	conf_rc(nv_drv_remove_many(t->s, with_bad, 2, res, msgs), NV_EINVAL,
		"an invalid key refuses the whole call");
	conf_rc(nv_drv_stat(t->s, k[0], &e), 0, "and nothing was removed");
	conf_rc(nv_drv_remove_many(t->s, keys, 3, res, msgs), 0,
		"remove 3 keys, one of them missing");
	conf_check(res[0] == 0 && res[1] == 0 && res[2] == 0,
		   "every key's result is success (got %d %d %d)", res[0], res[1], res[2]);
	conf_check(!msgs[0] && !msgs[1] && !msgs[2], "no message for a success");
	conf_rc(nv_drv_stat(t->s, k[0], &e), NV_ENOTFOUND, "first key gone");
	conf_rc(nv_drv_stat(t->s, k[2], &e), NV_ENOTFOUND, "second key gone");
	conf_rc(nv_drv_remove_many(t->s, keys, 3, res, NULL), 0,
		"again, all missing, without messages");
	conf_check(res[0] == 0 && res[1] == 0 && res[2] == 0, "all success (got %d %d %d)",
		   res[0], res[1], res[2]);
	conf_expect_empty(t, "after removing");
}

static void conf_empty(struct conf *t)
{
	unsigned char buf[16];
	uint64_t *sizes;
	size_t got = 5;
	char **keys;
	nv_entry e;
	int n;

	conf_case(t, "empty");
	conf_rc(conf_put(t, "zero", "", 0, 0), 0, "put an empty object");
	if (conf_rc(nv_drv_stat(t->s, conf_key(t, "zero"), &e), 0, "stat"))
		conf_check(e.size == 0, "size 0 (got %llu)", (unsigned long long)e.size);
	conf_rc(nv_drv_read(t->s, conf_key(t, "zero"), 0, buf, sizeof(buf), &got), 0, "read");
	conf_check(got == 0, "got 0 bytes (got %zu)", got);
	n = conf_list(t, t->prefix, &keys, &sizes);
	conf_check(n == 1 && sizes[0] == 0, "listed with size 0 (got %d keys)", n);
	conf_keys_free(keys, n);
	free(sizes);
	nv_drv_remove(t->s, conf_key(t, "zero"));
}

/* Writes len bytes of data in pieces to a write opened under from, retargets
 * it to each of to[0..n) in turn, then commits it (abort 0) or aborts it. */
static int conf_retarget_write(struct conf *t, const char *from, const char *const *to,
			       int n, const unsigned char *data, size_t len, unsigned flags,
			       int abort)
{
	nv_write_opts o = { .size = (int64_t)len, .flags = flags };
	nv_wstream *w;
	int rc;

	if ((rc = nv_drv_write_open(&w, t->s, conf_key(t, from), &o)))
		return rc;
	for (size_t off = 0, k; !rc && off < len; off += k) {
		k = len - off < 65537 ? len - off : 65537;
		rc = nv_drv_write(w, data + off, k);
	}
	for (int i = 0; !rc && i < n; i++)
		rc = nv_drv_write_retarget(w, conf_key(t, to[i]));
	if (rc || abort) {
		nv_drv_write_abort(w);
		return rc;
	}
	return nv_drv_write_commit(w, NULL);
}

/* write_retarget (driver interface 5): a write published under a key decided
 * after its last byte, in a directory that need not exist (opened in the
 * case's directory, as push opens objects/unnamed); nothing ever under the key
 * it was opened with; an abort after it leaves nothing; an exclusive
 * one never replaces, a plain one does (and a cached read sees it). */
static void conf_retarget(struct conf *t)
{
	static const char *const twice[] = { "ab/abc", "new/dir/cde" }, *cde[] = { "new/dir/cde" },
				 *efg[] = { "ef/efg" }, *tmp[] = { ".navette-tmp.0123456789abcdef" };
	size_t len = 300000;
	unsigned char *data = malloc(len);
	char **keys;
	int n;

	conf_case(t, "retarget");
	if (!nv_drv_can_retarget(t->s)) {
		conf_skip("retargeted writes", "the driver has no write_retarget");
		free(data);
		return;
	}
	if (!conf_check(data != NULL, "allocate %zu bytes", len))
		return;
	conf_fill(data, len, 11);
	conf_rc(conf_retarget_write(t, "unnamed", twice, 2, data, len, NV_WRITE_EXCLUSIVE, 0),
		0, "write, retarget twice into a new directory, commit");
	n = conf_list(t, t->prefix, &keys, NULL);
	conf_check(n == 1 && !strcmp(keys[0], conf_key(t, "new/dir/cde")),
		   "the last retarget holds, alone (got %d keys)", n);
	conf_keys_free(keys, n);
	conf_check(conf_same(t, conf_key(t, "new/dir/cde"), data, len), "read back identical");
	conf_rc(conf_retarget_write(t, "unnamed", efg, 1, data, 5, NV_WRITE_EXCLUSIVE, 1), 0,
		"write, retarget, abort");
	conf_rc(conf_retarget_write(t, "unnamed", cde, 1, data, 7, NV_WRITE_EXCLUSIVE, 0),
		NV_EEXISTS, "an exclusive retarget onto an existing key");
	n = conf_list(t, t->prefix, &keys, NULL);
	conf_check(n == 1, "the abort and the refusal left nothing (got %d keys)", n);
	conf_keys_free(keys, n);
	conf_check(conf_same(t, conf_key(t, "new/dir/cde"), data, len), "old content intact");
	conf_fill(data, len, 12);
	conf_rc(conf_retarget_write(t, "unnamed", cde, 1, data, 1000, 0, 0), 0,
		"a plain retarget onto an existing key");
	conf_check(conf_same(t, conf_key(t, "new/dir/cde"), data, 1000), "replaced");
	conf_rc(conf_retarget_write(t, "unnamed", tmp, 1, data, 1, 0, 1), NV_EINVAL,
		"a temporary file's name is no key to retarget to");
	conf_rc(nv_drv_remove(t->s, conf_key(t, "new/dir/cde")), 0, "remove");
	conf_expect_empty(t, "after the retargets");
	free(data);
}

/* Nothing this run made may remain; removes leftovers so a failed run is clean too. */
static void conf_cleanup(struct conf *t)
{
	char **keys;
	int n = conf_list(t, t->run, &keys, NULL);

	conf_check(n == 0, "nothing left under %s (got %d)", t->run, n);
	for (int i = 0; i < n; i++)
		nv_drv_remove(t->s, keys[i]);
	conf_keys_free(keys, n);
}

static int conf_setup(nv_config **cfg, nv_location **loc, const char *text)
{
	char part[32];
	int rc;

	if ((rc = nv_config_load(cfg, getenv("NAVETTE_CONFIG"))))
		return rc;
	if ((rc = nv_config_set_override(*cfg, "list_page_size", "7")))
		return rc;
	/* Parsed once to learn the driver and its part size, then for real. */
	if ((rc = nv_location_parse(loc, text, *cfg)))
		return rc;
	if ((*loc)->driver->min_part_size) {
		snprintf(part, sizeof(part), "%zu", (*loc)->driver->min_part_size);
		nv_location_free(*loc);
		*loc = NULL;
		if ((rc = nv_config_set_override(*cfg, "part_size", part)) ||
		    (rc = nv_location_parse(loc, text, *cfg)))
			return rc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct conf t = { 0 };
	nv_config *cfg = NULL;
	nv_location *loc = NULL;
	unsigned long long r = 0;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: nv-conformance LOCATION\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = conf_setup(&cfg, &loc, argv[1])) || (rc = nv_drv_open(&t.s, loc))) {
		fprintf(stderr, "nv-conformance: %s: %s\n", argv[1], nv_error_msg());
		nv_location_free(loc);
		nv_config_free(cfg);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned long long)(uintptr_t)&t;
	snprintf(t.run, sizeof(t.run), "nv-conformance-%016llx/", r);
	t.caps = loc->driver->caps;
	t.min_part = loc->driver->min_part_size;
	printf("# driver %s on %s, under %s\n", loc->driver->name, argv[1], t.run);

	conf_roundtrip(&t);
	conf_listing(&t);
	conf_prefix_listing(&t);
	conf_ranged(&t);
	conf_multipart(&t);
	conf_abort(&t);
	conf_exclusive(&t);
	conf_overwrite(&t);
	conf_names(&t);
	conf_missing(&t);
	conf_remove_many(&t);
	conf_empty(&t);
	conf_retarget(&t);
	conf_rc(nv_drv_flush(t.s), 0, "flush");
	conf_cleanup(&t);

	nv_drv_close(t.s);
	nv_location_free(loc);
	nv_config_free(cfg);
	printf("%d passed, %d failed\n", conf_passed, conf_failed);
	return conf_failed ? 1 : 0;
}
