/* dest_lock.c: the local lock and the lease of a destination (dest_lock.h),
 * the local one first: a second run on the same host is named without a
 * request to the store. Called by the engine. */
#include "dest_lock.h"
#include "lease.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/state.h"
#include "util/times.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct nv_dest_lock {
	int fd;          /* the local flock */
	nv_lease *lease;
};

int nv_location_canon(const nv_location *loc, char *buf, size_t cap)
{
	size_t n, k;
	int w;

	if (strcmp(loc->driver->name, "local") == 0) /* its path is absolute already */
		w = snprintf(buf, cap, "local:");
	else if (loc->remote)
		w = snprintf(buf, cap, "%s://[%s]", loc->driver->name, loc->remote);
	else
		w = snprintf(buf, cap, "%s://%s", loc->driver->name,
			     loc->authority ? loc->authority : "");
	if (w < 0 || (size_t)w + 2 >= cap)
		return nv_error_set(NV_EINVAL, "location '%s' is too long", loc->text);
	n = (size_t)w;
	for (const char *c = loc->path; *c; c += k + (c[k] == '/')) {
		if (!(k = strcspn(c, "/")))
			continue;
		if (n + k + 2 >= cap)
			return nv_error_set(NV_EINVAL, "location '%s' is too long", loc->text);
		buf[n++] = '/';
		memcpy(buf + n, c, k);
		n += k;
	}
	if (n == (size_t)w)
		buf[n++] = '/'; /* the root */
	buf[n] = '\0';
	return 0;
}

/* The local lock's file: locks/<SHA-256 of the canonical location>.lock. */
static int nv_dest_lock_path(const char *canon, char *path, size_t cap)
{
	unsigned char sha[NV_SHA256_LEN];
	char hex[NV_SHA256_HEX], rel[128];

	nv_sha256_buf(sha, canon, strlen(canon));
	nv_hex(hex, sha, sizeof(sha));
	snprintf(rel, sizeof(rel), "locks/%.32s.lock", hex);
	return nv_state_own_path(path, cap, rel);
}

static long long nv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nv_dest_lock_take(nv_dest_lock **out, const nv_location *dst, const char *command,
		      long long wait_ms)
{
	return nv_dest_lock_take_shard(out, dst, command, wait_ms, NULL);
}

int nv_dest_lock_take_shard(nv_dest_lock **out, const nv_location *dst, const char *command,
			    long long wait_ms, const nv_shard *shard)
{
	/* Shared under the run id; a shard without one (never from the CLI) has
	 * nothing to share with and holds the destination alone. */
	int shared = shard && shard->run[0];
	nv_lease_opts lo = { .mode = shared ? NV_LEASE_SHARED : NV_LEASE_EXCLUSIVE,
			     .run_id = shared ? shard->run : NULL, .command = command };
	nv_dest_lock *l = calloc(1, sizeof(*l));
	char canon[4200], path[4400], holder[4600], when[NV_TIME_LEN];
	long long t0 = nv_now_ms();
	time_t now = time(NULL);
	int rc;

	*out = NULL;
	if (!l)
		return nv_error_set(NV_ERR, "out of memory");
	l->fd = -1;
	nv_time_utc(when, now);
	if ((rc = nv_location_canon(dst, canon, sizeof(canon))) ||
	    (rc = nv_dest_lock_path(canon, path, sizeof(path))))
		goto fail;
	snprintf(holder, sizeof(holder), "navette %s (pid %ld, started %s, writing to %s%s%s%s%s)",
		 command, (long)getpid(), when, canon, shard ? ", shard " : "",
		 shard ? shard->label : "", shard ? " of run " : "", shard ? shard->run : "");
	if ((rc = nv_state_lock_named(&l->fd, path, dst->text, holder, wait_ms)))
		goto fail;
	lo.wait_ms = wait_ms > 0 ? wait_ms - (nv_now_ms() - t0) : 0;
	if (lo.wait_ms < 0)
		lo.wait_ms = 0;
	if ((rc = nv_lease_acquire(&l->lease, dst, &lo)))
		goto fail;
	*out = l;
	return 0;
fail:
	nv_dest_lock_release(l);
	return rc;
}

int nv_dest_lock_lost(const nv_dest_lock *l)
{
	return l && nv_lease_lost(l->lease);
}

void nv_dest_lock_release(nv_dest_lock *l)
{
	if (!l)
		return;
	nv_lease_release(l->lease);
	nv_state_unlock(l->fd);
	free(l);
}
