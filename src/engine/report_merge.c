/* report_merge.c: merges the reports of one sharded run (report_merge.h):
 * the headers first (one run, every shard once, the same comparison), then
 * each report streamed line by line into the merged file, each line checked
 * and counted as it passes. Holds one line at a time and a few bytes per
 * shard. Called by cli/cmd_merge.c. */
#include "nv_autoconf.h"

#include "report_merge.h"
#include "util/error.h"
#include "util/exit.h"
#include "util/hash.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The header fields each shard has its own value of; every other one says
 * what was compared and how, and must be the same in every shard. */
static const char *const nv_merge_own[] = { "shard", "run", "started", "navette",
					    "hashes_from" };

typedef struct nv_mrep {
	const char *path;
	unsigned k;
	unsigned char head[NV_SHA256_LEN]; /* its header line as first read */
	json_t *hashes_from;               /* its header's, or NULL */
} nv_mrep;

typedef struct nv_merge {
	nv_mrep *r;
	size_t n;
	unsigned shards;
	char run[NV_SHARD_RUN_MAX + 1];
	json_t *ref;            /* the first report's header: what all must share */
	const char *ref_path;
	char started[40];       /* the earliest shard's start */
	int check, plain;       /* check's verdicts; no filter, not --size-only */
	int full;               /* every shard compared everything */
	json_t *sum;            /* the merged summary, shard after shard */
	FILE *out;
	int created;            /* out.part is ours: removed unless renamed */
	const nv_merge_hooks *hooks;
} nv_merge;

static int nv_merge_is(json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && strcmp(v, want) == 0;
}

static int nv_merge_own_field(const char *key)
{
	for (size_t i = 0; i < sizeof(nv_merge_own) / sizeof(nv_merge_own[0]); i++)
		if (strcmp(key, nv_merge_own[i]) == 0)
			return 1;
	return 0;
}

/* Two headers that do not describe the same comparison: the field named. */
static int nv_merge_differ(const nv_merge *m, const char *path, const char *key, json_t *a,
			   json_t *b)
{
	char *x = a ? json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	char *y = b ? json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	int rc = nv_error_set(NV_EINVAL, "%s and %s are not shards of one run over the same two "
			      "locations with the same options: their headers' \"%s\" differ (%s "
			      "against %s)", path, m->ref_path, key, y ? y : "none",
			      x ? x : "none");

	free(x);
	free(y);
	return rc;
}

static int nv_merge_same(const nv_merge *m, const char *path, json_t *h)
{
	json_t *both[2] = { m->ref, h }, *v;
	const char *key;

	for (int i = 0; i < 2; i++)
		json_object_foreach(both[i], key, v) {
			json_t *a = json_object_get(m->ref, key), *b = json_object_get(h, key);

			if (!nv_merge_own_field(key) && !json_equal(a, b))
				return nv_merge_differ(m, path, key, a, b);
		}
	return 0;
}

/* One report's header: a shard's of a named run, and of the same run,
 * shard count and comparison as the first one read. */
