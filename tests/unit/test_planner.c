/* test_planner.c: planner decisions and the merge-join, including its refusal
 * of unsorted input (src/planner.c, src/lister.c), over a listing-only fake
 * driver that serves a fixed key list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "engine/engine.h"
#include "engine/planner.h"

struct nv_conn { const char *const *keys; };
struct nv_list { const char *const *keys; size_t i; };

static int fake_open(struct nv_conn **out, const nv_location *loc)
{
	*out = calloc(1, sizeof(**out));
	(*out)->keys = (const char *const *)loc->path;
	return 0;
}
static void fake_close(struct nv_conn *c) { free(c); }
static int fake_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	(void)prefix;
	*out = calloc(1, sizeof(**out));
	(*out)->keys = c->keys;
	return 0;
}
static int fake_list_next(struct nv_list *it, nv_entry *out)
{
	if (!it->keys[it->i])
		return NV_EOF;
	memset(out, 0, sizeof(*out));
	out->key = it->keys[it->i++];
	out->size = strlen(out->key);
	out->mtime_sec = 1000;
	out->flags = NV_ENTRY_HAS_MTIME;
	return 0;
}
static void fake_list_close(struct nv_list *it) { free(it); }
static const char *const fake_schemes[] = { "fake", NULL };
static const nv_driver fake_driver = {
	.version = NV_DRIVER_VERSION, .name = "fake", .schemes = fake_schemes,
	.open = fake_open, .close = fake_close, .list_open = fake_list_open,
	.list_next = fake_list_next, .list_close = fake_list_close,
};

typedef struct seen {
	char log[512];
} seen;

static int record(void *ctx, nv_action act, const char *key, const nv_entry *s,
		  const nv_entry *d)
{
	seen *sn = ctx;
	static const char codes[] = "SCHTDX";

	(void)s;
	(void)d;
	size_t n = strlen(sn->log);
	snprintf(sn->log + n, sizeof(sn->log) - n, "%c:%s ", codes[act], key);
	return 0;
}

static int run(const char *const *src_keys, const char *const *dst_keys,
	       const nv_plan_rules *r, seen *sn)
{
	nv_location ls = { .driver = &fake_driver, .text = "src", .path = (char *)src_keys };
	nv_location ld = { .driver = &fake_driver, .text = "dst", .path = (char *)dst_keys };
	nv_store *a, *b;
	nv_sorted *sa, *sb;
	int rc;

	memset(sn, 0, sizeof(*sn));
	assert_int_equal(nv_drv_open(&a, &ls), 0);
	assert_int_equal(nv_drv_open(&b, &ld), 0);
	assert_int_equal(nv_sorted_open(&sa, a, "", 0), 0);
	assert_int_equal(nv_sorted_open(&sb, b, "", 0), 0);
	rc = nv_plan_run(sa, sb, r, record, sn);
	nv_sorted_close(sa);
	nv_sorted_close(sb);
	nv_drv_close(a);
	nv_drv_close(b);
	return rc;
}

static void test_decide(void **state)
{
	nv_plan_rules r = { .copying = 1 };
	nv_entry s = { .size = 5, .mtime_sec = 10, .mtime_nsec = 5, .flags = NV_ENTRY_HAS_MTIME };
	nv_entry d = s;

	(void)state;
	assert_int_equal(nv_plan_decide(&r, &s, NULL), NV_ACT_COPY);
	assert_int_equal(nv_plan_decide(&r, NULL, &d), NV_ACT_EXTRA);
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_SKIP);
	d.mtime_nsec = 0; /* a store keeping whole seconds only */
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_SKIP);
	d.mtime_sec = 11;
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_COPY);
	d = s;
	d.size = 6;
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_COPY);
	d = s;
	d.flags = 0; /* no mtime in the destination listing */
	assert_int_equal(nv_plan_decide(&r, &s, &d), NV_ACT_STAT);
	r.checksum = 1;
	assert_int_equal(nv_plan_decide(&r, &s, &s), NV_ACT_HASH);
	r.deleting = 1;
	assert_int_equal(nv_plan_decide(&r, NULL, &d), NV_ACT_DELETE);
}

