/* test_engine.c: copy, sync and check (engine/engine.c on the pool) between
 * two in-memory fake stores (fake_driver.h), counting the calls that reach
 * each side, with faults from the one fault layer (driver/fault.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/fault.h"
#include "driver/txcap.h"
#include "engine/engine.h"
#include "engine_fx.h"
#include "fake_driver.h"

static void test_sync_copies_each_once(void **state)
{
	fx *x = *state;
	char key[32];

	fx_put_files(x->src, "f", 10);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 10);
	assert_int_equal(nv_fake_keys(x->dst, ""), 10);
	for (int i = 0; i < 10; i++) {
		fx_key(key, sizeof(key), "f", i);
		assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_WRITE_OPEN, key), 1);
		assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_COMMIT, key), 1);
		assert_int_equal(nv_fake_key_calls(x->src, NV_FAKE_READ, key), 1);
		fx_assert_same(x->src, x->dst, key);
	}
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_ABORT, ""), 0);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_READ, ""), 0); /* no --verify reread */
	/* each worker's durability barrier, before success is reported */
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_FLUSH, ""), x->o.transfers);
}

static void test_no_change_reads_nothing(void **state)
{
	fx *x = *state;

	fx_synced(x, 10);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 0);
	assert_int_equal(x->st.skipped, 10);
	assert_int_equal(nv_fake_calls(x->src, NV_FAKE_READ, ""), 0);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_READ, ""), 0);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_STAT, ""), 0); /* mtimes were listed */
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_WRITE_OPEN, ""), 0);
}

static void test_checksum_reads_both_sides_once(void **state)
{
	fx *x = *state;
	char key[32];

	fx_synced(x, 6);
	/* same size and mtime, other bytes: only a checksum sees it */
	nv_fake_put_str(x->dst, "f03", "CONTENTS OF f03");
	nv_fake_reset_calls(x->dst);
	x->o.checksum = 1;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 1);
	assert_int_equal(x->st.skipped, 5);
	for (int i = 0; i < 6; i++) {
		fx_key(key, sizeof(key), "f", i);
		assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_READ, key), 1);
		/* the one that differs is read again to be copied */
		assert_int_equal(nv_fake_key_calls(x->src, NV_FAKE_READ, key), i == 3 ? 2 : 1);
	}
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_WRITE_OPEN, ""), 1);
	fx_assert_same(x->src, x->dst, "f03");
}

static void test_delete_in_batches(void **state)
{
	fx *x = *state;

	fx_synced(x, 5);
	fx_put_files(x->dst, "x", 7);
	nv_fake_set_batch(x->dst, 3);
	x->o.delete_extra = 1;
	x->o.guard.max_pct = 100; /* 7 of 12: the guard (test_engine_guard) would refuse */
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.deleted, 7);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_REMOVE_MANY, ""), 3); /* 3 + 3 + 1 */
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_REMOVE, ""), 0);
	assert_int_equal(nv_fake_keys(x->dst, "x"), 0);
	assert_int_equal(nv_fake_keys(x->dst, ""), 5); /* exactly the extra keys went */
	/* a driver without remove_many: one remove per key */
	fx_put_files(x->dst, "x", 7);
	nv_fake_set_batch(x->dst, 0);
	nv_fake_reset_calls(x->dst);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_REMOVE, "x"), 7);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_REMOVE, ""), 7);
	assert_int_equal(nv_fake_keys(x->dst, ""), 5);
}

/* Three files to copy and one to delete, one worker (the fault's count is
 * then f00's), the fault set: the run's exit code. */
static int fx_sync_delete_one(fx *x, const char *fault)
{
	fx_put_files(x->src, "f", 3);
	nv_fake_put_str(x->dst, "extra", "only here");
	x->o.delete_extra = 1;
	x->o.transfers = 1;
	nv_fault_set(fault);
	return fx_run(x);
}

/* After fx_sync_delete_one: copied and failed as given, nothing deleted. */
static void fx_kept_extra(fx *x, uint64_t copied, uint64_t failed)
{
	assert_int_equal(x->st.copied, copied);
	assert_int_equal(x->st.failed, failed);
	assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_REMOVE, "extra"), 0);
	assert_int_equal(nv_fake_keys(x->dst, "extra"), 1);
}

static void test_no_delete_after_failed_copy(void **state)
{
	fx *x = *state;

	x->o.retries = 0;
	assert_int_equal(fx_sync_delete_one(x, "write_commit@1=io"), 3);
	fx_kept_extra(x, 2, 1);
	assert_int_equal(nv_fake_keys(x->dst, "f"), 2);
}

