/* report.c: writes the report of report.h, one JSON line at a time under a
 * lock, names escaped as the JSON log escapes them (path_hex for bytes that
 * are not UTF-8); the summary counts the lines written. Called by engine.c,
 * vault/vault_check.c and the commands. */
#include "nv_autoconf.h"

#include "report.h"
#include "transfer.h"
#include "util/escape.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { NV_V_IDENTICAL, NV_V_DIFFER, NV_V_MISSING, NV_V_EXTRA, NV_V_COPIED, NV_V_UNCHANGED,
       NV_V_FAILED, NV_V_DELETED, NV_V_COUNT };
static const char *const nv_verdicts[NV_V_COUNT] = {
	"identical", "differ", "missing", "extra", "copied", "unchanged", "failed", "deleted",
};
static const char *const nv_hows[] = { "read", "recorded", "server-md5", "size" };
#define NV_HOW_COUNT (sizeof(nv_hows) / sizeof(nv_hows[0]))

struct nv_report {
	pthread_mutex_t mu;
	FILE *f;
	char *path, *part;
	char *source, *destination; /* credential-free */
	char started[40];
	int check, full;            /* a check; nothing filtered or sized only */
	uint64_t n[NV_V_COUNT], skipped, files;
	uint64_t how[2][NV_HOW_COUNT];
	uint64_t bytes[2];
	int werr;                   /* errno of the first failed write */
	const nv_filter *filter;    /* nv_report_observe's */
	const nv_shard *shard;      /* NULL, or --shard: what nv_report_observe lists */
};

