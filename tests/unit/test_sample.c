/* test_sample.c: unit tests of src/vault/sample.c, the seeded sample of
 * verify --sample (docs/FORMAT.md section 12): the parse, the positions'
 * test vectors, reproducibility, and that consecutive seeds read everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/error.h"
#include "vault/sample.h"

#define NITEMS 1000

static char ids[NITEMS][32];
static nv_sample_item items[NITEMS];

static void make_items(int grouped)
{
	for (size_t i = 0; i < NITEMS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "dir%zu/file-%zu", i % 13, i);
		items[i] = (nv_sample_item){ .id = ids[i], .size = 100 + (i * 7919) % 1000 };
		if (grouped)
			items[i].group = nv_sample_group(ids[i], &items[i].group_len);
	}
}

static void test_parse(void **state)
{
	nv_sample_spec s;
	uint64_t seed;

	(void)state;
	assert_int_equal(nv_sample_parse(&s, "1/7"), 0);
	assert_int_equal(s.kind, NV_SAMPLE_FRACTION);
	assert_int_equal(s.num, 1);
	assert_int_equal(s.den, 7);
	assert_string_equal(s.text, "1/7");
	assert_int_equal(nv_sample_parse(&s, "2/14"), 0); /* lowest terms */
	assert_int_equal(s.num * 100 + s.den, 107);
	assert_int_equal(nv_sample_parse(&s, "10%"), 0);
	assert_int_equal(s.num * 100 + s.den, 110);
	assert_int_equal(nv_sample_parse(&s, "12.5%"), 0);
	assert_int_equal(s.num * 100 + s.den, 108);
	assert_int_equal(nv_sample_parse(&s, "0.0001%"), 0);
	assert_int_equal(s.den, 1000000);
	assert_int_equal(nv_sample_parse(&s, "100%"), 0);
	assert_int_equal(s.kind, NV_SAMPLE_ALL);
	assert_int_equal(nv_sample_parse(&s, "250"), 0);
	assert_int_equal(s.kind, NV_SAMPLE_COUNT);
	assert_int_equal(s.count, 250);
	assert_true(s.seed == nv_sample_today());
	static const char *const bad[] = { "", "0", "0%", "101%", "2/1", "1/0", "1/2000000",
					   "%", "1.%", ".5%", "1.23456%", "-3", "1/", "/7", "x",
					   "10 %", "3/7/9", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nv_sample_parse(&s, bad[i]), NV_EINVAL);
		assert_non_null(strstr(nv_error_msg(), "--sample"));
	}
	assert_int_equal(nv_sample_seed_parse(&seed, "18446744073709551615"), 0);
	assert_true(seed == UINT64_MAX);
	assert_int_equal(nv_sample_seed_parse(&seed, "20424"), 0);
	assert_true(seed == 20424);
	assert_int_equal(nv_sample_seed_parse(&seed, "18446744073709551616"), NV_EINVAL);
	assert_int_equal(nv_sample_seed_parse(&seed, "-1"), NV_EINVAL);
	assert_int_equal(nv_sample_seed_parse(&seed, "7x"), NV_EINVAL);
}

/* docs/FORMAT.md section 12: the first 4 bytes of SHA-256("navette-sample-v1\0" id). */
static void test_vectors(void **state)
{
	size_t len;

	(void)state;
	assert_true(nv_sample_position("") == 0x5488578cu);
	assert_true(nv_sample_position("a") == 0xe048b120u);
	assert_true(nv_sample_position("photos/2024/x.jpg") == 0xe0534b92u);
	assert_string_equal(nv_sample_group("photos/2024/x.jpg", &len), "photos/2024/x.jpg");
	assert_int_equal(len, 6);
	nv_sample_group("top.txt", &len);
	assert_int_equal(len, 0);
}

/* "a" (0xe048b120 / 2^32 = 0.876) lies in the 7th seventh: seeds 6, 13, ...
 * read it; the largest item is read by every seed. */
static void test_window(void **state)
{
	nv_sample_item it[2] = { { .id = "a", .size = 1 }, { .id = "big", .size = 2 } };
	unsigned char keep[2];
	nv_sample_result res;
	nv_sample_spec s;

	(void)state;
	assert_int_equal(nv_sample_parse(&s, "1/7"), 0);
	for (uint64_t seed = 0; seed < 21; seed++) {
		s.seed = seed;
		assert_int_equal(nv_sample_select(&s, it, 2, keep, &res), 0);
		assert_int_equal(keep[0], seed % 7 == 6);
		assert_int_equal(keep[1], 1);
		assert_int_equal(res.runs, 7);
	}
}

