/* test_vault_format.c: the vault's names (src/vault/format.c): object ids,
 * object, manifest and signature names, generations and state file names,
 * built and parsed back, and every malformed form refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "vault/format.h"

#define ID "94bbeebc3ed4fdfef6a3b372689d408b821ad6796d97c1e65cfe2b82a37aa9bc"
#define NONCE "0123456789abcdef"
#define NAME "objects/94/" ID "." NONCE ".age"
#define VID "0123456789abcdef0123456789abcdef"

static void test_object_id(void **state)
{
	/* HMAC-SHA256(K_id = 00 01 .. 1f, SHA-256("hello\n")), by Python's hmac */
	unsigned char kid[NV_KID_LEN], sha[NV_SHA256_LEN];
	char id[NV_OBJECT_ID_HEX];

	(void)state;
	for (int i = 0; i < NV_KID_LEN; i++)
		kid[i] = (unsigned char)i;
	nv_sha256_buf(sha, "hello\n", 6);
	nv_object_id(id, kid, sha);
	assert_string_equal(id, ID);
	kid[0] ^= 1; /* another vault's key names the same contents otherwise */
	nv_object_id(id, kid, sha);
	assert_string_not_equal(id, ID);
}

/* Many ids under one key set up once: the vector, then each the same as
 * nv_object_id's, also after another key's ids in between. */
static void test_object_ids(void **state)
{
	unsigned char kid[NV_KID_LEN], other[NV_KID_LEN], sha[NV_SHA256_LEN];
	char id[NV_OBJECT_ID_HEX], want[NV_OBJECT_ID_HEX];
	nv_object_ids *x, *y;

	(void)state;
	for (int i = 0; i < NV_KID_LEN; i++)
		kid[i] = (unsigned char)i;
	memset(other, 0x5a, sizeof(other));
	assert_int_equal(nv_object_ids_new(&x, kid), 0);
	assert_int_equal(nv_object_ids_new(&y, other), 0);
	nv_sha256_buf(sha, "hello\n", 6);
	assert_int_equal(nv_object_ids_make(x, id, sha), 0);
	assert_string_equal(id, ID);
	for (int i = 0; i < 100; i++) {
		memset(sha, i, sizeof(sha));
		sha[31] = (unsigned char)(i * 7);
		assert_int_equal(nv_object_ids_make(x, id, sha), 0);
		nv_object_id(want, kid, sha);
		assert_string_equal(id, want);
		assert_int_equal(nv_object_ids_make(y, id, sha), 0);
		nv_object_id(want, other, sha);
		assert_string_equal(id, want);
	}
	nv_object_ids_free(x);
	nv_object_ids_free(y);
	nv_object_ids_free(NULL);
}

static void test_object_name_round_trip(void **state)
{
	char name[NV_OBJECT_NAME_MAX], id[NV_OBJECT_ID_HEX], nonce[NV_OBJECT_NONCE_HEX],
	     other[NV_OBJECT_NAME_MAX], prefix[NV_OBJECT_PREFIX_MAX];

	(void)state;
	assert_int_equal(nv_object_name(name, ID, NONCE), 0);
	assert_string_equal(name, NAME);
	assert_int_equal(strlen(name), NV_OBJECT_NAME_MAX - 1);
	assert_int_equal(nv_object_name_parse(name, id, nonce), 0);
	assert_string_equal(id, ID);
	assert_string_equal(nonce, NONCE);
	assert_int_equal(nv_object_name_parse(name, NULL, NULL), 0);
	assert_int_equal(nv_object_prefix(prefix, ID), 0);
	assert_string_equal(prefix, "objects/94/" ID ".");
	assert_int_equal(strncmp(name, prefix, strlen(prefix)), 0);
	/* a new name: same id, a fresh nonce each time */
	assert_int_equal(nv_object_name_new(name, ID), 0);
	assert_int_equal(nv_object_name_new(other, ID), 0);
	assert_string_not_equal(name, other);
	assert_int_equal(nv_object_name_parse(other, id, nonce), 0);
	assert_string_equal(id, ID);
}

static void test_object_name_build_refused(void **state)
{
	char name[NV_OBJECT_NAME_MAX], prefix[NV_OBJECT_PREFIX_MAX];
	char upper[] = ID, shortid[] = ID, nothex[] = ID;

	(void)state;
	upper[5] = 'B';
	shortid[63] = '\0';
	nothex[0] = 'g';
	assert_int_equal(nv_object_name(name, upper, NONCE), NV_EINVAL);
	assert_int_equal(nv_object_name(name, shortid, NONCE), NV_EINVAL);
	assert_int_equal(nv_object_name(name, ID "0", NONCE), NV_EINVAL);
	assert_int_equal(nv_object_name(name, nothex, NONCE), NV_EINVAL);
	assert_int_equal(nv_object_name(name, ID, "0123456789abcde"), NV_EINVAL);
	assert_int_equal(nv_object_name(name, ID, "0123456789abcdef0"), NV_EINVAL);
	assert_int_equal(nv_object_name(name, ID, "0123456789ABCDEF"), NV_EINVAL);
	assert_int_equal(nv_object_prefix(prefix, "../" ID), NV_EINVAL);
	assert_int_equal(nv_object_name_new(name, shortid), NV_EINVAL);
}

