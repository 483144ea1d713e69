/* test_engine_guard.c: what makes copy and sync safe to run unattended, in
 * the engine (engine/engine.c) over the fake stores of engine_fx.h: the
 * delete guard, filters on both sides, --backup-dir, the destination's local
 * lock and lease (held by another run, stale, lost during the run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver/fault.h"
#include "engine/dest_lock.h"
#include "engine/lister.h"
#include "engine_fx.h"
#include "util/error.h"

static void assert_msg(const char *want)
{
	if (!strstr(nv_error_msg(), want))
		fail_msg("message '%s' lacks '%s'", nv_error_msg(), want);
}

/* ---- the delete guard ---- */

static void test_empty_source_refused(void **state)
{
	fx *x = *state;

	fx_put_files(x->dst, "f", 5);
	x->o.delete_extra = 1;
	x->o.dry_run = 1;
	assert_int_equal(fx_run(x), 4);
	assert_msg("dry run: sync --delete refused: fake:src lists no files: all 5 files at "
		   "fake:dst would be deleted (a mistyped path or prefix lists as empty); if "
		   "that is meant, add --allow-empty-source; nothing would be deleted");
	assert_int_equal(x->st.deleted, 0);
	x->o.dry_run = 0;
	assert_int_equal(fx_run(x), 4);
	assert_msg("sync --delete refused: fake:src lists no files: all 5 files at fake:dst");
	assert_msg("; nothing deleted");
	assert_int_equal(fx_removals(x->dst), 0);
	assert_int_equal(nv_fake_keys(x->dst, ""), 5);
	/* allowed: the destination is emptied (the default share does not apply) */
	x->o.guard.allow_empty_source = 1;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.deleted, 5);
	assert_int_equal(nv_fake_keys(x->dst, ""), 0);
}

static void test_max_delete_count(void **state)
{
	fx *x = *state;

	fx_synced(x, 10);
	fx_put_files(x->dst, "x", 3);
	x->o.delete_extra = 1;
	x->o.guard.max_count = 2;
	x->o.dry_run = 1;
	assert_int_equal(fx_run(x), 4);
	assert_msg("dry run: sync --delete refused: 3 files at fake:dst would be deleted, "
		   "more than --max-delete 2 allows; nothing would be deleted");
	x->o.dry_run = 0;
	assert_int_equal(fx_run(x), 4);
	assert_msg("sync --delete refused: 3 files at fake:dst would be deleted, more than "
		   "--max-delete 2 allows; nothing deleted");
	assert_int_equal(fx_removals(x->dst), 0);
	x->o.guard.max_count = 3;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.deleted, 3);
}

static void test_max_delete_percent(void **state)
{
	fx *x = *state;

	fx_synced(x, 4);
	fx_put_files(x->dst, "x", 5);
	x->o.delete_extra = 1;
	/* the default: more than 50 % of the destination */
	assert_int_equal(fx_run(x), 4);
	assert_msg("sync --delete refused: 5 of the 9 files at fake:dst (55%) would be "
		   "deleted, more than 50% (the default limit; allow more with --max-delete N "
		   "or N%); nothing deleted");
	assert_int_equal(fx_removals(x->dst), 0);
	x->o.guard.max_pct = 40;
	x->o.dry_run = 1;
	assert_int_equal(fx_run(x), 4);
	assert_msg("dry run: sync --delete refused: 5 of the 9 files at fake:dst (55%) would "
		   "be deleted, more than 40% (--max-delete); nothing would be deleted");
	x->o.dry_run = 0;
	x->o.guard.max_pct = 60;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.deleted, 5);
	assert_int_equal(nv_fake_keys(x->dst, ""), 4);
}

/* ---- filters ---- */

static nv_filter *filter_excluding(const char *pattern)
{
	nv_filter *f;

	assert_int_equal(nv_filter_new(&f), 0);
	assert_int_equal(nv_filter_add(f, 0, pattern), 0);
	return f;
}

