/* test_vault_ops.c: push, pull and verify over an in-memory fake vault store
 * (fake_driver.h), counting the calls that reach it, with faults from the one
 * fault layer (driver/fault.h). The source tree is a temporary directory on
 * the local driver (push reads it through lstat as well as the driver).
 * Written against the public headers only (vault.h, vault_push.h,
 * vault_pull.h, vault_verify.h): the vault modules are being restructured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "driver/fault.h"
#include "fake_driver.h"
#include "util/exit.h"
#include "vault/format.h"
#include "vault/object_read.h"
#include "util/state.h"
#include "vault/vault_pull.h"
#include "vault/vault_push.h"
#include "vault/vault_verify.h"

/* Four files, three contents: c/d holds what a holds (one object for both). */
static const struct { const char *path, *text; } tree[] = {
	{ "a", "alpha, the first contents" },
	{ "b", "beta, the second contents" },
	{ "c/d", "alpha, the first contents" },
	{ "e", "epsilon, the third contents" },
};
#define NFILES 4
#define NCONTENTS 3

typedef struct fx {
	char state[64], src_dir[64];
	nv_location *src;
	nv_fake *store;
	nv_sshkey *sk;
	nv_age_identity *id;
	nv_vault *v;
	nv_engine_opts o;
	nv_push_stats st;
} fx;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void write_file(const char *dir, const char *path, const char *text)
{
	char full[256], *slash;
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", dir, path);
	if ((slash = strrchr(full, '/')) && slash > full + strlen(dir)) {
		*slash = '\0';
		mkdir(full, 0700);
		*slash = '/';
	}
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A vault on the fake store made by init (pinned in a fresh state directory),
 * opened as push opens it, and the source tree. */
static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	char vid[NV_VAULT_ID_HEX], recip[NV_AGE_RECIPIENT_MAX], *text;
	nv_age_recipient r;

	snprintf(x->state, sizeof(x->state), "/tmp/nv-vault-ops.XXXXXX");
	snprintf(x->src_dir, sizeof(x->src_dir), "/tmp/nv-vault-src.XXXXXX");
	assert_non_null(mkdtemp(x->state));
	assert_non_null(mkdtemp(x->src_dir));
	setenv("NAVETTE_STATE_DIR", x->state, 1);
	for (int i = 0; i < NFILES; i++)
		write_file(x->src_dir, tree[i].path, tree[i].text);
	assert_int_equal(nv_location_parse(&x->src, x->src_dir, NULL), 0);
	assert_int_equal(nv_sshkey_generate(&x->sk), 0);
	assert_int_equal(nv_age_keygen(&text, recip, sizeof(recip)), 0);
	assert_int_equal(nv_age_identity_parse(&x->id, text, strlen(text)), 0);
	nv_age_wipe_free(text, strlen(text));
	assert_int_equal(nv_age_recipient_parse(&r, recip), 0);
	x->store = nv_fake_new("vault");
	assert_int_equal(nv_vault_init(nv_fake_location(x->store), &r, 1, x->sk, vid), 0);
	assert_int_equal(nv_vault_open(&x->v, nv_fake_location(x->store), NULL), 0);
	nv_engine_defaults(&x->o);
	x->o.transfers = 2;
	x->o.retries = 2;
	nv_fake_reset_calls(x->store);
	nv_fault_set("");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;

	nv_fault_set(NULL);
	nv_vault_close(x->v);
	nv_fake_free(x->store);
	nv_location_free(x->src);
	nv_sshkey_free(x->sk);
	nv_age_identity_free(x->id);
	nftw(x->state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	nftw(x->src_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	unsetenv("NAVETTE_STATE_DIR");
	free(x);
	return 0;
}

static int push(fx *x)
{
	return nv_vault_push(x->v, x->src, x->sk, &x->o, &x->st);
}

/* The exit code cmd_push.c gives: the one rule over the push's outcome. */
static int push_exit(int rc, const nv_push_stats *st)
{
	nv_outcome o = st->out;

	if (rc && !o.fatal && !o.failed && !o.differ)
		o.fatal = rc;
	return nv_exit_code(&o);
}

static unsigned commits(fx *x, const char *prefix)
{
	return nv_fake_calls(x->store, NV_FAKE_COMMIT, prefix);
}

static void test_push_uploads_each_content_once(void **state)
{
	fx *x = *state;
	char *key;

	assert_int_equal(push(x), 0);
	assert_true(x->st.published);
	assert_int_equal(x->st.generation, 1);
	assert_int_equal(x->st.files, NFILES);
	assert_int_equal(x->st.uploaded, NCONTENTS);
	assert_int_equal(x->st.reused, NFILES - NCONTENTS);
	/* one object per content, plus the catalog; each committed once */
	assert_int_equal(commits(x, "objects/"), NCONTENTS + 1);
	assert_int_equal(nv_fake_keys(x->store, "objects/"), NCONTENTS + 1);
	for (size_t i = 0; (key = nv_fake_key_at(x->store, "objects/", i)); i++) {
		assert_int_equal(nv_fake_key_calls(x->store, NV_FAKE_COMMIT, key), 1);
		assert_int_equal(nv_fake_key_calls(x->store, NV_FAKE_WRITE_OPEN, key), 1);
		free(key);
	}
	assert_int_equal(commits(x, "manifests/"), 2); /* the manifest and its signature */
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_ABORT, ""), 0);
}

