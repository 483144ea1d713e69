/* metrics.c: --metrics-file (metrics.h): series kept in memory until the end of
 * the run, last success times in the state directory under metrics/ (one file
 * per {command, destination}, so concurrent jobs never overwrite each other's),
 * the text written to a temporary file beside the target and renamed over it.
 * Called by the command line and tests. */
#include "metrics.h"
#include "error.h"
#include "hash.h"
#include "log.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct nv_series {
	char *destination;
	nv_metrics_figures f;
	int exit_code;
	double seconds;
	long long ended;   /* Unix time */
	long long success; /* Unix time of the last success; 0: none */
} nv_series;

struct nv_metrics {
	char *path, *command;
	char *shard, *run;  /* a sharded run's labels; NULL: none */
	nv_series *s;
	size_t n, cap;
	double start, mark; /* monotonic seconds */
};

enum { NV_M_SUCCESS, NV_M_ENDED, NV_M_DURATION, NV_M_BYTES, NV_M_OBJECTS, NV_M_FAILURES,
       NV_M_EXIT, NV_M_GENERATION, NV_M_COUNT };

static const struct {
	const char *name, *help;
} nv_metric_defs[NV_M_COUNT] = {
	[NV_M_SUCCESS] = { "navette_last_success_timestamp_seconds",
			   "Unix time at which the last run that exited 0 ended (0: none yet)." },
	[NV_M_ENDED] = { "navette_last_run_timestamp_seconds",
			 "Unix time at which the last run ended, whatever its outcome." },
	[NV_M_DURATION] = { "navette_last_run_duration_seconds", "How long the last run took." },
	[NV_M_BYTES] = { "navette_last_run_bytes",
			 "Bytes the last run copied, uploaded or restored." },
	[NV_M_OBJECTS] = { "navette_last_run_objects",
			   "Objects the last run copied, uploaded or restored (check, verify: "
			   "found good)." },
	[NV_M_FAILURES] = { "navette_last_run_failures",
			    "Items of the last run that failed, failed verification or differ." },
	[NV_M_EXIT] = { "navette_last_run_exit_code",
			"Exit code of the last run: 0 success, 1 differences, 2 usage, "
			"3 partial, 4 fatal." },
	[NV_M_GENERATION] = { "navette_vault_generation",
			      "The vault's newest generation as the last run saw it." },
};

static double nv_metrics_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int nv_metrics_new(nv_metrics **out, const char *path, const char *command)
{
	nv_metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m || !(m->path = strdup(path)) || !(m->command = strdup(command))) {
		nv_metrics_free(m);
		return nv_error_set(NV_ERR, "out of memory");
	}
	m->start = m->mark = nv_metrics_clock();
	*out = m;
	return 0;
}

void nv_metrics_free(nv_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->s[i].destination);
	free(m->s);
	free(m->path);
	free(m->command);
	free(m->shard);
	free(m->run);
	free(m);
}

int nv_metrics_set_shard(nv_metrics *m, const char *shard, const char *run)
{
	if (!m)
		return 0;
	free(m->shard);
	free(m->run);
	m->shard = nv_metrics_label(shard);
	m->run = nv_metrics_label(run ? run : "");
	return m->shard && m->run ? 0 : nv_error_set(NV_ERR, "out of memory");
}

size_t nv_metrics_count(const nv_metrics *m)
{
	return m ? m->n : 0;
}

static int nv_metrics_push(nv_metrics *m, const char *destination, const nv_metrics_figures *f,
			   int exit_code, double since)
{
	double now = nv_metrics_clock();
	nv_series *s;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4;
		nv_series *grown = realloc(m->s, cap * sizeof(*grown));

		if (!grown)
			return nv_error_set(NV_ERR, "out of memory");
		m->s = grown;
		m->cap = cap;
	}
	s = &m->s[m->n];
	memset(s, 0, sizeof(*s));
	if (!(s->destination = strdup(destination)))
		return nv_error_set(NV_ERR, "out of memory");
	s->f = *f;
	s->exit_code = exit_code;
	s->seconds = now - since;
	s->ended = (long long)time(NULL);
	m->mark = now;
	m->n++;
	return 0;
}

int nv_metrics_add(nv_metrics *m, const char *destination, const nv_metrics_figures *f,
		   int exit_code)
{
	return m ? nv_metrics_push(m, destination, f, exit_code, m->mark) : 0;
}

int nv_metrics_add_total(nv_metrics *m, const char *destination, int exit_code)
{
	nv_metrics_figures sum = { 0 };

	if (!m)
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		sum.bytes += m->s[i].f.bytes;
		sum.objects += m->s[i].f.objects;
		sum.failures += m->s[i].f.failures;
	}
	return nv_metrics_push(m, destination, &sum, exit_code, m->start);
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t nv_utf8_seq(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
		   : p[0] >= 0xe0 && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	unsigned char lo = 0x80, hi = 0xbf;

	if (!len || len > n)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	for (size_t i = 1; i < len; i++, lo = 0x80, hi = 0xbf)
		if (p[i] < lo || p[i] > hi)
			return 0;
	return len;
}

char *nv_metrics_label(const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t n = strlen(value), o = 0;
	char *out = malloc(n * 3 + 1); /* an invalid byte becomes 3; an escape is 2 */

	if (!out)
		return NULL;
	while (n) {
		size_t k = nv_utf8_seq(p, n);

		if (!k) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else if (*p == '\\' || *p == '"' || *p == '\n') {
			out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : (char)*p;
		} else {
			memcpy(out + o, p, k);
			o += k;
		}
		p += k;
		n -= k;
	}
	out[o] = '\0';
	return out;
}