static void refused(const char *name, const char *why)
{
	char id[NV_OBJECT_ID_HEX] = "untouched";

	if (nv_object_name_parse(name, id, NULL) != NV_EMISMATCH)
		fail_msg("accepted %s", name);
	assert_string_equal(id, "untouched");
	if (!strstr(nv_error_msg(), why))
		fail_msg("%s: '%s' does not say '%s'", name, nv_error_msg(), why);
}

static void test_object_name_parse_refused(void **state)
{
	(void)state;
	refused("", "wrong length");
	refused("objects/94/" ID "." NONCE ".ag", "wrong length");
	refused("objects/94/" ID "." NONCE ".age.sig", "wrong length");
	refused("objectz/94/" ID "." NONCE ".age", "not under objects/");
	refused("objects/94-" ID "." NONCE ".age", "not under objects/");
	refused("objects/95/" ID "." NONCE ".age", "first two digits");
	refused("objects/94/" "94BBEEBC3ED4FDFEF6A3B372689D408B821AD6796D97C1E65CFE2B82A37AA9BC"
		"." NONCE ".age", "its id");
	refused("objects/94/" "94bbeebc3ed4fdfef6a3b372689d408b821ad6796d97c1e65cfe2b82a37aa9bz"
		"." NONCE ".age", "its id");
	refused("objects/94/" ID "_" NONCE ".age", "its id");
	refused("objects/94/" ID ".0123456789abcdeg.age", "its nonce");
	refused("objects/94/" ID ".0123456789ABCDEF.age", "its nonce");
	refused("objects/94/" ID "." NONCE ".agx", "does not end in .age");
	refused("objects/94/" ID "." NONCE "_age", "does not end in .age");
}

/* g as digits and as a manifest name, and both parsed back to g */
static void generation_round_trip(uint64_t g, const char *digits)
{
	char s[NV_GENERATION_MAX], name[NV_MANIFEST_NAME_MAX], want[64];
	uint64_t n = 0;

	nv_generation_format(s, g);
	assert_string_equal(s, digits);
	assert_int_equal(nv_generation_parse(&n, s), 0);
	assert_true(n == g);
	nv_manifest_name(name, g);
	snprintf(want, sizeof(want), "manifests/%s.json", digits);
	assert_string_equal(name, want);
	n = 0;
	assert_int_equal(nv_manifest_name_parse(&n, name), 0);
	assert_true(n == g);
}

static void test_generation(void **state)
{
	uint64_t n;

	(void)state;
	generation_round_trip(1, "00000000000000000001");
	generation_round_trip(3, "00000000000000000003");
	generation_round_trip(UINT64_MAX, "18446744073709551615");
	n = 7;
	assert_int_equal(nv_generation_parse(&n, "18446744073709551616"), NV_EMISMATCH);
	assert_int_equal(nv_generation_parse(&n, "99999999999999999999"), NV_EMISMATCH);
	assert_int_equal(nv_generation_parse(&n, "0000000000000000001"), NV_EMISMATCH);
	assert_int_equal(nv_generation_parse(&n, "+0000000000000000001"), NV_EMISMATCH);
	assert_int_equal(nv_generation_parse(&n, " 0000000000000000001"), NV_EMISMATCH);
	assert_int_equal(nv_generation_parse(&n, ""), NV_EMISMATCH);
	assert_int_equal(n, 7);
}

static void test_manifest_name(void **state)
{
	static const char *const bad[] = {
		"manifests/0000000000000000003.json",         /* 19 digits */
		"manifests/000000000000000000003.json",       /* 21 digits */
		"manifests/00000000000000000003.json.sig",
		"manifests/00000000000000000003.jsonx",
		"manifests/00000000000000000003.JSON",
		"manifests/0000000000000000000a.json",
		"manifests/-0000000000000000003.json",
		"manifests/18446744073709551616.json",        /* beyond 64 bits */
		"manifest/000000000000000000003.json",
		"xmanifests/0000000000000000003.json",
		"manifests/",
		"",
	};
	char name[NV_MANIFEST_NAME_MAX], sig[NV_SIGNED_NAME_MAX], longname[200];
	uint64_t g;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		g = 42;
		if (nv_manifest_name_parse(&g, bad[i]) != NV_EMISMATCH)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(g, 42);
	}
	nv_manifest_name(name, UINT64_MAX);
	assert_int_equal(nv_signature_name(sig, name), 0);
	assert_string_equal(sig, "manifests/18446744073709551615.json.sig");
	assert_int_equal(nv_signature_name(sig, NV_VAULT_DESCRIPTOR), 0);
	assert_string_equal(sig, "navette-vault.json.sig");
	assert_int_equal(nv_signature_name(sig, NV_VAULT_HEARTBEAT), 0);
	assert_string_equal(sig, "heartbeat.json.sig");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(nv_signature_name(sig, longname), NV_EINVAL);
}