static void test_never_deletes_on_disorder(void **state)
{
	static const char *const bad[] = { "a-b", "a0", "a/c", NULL };
	fx *x = *state;
	uint64_t first;

	for (int i = 0; bad[i]; i++)
		nv_fake_put_str(x->src, bad[i], bad[i]);
	nv_fake_put_str(x->dst, "a/c", "a/c");
	nv_fake_put_str(x->dst, "x", "x");
	nv_fake_disorder(x->src, bad); /* per-directory order: a/c comes too late */
	x->o.delete_extra = 1;
	assert_int_equal(fx_run(x), 4);
	first = x->st.copied; /* what was planned before the disorder showed */
	assert_int_equal(fx_removals(x->dst), 0);
	assert_int_equal(nv_fake_keys(x->dst, "x"), 1);
	/* the same trees in order: x, and only x, is deleted */
	nv_fake_disorder(x->src, NULL);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.deleted, 1);
	assert_int_equal(first + x->st.copied, 2);
	assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_REMOVE, "x"), 1);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_REMOVE, ""), 1);
	assert_int_equal(nv_fake_keys(x->dst, ""), 3);
}

/* Every copy is hashed in the pass that sends it (one read of the source), its
 * stored size confirmed, and nothing read back unless asked. */
static void test_every_copy_hashed_once(void **state)
{
	fx *x = *state;

	fx_put_files(x->src, "f", 5);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 5);
	assert_int_equal(x->st.hashed, 5);
	assert_int_equal(x->st.size_confirmed, 5);
	assert_int_equal(x->st.reread, 0);
	assert_int_equal(nv_fake_calls(x->src, NV_FAKE_READ, ""), 5);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_READ, ""), 0);
	/* --verify reread: one read back each, the source still read once */
	x->o.verify_reread = 1;
	nv_fake_put_str(x->src, "f02", "new contents of f02");
	nv_fake_reset_calls(x->src);
	nv_fake_reset_calls(x->dst);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 1);
	assert_int_equal(x->st.reread, 1);
	assert_int_equal(nv_fake_calls(x->src, NV_FAKE_READ, ""), 1);
	assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_READ, "f02"), 1);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_READ, ""), 1);
}

/* A stored copy that reads back other bytes is a verification failure (exit
 * 1), is removed so the next run copies it again (its size and mtime are the
 * source's: it would be skipped), and blocks the deletions of sync --delete. */
static void test_reread_mismatch_removed(void **state)
{
	fx *x = *state;

	x->o.verify_reread = 1;
	/* read 2: the read back of f00 */
	assert_int_equal(fx_sync_delete_one(x, "read@2=flip"), 1);
	assert_int_equal(x->st.mismatched, 1);
	fx_kept_extra(x, 2, 0);
	assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_COMMIT, "f00"), 1); /* not retried */
	assert_int_equal(nv_fake_keys(x->dst, "f00"), 0);
	nv_fault_set("");
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 1);
	assert_int_equal(x->st.skipped, 2);
	assert_int_equal(x->st.reread, 1);
	assert_int_equal(x->st.deleted, 1);
	fx_assert_same(x->src, x->dst, "f00");
}

static void test_transient_commit_retried(void **state)
{
	fx *x = *state;

	fx_put_files(x->src, "f", 5);
	nv_fault_set("write_commit@2=retry");
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 5);
	assert_int_equal(nv_fault_calls(NV_FAULT_COMMIT), 5 + 1);
	/* the failed commit never reached the store: its writer was aborted */
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_COMMIT, ""), 5);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_ABORT, ""), 1);
	assert_int_equal(nv_fake_keys(x->dst, ""), 5);
}

static void test_persistent_commit_fails_one(void **state)
{
	fx *x = *state;

	fx_put_files(x->src, "f", 5);
	x->o.transfers = 1; /* f01's commits are calls 2, 3 and 4 */
	nv_fault_set("write_commit@2-4=retry");
	assert_int_equal(fx_run(x), 3);
	assert_int_equal(x->st.failed, 1);
	assert_int_equal(x->st.copied, 4);
	assert_int_equal(nv_fault_calls(NV_FAULT_COMMIT), 1 + 3 + 3); /* 2 retries, no more */
	assert_int_equal(nv_fake_keys(x->dst, "f01"), 0);
	assert_int_equal(nv_fake_keys(x->dst, ""), 4);
}

static void test_nospc_stops_the_run(void **state)
{
	fx *x = *state;
	char key[32];

	fx_put_files(x->src, "f", 8);
	x->o.transfers = 1;
	nv_fault_set("write@2=nospc");
	assert_int_equal(fx_run(x), 4);
	assert_int_equal(nv_fault_calls(NV_FAULT_WRITE), 2); /* never retried */
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_COMMIT, ""), 1);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_ABORT, "f01"), 1);
	for (int i = 2; i < 8; i++) { /* not attempted */
		fx_key(key, sizeof(key), "f", i);
		assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_WRITE_OPEN, key), 0);
		assert_int_equal(nv_fake_key_calls(x->src, NV_FAKE_READ, key), 0);
	}
	assert_int_equal(nv_fake_keys(x->dst, ""), 1);
	/* a stopped run claims no durability barrier */
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_FLUSH, ""), 0);
}

/* --max-transfer: the file that would pass the cap is abandoned (nothing of it
 * committed), the files after it are never started, nothing is deleted, exit
 * 3; the next run goes on from there. */