/* The same seed picks the same items, whatever their order. */
static void test_reproducible(void **state)
{
	static unsigned char a[NITEMS], b[NITEMS];
	static nv_sample_item rev[NITEMS];
	nv_sample_result ra, rb;
	nv_sample_spec s;

	(void)state;
	make_items(1);
	for (size_t i = 0; i < NITEMS; i++)
		rev[i] = items[NITEMS - 1 - i];
	static const char *const specs[] = { "1/7", "10%", "37" };
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(nv_sample_parse(&s, specs[k]), 0);
		s.seed = 20424;
		assert_int_equal(nv_sample_select(&s, items, NITEMS, a, &ra), 0);
		assert_int_equal(nv_sample_select(&s, rev, NITEMS, b, &rb), 0);
		assert_int_equal(ra.kept, rb.kept);
		for (size_t i = 0; i < NITEMS; i++)
			assert_int_equal(a[i], b[NITEMS - 1 - i]);
		s.seed = 20425; /* another seed, another share */
		assert_int_equal(nv_sample_select(&s, items, NITEMS, b, &rb), 0);
		assert_true(memcmp(a, b, NITEMS) != 0);
	}
}

/* Runs with seeds s .. s+runs-1 read every item together, for any start s;
 * a fraction's windows are disjoint (but for the largest and the groups),
 * and each holds about its share. */
static void check_cover(const char *spec, int grouped, uint64_t first, uint64_t want_runs)
{
	static unsigned char keep[NITEMS], seen[NITEMS], inwin[NITEMS];
	nv_sample_result res;
	nv_sample_spec s, plain;

	make_items(grouped);
	memset(seen, 0, sizeof(seen));
	memset(inwin, 0, sizeof(inwin));
	assert_int_equal(nv_sample_parse(&s, spec), 0);
	for (uint64_t k = 0; k < want_runs; k++) {
		s.seed = first + k;
		assert_int_equal(nv_sample_select(&s, items, NITEMS, keep, &res), 0);
		assert_int_equal(res.runs, want_runs);
		assert_int_equal(res.items, NITEMS);
		for (size_t i = 0; i < NITEMS; i++)
			seen[i] |= keep[i];
		if (k + 1 < want_runs) { /* one run short of the whole: something unread */
			size_t unread = 0;

			for (size_t i = 0; i < NITEMS; i++)
				unread += !seen[i];
			assert_true(unread > 0);
		}
		if (s.kind == NV_SAMPLE_FRACTION && !grouped) {
			size_t extra = 0;

			for (size_t i = 0; i < NITEMS; i++) {
				extra += keep[i] && inwin[i];
				inwin[i] |= keep[i];
			}
			/* only the largest comes back; but the last window of a share
			 * that does not divide 1 (3/20 x 7 runs) wraps onto the first */
			if (k + 1 < want_runs || (uint64_t)s.num * want_runs == s.den)
				assert_true(extra <= k);
			assert_true(res.kept > NITEMS * s.num / s.den / 2);
			assert_true(res.kept < NITEMS * s.num / s.den * 2);
		}
		if (s.kind == NV_SAMPLE_COUNT)
			assert_true(res.kept >= s.count && res.kept <= s.count + 1 + 13 * grouped);
	}
	for (size_t i = 0; i < NITEMS; i++)
		assert_int_equal(seen[i], 1);
	plain = s; /* the summary's share: items and bytes agree with keep */
	assert_int_equal(nv_sample_select(&plain, items, NITEMS, keep, &res), 0);
	uint64_t kept = 0, bytes = 0;
	for (size_t i = 0; i < NITEMS; i++) {
		kept += keep[i];
		bytes += keep[i] ? items[i].size : 0;
	}
	assert_true(kept == res.kept && bytes == res.kept_bytes);
}

static void test_cover(void **state)
{
	(void)state;
	check_cover("1/7", 0, 20424, 7);
	check_cover("1/7", 0, 0, 7);
	check_cover("15%", 0, 12345, 7);   /* 3/20: ceil(20/3) runs */
	check_cover("30%", 0, 99, 4);
	check_cover("1/7", 1, 20424, 7);
	check_cover("37", 0, 20424, 28);   /* ceil(1000/37) */
	check_cover("37", 1, 3, 28);
	check_cover("400", 0, 18446744073709551610ull, 3);
}

/* One item of each group is read by every run, and the `always` ones. */
static void test_groups(void **state)
{
	static unsigned char keep[NITEMS], group_seen[13];
	nv_sample_result res;
	nv_sample_spec s;

	(void)state;
	make_items(1);
	items[500].always = 1;
	assert_int_equal(nv_sample_parse(&s, "3"), 0);
	for (s.seed = 0; s.seed < 5; s.seed++) {
		assert_int_equal(nv_sample_select(&s, items, NITEMS, keep, &res), 0);
		memset(group_seen, 0, sizeof(group_seen));
		for (size_t i = 0; i < NITEMS; i++)
			if (keep[i])
				group_seen[i % 13] = 1;
		for (size_t g = 0; g < 13; g++)
			assert_int_equal(group_seen[g], 1);
		assert_int_equal(keep[500], 1);
	}
	assert_int_equal(nv_sample_select(&s, items, 0, keep, &res), 0);
	assert_int_equal(res.kept, 0);
	assert_int_equal(res.runs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_cover),
		cmocka_unit_test(test_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
