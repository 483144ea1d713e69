/* azure_tool.c: a small test program that drives one location through the
 * nv_drv_* wrappers, for tests/driver/azure.sh (bulk uploads, big objects). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/config.h"
#include "driver/driver.h"
#include "util/error.h"
#include "util/retry.h"

static nv_config *cfg;
static const char *loc_text;

static int fail(int rc)
{
	fprintf(stderr, "error: %s: %s\n", nv_error_name(rc), nv_error_msg());
	return rc < 0 ? -rc : 1;
}

static int open_store(nv_store **s)
{
	nv_location *loc;
	int rc = nv_location_parse(&loc, loc_text, cfg);

	if (rc == 0) {
		rc = nv_drv_open(s, loc);
		nv_location_free(loc);
	}
	return rc;
}

/* Deterministic bytes: a xorshift stream seeded by the size. */
static void pattern(unsigned char *buf, size_t n, uint64_t *st)
{
	for (size_t i = 0; i < n; i++) {
		*st ^= *st << 13;
		*st ^= *st >> 7;
		*st ^= *st << 17;
		buf[i] = (unsigned char)*st;
	}
}

static void print_digest(EVP_MD_CTX *md, uint64_t n)
{
	unsigned char d[32];
	unsigned dl;

	EVP_DigestFinal_ex(md, d, &dl);
	for (unsigned i = 0; i < dl; i++)
		printf("%02x", d[i]);
	printf(" %llu\n", (unsigned long long)n);
}

/* gen KEY SIZE [excl] [unknown] [declared=N] [mtime]: writes SIZE pattern bytes
 * (announced as N bytes with declared=: a source that grew), prints sha256 and size. */