static void test_second_push_uploads_nothing(void **state)
{
	fx *x = *state;

	assert_int_equal(push(x), 0);
	nv_fake_reset_calls(x->store);
	assert_int_equal(push(x), 0);
	assert_false(x->st.published);
	assert_int_equal(x->st.generation, 1);
	assert_int_equal(x->st.uploaded, 0);
	assert_int_equal(x->st.hashed, 0); /* the cache knew every file */
	assert_int_equal(commits(x, "objects/"), 0);
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_WRITE_OPEN, "manifests/"), 0);
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_WRITE_OPEN, "objects/"), 0);
	/* one changed file: its new contents and a new catalog, nothing else */
	write_file(x->src_dir, "b", "beta, changed");
	nv_fake_reset_calls(x->store);
	assert_int_equal(push(x), 0);
	assert_true(x->st.published);
	assert_int_equal(x->st.generation, 2);
	assert_int_equal(x->st.uploaded, 1);
	assert_int_equal(commits(x, "objects/"), 2);
}

/* A dry run writes nothing at all to the store (no object, no lease, no
 * probe, no manifest, no heartbeat) and says what the real push then does. */
static void test_push_dry_run_writes_nothing(void **state)
{
	fx *x = *state;
	uint64_t bytes;

	x->o.dry_run = 1;
	nv_state_readonly(1);
	assert_int_equal(push(x), 0);
	nv_state_readonly(0);
	x->o.dry_run = 0;
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_WRITE_OPEN, ""), 0);
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_REMOVE, ""), 0);
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_FLUSH, ""), 0);
	assert_false(x->st.published);
	assert_true(x->st.would_publish);
	assert_int_equal(x->st.generation, 1);
	assert_int_equal(x->st.uploaded, NCONTENTS);
	assert_int_equal(x->st.reused, NFILES - NCONTENTS);
	bytes = x->st.uploaded_bytes;
	assert_int_equal(push(x), 0);
	assert_true(x->st.published);
	assert_int_equal(x->st.uploaded, NCONTENTS);
	assert_int_equal(x->st.uploaded_bytes, bytes);
}

static void test_push_transient_commit_retried(void **state)
{
	fx *x = *state;

	/* After the lease's (1) and the create-if-absent probe's (2, 3): an
	 * object's; the catalog comes last. */
	nv_fault_set("write_commit@5=retry");
	assert_int_equal(push(x), 0);
	assert_true(x->st.published);
	assert_int_equal(x->st.uploaded, NCONTENTS);
	assert_int_equal(x->st.out.failed, 0);
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_ABORT, "objects/"), 1);
	assert_int_equal(commits(x, "objects/"), NCONTENTS + 1);
	assert_int_equal(nv_fake_keys(x->store, "objects/"), NCONTENTS + 1);
}