static int nv_merge_check_head(nv_merge *m, nv_mrep *rep, json_t *h)
{
	const char *shard = json_string_value(json_object_get(h, "shard"));
	const char *run = json_string_value(json_object_get(h, "run"));
	const char *started = json_string_value(json_object_get(h, "started"));
	nv_shard s;

	if (!nv_merge_is(h, "type", "header") || !nv_merge_is(h, "format", "navette-report"))
		return nv_error_set(NV_EINVAL, "%s is not a navette report (its first line is no "
				    "report header)", rep->path);
	if (json_integer_value(json_object_get(h, "version")) != 1)
		return nv_error_set(NV_EINVAL, "%s: a report of another version than 1, the one "
				    "this navette merges", rep->path);
	if (!shard)
		return nv_error_set(NV_EINVAL, "%s is the report of an unsharded run (its shard "
				    "is null): there is nothing to merge it with", rep->path);
	if (nv_shard_parse(&s, shard))
		return nv_error_set(NV_EINVAL, "%s: its shard '%s' is not K/N", rep->path, shard);
	if (!run || nv_shard_set_run(&s, run))
		return nv_error_set(NV_EINVAL, "%s is shard %s of no run (check --shard without "
				    "--run ID): the shards of one run are known by their run id",
				    rep->path, shard);
	rep->k = s.k;
	rep->hashes_from = json_incref(json_object_get(h, "hashes_from"));
	if (started && strlen(started) < sizeof(m->started) &&
	    (!m->started[0] || strcmp(started, m->started) < 0))
		strcpy(m->started, started);
	if (!m->ref) {
		m->ref = json_incref(h);
		m->ref_path = rep->path;
		m->shards = s.n;
		strcpy(m->run, s.run);
		return 0;
	}
	if (strcmp(s.run, m->run))
		return nv_error_set(NV_EINVAL, "%s is of run %s, %s of run %s: only the shards of "
				    "one run merge", rep->path, s.run, m->ref_path, m->run);
	if (s.n != m->shards)
		return nv_error_set(NV_EINVAL, "%s is shard %s and %s one of %u shards: one run's "
				    "shards all count the same N", rep->path, shard, m->ref_path,
				    m->shards);
	return nv_merge_same(m, rep->path, h);
}

static int nv_merge_open(FILE **f, const char *path)
{
	if (!(*f = fopen(path, "r")))
		return nv_error_set(NV_EINVAL, "%s: %s", path, strerror(errno));
	return 0;
}

/* Pass one: the first line of a report. */
static int nv_merge_head(nv_merge *m, nv_mrep *rep)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	json_t *h = NULL;
	FILE *f;
	int rc;

	if ((rc = nv_merge_open(&f, rep->path)))
		return rc;
	if ((len = getline(&line, &cap, f)) > 0) {
		nv_sha256_buf(rep->head, line, (size_t)len);
		h = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
	}
	fclose(f);
	free(line);
	rc = nv_merge_check_head(m, rep, h);
	json_decref(h);
	return rc;
}

static int nv_mrep_cmp(const void *a, const void *b)
{
	unsigned x = ((const nv_mrep *)a)->k, y = ((const nv_mrep *)b)->k;

	return x < y ? -1 : x > y;
}

/* In shard order, each shard once, none missing. */
static int nv_merge_complete(nv_merge *m)
{
	nv_sb b = { 0 };
	size_t missing = 0, i = 0;
	int rc;

	qsort(m->r, m->n, sizeof(*m->r), nv_mrep_cmp);
	for (i = 1; i < m->n; i++)
		if (m->r[i].k == m->r[i - 1].k)
			return nv_error_set(NV_EINVAL, "shard %u/%u of run %s is given twice: %s "
					    "and %s", m->r[i].k, m->shards, m->run,
					    m->r[i - 1].path, m->r[i].path);
	if (m->n == m->shards)
		return 0;
	i = 0;
	for (unsigned k = 0; k < m->shards; k++) {
		if (i < m->n && m->r[i].k == k) {
			i++;
		} else if (++missing <= 10) {
			nv_sb_addf(&b, "%s%u/%u", missing > 1 ? ", " : "", k, m->shards);
		}
	}
	if (missing > 10)
		nv_sb_addf(&b, " and %zu more", missing - 10);
	rc = nv_error_set(NV_EINVAL, "the report%s of shard%s %s of run %s %s missing: a merged "
			  "report needs every shard's, 0/%u to %u/%u", missing > 1 ? "s" : "",
			  missing > 1 ? "s" : "", nv_sb_str(&b), m->run, missing > 1 ? "are" : "is",
			  m->shards, m->shards - 1, m->shards);
	nv_sb_free(&b);
	return rc;
}

