/* test_shard.c: the shard of a key (engine/shard.h) against the test vectors
 * of docs/FORMAT.md section 14, K/N parsing, --shard auto from Slurm and
 * Kubernetes environments, and N shards covering every key exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/shard.h"
#include "util/error.h"

/* FORMAT.md section 14: key, first 8 bytes of its SHA-256, shard of 3, of 8. */
static const struct {
	const char *key;
	uint64_t hash;
	unsigned of3, of8;
} vectors[] = {
	{ "a", 0xca978112ca1bbdcaULL, 1, 2 },
	{ "a/b", 0xc14cddc033f64b9dULL, 2, 5 },
	{ "dir/file.txt", 0x781336c84b85ce9dULL, 1, 5 },
	{ "caf\xc3\xa9/\xc3\xa9t\xc3\xa9.txt", 0xcb8efaaa6d9cbef9ULL, 2, 1 },
	{ "x\x1b]0;PWNED\x07\nnavette", 0x47a7702b529a4c73ULL, 1, 3 },
	{ "bad\xffutf8", 0xca352f783573c024ULL, 2, 4 },
	{ "objects/3f/3f00.age", 0xd9f21e5f505750d9ULL, 1, 1 },
};

static void test_vectors(void **state)
{
	nv_shard s3, s8;

	(void)state;
	assert_int_equal(nv_shard_hash("", 0), 0xe3b0c44298fc1c14ULL);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const char *k = vectors[i].key;

		assert_int_equal(nv_shard_hash(k, strlen(k)), vectors[i].hash);
		assert_int_equal(nv_shard_parse(&s3, "0/3"), 0);
		assert_int_equal(nv_shard_parse(&s8, "0/8"), 0);
		s3.k = vectors[i].of3;
		s8.k = vectors[i].of8;
		assert_true(nv_shard_mine(&s3, k));
		assert_true(nv_shard_mine(&s8, k));
		s3.k = (s3.k + 1) % 3;
		assert_false(nv_shard_mine(&s3, k));
		assert_true(nv_shard_mine(NULL, k)); /* not sharded: every key */
	}
}

/* N processes with K = 0..N-1 take every key exactly once. */
static void test_cover(void **state)
{
	static const unsigned ns[] = { 1, 3, 8, 1000 };
	char key[32];

	(void)state;
	for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
		for (int i = 0; i < 2000; i++) {
			nv_shard s = { .n = ns[t] };
			unsigned owners = 0;

			snprintf(key, sizeof(key), "d%d/f%d", i % 7, i);
			for (s.k = 0; s.k < s.n; s.k++)
				owners += (unsigned)nv_shard_mine(&s, key);
			assert_int_equal(owners, 1);
		}
	}
}