static void test_max_transfer_stops_cleanly(void **state)
{
	fx *x = *state;
	char key[32];

	fx_put_files(x->src, "f", 8); /* 15 bytes each */
	nv_fake_put_str(x->dst, "zz", "only at the destination");
	x->o.transfers = 1;
	x->o.mode = NV_ENGINE_SYNC;
	x->o.delete_extra = 1;
	nv_txcap_set(3 * 15 + 5);
	assert_int_equal(fx_run(x), 3);
	assert_int_equal(x->st.copied, 3);
	assert_int_equal(nv_txcap_sent(), 3 * 15);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_COMMIT, "f"), 3);
	assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_ABORT, "f03"), 1);
	assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_WRITE, "f03"), 0);
	for (int i = 4; i < 8; i++) {
		fx_key(key, sizeof(key), "f", i);
		assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_WRITE_OPEN, key), 0);
		assert_int_equal(nv_fake_key_calls(x->src, NV_FAKE_READ, key), 0);
	}
	assert_int_equal(nv_fake_keys(x->dst, "f"), 3); /* f00-f02 */
	assert_int_equal(nv_fake_keys(x->dst, "zz"), 1); /* kept */
	assert_int_equal(fx_removals(x->dst), 0);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_FLUSH, ""), 0);
	/* resumed without the cap: the rest, and only the rest */
	nv_txcap_set(0);
	nv_fake_reset_calls(x->dst);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 5);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_COMMIT, "f"), 5);
	assert_int_equal(nv_fake_keys(x->dst, "f"), 8);
	assert_int_equal(nv_fake_keys(x->dst, "zz"), 0);
}

static void test_auth_refused_on_open(void **state)
{
	fx *x = *state;

	fx_put_files(x->src, "f", 3);
	nv_fault_set("open@1-=auth"); /* every connection refused, the workers' too */
	assert_int_equal(fx_run(x), 2);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_WRITE_OPEN, ""), 0);
	assert_int_equal(nv_fake_keys(x->dst, ""), 0);
}

static void test_retries_zero(void **state)
{
	fx *x = *state;

	fx_put_files(x->src, "f", 3);
	x->o.retries = 0;
	nv_fault_set("write_commit@1=retry");
	assert_int_equal(fx_run(x), 3);
	assert_int_equal(nv_fault_calls(NV_FAULT_COMMIT), 3);
	assert_int_equal(x->st.failed, 1);
	assert_int_equal(nv_fake_keys(x->dst, ""), 2);
}

static void test_dry_run_writes_nothing(void **state)
{
	fx *x = *state;

	fx_put_files(x->src, "f", 4);
	fx_put_files(x->dst, "x", 2);
	nv_fake_set_batch(x->dst, 10);
	x->o.dry_run = 1;
	x->o.delete_extra = 1;
	x->o.guard.max_pct = 100; /* every file at dst goes */
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, 4); /* would copy */
	assert_int_equal(x->st.deleted, 2); /* would delete */
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_WRITE_OPEN, ""), 0);
	assert_int_equal(fx_removals(x->dst), 0);
	assert_int_equal(nv_fake_calls(x->src, NV_FAKE_READ, ""), 0);
	assert_int_equal(nv_fake_keys(x->dst, ""), 2);
}

static void test_check_reports(void **state)
{
	fx *x = *state;

	nv_fake_put_str(x->src, "same", "equal bytes");
	nv_fake_put_str(x->dst, "same", "equal bytes");
	nv_fake_put_str(x->src, "hash", "abc"); /* same size: found by SHA-256 */
	nv_fake_put_str(x->dst, "hash", "abd");
	nv_fake_put_str(x->src, "size", "short");
	nv_fake_put_str(x->dst, "size", "longer");
	nv_fake_put_str(x->src, "missing", "only in src");
	nv_fake_put_str(x->dst, "extra", "only in dst");
	x->o.mode = NV_ENGINE_CHECK;
	assert_int_equal(fx_run(x), 1);
	assert_int_equal(x->st.identical, 1);
	assert_int_equal(x->st.differ, 2);
	assert_int_equal(x->st.missing, 1);
	assert_int_equal(x->st.extra, 1);
	/* only same-size pairs are read, once on each side */
	assert_int_equal(nv_fake_calls(x->src, NV_FAKE_READ, ""), 2);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_READ, ""), 2);
	assert_int_equal(nv_fake_calls(x->dst, NV_FAKE_WRITE_OPEN, ""), 0);
	assert_int_equal(fx_removals(x->dst), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_sync_copies_each_once),
		T(test_no_change_reads_nothing),
		T(test_checksum_reads_both_sides_once),
		T(test_delete_in_batches),
		T(test_no_delete_after_failed_copy),
		T(test_never_deletes_on_disorder),
		T(test_every_copy_hashed_once),
		T(test_reread_mismatch_removed),
		T(test_transient_commit_retried),
		T(test_persistent_commit_fails_one),
		T(test_nospc_stops_the_run),
		T(test_max_transfer_stops_cleanly),
		T(test_auth_refused_on_open),
		T(test_retries_zero),
		T(test_dry_run_writes_nothing),
		T(test_check_reports),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