/* A file or not_compared line: its key must be this shard's. */
static int nv_merge_key(const nv_merge *m, const nv_mrep *rep, json_t *o, size_t lineno)
{
	const char *hex = json_string_value(json_object_get(o, "path_hex"));
	const char *path = json_string_value(json_object_get(o, "path"));
	size_t len = hex ? strlen(hex) / 2 : path ? strlen(path) : 0;
	unsigned char *raw = hex ? malloc(len + 1) : NULL;
	uint64_t k = 0;
	int bad = !path || (hex && (!raw || nv_unhex(raw, len, hex)));

	if (!bad)
		k = nv_shard_hash(raw ? (const void *)raw : path, len) % m->shards;
	free(raw);
	if (bad)
		return nv_error_set(NV_EMISMATCH, "%s: line %zu names no path: the report is "
				    "damaged", rep->path, lineno);
	if (k != rep->k)
		return nv_error_set(NV_EMISMATCH, "%s: line %zu (%s) belongs to shard %llu/%u, "
				    "not to this report's %u/%u: the report was edited or mixes "
				    "runs", rep->path, lineno, path, (unsigned long long)k,
				    m->shards, rep->k, m->shards);
	return 0;
}

static void nv_merge_add(json_t *o, const char *key, json_int_t v)
{
	json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + v));
}

/* Counts a line as report.c counts what it writes: files by verdict, each
 * side's bytes and hashes by how, the names not compared. -1: malformed. */
static int nv_merge_count(json_t *cnt, json_t *o)
{
	static const char *const side[2][2] = { { "source", "source_hashes" },
						{ "destination", "destination_hashes" } };
	const char *verdict = json_string_value(json_object_get(o, "verdict"));

	if (nv_merge_is(o, "type", "not_compared")) {
		nv_merge_add(cnt, "not_compared", 1);
		return 0;
	}
	if (!verdict)
		return -1;
	nv_merge_add(cnt, "files", 1);
	nv_merge_add(cnt, verdict, 1);
	for (int i = 0; i < 2; i++) {
		json_t *s = json_object_get(o, side[i][0]), *size = json_object_get(s, "size"), *h;
		const char *how = json_string_value(json_object_get(s, "how"));

		if (json_is_null(s))
			continue;
		if (!how || !json_is_integer(size))
			return -1;
		if (!(h = json_object_get(cnt, side[i][1])))
			json_object_set_new(cnt, side[i][1], h = json_object());
		nv_merge_add(h, "bytes", json_integer_value(size));
		nv_merge_add(h, how, 1);
	}
	return 0;
}

/* One line after the header: a body line is checked, counted and copied; the
 * summary is kept for the end of the report. */
static int nv_merge_line(nv_merge *m, const nv_mrep *rep, const char *line, size_t len,
			 size_t lineno, json_t *cnt, json_t **summary)
{
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	int rc = 0;

	if (nv_merge_is(o, "type", "summary")) {
		*summary = o;
		return 0;
	}
	if (!nv_merge_is(o, "type", "file") && !nv_merge_is(o, "type", "not_compared"))
		rc = nv_error_set(NV_EMISMATCH, "%s: line %zu is no file or not_compared line: "
				  "the report is damaged", rep->path, lineno);
	else if (!(rc = nv_merge_key(m, rep, o, lineno)) && nv_merge_count(cnt, o))
		rc = nv_error_set(NV_EMISMATCH, "%s: line %zu is not a file line of a navette "
				  "report: the report is damaged", rep->path, lineno);
	json_decref(o);
	if (!rc && (fwrite(line, 1, len, m->out) != len ||
		    (line[len - 1] != '\n' && fputc('\n', m->out) == EOF)))
		rc = nv_error_errno(errno ? errno : EIO, "--merge-reports: writing");
	return rc;
}

/* The first count of summary s that the lines counted (cnt) do not give;
 * NULL when they agree. */
