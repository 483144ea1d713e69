/* test_engine_shard.c: copy, sync and check with --shard K/N in the engine
 * (engine/engine.c) over the fake stores of engine_fx.h: N shards copy every
 * key exactly once; the delete guard counts the whole tree, so every shard
 * refuses alike, and each deletes only its own keys; the lock is shared by
 * the shards of one run and refuses anything else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dest_lock.h"
#include "engine/lister.h"
#include "engine_fx.h"
#include "util/error.h"
#include "util/state.h"

static void shard(nv_shard *s, unsigned k, unsigned n, const char *run)
{
	char arg[32];

	snprintf(arg, sizeof(arg), "%u/%u", k, n);
	assert_int_equal(nv_shard_parse(s, arg), 0);
	if (run)
		assert_int_equal(nv_shard_set_run(s, run), 0);
}

/* How many of keys "f00".."f<n-1>" are shard s's. */
static unsigned mine(const nv_shard *s, int n)
{
	unsigned c = 0;
	char key[16];

	for (int i = 0; i < n; i++) {
		fx_key(key, sizeof(key), "f", i);
		c += (unsigned)nv_shard_mine(s, key);
	}
	return c;
}

/* N shards, one after the other: each copies its own keys and only those;
 * together every key once. */
static void test_shards_cover(void **state)
{
	static const unsigned ns[] = { 1, 3, 8 };
	fx *x = *state;
	char key[16];

	for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
		uint64_t total = 0;

		nv_fake_free(x->dst);
		x->dst = nv_fake_new("dst");
		fx_put_files(x->src, "f", 50);
		for (unsigned k = 0; k < ns[t]; k++) {
			nv_shard s;

			shard(&s, k, ns[t], NULL);
			x->o.shard = &s;
			assert_int_equal(fx_run(x), 0);
			assert_int_equal(x->st.copied, mine(&s, 50));
			/* the others' keys: neither copied nor counted unchanged */
			assert_int_equal(x->st.skipped, 0);
			total += x->st.copied;
			for (int i = 0; i < 50; i++) {
				fx_key(key, sizeof(key), "f", i);
				assert_int_equal(nv_fake_key_calls(x->dst, NV_FAKE_COMMIT, key),
						 nv_shard_hash(key, strlen(key)) % ns[t] <= k);
			}
		}
		assert_int_equal(total, 50);
		assert_int_equal(nv_fake_keys(x->dst, ""), 50);
	}
	x->o.shard = NULL;
}

/* 6 of 10 to delete (60 %): every shard refuses with the same message,
 * though none of them would delete 6 itself; allowed, each deletes its own. */
static void test_guard_every_shard(void **state)
{
	fx *x = *state;
	char first[1024] = "";
	uint64_t deleted = 0;
	nv_shard s;

	fx_synced(x, 10);
	nv_fake_free(x->src);
	x->src = nv_fake_new("src");
	fx_put_files(x->src, "f", 4);
	x->o.delete_extra = 1;
	for (unsigned k = 0; k < 3; k++) {
		shard(&s, k, 3, NULL);
		x->o.shard = &s;
		assert_int_equal(fx_run(x), 4);
		if (!first[0])
			snprintf(first, sizeof(first), "%s", nv_error_msg());
		assert_string_equal(nv_error_msg(), first);
	}
	assert_string_equal(first, "sync --delete refused: 6 of the 10 files at fake:dst (60%) "
			    "would be deleted, more than 50% (the default limit; allow more with "
			    "--max-delete N or N%); nothing deleted");
	assert_int_equal(fx_removals(x->dst), 0);
	/* an empty source too, in every shard */
	nv_fake_free(x->src);
	x->src = nv_fake_new("src");
	for (unsigned k = 0; k < 3; k++) {
		shard(&s, k, 3, NULL);
		assert_int_equal(fx_run(x), 4);
		assert_non_null(strstr(nv_error_msg(), "fake:src lists no files: all 10 files at "
						       "fake:dst would be deleted"));
	}
	assert_int_equal(fx_removals(x->dst), 0);
	fx_put_files(x->src, "f", 4);
	x->o.guard.max_count = 6;
	for (unsigned k = 0; k < 3; k++) {
		char key[16];
		unsigned own = 0;

		shard(&s, k, 3, NULL);
		assert_int_equal(fx_run(x), 0);
		for (int i = 4; i < 10; i++) {
			fx_key(key, sizeof(key), "f", i);
			own += (unsigned)nv_shard_mine(&s, key);
		}
		assert_int_equal(x->st.deleted, own);
		deleted += x->st.deleted;
	}
	assert_int_equal(deleted, 6);
	assert_int_equal(nv_fake_keys(x->dst, ""), 4);
	x->o.shard = NULL;
}