/* metrics/<SHA-256 of "command\0destination"> under the state root (in a
 * sharded run, the shard's own folder: each shard has its own last success). */
static int nv_metrics_state_path(char *buf, size_t cap, const char *command, const char *dest)
{
	size_t a = strlen(command) + 1, b = strlen(dest);
	unsigned char sha[NV_SHA256_LEN];
	char hex[NV_SHA256_HEX], rel[80], *key = malloc(a + b);

	if (!key)
		return nv_error_set(NV_ERR, "out of memory");
	memcpy(key, command, a);
	memcpy(key + a, dest, b);
	nv_sha256_buf(sha, key, a + b);
	free(key);
	nv_hex(hex, sha, sizeof(sha));
	snprintf(rel, sizeof(rel), "metrics/%s", hex);
	return nv_state_own_path(buf, cap, rel);
}

/* The series' last success: now when it succeeded (and recorded), else what
 * the state says (0 when nothing does). */
static void nv_metrics_success(const nv_metrics *m, nv_series *s)
{
	char path[4096], line[32], *text = NULL;
	size_t len;
	int rc;

	s->success = 0;
	if ((rc = nv_metrics_state_path(path, sizeof(path), m->command, s->destination)))
		goto warn;
	if (s->exit_code == 0) {
		s->success = s->ended;
		snprintf(line, sizeof(line), "%lld\n", s->ended);
		if ((rc = nv_state_write(path, line, strlen(line))))
			goto warn;
		return;
	}
	rc = nv_state_read(path, &text, &len);
	if (rc == 0)
		s->success = strtoll(text, NULL, 10);
	free(text);
	if (rc == 0 || rc == NV_ENOTFOUND)
		return;
warn:
	nv_log(NV_LOG_WARN, "metrics: the last success time of %s %s: %s", m->command,
	       s->destination, nv_error_msg());
	nv_error_clear();
}

static int nv_metrics_value(FILE *f, int metric, const nv_series *s)
{
	switch (metric) {
	case NV_M_SUCCESS: return fprintf(f, "%lld", s->success);
	case NV_M_ENDED: return fprintf(f, "%lld", s->ended);
	case NV_M_DURATION: return fprintf(f, "%.3f", s->seconds);
	case NV_M_BYTES: return fprintf(f, "%llu", (unsigned long long)s->f.bytes);
	case NV_M_OBJECTS: return fprintf(f, "%llu", (unsigned long long)s->f.objects);
	case NV_M_FAILURES: return fprintf(f, "%llu", (unsigned long long)s->f.failures);
	case NV_M_EXIT: return fprintf(f, "%d", s->exit_code);
	default: return fprintf(f, "%llu", (unsigned long long)s->f.generation);
	}
}

/* The whole text: per metric, its HELP and TYPE, then one sample per series. */
static int nv_metrics_format(const nv_metrics *m, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	char *cmd = nv_metrics_label(m->command);
	int ok = f && cmd;

	for (int k = 0; ok && k < NV_M_COUNT; k++) {
		int header = 0;

		for (size_t i = 0; ok && i < m->n; i++) {
			char *dest;

			if (k == NV_M_GENERATION && !m->s[i].f.generation)
				continue;
			if (!header++)
				fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", nv_metric_defs[k].name,
					nv_metric_defs[k].help, nv_metric_defs[k].name);
			ok = (dest = nv_metrics_label(m->s[i].destination)) != NULL;
			if (ok)
				fprintf(f, "%s{command=\"%s\",destination=\"%s\"", nv_metric_defs[k].name,
					cmd, dest);
			if (ok && m->shard)
				fprintf(f, ",shard=\"%s\",run=\"%s\"", m->shard, m->run);
			if (ok)
				fputs("} ", f);
			free(dest);
			ok = ok && nv_metrics_value(f, k, &m->s[i]) > 0 && fputc('\n', f) != EOF;
		}
	}
	free(cmd);
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok) {
		free(*out);
		*out = NULL;
		return nv_error_set(NV_ERR, "out of memory");
	}
	return 0;
}

/* Writes text to a temporary file beside path (hidden, so the textfile
 * collector, which reads *.prom only, never sees it half-written), mode 0644,
 * then renames it over path. */
static int nv_metrics_save(const char *path, const char *text, size_t len)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path + 1) : 0, fd, rc = 0;
	char *tmp = NULL;
	size_t done = 0;

	if (asprintf(&tmp, "%.*s.%s.XXXXXX", dlen, path, slash ? slash + 1 : path) < 0)
		return nv_error_set(NV_ERR, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = nv_error_errno(errno, "metrics: creating a file beside %s", path);
		free(tmp);
		return rc;
	}
	if (fchmod(fd, 0644) != 0)
		rc = nv_error_errno(errno, "metrics: %s", tmp);
	while (!rc && done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			rc = nv_error_errno(errno, "metrics: writing %s", tmp);
		else
			done += (size_t)w;
	}
	if (!rc && fsync(fd) != 0)
		rc = nv_error_errno(errno, "metrics: %s", tmp);
	if (close(fd) != 0 && !rc)
		rc = nv_error_errno(errno, "metrics: %s", tmp);
	if (!rc && rename(tmp, path) != 0)
		rc = nv_error_errno(errno, "metrics: renaming onto %s", path);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int nv_metrics_write(nv_metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	for (size_t i = 0; i < m->n; i++)
		nv_metrics_success(m, &m->s[i]);
	if ((rc = nv_metrics_format(m, &text, &len)))
		return rc;
	rc = nv_metrics_save(m->path, text, len);
	free(text);
	return rc;
}