static void test_parse(void **state)
{
	static const char *const bad[] = { "", "3", "/3", "3/", "3/3", "0/0", "-1/3", "+1/3",
					   "1/3x", "a/b", "1 /3", "0/1000001", "1/2/3",
					   "0/9999999999" };
	nv_shard s;

	(void)state;
	assert_int_equal(nv_shard_parse(&s, "2/8"), 0);
	assert_int_equal(s.k, 2);
	assert_int_equal(s.n, 8);
	assert_string_equal(s.label, "2/8");
	assert_string_equal(s.run, "");
	assert_int_equal(nv_shard_parse(&s, "0/1"), 0);
	assert_int_equal(nv_shard_parse(&s, "999999/1000000"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nv_shard_parse(&s, bad[i]), NV_EINVAL);
	assert_int_equal(nv_shard_parse(&s, "1/3x"), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard takes K/N (shard K of N, K from 0: 0/4 to "
			    "3/4) or auto, not '1/3x'");
	assert_int_equal(nv_shard_parse(&s, "3/3"), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "shard 3 of 3: K must be 0 to N-1 and N 1 to 1000000");
}

static void test_run_id(void **state)
{
	char longest[NV_SHARD_RUN_MAX + 2];
	nv_shard s = { 0 };

	(void)state;
	assert_int_equal(nv_shard_set_run(&s, "12345_a-b.c"), 0);
	assert_string_equal(s.run, "12345_a-b.c");
	memset(longest, 'r', sizeof(longest));
	longest[NV_SHARD_RUN_MAX] = '\0';
	assert_int_equal(nv_shard_set_run(&s, longest), 0);
	longest[NV_SHARD_RUN_MAX] = 'r';
	longest[NV_SHARD_RUN_MAX + 1] = '\0';
	assert_int_equal(nv_shard_set_run(&s, longest), NV_EINVAL);
	assert_int_equal(nv_shard_set_run(&s, ""), NV_EINVAL);
	assert_int_equal(nv_shard_set_run(&s, "a/b"), NV_EINVAL);
	assert_int_equal(nv_shard_set_run(&s, "a b"), NV_EINVAL);
	assert_int_equal(nv_shard_set_run(&s, "x\n"), NV_EINVAL);
}

static void clear_env(void)
{
	static const char *const vars[] = {
		"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
		"SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_JOB_ID",
		"JOB_COMPLETION_INDEX", "JOB_NAME",
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

/* A Slurm array: id, count, min, max, step (NULL: unset), job id. */
static int slurm(nv_shard *s, const char *id, const char *count, const char *min,
		 const char *max, const char *step, unsigned shard_count)
{
	clear_env();
	setenv("SLURM_ARRAY_TASK_ID", id, 1);
	setenv("SLURM_ARRAY_TASK_COUNT", count, 1);
	setenv("SLURM_ARRAY_TASK_MIN", min, 1);
	setenv("SLURM_ARRAY_TASK_MAX", max, 1);
	if (step)
		setenv("SLURM_ARRAY_TASK_STEP", step, 1);
	setenv("SLURM_ARRAY_JOB_ID", "4242", 1);
	return nv_shard_auto(s, shard_count);
}

static void test_slurm(void **state)
{
	nv_shard s;

	(void)state;
	assert_int_equal(slurm(&s, "3", "8", "0", "7", "1", 0), 0);
	assert_string_equal(s.label, "3/8");
	assert_string_equal(s.run, "4242");
	/* --array=1-8: the indices start at 1, the shards at 0 */
	assert_int_equal(slurm(&s, "1", "8", "1", "8", NULL, 8), 0);
	assert_string_equal(s.label, "0/8");
	/* --array=0-14:2 */
	assert_int_equal(slurm(&s, "2", "8", "0", "14", "2", 0), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard auto: a Slurm array with a step other than "
			    "1 (SLURM_ARRAY_TASK_STEP=2) leaves holes: give every index, e.g. "
			    "--array=0-7");
	/* --array=0,3,5 */
	assert_int_equal(slurm(&s, "3", "3", "0", "5", NULL, 0), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard auto: a sparse Slurm array (3 tasks, "
			    "indices 0 to 5) leaves shards without a task: give every index, e.g. "
			    "--array=0-2");
	assert_int_equal(slurm(&s, "3", "8", "0", "7", "1", 4), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard-count 4 differs from the Slurm array's 8 "
			    "tasks");
	assert_int_equal(slurm(&s, "3", "x", "0", "7", "1", 0), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard auto: SLURM_ARRAY_TASK_COUNT is not a number");
	assert_int_equal(slurm(&s, "3", "8", "0", "7", "1", 0), 0);
	unsetenv("SLURM_ARRAY_TASK_MIN");
	assert_int_equal(nv_shard_auto(&s, 0), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard auto: SLURM_ARRAY_TASK_MIN is not set (not "
			    "a Slurm job array?)");
	assert_int_equal(slurm(&s, "3", "8", "0", "7", "1", 0), 0);
	unsetenv("SLURM_ARRAY_JOB_ID");
	assert_int_equal(nv_shard_auto(&s, 0), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard auto: SLURM_ARRAY_JOB_ID is not set");
	clear_env();
}

static void test_kubernetes(void **state)
{
	nv_shard s;

	(void)state;
	clear_env();
	setenv("JOB_COMPLETION_INDEX", "5", 1);
	assert_int_equal(nv_shard_auto(&s, 8), 0);
	assert_string_equal(s.label, "5/8");
	assert_string_equal(s.run, ""); /* --run gives it */
	setenv("JOB_NAME", "migrate-0042", 1);
	assert_int_equal(nv_shard_auto(&s, 8), 0);
	assert_string_equal(s.run, "migrate-0042");
	assert_int_equal(nv_shard_auto(&s, 0), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard auto on Kubernetes (JOB_COMPLETION_INDEX is "
			    "set) needs --shard-count N: the Indexed Job's completions");
	assert_int_equal(nv_shard_auto(&s, 5), NV_EINVAL);
	setenv("JOB_COMPLETION_INDEX", "five", 1);
	assert_int_equal(nv_shard_auto(&s, 8), NV_EINVAL);
	clear_env();
	assert_int_equal(nv_shard_auto(&s, 8), NV_EINVAL);
	assert_string_equal(nv_error_msg(), "--shard auto: no scheduler found (neither "
			    "SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set): give --shard K/N");
}

static void test_dir(void **state)
{
	nv_shard s;
	char dir[64];

	(void)state;
	assert_int_equal(nv_shard_parse(&s, "3/8"), 0);
	nv_shard_dir(&s, dir, sizeof(dir));
	assert_string_equal(dir, "shard-3-of-8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_cover),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_run_id),
		cmocka_unit_test(test_slurm),
		cmocka_unit_test(test_kubernetes),
		cmocka_unit_test(test_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