static void test_filters_both_sides(void **state)
{
	fx *x = *state;
	nv_filter *f = filter_excluding("*.log");

	nv_fake_put_str(x->src, "a.log", "a");
	nv_fake_put_str(x->src, "b.txt", "b");
	nv_fake_put_str(x->src, "d/c.log", "c");
	nv_fake_put_str(x->dst, "old.log", "kept: excluded");
	nv_fake_put_str(x->dst, "old.txt", "deleted");
	x->o.filter = f;
	x->o.delete_extra = 1;
	x->o.guard.max_pct = 100;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 1);
	assert_int_equal(x->st.deleted, 1);
	assert_int_equal(nv_fake_keys(x->dst, "b.txt"), 1);
	assert_int_equal(nv_fake_keys(x->dst, "old.log"), 1);
	assert_int_equal(nv_fake_keys(x->dst, "old.txt"), 0);
	assert_int_equal(nv_fake_keys(x->dst, ""), 2);
	/* check sees only what the filter lets through */
	x->o.mode = NV_ENGINE_CHECK;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.identical, 1);
	assert_int_equal(x->st.extra + x->st.missing, 0);
	/* --delete-excluded: the excluded destination files go too */
	x->o.mode = NV_ENGINE_SYNC;
	x->o.delete_excluded = 1;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.deleted, 1);
	assert_int_equal(nv_fake_keys(x->dst, "old.log"), 0);
	assert_int_equal(nv_fake_keys(x->dst, ""), 1);
	nv_filter_free(f);
}

/* A filter that leaves nothing of the source is an empty source. */
static void test_filter_empty_source_guarded(void **state)
{
	fx *x = *state;
	nv_filter *f = filter_excluding("f*");

	fx_synced(x, 3);
	x->o.filter = f;
	x->o.delete_excluded = 1;
	x->o.delete_extra = 1;
	assert_int_equal(fx_run(x), 4);
	assert_msg("fake:src lists no files: all 3 files at fake:dst would be deleted");
	assert_int_equal(nv_fake_keys(x->dst, ""), 3);
	nv_filter_free(f);
}

/* ---- --backup-dir ---- */

/* key holds exactly text in f. */
static void assert_holds(nv_fake *f, const char *key, const char *text)
{
	size_t len;
	unsigned char *got = nv_fake_get(f, key, &len);

	assert_non_null(got);
	assert_string_equal((char *)got, text);
	free(got);
}

static void test_backup_overwrite_and_delete(void **state)
{
	fx *x = *state;
	nv_fake *bak = nv_fake_new("bak");

	fx_synced(x, 3);
	nv_fake_put_str(x->src, "f01", "a new, longer f01");
	nv_fake_put_str(x->dst, "gone", "only at dst");
	x->o.backup = nv_fake_location(bak);
	x->o.delete_extra = 1;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 1);
	assert_int_equal(x->st.deleted, 1);
	assert_int_equal(x->st.backed_up, 2);
	assert_holds(bak, "f01", "contents of f01"); /* the old version */
	assert_holds(bak, "gone", "only at dst");
	fx_assert_same(x->src, x->dst, "f01");
	assert_int_equal(nv_fake_keys(x->dst, "gone"), 0);
	assert_int_equal(nv_fake_keys(bak, ""), 2);
	/* made durable before the original went */
	assert_true(nv_fake_calls(bak, NV_FAKE_FLUSH, "") >= 2);
	x->o.backup = NULL;
	nv_fake_free(bak);
}

/* The only copy is never lost: a backup that fails leaves the original. */
static void test_backup_failure_keeps_original(void **state)
{
	fx *x = *state;
	nv_fake *bak = nv_fake_new("bak");

	fx_synced(x, 2);
	nv_fake_put_str(x->src, "f00", "a new, longer f00");
	x->o.backup = nv_fake_location(bak);
	x->o.transfers = 1;
	x->o.retries = 0;
	nv_fault_set("flush@1=io"); /* the backup's barrier, before the overwrite */
	assert_int_equal(fx_run(x), 3);
	assert_holds(x->dst, "f00", "contents of f00");
	/* a deletion whose backup cannot be written is not done */
	nv_fake_put_str(x->src, "f00", "contents of f00");
	nv_fake_put_str(x->dst, "x", "only at dst");
	nv_fake_refuse_writes(bak, "x");
	nv_fault_set("");
	x->o.delete_extra = 1;
	x->o.guard.max_pct = 100;
	assert_int_equal(fx_run(x), 3);
	assert_int_equal(x->st.deleted, 0);
	assert_int_equal(nv_fake_keys(x->dst, "x"), 1);
	assert_int_equal(fx_removals(x->dst), 0);
	x->o.backup = NULL;
	nv_fake_free(bak);
}

