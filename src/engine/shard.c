/* shard.c: the shard of a key (FORMAT.md section 14) and K/N and the run id
 * from --shard K/N or a scheduler's environment. Called through shard.h. */
#include "shard.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t nv_shard_hash(const void *key, size_t len)
{
	unsigned char sha[NV_SHA256_LEN];
	uint64_t h = 0;

	nv_sha256_buf(sha, key, len);
	for (int i = 0; i < 8; i++)
		h = h << 8 | sha[i];
	return h;
}

int nv_shard_mine(const nv_shard *s, const char *key)
{
	return !s || nv_shard_hash(key, strlen(key)) % s->n == s->k;
}

/* A decimal number of at most 9 digits, nothing else; -1 when not one. */
static long nv_shard_number(const char *p, size_t len)
{
	long v = 0;

	if (!len || len > 9 || strspn(p, "0123456789") < len)
		return -1;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

static int nv_shard_set(nv_shard *s, long k, long n)
{
	if (n < 1 || n > NV_SHARD_MAX || k < 0 || k >= n)
		return nv_error_set(NV_EINVAL, "shard %ld of %ld: K must be 0 to N-1 and N 1 to "
				    "%d", k, n, NV_SHARD_MAX);
	s->k = (unsigned)k;
	s->n = (unsigned)n;
	snprintf(s->label, sizeof(s->label), "%u/%u", s->k, s->n);
	return 0;
}

int nv_shard_parse(nv_shard *s, const char *arg)
{
	const char *slash = strchr(arg, '/');
	long k = slash ? nv_shard_number(arg, (size_t)(slash - arg)) : -1;
	long n = slash ? nv_shard_number(slash + 1, strlen(slash + 1)) : -1;

	memset(s, 0, sizeof(*s));
	if (k < 0 || n < 0)
		return nv_error_set(NV_EINVAL, "--shard takes K/N (shard K of N, K from 0: 0/4 to "
				    "3/4) or auto, not '%s'", arg);
	return nv_shard_set(s, k, n);
}

int nv_shard_set_run(nv_shard *s, const char *run)
{
	size_t n = strlen(run);

	if (!n || n > NV_SHARD_RUN_MAX ||
	    strspn(run, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") < n)
		return nv_error_set(NV_EINVAL, "a run id is 1 to %d letters, digits, '.', '_' or "
				    "'-', not '%s'", NV_SHARD_RUN_MAX, run);
	memcpy(s->run, run, n + 1);
	return 0;
}

/* An environment variable holding a number; -1 when unset, -2 when not one. */
static long nv_shard_env(const char *name)
{
	const char *v = getenv(name);
	long n;

	if (!v)
		return -1;
	n = nv_shard_number(v, strlen(v));
	return n < 0 ? -2 : n;
}

static int nv_shard_slurm(nv_shard *s, unsigned count)
{
	static const char *const names[] = { "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT",
					     "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX" };
	long v[4], step = nv_shard_env("SLURM_ARRAY_TASK_STEP");
	const char *job = getenv("SLURM_ARRAY_JOB_ID");
	int rc;

	for (int i = 0; i < 4; i++)
		if ((v[i] = nv_shard_env(names[i])) < 0)
			return nv_error_set(NV_EINVAL, "--shard auto: %s is %s", names[i],
					    v[i] == -1 ? "not set (not a Slurm job array?)"
						       : "not a number");
	if (step != -1 && step != 1)
		return nv_error_set(NV_EINVAL, "--shard auto: a Slurm array with a step other "
				    "than 1 (SLURM_ARRAY_TASK_STEP=%s) leaves holes: give every "
				    "index, e.g. --array=0-%ld", getenv("SLURM_ARRAY_TASK_STEP"),
				    v[1] - 1);
	if (v[3] < v[2] || v[1] != v[3] - v[2] + 1 || v[0] < v[2] || v[0] > v[3])
		return nv_error_set(NV_EINVAL, "--shard auto: a sparse Slurm array (%ld tasks, "
				    "indices %ld to %ld) leaves shards without a task: give every "
				    "index, e.g. --array=0-%ld", v[1], v[2], v[3], v[1] - 1);
	if (count && count != (unsigned long)v[1])
		return nv_error_set(NV_EINVAL, "--shard-count %u differs from the Slurm array's "
				    "%ld tasks", count, v[1]);
	if (!job || !*job)
		return nv_error_set(NV_EINVAL, "--shard auto: SLURM_ARRAY_JOB_ID is not set");
	if ((rc = nv_shard_set(s, v[0] - v[2], v[1])))
		return rc;
	return nv_shard_set_run(s, job);
}

static int nv_shard_k8s(nv_shard *s, unsigned count)
{
	long k = nv_shard_env("JOB_COMPLETION_INDEX");
	const char *job = getenv("JOB_NAME");
	int rc;

	if (k == -2)
		return nv_error_set(NV_EINVAL, "--shard auto: JOB_COMPLETION_INDEX is not a "
				    "number");
	if (!count)
		return nv_error_set(NV_EINVAL, "--shard auto on Kubernetes (JOB_COMPLETION_INDEX "
				    "is set) needs --shard-count N: the Indexed Job's completions");
	if ((rc = nv_shard_set(s, k, count)))
		return rc;
	return job && *job ? nv_shard_set_run(s, job) : 0;
}

int nv_shard_auto(nv_shard *s, unsigned count)
{
	memset(s, 0, sizeof(*s));
	if (getenv("SLURM_ARRAY_TASK_ID"))
		return nv_shard_slurm(s, count);
	if (getenv("JOB_COMPLETION_INDEX"))
		return nv_shard_k8s(s, count);
	return nv_error_set(NV_EINVAL, "--shard auto: no scheduler found (neither "
			    "SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set): give --shard K/N");
}

void nv_shard_dir(const nv_shard *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "shard-%u-of-%u", s->k, s->n);
}