static const char *nv_merge_disagree(json_t *cnt, json_t *s, int top)
{
	const char *key;
	json_t *v;

	json_object_foreach(s, key, v) {
		json_t *c = json_object_get(cnt, key);

		if (json_is_object(v) && nv_merge_disagree(c, v, 0))
			return key;
		if (json_is_integer(v) && !(top && strcmp(key, "exit") == 0) &&
		    json_integer_value(v) != json_integer_value(c))
			return key;
	}
	json_object_foreach(cnt, key, v)
		if (!json_object_get(s, key))
			return key;
	return NULL;
}

static json_int_t nv_merge_n(json_t *s, const char *key)
{
	return json_integer_value(json_object_get(s, key));
}

/* The result the counts give (docs/FORMAT.md 13): never "identical" for a
 * run that did not compare everything. */
static const char *nv_merge_verdict(const nv_merge *m, json_t *s, int full)
{
	if (!m->check)
		return full ? "complete" : "incomplete";
	if (nv_merge_n(s, "differ") || nv_merge_n(s, "missing") || nv_merge_n(s, "extra"))
		return "differ";
	return full ? "identical" : "incomplete";
}

/* A shard's summary: its counts are its lines', its full and result what
 * they make; then folded into the merged one. */
static int nv_merge_summary(nv_merge *m, const nv_mrep *rep, json_t *cnt, json_t *s)
{
	json_t *stopped = json_object_get(s, "stopped"), *exit = json_object_get(s, "exit");
	const char *bad = nv_merge_disagree(cnt, s, 1);
	int full = m->plain && !json_is_true(stopped) && !nv_merge_n(s, "not_compared") &&
		   !nv_merge_n(s, "failed");

	if (!bad && (!json_is_boolean(stopped) || !json_is_integer(exit) ||
		     json_integer_value(exit) < 0 || json_integer_value(exit) > NV_EXIT_FATAL))
		bad = "exit";
	if (!bad && json_is_true(json_object_get(s, "full")) != full)
		bad = "full";
	if (!bad && !nv_merge_is(s, "result", nv_merge_verdict(m, s, full)))
		bad = "result";
	if (bad)
		return nv_error_set(NV_EMISMATCH, "%s: its summary's \"%s\" is not what its lines "
				    "say: the report was edited or damaged", rep->path, bad);
	m->full &= full;
	return 0;
}

/* Adds shard summary s into the merged one a: counts add up, the exit is the
 * worst, started the earliest, ended the latest, stopped if any stopped. */
static void nv_merge_fold(json_t *a, json_t *s)
{
	const char *key;
	json_t *v;

	json_object_foreach(s, key, v) {
		json_t *have = json_object_get(a, key);
		const char *x = json_string_value(have), *y = json_string_value(v);

		if (!have)
			json_object_set_new(a, key, json_deep_copy(v));
		else if (json_is_object(v))
			nv_merge_fold(have, v);
		else if (strcmp(key, "exit") == 0)
			json_object_set_new(a, key, json_integer(nv_exit_worst(
				(int)json_integer_value(have), (int)json_integer_value(v))));
		else if (json_is_integer(v))
			nv_merge_add(a, key, json_integer_value(v));
		else if (json_is_true(v) && strcmp(key, "stopped") == 0)
			json_object_set_new(a, key, json_true());
		else if (x && y && ((strcmp(key, "started") == 0 && strcmp(y, x) < 0) ||
				    (strcmp(key, "ended") == 0 && strcmp(y, x) > 0)))
			json_object_set_new(a, key, json_string(y));
	}
}

/* The report's header line again: the bytes read at first. */
static int nv_merge_same_head(const nv_mrep *rep, const char *line, size_t len)
{
	unsigned char sha[NV_SHA256_LEN];

	nv_sha256_buf(sha, line, len);
	if (memcmp(sha, rep->head, sizeof(sha)))
		return nv_error_set(NV_EMISMATCH, "%s changed while it was being merged", rep->path);
	return 0;
}

/* The lines of a report, the header's again first: checked, counted and
 * copied. *fed is cleared when the bytes hook failed (rc is its error). */