static void test_push_persistent_fault_publishes_nothing(void **state)
{
	fx *x = *state;
	int rc;

	/* One worker, after the lease's and the probe's commits (1 to 3): a is
	 * commit 4, b's three attempts 5 to 7, c/d reuses a's object, e is 8. */
	x->o.transfers = 1;
	nv_fault_set("write_commit@5-7=retry");
	rc = push(x);
	assert_int_not_equal(rc, 0);
	assert_int_equal(x->st.out.failed, 1);
	assert_int_equal(push_exit(rc, &x->st), NV_EXIT_PARTIAL);
	assert_false(x->st.published);
	assert_int_equal(nv_fault_calls(NV_FAULT_COMMIT), 8);
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_WRITE_OPEN, "manifests/"), 0);
	assert_int_equal(nv_fake_keys(x->store, "manifests/"), 0);
	/* what landed is kept: the next push uploads only b, and the catalog */
	nv_fault_set("");
	nv_fake_reset_calls(x->store);
	assert_int_equal(push(x), 0);
	assert_true(x->st.published);
	assert_int_equal(commits(x, "objects/"), 2);
}

static void test_push_unreadable_file(void **state)
{
	fx *x = *state;
	int rc, code;

	/* One worker; the first read of the push is a's (the vault is empty:
	 * nothing is read from it first). Permission denied fails that file only
	 * under the one exit rule (util/exit.h: NV_EPERM is NV_CLASS_ITEM): 3. */
	x->o.transfers = 1;
	nv_fault_set("read@1=perm");
	rc = push(x);
	code = push_exit(rc, &x->st);
	assert_false(x->st.published);
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_WRITE_OPEN, "manifests/"), 0);
	assert_int_equal(code, NV_EXIT_PARTIAL);
	assert_int_equal(x->st.out.failed, 1);
}

/* ---- readers: the newest generation, its catalog, one job per file ---- */

typedef struct reader {
	nv_manifest m;
	nv_catalog cat;
	nv_vread_job *jobs;
	size_t n;
} reader;

static void reader_open(fx *x, reader *rd)
{
	unsigned char sha[NV_SHA256_LEN];
	uint64_t gen;

	memset(rd, 0, sizeof(*rd));
	assert_int_equal(nv_vault_current(x->v, -1, &rd->m, sha, &gen), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(nv_vault_catalog(x->v, &rd->m, x->id, &rd->cat), 0);
	rd->jobs = calloc(rd->cat.n, sizeof(*rd->jobs));
	for (size_t i = 0; i < rd->cat.n; i++) {
		rd->jobs[i].entry = &rd->cat.e[i];
		rd->jobs[i].rec = nv_manifest_find(&rd->m, rd->cat.e[i].object);
		assert_non_null(rd->jobs[i].rec);
	}
	rd->n = rd->cat.n;
}

static void reader_close(reader *rd)
{
	free(rd->jobs);
	nv_catalog_clear(&rd->cat);
	nv_manifest_clear(&rd->m);
}

static void test_pull_reads_each_object_once(void **state)
{
	fx *x = *state;
	nv_fake *target = nv_fake_new("restore");
	nv_vread_opts o = {
		.mode = NV_VREAD_RESTORE, .vault = nv_fake_location(x->store),
		.target = nv_fake_location(target), .id = x->id, .workers = 2,
		.buf_size = 1 << 20, .retries = 2,
	};
	nv_vread_stats st;
	reader rd;

	assert_int_equal(push(x), 0);
	reader_open(x, &rd);
	assert_int_equal(rd.n, NFILES);
	nv_fake_reset_calls(x->store);
	assert_int_equal(nv_vread_run(&o, rd.jobs, rd.n, &st), 0);
	assert_int_equal(nv_exit_code(&st.out), NV_EXIT_OK);
	assert_int_equal(st.done, NFILES);
	for (int i = 0; i < NFILES; i++) {
		size_t len;
		unsigned char *got = nv_fake_get(target, tree[i].path, &len);

		assert_non_null(got);
		assert_string_equal((char *)got, tree[i].text);
		free(got);
	}
	/* each object fits the buffer: read once per file it holds, never twice */
	for (size_t i = 0; i < rd.n; i++) {
		unsigned refs = 0;

		for (size_t k = 0; k < rd.n; k++)
			refs += strcmp(rd.cat.e[k].object, rd.cat.e[i].object) == 0;
		assert_int_equal(nv_fake_key_calls(x->store, NV_FAKE_READ, rd.cat.e[i].object),
				 refs);
	}
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_READ, ""), NFILES);
	assert_int_equal(nv_fake_calls(target, NV_FAKE_COMMIT, ""), NFILES);
	reader_close(&rd);
	nv_fake_free(target);
}