static void test_merge(void **state)
{
	static const char *const src[] = { "a-b", "a/c", "a0", "z", NULL };
	static const char *const dst[] = { "a/c", "b", "z", NULL };
	nv_plan_rules r = { .copying = 1, .deleting = 1 };
	seen sn;

	(void)state;
	assert_int_equal(run(src, dst, &r, &sn), 0);
	assert_string_equal(sn.log, "C:a-b S:a/c C:a0 D:b S:z ");
}

static void test_disorder_aborts(void **state)
{
	/* Sorting per directory would give this order; byte order puts a/c first. */
	static const char *const src[] = { "a-b", "a0", "a/c", NULL };
	static const char *const dst[] = { "a/c", "x", NULL };
	static const char *const dup[] = { "a", "a", NULL };
	nv_plan_rules r = { .copying = 1, .deleting = 1 };
	seen sn;

	(void)state;
	assert_int_equal(run(src, dst, &r, &sn), NV_ERR);
	assert_non_null(strstr(nv_error_msg(), "not in byte order"));
	/* The merge had already called a/c destination-only before the disorder
	 * showed: which is why the engine defers every deletion to the end of a
	 * clean pass (test_engine_never_deletes_on_disorder). */
	assert_non_null(strstr(sn.log, "D:a/c"));
	assert_int_equal(run(dup, dst, &r, &sn), NV_ERR);
}

/* ---- the engine over the fake driver: writes are accepted and dropped,
 * removals counted. ---- */
static int removals;
struct nv_writer { uint64_t n; };
static int fake_stat(struct nv_conn *c, const char *key, nv_entry *out)
{
	(void)c;
	memset(out, 0, sizeof(*out));
	out->size = strlen(key);
	out->mtime_sec = 1000;
	out->flags = NV_ENTRY_HAS_MTIME;
	return 0;
}
static int fake_read(struct nv_conn *c, const char *key, uint64_t off, void *buf, size_t len,
		     size_t *got)
{
	size_t n = strlen(key);

	(void)c;
	*got = off >= n ? 0 : (n - off < len ? n - off : len);
	memset(buf, 'x', *got);
	return 0;
}
static int fake_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
			   const nv_write_opts *o)
{
	(void)c; (void)key; (void)o;
	*out = calloc(1, sizeof(**out));
	return 0;
}
static int fake_write(struct nv_writer *w, const void *buf, size_t len)
{
	(void)buf;
	w->n += len;
	return 0;
}
static int fake_commit(struct nv_writer *w, nv_commit_info *ci)
{
	ci->size = w->n;
	ci->confirmed = NV_CONFIRM_SIZE;
	free(w);
	return 0;
}
static void fake_abort(struct nv_writer *w) { free(w); }
static int fake_remove(struct nv_conn *c, const char *key)
{
	(void)c; (void)key;
	removals++;
	return 0;
}
static const nv_driver fake_rw_driver = {
	.version = NV_DRIVER_VERSION, .name = "fake", .schemes = fake_schemes,
	.open = fake_open, .close = fake_close, .list_open = fake_list_open,
	.list_next = fake_list_next, .list_close = fake_list_close, .stat = fake_stat,
	.read = fake_read, .write_open = fake_write_open, .write = fake_write,
	.write_commit = fake_commit, .write_abort = fake_abort, .remove = fake_remove,
};

static void test_engine_never_deletes_on_disorder(void **state)
{
	static const char *const bad[] = { "a-b", "a0", "a/c", NULL };
	static const char *const good[] = { "a-b", "a/c", "a0", NULL };
	static const char *const dst[] = { "a/c", "x", NULL };
	nv_location ls = { .driver = &fake_rw_driver, .text = "src", .path = (char *)bad };
	nv_location ld = { .driver = &fake_rw_driver, .text = "dst", .path = (char *)dst };
	nv_engine_opts o;
	nv_engine_stats st;

	(void)state;
	nv_engine_defaults(&o);
	o.delete_extra = 1;
	o.transfers = 2;
	removals = 0;
	assert_int_equal(nv_engine_run(&ls, &ld, &o, &st), 4);
	assert_int_equal(removals, 0);
	/* the same trees in order: x, and only x, is deleted */
	ls.path = (char *)good;
	assert_int_equal(nv_engine_run(&ls, &ld, &o, &st), 0);
	assert_int_equal(removals, 1);
	assert_int_equal(st.deleted, 1);
	assert_int_equal(st.copied, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_disorder_aborts),
		cmocka_unit_test(test_engine_never_deletes_on_disorder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