static void test_state_names(void **state)
{
	static const struct {
		nv_vstate which;
		const char *arg, *want;
	} ok[] = {
		{ NV_VSTATE_PINS, NULL, "pins" },
		{ NV_VSTATE_PIN, VID, "pins/" VID ".json" },
		{ NV_VSTATE_SEEN, VID, "seen/" VID },
		{ NV_VSTATE_BOUND, ID, "bound/" ID },
		{ NV_VSTATE_KID, VID, "push/" VID "/kid" },
		{ NV_VSTATE_CACHE, VID, "push/" VID "/cache.tsv" },
		{ NV_VSTATE_LANDED, VID, "push/" VID "/landed.tsv" },
		{ NV_VSTATE_PENDING, VID, "push/" VID "/pending" },
		{ NV_VSTATE_LAST, VID, "push/" VID "/last" },
		{ NV_VSTATE_LOCK, VID, "push/" VID "/lock" },
	};
	static const struct {
		nv_vstate which;
		const char *arg;
	} bad[] = {
		{ NV_VSTATE_PIN, NULL },
		{ NV_VSTATE_PIN, "" },
		{ NV_VSTATE_SEEN, "0123456789abcdef0123456789abcde" },   /* 31 digits */
		{ NV_VSTATE_SEEN, VID "0" },                            /* 33 digits */
		{ NV_VSTATE_KID, "0123456789ABCDEF0123456789abcdef" },  /* upper case */
		{ NV_VSTATE_KID, "../../../../../../../../../etc/x" },  /* 32 bytes */
		{ NV_VSTATE_LOCK, "0123456789abcdef/123456789abcdef" },
		{ NV_VSTATE_BOUND, VID },                               /* a vault id is no hash */
		{ NV_VSTATE_PENDING, ID },                              /* nor a hash a vault id */
		{ (nv_vstate)99, VID },
	};
	char rel[128], path[4200], root[] = "/tmp/nv-vfmt-XXXXXX", vid[NV_VAULT_ID_HEX];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		assert_int_equal(nv_vstate_name(rel, sizeof(rel), ok[i].which, ok[i].arg), 0);
		assert_string_equal(rel, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (nv_vstate_name(rel, sizeof(rel), bad[i].which, bad[i].arg) != NV_EINVAL)
			fail_msg("state name %zu accepted: %s", i, rel);
	assert_int_equal(nv_vstate_name(rel, 10, NV_VSTATE_KID, VID), NV_EINVAL);
	/* the full path lies under the state root, its directories made private */
	assert_non_null(mkdtemp(root));
	setenv("NAVETTE_STATE_DIR", root, 1);
	assert_int_equal(nv_vstate_path(path, sizeof(path), NV_VSTATE_CACHE, VID), 0);
	snprintf(rel, sizeof(rel), "%s/push/%s/cache.tsv", root, VID);
	assert_string_equal(path, rel);
	*strrchr(rel, '/') = '\0';
	assert_int_equal(stat(rel, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(nv_vstate_path(path, sizeof(path), NV_VSTATE_KID, "x"), NV_EINVAL);
	rmdir(rel);
	*strrchr(rel, '/') = '\0';
	rmdir(rel);
	rmdir(root);
	unsetenv("NAVETTE_STATE_DIR");
	/* pins are found by their file names */
	assert_int_equal(nv_vstate_pin_parse(vid, VID ".json"), 0);
	assert_string_equal(vid, VID);
	assert_int_equal(nv_vstate_pin_parse(vid, VID ".json.tmp"), NV_EMISMATCH);
	assert_int_equal(nv_vstate_pin_parse(vid, "." VID ".json"), NV_EMISMATCH);
	assert_int_equal(nv_vstate_pin_parse(vid, "0123456789abcdef.json"), NV_EMISMATCH);
	assert_int_equal(nv_vstate_pin_parse(vid, VID "0.json"), NV_EMISMATCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_id),
		cmocka_unit_test(test_object_ids),
		cmocka_unit_test(test_object_name_round_trip),
		cmocka_unit_test(test_object_name_build_refused),
		cmocka_unit_test(test_object_name_parse_refused),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_manifest_name),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