static int nv_merge_lines(nv_merge *m, const nv_mrep *rep, FILE *f, json_t *cnt,
			  json_t **summary, int *fed)
{
	const nv_merge_hooks *hk = m->hooks;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	while (!rc && (len = getline(&line, &cap, f)) > 0) {
		if (hk->bytes && (rc = hk->bytes(hk->ctx, line, (size_t)len))) {
			*fed = 0;
			break;
		}
		if (++lineno == 1)
			rc = nv_merge_same_head(rep, line, (size_t)len);
		else if (*summary)
			rc = nv_error_set(NV_EMISMATCH, "%s: line %zu comes after its summary: the "
					  "report was edited", rep->path, lineno);
		else
			rc = nv_merge_line(m, rep, line, (size_t)len, lineno, cnt, summary);
	}
	free(line);
	if (!rc && ferror(f))
		rc = nv_error_errno(errno, "reading %s", rep->path);
	if (!rc && !*summary)
		rc = nv_error_set(NV_EMISMATCH, "%s ends before its summary: not a whole report",
				  rep->path);
	return rc;
}

/* A report found wrong (rc) whose signature is being checked: the signature
 * speaks first, since a report edited after it was signed is what a wrong
 * line most likely means; so the rest of its bytes go through the hook. */
static int nv_merge_sig_first(const nv_merge_hooks *hk, const nv_mrep *rep, FILE *f, int rc)
{
	char *line = NULL, *why = strdup(nv_error_msg());
	size_t cap = 0;
	ssize_t len;
	int bad = 0;

	while (!bad && (len = getline(&line, &cap, f)) > 0)
		bad = hk->bytes(hk->ctx, line, (size_t)len);
	if (!bad && !(bad = hk->end(hk->ctx, rep->path)))
		nv_error_set(rc, "%s", why ? why : "the report is damaged");
	free(line);
	free(why);
	return bad ? bad : rc;
}

/* Pass two: one report, streamed. */
static int nv_merge_body(nv_merge *m, const nv_mrep *rep)
{
	const nv_merge_hooks *hk = m->hooks;
	json_t *cnt = json_object(), *summary = NULL;
	int rc, fed = 1;
	FILE *f;

	if ((rc = nv_merge_open(&f, rep->path)) || !cnt) {
		json_decref(cnt);
		return rc ? rc : nv_error_set(NV_ERR, "out of memory");
	}
	if (hk->begin && (rc = hk->begin(hk->ctx, rep->path)))
		goto out;
	if (!(rc = nv_merge_lines(m, rep, f, cnt, &summary, &fed)))
		rc = nv_merge_summary(m, rep, cnt, summary);
	if (fed && hk->end)
		rc = rc ? nv_merge_sig_first(hk, rep, f, rc) : hk->end(hk->ctx, rep->path);
	if (!rc)
		nv_merge_fold(m->sum, summary);
out:
	fclose(f);
	json_decref(cnt);
	json_decref(summary);
	return rc;
}

/* The merged header: the shared fields, this navette, the earliest start,
 * no shard (it covers them all), and which run's shards it merges. */
static int nv_merge_write_head(nv_merge *m)
{
	json_t *h = json_deep_copy(m->ref), *hf = json_array();
	int same = 1;
	char *text;

	for (size_t i = 0; i < m->n; i++) {
		json_t *v = m->r[i].hashes_from ? m->r[i].hashes_from : json_null();

		same &= json_equal(v, m->r[0].hashes_from ? m->r[0].hashes_from : json_null());
		json_array_append(hf, v);
	}
	json_object_set_new(h, "navette", json_string(PACKAGE_VERSION));
	if (m->started[0])
		json_object_set_new(h, "started", json_string(m->started));
	json_object_set_new(h, "shard", json_null());
	json_object_del(h, "run");
	json_object_set(h, "hashes_from", same ? json_array_get(hf, 0) : hf);
	json_object_set_new(h, "merged", json_pack("{s:s,s:I}", "run", m->run, "shards",
						   (json_int_t)m->shards));
	text = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	json_decref(hf);
	if (!text)
		return nv_error_set(NV_ERR, "out of memory");
	fprintf(m->out, "%s\n", text);
	free(text);
	return 0;
}

