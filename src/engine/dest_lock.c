/* dest_lock.c: the local lock and the lease of a destination (dest_lock.h),
 * the local one first: a second run on the same host is named without a
 * request to the store. Called by the engine, push, pull and replicate. */
#include "dest_lock.h"
#include "lease.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/state.h"
#include "util/times.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct nv_dest_lock {
	int fd;          /* the local flock */
	int also_fd;     /* the further state lock, or -1 */
	nv_lease *lease;
	char rec[4400];  /* locks/<...>.lease: the name of the lease held, kept
			  * until it is removed (see nv_dest_lock_dead) */
};

/* The authority as it names a place: "user:password@host" is "user@host". */
static int nv_canon_authority(const char *a, char *buf, size_t cap)
{
	const char *at = strrchr(a, '@'), *colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;

	if (colon)
		return snprintf(buf, cap, "%.*s%s", (int)(colon - a), a, at);
	return snprintf(buf, cap, "%s", a);
}

int nv_location_canon(const nv_location *loc, char *buf, size_t cap)
{
	size_t n, k;
	int w;

	if (strcmp(loc->driver->name, "local") == 0) /* its path is absolute already */
		w = snprintf(buf, cap, "local:");
	else if (loc->remote)
		w = snprintf(buf, cap, "%s://[%s]", loc->driver->name, loc->remote);
	else if ((w = snprintf(buf, cap, "%s://", loc->driver->name)) > 0 &&
		 (size_t)w < cap)
		w += nv_canon_authority(loc->authority ? loc->authority : "", buf + w,
					cap - (size_t)w);
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

/* The local lock's file, locks/<SHA-256 of the canonical location>.lock, or
 * with ext "lease" the record of the lease held there. */
static int nv_dest_lock_path(const char *canon, const char *ext, char *path, size_t cap)
{
	unsigned char sha[NV_SHA256_LEN];
	char hex[NV_SHA256_HEX], rel[128];

	nv_sha256_buf(sha, canon, strlen(canon));
	nv_hex(hex, sha, sizeof(sha));
	snprintf(rel, sizeof(rel), "locks/%.32s.%s", hex, ext);
	/* A shard's own (state.h): a sibling shard's lease is no dead one. */
	return nv_state_own_path(path, cap, rel);
}

/* The lease an earlier run left at this destination: its name was recorded
 * when it was taken and is forgotten once it is removed, so one is left only
 * by a run that died or lost its store at the end. Holding the local lock,
 * this run knows that run is over: its lease can go at once instead of
 * blocking every run for a TTL. NULL when there is none. */
static char *nv_dest_lock_dead(const char *rec)
{
	char *buf = NULL;
	size_t len;

	if (nv_state_read(rec, &buf, &len)) {
		nv_error_clear();
		return NULL;
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* The lease now held, recorded for the next run (nv_dest_lock_dead). */
static void nv_dest_lock_record(nv_dest_lock *l)
{
	const char *key = nv_lease_key(l->lease);
	char line[300];

	snprintf(line, sizeof(line), "%s\n", key);
	if (nv_state_write(l->rec, line, strlen(line))) {
		nv_log(NV_LOG_WARN, "%s (a lease left by a crash would then wait out its TTL)",
		       nv_error_msg());
		nv_error_clear();
		l->rec[0] = '\0';
	}
}

static long long nv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of wait_ms since t0 (0: do not wait). */
static long long nv_wait_left(long long wait_ms, long long t0)
{
	long long left = wait_ms > 0 ? wait_ms - (nv_now_ms() - t0) : 0;

	return left > 0 ? left : 0;
}

/* Once per process: a store that lets one name be created twice. */
static void nv_dest_lock_probe(nv_dest_lock *l, const nv_location *dst)
{
	static atomic_int warned;
	int rc = nv_lease_probe(l->lease);

	if (rc < 0) { /* the probe only informs: its own failure changes nothing */
		nv_log(NV_LOG_DEBUG, "create-if-absent probe at %s: %s", dst->text,
		       nv_error_msg());
		nv_error_clear();
	} else if (rc == 1 && !atomic_exchange(&warned, 1)) {
		nv_log(NV_LOG_WARN, "%s does not enforce create-if-absent (If-None-Match): a "
		       "second create of one name was accepted. Publication is kept apart by the "
		       "lease and the read-back only; for an S3 store, set conditional_writes = "
		       "false so that navette checks before each such write", dst->text);
	}
}

int nv_dest_lock_take_opts(nv_dest_lock **out, const nv_location *dst,
			   const nv_dest_lock_opts *o)
{
	/* A shard's lease is shared under its run id; a shard without one (never
	 * from the CLI) has nothing to share with and holds the destination alone. */
	const nv_shard *shard = o->shard && o->shard->run[0] ? o->shard : NULL;
	nv_lease_opts lo = { .mode = shard ? NV_LEASE_SHARED : NV_LEASE_EXCLUSIVE,
			     .run_id = shard ? shard->run : NULL, .command = o->command };
	nv_dest_lock *l = calloc(1, sizeof(*l));
	char canon[4200], path[4400], holder[4600], when[NV_TIME_LEN];
	long long t0 = nv_now_ms();
	time_t now = time(NULL);
	int rc;

	*out = NULL;
	if (!l)
		return nv_error_set(NV_ERR, "out of memory");
	l->fd = l->also_fd = -1;
	nv_time_utc(when, now);
	if ((rc = nv_location_canon(dst, canon, sizeof(canon))) ||
	    (rc = nv_dest_lock_path(canon, "lock", path, sizeof(path))) ||
	    (rc = nv_dest_lock_path(canon, "lease", l->rec, sizeof(l->rec))))
		goto fail;
	snprintf(holder, sizeof(holder), "navette %s (pid %ld, started %s, writing to %s%s%s%s%s)",
		 o->command, (long)getpid(), when, canon, o->shard ? ", shard " : "",
		 o->shard ? o->shard->label : "", o->shard && o->shard->run[0] ? " of run " : "",
		 o->shard ? o->shard->run : "");
	if ((rc = nv_state_lock_named(&l->fd, path, dst->text, holder, o->wait_ms)))
		goto fail;
	lo.wait_ms = nv_wait_left(o->wait_ms, t0);
	if (o->also_path &&
	    (rc = nv_state_lock_named(&l->also_fd, o->also_path, o->also_what, holder,
				      lo.wait_ms)))
		goto fail;
	if (!o->local_only) {
		char *dead = nv_dest_lock_dead(l->rec);

		lo.wait_ms = nv_wait_left(o->wait_ms, t0);
		lo.dead_key = dead;
		rc = nv_lease_acquire(&l->lease, dst, &lo);
		free(dead);
		if (rc)
			goto fail;
		nv_dest_lock_record(l);
		if (o->probe)
			nv_dest_lock_probe(l, dst);
	}
	*out = l;
	return 0;
fail:
	nv_dest_lock_release(l);
	return rc;
}

int nv_dest_lock_take(nv_dest_lock **out, const nv_location *dst, const char *command,
		      long long wait_ms)
{
	nv_dest_lock_opts o = { .command = command, .wait_ms = wait_ms };

	return nv_dest_lock_take_opts(out, dst, &o);
}

int nv_dest_lock_lost(const nv_dest_lock *l)
{
	return l && nv_lease_lost(l->lease);
}

void nv_dest_lock_release(nv_dest_lock *l)
{
	if (!l)
		return;
	if (l->lease && nv_lease_release(l->lease) == 0 && l->rec[0])
		unlink(l->rec); /* removed: nothing left for the next run to clean */
	nv_state_unlock(l->also_fd);
	nv_state_unlock(l->fd);
	free(l);
}