static void test_backup_place(void **state)
{
	fx *x = *state;
	nv_fake *inside = nv_fake_new("dst/old"), *outside = nv_fake_new("dst-old");

	/* the destination itself: refused, nothing done */
	fx_put_files(x->src, "f", 2);
	x->o.backup = nv_fake_location(x->dst);
	assert_int_equal(fx_run(x), 2);
	assert_msg("--backup-dir fake:dst is the destination itself");
	assert_int_equal(nv_fake_keys(x->dst, ""), 0);
	/* inside it: left out of the run on both sides */
	nv_fake_put_str(x->src, "old/f00", "from src");
	nv_fake_put_str(x->dst, "old/kept", "a backup");
	x->o.backup = nv_fake_location(inside);
	x->o.delete_extra = 1;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 2);
	assert_int_equal(nv_fake_keys(x->dst, "old/"), 1);
	assert_int_equal(nv_fake_keys(x->dst, "old/kept"), 1);
	/* a sibling whose name starts alike is just another place */
	x->o.backup = nv_fake_location(outside);
	assert_int_equal(fx_run(x), 0);
	x->o.backup = NULL;
	nv_fake_free(inside);
	nv_fake_free(outside);
}

/* ---- the lock and the lease ---- */

static void test_lock_held_on_this_host(void **state)
{
	fx *x = *state;
	nv_dest_lock *held;

	fx_put_files(x->src, "f", 3);
	x->o.lock = "sync";
	assert_int_equal(nv_dest_lock_take(&held, nv_fake_location(x->dst), "test", 0), 0);
	assert_int_equal(fx_run(x), 4);
	assert_msg("fake:dst is locked by navette test (pid ");
	assert_msg(", writing to fake:///dst) on this host (lock ");
	assert_int_equal(nv_fake_keys(x->dst, "f"), 0);
	/* a dry run and check take no lock */
	x->o.dry_run = 1;
	assert_int_equal(fx_run(x), 0);
	x->o.dry_run = 0;
	nv_dest_lock_release(held);
	assert_int_equal(nv_fake_keys(x->dst, NV_LEASE_DIR), 0);
	nv_fake_reset_calls(x->dst);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 3);
	/* the lease was there during the run and is gone after it */
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_COMMIT, NV_LEASE_DIR), 1);
	assert_int_equal(nv_fake_keys(x->dst, NV_LEASE_DIR), 0);
	assert_int_equal(nv_fake_keys(x->dst, ""), 3);
}

/* One glitch writing or removing the lease is retried: it neither stops the
 * run nor leaves a lease that would stop the next one. */
static void test_lease_transient_errors(void **state)
{
	fx *x = *state;

	fx_put_files(x->src, "f", 2);
	x->o.lock = "sync";
	nv_fault_set("write_commit@1=retry,remove@1=retry"); /* the lease's own */
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 2);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_COMMIT, NV_LEASE_DIR), 1);
	assert_int_equal(nv_fake_keys(x->dst, NV_LEASE_DIR), 0);
}

/* A lease a run could not remove (its store gone at the end, or the run
 * killed) is removed by the next run that holds the same local lock: that
 * run is over. Another host's lease is never touched that way. */