static int nv_merge_write_summary(nv_merge *m, nv_merge_result *res)
{
	const char *result = nv_merge_verdict(m, m->sum, m->full);
	char *text;

	json_object_set_new(m->sum, "full", json_boolean(m->full));
	json_object_set_new(m->sum, "result", json_string(result));
	if (!(text = json_dumps(m->sum, JSON_COMPACT)))
		return nv_error_set(NV_ERR, "out of memory");
	fprintf(m->out, "%s\n", text);
	free(text);
	res->shards = m->shards;
	strcpy(res->run, m->run);
	res->files = (uint64_t)nv_merge_n(m->sum, "files");
	res->not_compared = (uint64_t)nv_merge_n(m->sum, "not_compared");
	snprintf(res->result, sizeof(res->result), "%s", result);
	res->exit_code = (int)nv_merge_n(m->sum, "exit");
	return 0;
}

/* Flushed, synced, renamed into place: a merged report that exists is whole. */
static int nv_merge_commit(nv_merge *m, const char *part, const char *out)
{
	int err = ferror(m->out) ? EIO : 0;

	if (fflush(m->out) != 0 || fsync(fileno(m->out)) != 0)
		err = err ? err : errno;
	if (fclose(m->out) != 0 && !err)
		err = errno;
	m->out = NULL;
	if (err)
		return nv_error_errno(err, "--merge-reports %s: writing", part);
	if (rename(part, out) != 0)
		return nv_error_errno(errno, "--merge-reports %s: renaming into place", out);
	return 0;
}

static int nv_merge_run(nv_merge *m, const char *out, const char *part, nv_merge_result *res)
{
	int rc = 0, fd;

	if (!m->n)
		return nv_error_set(NV_EINVAL, "--merge-reports: no report given");
	for (size_t i = 0; i < m->n && !rc; i++)
		rc = nv_merge_head(m, &m->r[i]);
	if (rc || (rc = nv_merge_complete(m)))
		return rc;
	m->check = nv_merge_is(m->ref, "command", "check");
	m->plain = json_array_size(json_object_get(m->ref, "filters")) == 0 &&
		   json_is_false(json_object_get(m->ref, "size_only"));
	m->full = 1;
	if ((fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    !(m->out = fdopen(fd, "w"))) {
		rc = nv_error_errno(errno, "--merge-reports %s", part);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	m->created = 1;
	rc = nv_merge_write_head(m);
	for (size_t i = 0; i < m->n && !rc; i++)
		rc = nv_merge_body(m, &m->r[i]);
	if (!rc)
		rc = nv_merge_write_summary(m, res);
	if (!rc && !(rc = nv_merge_commit(m, part, out)))
		m->created = 0;
	return rc;
}

int nv_report_merge(const char *out, const char *const *paths, size_t n,
		    const nv_merge_hooks *hooks, nv_merge_result *res)
{
	static const nv_merge_hooks none = { 0 };
	nv_merge m = { .n = n, .hooks = hooks ? hooks : &none };
	char *part = malloc(strlen(out) + 6);
	int rc;

	memset(res, 0, sizeof(*res));
	m.r = calloc(n ? n : 1, sizeof(*m.r));
	m.sum = json_object();
	if (!part || !m.r || !m.sum) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	sprintf(part, "%s.part", out);
	for (size_t i = 0; i < n; i++)
		m.r[i].path = paths[i];
	rc = nv_merge_run(&m, out, part, res);
	if (m.out)
		fclose(m.out);
	if (m.created)
		unlink(part);
out:
	for (size_t i = 0; m.r && i < n; i++)
		json_decref(m.r[i].hashes_from);
	free(m.r);
	free(part);
	json_decref(m.ref);
	json_decref(m.sum);
	return rc;
}