static int cmd_gen(nv_store *s, char **a)
{
	uint64_t size = strtoull(a[1], NULL, 10), st = size * 2654435761u + 1, left = size;
	nv_write_opts o = { .size = (int64_t)size };
	static unsigned char buf[1 << 20];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	nv_commit_info ci;
	nv_wstream *w;
	int rc;

	for (char **p = a + 2; *p; p++) {
		if (strcmp(*p, "excl") == 0)
			o.flags |= NV_WRITE_EXCLUSIVE;
		else if (strcmp(*p, "unknown") == 0)
			o.size = -1;
		else if (strncmp(*p, "declared=", 9) == 0)
			o.size = strtoll(*p + 9, NULL, 10);
		else {
			o.flags |= NV_WRITE_HAS_MTIME | NV_WRITE_HAS_MODE;
			o.mtime_sec = strtoll(*p, NULL, 10);
			o.mtime_nsec = 123456789;
			o.mode = 0640;
		}
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	rc = nv_drv_write_open(&w, s, a[0], &o);
	while (rc == 0 && left) {
		/* odd chunk sizes exercise block boundaries inside one write call */
		size_t n = left < sizeof(buf) - 4097 ? left : sizeof(buf) - 4097;

		pattern(buf, n, &st);
		EVP_DigestUpdate(md, buf, n);
		rc = nv_drv_write(w, buf, n);
		left -= n;
	}
	if (rc == 0)
		rc = nv_drv_write_commit(w, &ci);
	else
		nv_drv_write_abort(w);
	if (rc == 0)
		print_digest(md, size);
	EVP_MD_CTX_free(md);
	return rc;
}

/* sum KEY [OFF LEN [CHUNK]]: reads and prints sha256 and the byte count. */
static int cmd_sum(nv_store *s, char **a)
{
	uint64_t off = a[1] ? strtoull(a[1], NULL, 10) : 0;
	uint64_t len = a[1] && a[2] ? strtoull(a[2], NULL, 10) : UINT64_MAX, total = 0;
	size_t chunk = a[1] && a[2] && a[3] ? strtoul(a[3], NULL, 10) : 4u << 20;
	unsigned char *buf = malloc(chunk);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = 0;

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while (total < len) {
		size_t want = len - total < chunk ? (size_t)(len - total) : chunk, got;

		rc = nv_drv_read(s, a[0], off + total, buf, want, &got);
		if (rc)
			break;
		EVP_DigestUpdate(md, buf, got);
		total += got;
		if (got < want)
			break;
	}
	if (rc == 0)
		print_digest(md, total);
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

static int cmd_ls(nv_store *s, char **a)
{
	nv_lister *l;
	nv_entry e;
	int rc = nv_drv_list_open(&l, s, a[0] ? a[0] : "");

	while (rc == 0 && (rc = nv_drv_list_next(l, &e)) == 0)
		printf("%s\t%llu\t%lld.%09d\t%s%o\n", e.key, (unsigned long long)e.size,
		       (long long)e.mtime_sec, e.mtime_nsec,
		       e.flags & NV_ENTRY_HAS_MTIME ? "M" : "-", e.mode);
	nv_drv_list_close(l);
	return rc == NV_EOF ? 0 : rc;
}

static int cmd_stat(nv_store *s, char **a)
{
	nv_entry e;
	int rc = nv_drv_stat(s, a[0], &e);

	if (rc == 0)
		printf("%llu\t%lld.%09d\t%s%o\n", (unsigned long long)e.size,
		       (long long)e.mtime_sec, e.mtime_nsec,
		       e.flags & NV_ENTRY_HAS_MTIME ? "M" : "-", e.mode);
	return rc;
}

static int cmd_rm(nv_store *s, char **a) { return nv_drv_remove(s, a[0]); }

/* many PREFIX COUNT THREADS: COUNT tiny objects PREFIX%06u, each thread on
 * its own connection (as the engine's workers are). */
struct many {
	const char *prefix;
	unsigned count, threads, id;
	int rc;
	char err[512];
};

static void *many_thread(void *arg)
{
	struct many *m = arg;
	nv_store *s = NULL;
	char key[512];
	int rc = open_store(&s);

	for (unsigned i = m->id; rc == 0 && i < m->count; i += m->threads) {
		snprintf(key, sizeof(key), "%s%06u", m->prefix, i);
		rc = nv_drv_put_buf(s, key, key, strlen(key), 0);
	}
	if (rc)
		snprintf(m->err, sizeof(m->err), "%s", nv_error_msg());
	m->rc = rc;
	nv_drv_close(s);
	return NULL;
}

static int cmd_many(nv_store *s, char **a)
{
	unsigned n = (unsigned)strtoul(a[2], NULL, 10);
	struct many m[32];
	pthread_t t[32];
	int rc = 0;

	(void)s;
	for (unsigned i = 0; i < n && i < 32; i++) {
		m[i] = (struct many){ .prefix = a[0], .id = i, .threads = n,
				      .count = (unsigned)strtoul(a[1], NULL, 10) };
		pthread_create(&t[i], NULL, many_thread, &m[i]);
	}
	for (unsigned i = 0; i < n && i < 32; i++) {
		pthread_join(t[i], NULL);
		if (m[i].rc && !rc)
			rc = nv_error_set(m[i].rc, "%s", m[i].err);
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;
		int (*fn)(nv_store *, char **);
	} cmds[] = {
		{ "gen", 2, cmd_gen }, { "sum", 1, cmd_sum }, { "ls", 0, cmd_ls },
		{ "stat", 1, cmd_stat }, { "rm", 1, cmd_rm }, { "many", 3, cmd_many },
		{ "open", 0, NULL },
	};
	nv_store *s = NULL;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: azure_tool LOCATION CMD ARGS...\n");
		return 2;
	}
	if ((rc = nv_config_load(&cfg, getenv("NV_TOOL_CONFIG"))) < 0)
		return fail(rc);
	/* The retry budget of this process (util/retry.h), as navette's --retries sets it. */
	if (getenv("NV_TOOL_RETRIES"))
		nv_retry_set_default((unsigned)strtoul(getenv("NV_TOOL_RETRIES"), NULL, 10));
	loc_text = argv[1];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[2], cmds[i].name) != 0)
			continue;
		if (argc - 3 < cmds[i].args) {
			fprintf(stderr, "%s: missing arguments\n", argv[2]);
			return 2;
		}
		rc = open_store(&s);
		if (rc == 0 && cmds[i].fn)
			rc = cmds[i].fn(s, argv + 3);
		rc = rc ? fail(rc) : 0;
		nv_drv_close(s);
		nv_config_free(cfg);
		return rc;
	}
	fprintf(stderr, "unknown command %s\n", argv[2]);
	return 2;
}