static int verify(fx *x, nv_verify_report *r)
{
	nv_verify_opts o = { .level = NV_VERIFY_HASH, .max_age = -1, .workers = 2,
			     .buf_size = 1 << 20, .retries = 0 };
	nv_outcome out = { 0 };

	assert_int_equal(nv_vault_verify(x->v, &o, r), 0);
	out.differ = r->problems; /* every problem verify reports is a difference */
	return r->fatal ? r->fatal : nv_exit_code(&out);
}

static void test_verify_hash_reads_once_finds_tamper(void **state)
{
	fx *x = *state;
	nv_verify_report r;
	size_t n, len;
	char *key;

	assert_int_equal(push(x), 0);
	nv_fake_reset_calls(x->store);
	assert_int_equal(verify(x, &r), NV_EXIT_OK);
	n = nv_fake_keys(x->store, "objects/");
	assert_int_equal(n, NCONTENTS + 1);
	assert_int_equal(r.objects, n);
	assert_int_equal(r.problems, 0);
	for (size_t i = 0; (key = nv_fake_key_at(x->store, "objects/", i)); i++) {
		assert_int_equal(nv_fake_key_calls(x->store, NV_FAKE_READ, key), 1);
		free(key);
	}
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_READ, "objects/"), n);
	/* one byte of one object altered in the store */
	key = nv_fake_key_at(x->store, "objects/", 1);
	free(nv_fake_get(x->store, key, &len));
	assert_int_equal(nv_fake_flip(x->store, key, len / 2), 0);
	assert_int_equal(verify(x, &r), NV_EXIT_DIFF);
	assert_int_equal(r.problems, 1);
	assert_int_equal(r.objects, n - 1);
	free(key);
}

/* ---- one read per object: stored bytes hashed and decrypted in one pass ---- */

#define BIG (200 * 1024 + 17) /* four age chunks and a bit */
#define SMALL_BUF (16 * 1024)  /* the readers' buffer: BIG is read in 13 pieces */

static unsigned char *big_bytes(unsigned seed)
{
	unsigned char *b = malloc(BIG);
	uint32_t v = seed * 2654435761u + 1;

	assert_non_null(b);
	for (size_t i = 0; i < BIG; i++) {
		v = v * 1664525u + 1013904223u;
		b[i] = (unsigned char)(v >> 24);
	}
	return b;
}

static void write_big(fx *x, const char *name, unsigned seed)
{
	char path[128];
	unsigned char *b = big_bytes(seed);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", x->src_dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(b, 1, BIG, f), BIG);
	fclose(f);
	free(b);
}

/* big1 and big2: two contents of the same size, so their objects are too. */
static void add_big_files(fx *x)
{
	write_big(x, "big1", 1);
	write_big(x, "big2", 2);
}

static const nv_vread_job *job_of(const reader *rd, const char *path)
{
	for (size_t i = 0; i < rd->n; i++)
		if (strcmp(rd->cat.e[i].path, path) == 0)
			return &rd->jobs[i];
	fail_msg("no catalog entry %s", path);
	return NULL;
}

static const nv_obj_rec *rec_of(const reader *rd, const char *path)
{
	return job_of(rd, path)->rec;
}

/* A restore directory on the local driver: real temporary files. */
typedef struct restore_dir {
	char dir[64];
	nv_location *loc;
} restore_dir;

static void restore_dir_open(restore_dir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/nv-vault-restore.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	assert_int_equal(nv_location_parse(&t->loc, t->dir, NULL), 0);
}