/* check's counts of N shards add up to the unsharded run's. */
static void test_check_shards(void **state)
{
	fx *x = *state;
	uint64_t identical = 0, differ = 0, missing = 0, extra = 0;
	nv_shard s;

	fx_synced(x, 30);
	fx_put_files(x->src, "g", 5);                       /* missing at dst */
	nv_fake_put_str(x->dst, "only-here", "x");          /* extra */
	nv_fake_put_str(x->dst, "f03", "other contents");   /* differs (size) */
	nv_fake_put_str(x->dst, "f07", "contents of f99");  /* differs (SHA-256) */
	x->o.mode = NV_ENGINE_CHECK;
	for (unsigned k = 0; k < 8; k++) {
		shard(&s, k, 8, NULL);
		x->o.shard = &s;
		assert_in_range(fx_run(x), 0, 1);
		identical += x->st.identical;
		differ += x->st.differ;
		missing += x->st.missing;
		extra += x->st.extra;
	}
	assert_int_equal(identical, 28);
	assert_int_equal(differ, 2);
	assert_int_equal(missing, 5);
	assert_int_equal(extra, 1);
	x->o.shard = NULL;
}

/* The shards of one run hold the destination together (each with its own
 * local lock, in its state folder); an unsharded run and another run's shard
 * are refused while they do. */
static void test_lock_shared_by_one_run(void **state)
{
	fx *x = *state;
	nv_dest_lock *held;
	nv_shard s0, s1, other;

	fx_put_files(x->src, "f", 6);
	x->o.lock = "sync";
	shard(&s0, 0, 3, "run-a");
	shard(&s1, 1, 3, "run-a");
	shard(&other, 2, 3, "run-b");
	nv_state_set_scope("shard-0-of-3");
	assert_int_equal(nv_dest_lock_take_opts(&held, nv_fake_location(x->dst),
						&(nv_dest_lock_opts){ .command = "sync",
								      .shard = &s0 }), 0);
	nv_state_set_scope("shard-1-of-3");
	x->o.shard = &s1;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, mine(&s1, 6));
	/* Its lease record is its own: shard 1 took shard 0's live lease for no
	 * dead one of an earlier run of this host (dest_lock.c). */
	assert_int_equal(nv_fake_keys(x->dst, NV_LEASE_DIR), 1);
	nv_state_set_scope(NULL);
	x->o.shard = NULL;
	assert_int_equal(fx_run(x), 4);
	if (!strstr(nv_error_msg(), "fake:dst is locked by ") ||
	    !strstr(nv_error_msg(), " (sync shared lease of run run-a, started "))
		fail_msg("unexpected message: %s", nv_error_msg());
	nv_state_set_scope("shard-2-of-3");
	x->o.shard = &other;
	assert_int_equal(fx_run(x), 4);
	assert_non_null(strstr(nv_error_msg(), " (sync shared lease of run run-a, started "));
	nv_state_set_scope("shard-0-of-3");
	nv_dest_lock_release(held);
	nv_state_set_scope(NULL);
	assert_int_equal(nv_fake_keys(x->dst, NV_LEASE_DIR), 0);
	x->o.shard = NULL;
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(nv_fake_keys(x->dst, "f"), 6);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_shards_cover),
		T(test_guard_every_shard),
		T(test_check_shards),
		T(test_lock_shared_by_one_run),
	};
#undef T
	return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