static void test_own_dead_lease_removed(void **state)
{
	fx *x = *state;
	nv_dest_lock *l;

	fx_put_files(x->src, "f", 2);
	x->o.lock = "sync";
	assert_int_equal(nv_dest_lock_take(&l, nv_fake_location(x->dst), "test", 0), 0);
	nv_fault_set("remove@1-=io"); /* the store refuses the removal, every retry */
	nv_dest_lock_release(l);
	nv_fault_set(NULL);
	assert_int_equal(nv_fake_keys(x->dst, NV_LEASE_DIR), 1);
	assert_int_equal(fx_run(x), 0); /* no wait: not another run's lease */
	assert_int_equal(x->st.copied, 2);
	assert_int_equal(nv_fake_keys(x->dst, NV_LEASE_DIR), 0);
	/* and only once: the next run finds nothing to clean */
	nv_fake_reset_calls(x->dst);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_REMOVE, NV_LEASE_DIR), 1);
}

static void put_foreign_lease(nv_fake *f, const char *ttl)
{
	char text[512];

	snprintf(text, sizeof(text), "{\"command\":\"sync\",\"holder\":\"elsewhere pid 42\","
		 "\"mode\":\"exclusive\",\"pid\":42,\"renewals\":0,\"run\":\"r1\",\"start\":"
		 "\"2026-01-01T00:00:00.000000000Z\",\"ttl\":%s,\"type\":\"lease\","
		 "\"version\":1}\n", ttl);
	nv_fake_put_str(f, NV_LEASE_DIR "elsewhere.42.x.json", text);
}

static void test_lease_held_elsewhere(void **state)
{
	fx *x = *state;

	fx_put_files(x->src, "f", 3);
	put_foreign_lease(x->dst, "1");
	x->o.lock = "copy";
	x->o.mode = NV_ENGINE_COPY;
	assert_int_equal(fx_run(x), 4);
	assert_msg("fake:dst is locked by elsewhere pid 42 (sync exclusive lease of run r1");
	assert_int_equal(nv_fake_keys(x->dst, "f"), 0);
	/* unchanged for its whole TTL (1 s) while this run waits: stale, passed,
	 * and left where it is (a writer never deletes another's lease) */
	x->o.wait_lock_ms = 10000;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 3);
	assert_int_equal(nv_fake_keys(x->dst, NV_LEASE_DIR), 1);
}

static void *refuse_soon(void *arg)
{
	struct timespec ts = { 0, 300 * 1000000L };

	nanosleep(&ts, NULL);
	nv_fake_refuse_writes(arg, NV_LEASE_DIR);
	return NULL;
}

/* A renewal that fails stops the run: no more copies, nothing deleted. */
static void test_lease_lost_stops_the_run(void **state)
{
	fx *x = *state;
	pthread_t t;

	setenv("NAVETTE_LEASE_TTL", "3", 1); /* renewed every second */
	fx_put_files(x->src, "f", 20);
	nv_fake_put_str(x->dst, "extra", "only at dst");
	nv_fake_slow_reads(x->src, 150);      /* 20 files: 3 s on one worker */
	x->o.lock = "sync";
	x->o.transfers = 1;
	x->o.delete_extra = 1;
	x->o.guard.max_pct = 100;
	assert_int_equal(pthread_create(&t, NULL, refuse_soon, x->dst), 0);
	assert_int_equal(fx_run(x), 4);
	pthread_join(t, NULL);
	unsetenv("NAVETTE_LEASE_TTL");
	assert_msg("the lease at fake:dst was lost (not renewed in time): stopping, nothing "
		   "deleted");
	assert_true(x->st.copied < 20);
	assert_int_equal(nv_fake_keys(x->dst, "extra"), 1);
	assert_int_equal(fx_removals(x->dst) - nv_fake_calls(x->dst, NV_FAKE_REMOVE,
							       NV_LEASE_DIR), 0);
	nv_fake_refuse_writes(x->dst, NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_empty_source_refused),
		T(test_max_delete_count),
		T(test_max_delete_percent),
		T(test_filters_both_sides),
		T(test_filter_empty_source_guarded),
		T(test_backup_overwrite_and_delete),
		T(test_backup_failure_keeps_original),
		T(test_backup_place),
		T(test_lock_held_on_this_host),
		T(test_lease_transient_errors),
		T(test_lease_held_elsewhere),
		T(test_lease_lost_stops_the_run),
		T(test_own_dead_lease_removed),
	};
#undef T
	return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