static void restore_dir_close(restore_dir *t)
{
	nv_location_free(t->loc);
	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Entries of the restore directory named like a temporary file. */
static unsigned temp_files(const restore_dir *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strncmp(de->d_name, ".navette-tmp", 12) == 0;
	closedir(d);
	return n;
}

/* 1: path restored with big_bytes(seed); 0: absent. */
static int restored_big(const restore_dir *t, const char *path, unsigned seed)
{
	char full[128];
	unsigned char *want = big_bytes(seed), *got = malloc(BIG + 1);
	size_t n = 0;
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", t->dir, path);
	if ((f = fopen(full, "r"))) {
		n = fread(got, 1, BIG + 1, f);
		fclose(f);
		assert_int_equal(n, BIG);
		assert_memory_equal(got, want, BIG);
	}
	free(want);
	free(got);
	return f != NULL;
}

/* Pushes the tree with big1 and big2 added, and reads its catalog back. */
static void push_big(fx *x, reader *rd)
{
	add_big_files(x);
	assert_int_equal(push(x), 0);
	reader_open(x, rd);
	assert_int_equal(rd->n, NFILES + 2);
}

/* Pulls every file into a new restore directory, the store's calls counted
 * from zero; returns the exit code. */
static int pull_all(fx *x, const reader *rd, restore_dir *t, unsigned workers,
		    nv_vread_stats *st)
{
	nv_vread_opts o = {
		.mode = NV_VREAD_RESTORE, .vault = nv_fake_location(x->store), .id = x->id,
		.workers = workers, .buf_size = SMALL_BUF, .retries = 2,
	};

	restore_dir_open(t);
	o.target = t->loc;
	nv_fake_reset_calls(x->store);
	assert_int_equal(nv_vread_run(&o, rd->jobs, rd->n, st), 0);
	return nv_exit_code(&st->out);
}

static void test_pull_and_deep_verify_read_each_object_once(void **state)
{
	fx *x = *state;
	nv_verify_opts vo = { .level = NV_VERIFY_DEEP, .max_age = -1, .id = x->id,
			      .workers = 2, .buf_size = SMALL_BUF, .retries = 0 };
	nv_vread_stats st;
	nv_verify_report r;
	restore_dir t;
	reader rd;
	char *key;

	push_big(x, &rd);
	assert_true(rec_of(&rd, "big1")->size > SMALL_BUF);
	assert_true(rec_of(&rd, "a")->size < SMALL_BUF);
	assert_int_equal(pull_all(x, &rd, &t, 2, &st), NV_EXIT_OK);
	assert_int_equal(st.done, NFILES + 2);
	assert_true(restored_big(&t, "big1", 1) && restored_big(&t, "big2", 2));
	/* one pass per file an object holds (c/d holds a's): one GET from the
	 * start, each stored byte served once */
	for (size_t i = 0; i < rd.n; i++) {
		const nv_obj_rec *rec = rd.jobs[i].rec;
		unsigned refs = 0;

		for (size_t k = 0; k < rd.n; k++)
			refs += rd.jobs[k].rec == rec;
		assert_int_equal(nv_fake_read_starts(x->store, rec->name), refs);
		assert_int_equal(nv_fake_read_bytes(x->store, rec->name), refs * rec->size);
	}
	assert_int_equal(nv_fake_read_starts(x->store, rec_of(&rd, "big1")->name), 1);
	assert_int_equal(nv_fake_read_starts(x->store, rec_of(&rd, "e")->name), 1);
	/* verify --level deep: every object once, the catalog included */
	nv_fake_reset_calls(x->store);
	assert_int_equal(nv_vault_verify(x->v, &vo, &r), 0);
	assert_int_equal(r.problems, 0);
	assert_int_equal(r.objects, nv_fake_keys(x->store, "objects/"));
	for (size_t i = 0; (key = nv_fake_key_at(x->store, "objects/", i)); i++) {
		size_t len;

		free(nv_fake_get(x->store, key, &len));
		assert_int_equal(nv_fake_read_starts(x->store, key), 1);
		assert_int_equal(nv_fake_read_bytes(x->store, key), len);
		free(key);
	}
	restore_dir_close(&t);
	reader_close(&rd);
}

/* A store serving other bytes to a second GET of the same object: pull makes
 * none, so it restores what was pushed (before: the second read went through
 * the decryptor into a temporary file). */
static void test_pull_second_get_never_happens(void **state)
{
	fx *x = *state;
	unsigned char *other;
	size_t len;
	nv_vread_stats st;
	restore_dir t;
	reader rd;

	push_big(x, &rd);
	other = nv_fake_get(x->store, rec_of(&rd, "big2")->name, &len);
	assert_int_equal(len, rec_of(&rd, "big1")->size);
	nv_fake_replace_at_read(x->store, rec_of(&rd, "big1")->name, other, len, 2, 1);
	assert_int_equal(pull_all(x, &rd, &t, 2, &st), NV_EXIT_OK);
	assert_int_equal(st.done, NFILES + 2);
	assert_int_equal(nv_fake_read_starts(x->store, rec_of(&rd, "big1")->name), 1);
	assert_true(restored_big(&t, "big1", 1));
	free(other);
	restore_dir_close(&t);
	reader_close(&rd);
}

/* Other bytes served in the middle of the one read (a valid object for the
 * same recipient, of the same size): that file fails as tampered (exit 1 as
 * before), its temporary file is removed and nothing takes its name; the
 * other files are restored. */
static void test_pull_bytes_changed_mid_read_fail_clean(void **state)
{
	fx *x = *state;
	unsigned char *mine, *other;
	size_t len, mlen;
	char want[512];
	nv_store *vs, *ts;
	nv_objread *or;
	nv_vread_stats st;
	const nv_obj_rec *rec;
	restore_dir t;
	reader rd;

	push_big(x, &rd);
	rec = rec_of(&rd, "big1");
	mine = nv_fake_get(x->store, rec->name, &mlen);
	other = nv_fake_get(x->store, rec_of(&rd, "big2")->name, &len);
	assert_int_equal(len, mlen);
	nv_fake_replace_at_read(x->store, rec->name, other, len, 2, 0);
	assert_int_equal(pull_all(x, &rd, &t, 1, &st), NV_EXIT_DIFF);
	assert_int_equal(st.mismatched, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.done, NFILES + 1);
	assert_int_equal(nv_fake_read_starts(x->store, rec->name), 1);
	assert_false(restored_big(&t, "big1", 1));
	assert_true(restored_big(&t, "big2", 2));
	assert_int_equal(temp_files(&t), 0);
	/* the message names the stored bytes, not the decryption failure they cause */
	nv_fake_put(x->store, rec->name, mine, mlen, 1000);
	nv_fake_replace_at_read(x->store, rec->name, other, len, 2, 0);
	snprintf(want, sizeof(want), "object %s: SHA-256 of the stored bytes differs from "
		 "the manifest's (tampered or corrupted)", rec->name);
	assert_int_equal(nv_objread_new(&or, SMALL_BUF), 0);
	assert_int_equal(nv_drv_open(&vs, nv_fake_location(x->store)), 0);
	assert_int_equal(nv_drv_open(&ts, t.loc), 0);
	assert_int_equal(nv_objread_restore(or, vs, rec, x->id, job_of(&rd, "big1")->entry, ts,
					    &(nv_write_opts){ .size = BIG }), NV_EMISMATCH);
	assert_string_equal(nv_error_msg(), want);
	assert_int_equal(temp_files(&t), 0);
	/* verify --level deep's pass, the same way */
	nv_fake_put(x->store, rec->name, mine, mlen, 1000);
	nv_fake_replace_at_read(x->store, rec->name, other, len, 2, 0);
	assert_int_equal(nv_objread_check(or, vs, rec, x->id, job_of(&rd, "big1")->entry),
			 NV_EMISMATCH);
	assert_string_equal(nv_error_msg(), want);
	nv_drv_close(vs);
	nv_drv_close(ts);
	nv_objread_free(or);
	free(mine);
	free(other);
	restore_dir_close(&t);
	reader_close(&rd);
}

/* ---- one read per new file (push_job.c, nv_pjob_plan) ---- */

/* Waits until the tree's files are older than push's racy window (2 s:
 * files changed just before their read are read twice). */
static void settle(void)
{
	struct timespec ts = { 2, 300000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Reads of the source tree since the fault counts were reset: every read
 * through a driver, less those that reached the vault's store. */
static unsigned source_reads(fx *x)
{
	return nv_fault_calls(NV_FAULT_READ) - nv_fake_calls(x->store, NV_FAKE_READ, "");
}

/* One worker, a 64 KiB buffer (BIG is read in 4 pieces), a tree older than
 * the racy window: a, b, big1, big2, big3 (big1's contents), c/d (a's), e. */
static void test_push_reads_new_files_once(void **state)
{
	fx *x = *state;
	nv_vread_stats st;
	restore_dir t;
	reader rd;

	add_big_files(x);
	write_big(x, "big3", 1);
	x->o.transfers = 1;
	x->o.buffer_size = 64 * 1024;
	settle();
	nv_fault_set("");
	assert_int_equal(push(x), 0);
	assert_int_equal(x->st.hashed, NFILES + 3);
	assert_int_equal(x->st.uploaded, NCONTENTS + 2);
	assert_int_equal(x->st.reused, 2);
	/* a, b, c/d, e: held whole, 1 read each. big1: hashed as it is encrypted,
	 * 4. big2 has big1's size: it could hold big1's contents, so it is hashed
	 * first, then read again to encrypt, 8. big3, hashed, is big1's: 4. */
	assert_int_equal(source_reads(x), 4 * 1 + 4 + 8 + 4);
	/* big1's object was opened before its name was known, and named then */
	assert_int_equal(nv_fake_key_calls(x->store, NV_FAKE_WRITE_OPEN, NV_OBJECT_UNNAMED), 1);
	assert_int_equal(nv_fake_keys(x->store, NV_OBJECT_UNNAMED), 0);
	assert_int_equal(nv_fake_keys(x->store, "objects/"), NCONTENTS + 2 + 1);
	assert_int_equal(nv_fake_calls(x->store, NV_FAKE_ABORT, ""), 0);
	reader_open(x, &rd);
	assert_string_equal(rec_of(&rd, "big3")->name, rec_of(&rd, "big1")->name);
	assert_int_equal(pull_all(x, &rd, &t, 2, &st), NV_EXIT_OK);
	assert_int_equal(st.done, NFILES + 3);
	assert_true(restored_big(&t, "big1", 1) && restored_big(&t, "big2", 2) &&
		    restored_big(&t, "big3", 1));
	restore_dir_close(&t);
	reader_close(&rd);
	/* a file changed since: read twice, as every file just changed is */
	write_big(x, "big2", 3);
	nv_fault_set("");
	nv_fake_reset_calls(x->store);
	assert_int_equal(push(x), 0);
	assert_int_equal(x->st.hashed, 1);
	assert_int_equal(source_reads(x), 8);
}

/* Two equal files read once each at the same time, by two workers: whichever
 * is named first is stored, the other finds it and its own copy is dropped
 * (or, done after the first landed, it is hashed first and reuses it). */
static void test_push_once_equal_files_one_object(void **state)
{
	fx *x = *state;
	char path[128];

	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", x->src_dir, tree[i].path);
		assert_int_equal(unlink(path), 0);
	}
	write_big(x, "big1", 1);
	write_big(x, "big3", 1);
	x->o.buffer_size = 16 * 1024;
	settle();
	assert_int_equal(push(x), 0);
	assert_int_equal(x->st.uploaded, 1);
	assert_int_equal(x->st.reused, 1);
	assert_int_equal(nv_fake_keys(x->store, "objects/"), 2); /* and the catalog */
	assert_int_equal(nv_fake_keys(x->store, NV_OBJECT_UNNAMED), 0);
	assert_int_equal(x->st.out.failed, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_push_uploads_each_content_once),
		T(test_second_push_uploads_nothing),
		T(test_push_dry_run_writes_nothing),
		T(test_push_transient_commit_retried),
		T(test_push_persistent_fault_publishes_nothing),
		T(test_push_unreadable_file),
		T(test_pull_reads_each_object_once),
		T(test_verify_hash_reads_once_finds_tamper),
		T(test_pull_and_deep_verify_read_each_object_once),
		T(test_pull_second_get_never_happens),
		T(test_pull_bytes_changed_mid_read_fail_clean),
		T(test_push_reads_new_files_once),
		T(test_push_once_equal_files_one_object),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