/* "2026-12-03T01:02:03.456Z" */
static void nv_report_now(char out[40])
{
	struct timespec now;
	struct tm tm;
	char ts[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%03ldZ", ts, now.tv_nsec / 1000000);
}

/* One finished line; the lock is held. */
static void nv_report_put(nv_report *r, nv_sb *b)
{
	nv_sb_add(b, "}\n");
	if (b->failed && !r->werr)
		r->werr = ENOMEM;
	if (!b->failed && fwrite(b->s, 1, b->len, r->f) != b->len && !r->werr)
		r->werr = errno ? errno : EIO;
	nv_sb_free(b);
}

typedef struct nv_rules_ctx {
	nv_sb *b;
	size_t n;
} nv_rules_ctx;

static void nv_report_rule(void *ctx, const char *rule)
{
	nv_rules_ctx *c = ctx;

	if (c->n++)
		nv_sb_addc(c->b, ',');
	nv_escape_json(c->b, rule, strlen(rule));
}

static void nv_report_header(nv_report *r, const nv_report_head *h)
{
	nv_sb b = { 0 };
	nv_rules_ctx rc = { &b, 0 };

	nv_sb_add(&b, "{\"type\":\"header\",\"format\":\"navette-report\",\"version\":1,"
		  "\"navette\":\"" PACKAGE_VERSION "\"");
	nv_json_field(&b, "command", h->command);
	nv_json_field(&b, "compare", h->compare);
	nv_json_field(&b, "source", r->source);
	nv_json_field(&b, "destination", r->destination);
	if (h->vault_id)
		nv_json_field(&b, "vault_id", h->vault_id);
	nv_json_field(&b, "started", r->started);
	nv_sb_add(&b, ",\"filters\":[");
	nv_filter_describe(h->filter, nv_report_rule, &rc);
	nv_sb_addf(&b, "],\"size_only\":%s", h->size_only ? "true" : "false");
	if (h->shard) { /* as the log's start and summary name it */
		nv_json_field(&b, "shard", h->shard->label);
		if (h->shard->run[0])
			nv_json_field(&b, "run", h->shard->run);
		else
			nv_sb_add(&b, ",\"run\":null");
	} else {
		nv_sb_add(&b, ",\"shard\":null");
	}
	if (h->hashes_from)
		nv_json_field(&b, "hashes_from", h->hashes_from);
	else
		nv_sb_add(&b, ",\"hashes_from\":null");
	nv_report_put(r, &b);
}

static void nv_report_free(nv_report *r)
{
	if (r->f)
		fclose(r->f);
	free(r->path);
	free(r->part);
	free(r->source);
	free(r->destination);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

char *nv_report_location(const nv_location *loc)
{
	if (strcmp(loc->driver->name, "local") == 0)
		return strdup(loc->path);
	return nv_location_public(loc->text);
}

int nv_report_open(nv_report **out, const char *path, const nv_report_head *h)
{
	nv_report *r = calloc(1, sizeof(*r));
	int fd = -1;

	*out = NULL;
	if (!r)
		return nv_error_set(NV_ERR, "out of memory");
	pthread_mutex_init(&r->mu, NULL);
	r->check = strcmp(h->command, "check") == 0;
	r->full = !nv_filter_active(h->filter) && !h->size_only;
	r->shard = h->shard;
	r->path = strdup(path);
	r->part = malloc(strlen(path) + 6);
	r->source = nv_report_location(h->source);
	r->destination = nv_report_location(h->destination);
	if (!r->path || !r->part || !r->source || !r->destination) {
		nv_report_free(r);
		return nv_error_set(NV_ERR, "out of memory");
	}
	sprintf(r->part, "%s.part", path);
	if ((fd = open(r->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    !(r->f = fdopen(fd, "w"))) {
		int rc = nv_error_errno(errno, "--report %s", r->part);

		if (fd >= 0)
			close(fd);
		nv_report_free(r);
		return rc;
	}
	nv_report_now(r->started);
	nv_report_header(r, h);
	*out = r;
	return 0;
}

/* "2026-12-03T01:02:03.123456789Z", or null for a time gmtime cannot hold. */
static void nv_report_mtime(nv_sb *b, const nv_entry *e)
{
	time_t t = (time_t)e->mtime_sec;
	struct tm tm;
	char ts[32];

	if (!((e->flags & NV_ENTRY_HAS_MTIME) || e->mtime_sec) || !gmtime_r(&t, &tm) ||
	    !strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm)) {
		nv_sb_add(b, ",\"mtime\":null");
		return;
	}
	nv_sb_addf(b, ",\"mtime\":\"%s.%09dZ\"", ts, (int)e->mtime_nsec);
}

/* ,"source":{...} or null; counted by how. */
static void nv_report_side_json(nv_report *r, nv_sb *b, int i, const nv_report_side *s)
{
	char hex[NV_SHA256_HEX];

	nv_sb_addf(b, ",\"%s\":", i ? "destination" : "source");
	if (!s || !s->e) {
		nv_sb_add(b, "null");
		return;
	}
	nv_sb_addf(b, "{\"size\":%llu", (unsigned long long)s->e->size);
	nv_report_mtime(b, s->e);
	if (s->sha) {
		nv_hex(hex, s->sha, NV_SHA256_LEN);
		nv_sb_addf(b, ",\"sha256\":\"%s\"", hex);
	} else {
		nv_sb_add(b, ",\"sha256\":null");
	}
	nv_sb_addf(b, ",\"how\":\"%s\"}", nv_hows[s->sha ? s->how : NV_HOW_SIZE]);
	r->how[i][s->sha ? s->how : NV_HOW_SIZE]++;
	r->bytes[i] += s->e->size;
}

void nv_report_file(nv_report *r, const char *path, const char *verdict,
		    const nv_report_side *src, const nv_report_side *dst,
		    const nv_report_expect *ex, const char *why)
{
	char hex[NV_SHA256_HEX];
	nv_sb b = { 0 };
	size_t v;

	if (!r)
		return;
	for (v = 0; v < NV_V_COUNT && strcmp(nv_verdicts[v], verdict); v++)
		;
	pthread_mutex_lock(&r->mu);
	nv_sb_add(&b, "{\"type\":\"file\"");
	nv_json_field(&b, "path", path);
	nv_json_field(&b, "verdict", verdict);
	nv_report_side_json(r, &b, 0, src);
	nv_report_side_json(r, &b, 1, dst);
	if (ex) {
		nv_hex(hex, ex->sha, NV_SHA256_LEN);
		nv_sb_addf(&b, ",\"expected\":{\"size\":%llu,\"sha256\":\"%s\",\"from\":\"manifest\","
			   "\"generation\":%llu}", (unsigned long long)ex->size, hex,
			   (unsigned long long)ex->generation);
	}
	if (why)
		nv_json_field(&b, "reason", why);
	nv_report_put(r, &b);
	if (v < NV_V_COUNT)
		r->n[v]++;
	r->files++;
	pthread_mutex_unlock(&r->mu);
}

void nv_report_sizes(nv_report *r, const char *path, const char *verdict,
		     const nv_entry *src, const nv_entry *dst)
{
	nv_report_file(r, path, verdict, &(nv_report_side){ .e = src, .how = NV_HOW_SIZE },
		       &(nv_report_side){ .e = dst, .how = NV_HOW_SIZE }, NULL, NULL);
}

void nv_report_hashes(nv_report *r, const char *path, const char *verdict,
		      const nv_entry *src, const unsigned char *a, int recorded,
		      const nv_entry *dst, const unsigned char *b)
{
	nv_report_file(r, path, verdict,
		       &(nv_report_side){ src, a, recorded ? NV_HOW_RECORDED : NV_HOW_READ },
		       &(nv_report_side){ dst, b, NV_HOW_READ }, NULL, NULL);
}

/* The destination holds the bytes sent when it read them back (--verify
 * reread) or checked their MD5; else only its size is known to be right.
 * Its time is its own (a store may not keep the source's): not given. */
void nv_report_copied(nv_report *r, const char *path, const nv_entry *src,
		      const nv_xfer_result *res)
{
	nv_entry d = { .size = res->bytes };
	nv_report_how how = res->confirmed & NV_XFER_REREAD ? NV_HOW_READ :
			    res->confirmed & NV_CONFIRM_MD5 ? NV_HOW_SERVER_MD5 : NV_HOW_SIZE;

	nv_report_file(r, path, "copied", &(nv_report_side){ src, res->sha, NV_HOW_READ },
		       &(nv_report_side){ &d, how == NV_HOW_SIZE ? NULL : res->sha, how },
		       NULL, NULL);
}

void nv_report_skip(nv_report *r, const char *side, const char *path, const char *kind,
		    const char *why)
{
	nv_sb b = { 0 };

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	nv_sb_add(&b, "{\"type\":\"not_compared\"");
	nv_json_field(&b, "path", path);
	nv_json_field(&b, "side", side);
	nv_json_field(&b, "kind", kind);
	if (why)
		nv_json_field(&b, "reason", why);
	nv_report_put(r, &b);
	r->skipped++;
	pthread_mutex_unlock(&r->mu);
}

void nv_report_failed(nv_report *r, const char *path, const nv_entry *src, int reading)
{
	if (reading)
		nv_report_skip(r, reading == 2 ? "destination" : "source", path, "unreadable",
			       nv_error_msg());
	else
		nv_report_file(r, path, "failed", &(nv_report_side){ .e = src }, NULL, NULL,
			       nv_error_msg());
}

static void nv_report_seen(nv_report *r, const char *side, const char *key, const char *kind,
			   const char *why)
{
	if (nv_filter_key(r->filter, key) && nv_shard_mine(r->shard, key))
		nv_report_skip(r, side, key, kind, why);
}

static void nv_report_src_skip(void *ctx, const char *key, const char *kind, const char *why)
{
	nv_report_seen(ctx, "source", key, kind, why);
}

static void nv_report_dst_skip(void *ctx, const char *key, const char *kind, const char *why)
{
	nv_report_seen(ctx, "destination", key, kind, why);
}

void nv_report_observe(nv_report *r, nv_sorted *src, nv_sorted *dst, const nv_filter *f)
{
	if (!r)
		return;
	r->filter = f;
	if (src)
		nv_sorted_observe(src, nv_report_src_skip, r);
	if (dst)
		nv_sorted_observe(dst, nv_report_dst_skip, r);
}

/* What the lines say, in one word (docs/FORMAT.md 13). */
static const char *nv_report_result(const nv_report *r, int full)
{
	if (!r->check)
		return full ? "complete" : "incomplete";
	if (r->n[NV_V_DIFFER] || r->n[NV_V_MISSING] || r->n[NV_V_EXTRA])
		return "differ";
	return full ? "identical" : "incomplete";
}

static const char *nv_report_summary(nv_report *r, int exit_code, int fatal)
{
	int full = r->full && !r->skipped && !r->n[NV_V_FAILED] && !fatal;
	char ended[40];
	nv_sb b = { 0 };

	nv_report_now(ended);
	nv_sb_addf(&b, "{\"type\":\"summary\",\"files\":%llu", (unsigned long long)r->files);
	for (size_t v = 0; v < NV_V_COUNT; v++)
		nv_sb_addf(&b, ",\"%s\":%llu", nv_verdicts[v], (unsigned long long)r->n[v]);
	nv_sb_addf(&b, ",\"not_compared\":%llu", (unsigned long long)r->skipped);
	for (int i = 0; i < 2; i++) {
		nv_sb_addf(&b, ",\"%s\":{\"bytes\":%llu", i ? "destination_hashes" : "source_hashes",
			   (unsigned long long)r->bytes[i]);
		for (size_t h = 0; h < NV_HOW_COUNT; h++)
			nv_sb_addf(&b, ",\"%s\":%llu", nv_hows[h], (unsigned long long)r->how[i][h]);
		nv_sb_addc(&b, '}');
	}
	nv_json_field(&b, "source", r->source);
	nv_json_field(&b, "destination", r->destination);
	nv_json_field(&b, "started", r->started);
	nv_json_field(&b, "ended", ended);
	nv_sb_addf(&b, ",\"stopped\":%s,\"full\":%s,\"result\":\"%s\",\"exit\":%d",
		   fatal ? "true" : "false", full ? "true" : "false", nv_report_result(r, full),
		   exit_code);
	nv_report_put(r, &b);
	return nv_report_result(r, full);
}

int nv_report_close(nv_report *r, int exit_code, int stopped, const char **result)
{
	const char *res;
	int rc = 0;

	if (!r)
		return 0;
	res = nv_report_summary(r, exit_code, stopped);
	if (result)
		*result = res;
	if (fflush(r->f) != 0 || fsync(fileno(r->f)) != 0)
		r->werr = r->werr ? r->werr : errno;
	if (fclose(r->f) != 0 && !r->werr)
		r->werr = errno;
	r->f = NULL;
	if (r->werr)
		rc = nv_error_errno(r->werr, "--report %s: writing", r->part);
	else if (rename(r->part, r->path) != 0)
		rc = nv_error_errno(errno, "--report %s: renaming into place", r->path);
	if (rc)
		unlink(r->part);
	nv_report_free(r);
	return rc;
}
