/* lease.c: the lease (lease.h, docs/FORMAT.md section 10): one object per
 * holder, oldest live conflicting lease wins, staleness by the observer's own
 * monotonic clock over a full TTL, renewal by a thread. Called by commands. */
#include "lease.h"
#include "lister.h"
#include "driver/bwlimit.h"
#include "driver/fault.h"
#include "driver/tmpname.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/membudget.h"
#include "util/retry.h"
#include "util/times.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NV_LEASE_MAX 4096 /* bytes of one lease object */

typedef struct nv_lease_rec {
	char *key;             /* navette-lease/<name>.json */
	char *holder, *run, *start, *command;
	int exclusive;
	unsigned ttl;
	unsigned char sha[NV_SHA256_LEN]; /* of the object's bytes: "unchanged" */
} nv_lease_rec;

/* What this observer has seen of other holders' objects, across listings. */
typedef struct nv_lease_seen {
	char *key;
	unsigned char sha[NV_SHA256_LEN];
	double since;          /* monotonic seconds: first seen with these bytes */
} nv_lease_seen;

struct nv_lease {
	const nv_location *loc;
	nv_store *store;       /* the renewal thread's own connection */
	char key[256];
	char run[72], start[32], holder[300];
	const char *command;
	nv_lease_mode mode;
	unsigned ttl;
	uint64_t renewals;
	pthread_t renewer;
	int renewing;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	atomic_int lost;
	struct nv_lease *next_held; /* in nv_held, while held */
};

/* The exclusive leases this process holds (nv_lease_held). */
static pthread_mutex_t nv_held_mu = PTHREAD_MUTEX_INITIALIZER;
static nv_lease *nv_held;

static void nv_held_add(nv_lease *l)
{
	if (l->mode != NV_LEASE_EXCLUSIVE)
		return;
	pthread_mutex_lock(&nv_held_mu);
	l->next_held = nv_held;
	nv_held = l;
	pthread_mutex_unlock(&nv_held_mu);
}

static void nv_held_remove(nv_lease *l)
{
	pthread_mutex_lock(&nv_held_mu);
	for (nv_lease **p = &nv_held; *p; p = &(*p)->next_held)
		if (*p == l) {
			*p = l->next_held;
			break;
		}
	pthread_mutex_unlock(&nv_held_mu);
}

int nv_lease_held(const nv_location *loc)
{
	int held = 0;

	pthread_mutex_lock(&nv_held_mu);
	for (nv_lease *l = nv_held; l && !held; l = l->next_held)
		held = (l->loc == loc || (l->loc->driver == loc->driver &&
					  strcmp(l->loc->text, loc->text) == 0)) &&
		       !atomic_load(&l->lost);
	pthread_mutex_unlock(&nv_held_mu);
	return held;
}

static double nv_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nv_sleep_ms(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static unsigned nv_lease_ttl(unsigned asked)
{
	const char *env = getenv("NAVETTE_LEASE_TTL");
	long v;

	if (asked)
		return asked;
	if (env && (v = strtol(env, NULL, 10)) > 0 && v < 86400)
		return (unsigned)v;
	return NV_LEASE_TTL_DEFAULT;
}

/* The pause between writing this holder's object and listing. On a store
 * where a committed write is visible to every later listing (local, SFTP, S3
 * and Azure today, all four of our drivers) none is needed: of two writers,
 * the one listing second sees the other. NAVETTE_LEASE_SETTLE_MS adds a
 * margin for a store that shows writes late. */
static long long nv_lease_settle_ms(void)
{
	const char *env = getenv("NAVETTE_LEASE_SETTLE_MS");

	return env ? strtoll(env, NULL, 10) : 0;
}

static void nv_rec_clear(nv_lease_rec *r)
{
	free(r->key);
	free(r->holder);
	free(r->run);
	free(r->start);
	free(r->command);
	memset(r, 0, sizeof(*r));
}

static char *nv_json_strdup(json_t *o, const char *field)
{
	const char *s = json_string_value(json_object_get(o, field));

	return strdup(s ? s : "");
}

static int nv_rec_parse(nv_lease_rec *r, const char *key, const unsigned char *buf, size_t len)
{
	json_t *o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	const char *type, *mode;
	json_int_t ttl;

	memset(r, 0, sizeof(*r));
	type = json_string_value(json_object_get(o, "type"));
	mode = json_string_value(json_object_get(o, "mode"));
	ttl = json_integer_value(json_object_get(o, "ttl"));
	if (!o || !type || strcmp(type, "lease") || !mode || ttl <= 0 || ttl > 86400) {
		json_decref(o);
		/* Unreadable: treated as an exclusive lease of unknown holder, so a
		 * garbled object never silently lets two writers in. */
		r->key = strdup(key);
		r->holder = strdup("(unreadable lease object)");
		r->run = strdup("");
		r->start = strdup("");
		r->command = strdup("");
		r->exclusive = 1;
		r->ttl = NV_LEASE_TTL_DEFAULT;
	} else {
		r->key = strdup(key);
		r->holder = nv_json_strdup(o, "holder");
		r->run = nv_json_strdup(o, "run");
		r->start = nv_json_strdup(o, "start");
		r->command = nv_json_strdup(o, "command");
		r->exclusive = strcmp(mode, "shared") != 0;
		r->ttl = (unsigned)ttl;
		json_decref(o);
	}
	nv_sha256_buf(r->sha, buf, len);
	if (!r->key || !r->holder || !r->run || !r->start || !r->command)
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

static void nv_recs_free(nv_lease_rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nv_rec_clear(&r[i]);
	free(r);
}

/* Every lease object at the location but own (NULL: none), read whole. A
 * lease removed between the listing and the read is gone, not an error. The
 * holder never reads its own object: nothing to learn there, and no read
 * (an SFTP read handle) is left open on its connection for the whole run. */
static int nv_lease_list(nv_store *s, const char *own, nv_lease_rec **out, size_t *n)
{
	nv_sorted *l = NULL;
	nv_lease_rec *r = NULL;
	size_t cap = 0;
	nv_entry e;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nv_sorted_open(&l, s, NV_LEASE_DIR, 1)))
		return rc;
	while ((rc = nv_sorted_next(l, &e)) == 0) {
		unsigned char *buf;
		size_t len;
		char *key;

		if ((own && strcmp(e.key, own) == 0) ||
		    strncmp(e.key, NV_LEASE_PROBE, strlen(NV_LEASE_PROBE)) == 0)
			continue; /* the probe is no holder */
		if (!(key = strdup(e.key))) {
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
		rc = nv_drv_get_buf(s, key, NV_LEASE_MAX, &buf, &len);
		if (rc == NV_ENOTFOUND) {
			free(key);
			continue;
		}
		if (rc == NV_EINVAL) { /* oversized: unreadable, counted as a holder */
			buf = NULL;
			len = 0;
		} else if (rc) {
			free(key);
			break;
		}
		if (*n == cap) {
			nv_lease_rec *g = realloc(r, (cap = cap ? cap * 2 : 8) * sizeof(*r));

			if (!g) {
				free(buf);
				free(key);
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			r = g;
		}
		rc = nv_rec_parse(&r[*n], key, buf ? buf : (const unsigned char *)"", len);
		(*n)++;
		free(buf);
		free(key);
		if (rc)
			break;
	}
	nv_sorted_close(l);
	if (rc != NV_EOF) {
		nv_recs_free(r, *n);
		*n = 0;
		return rc;
	}
	*out = r;
	return 0;
}

/* Records what this observer saw; returns 1 when rec is stale: unchanged for
 * a full TTL of its own, on this observer's monotonic clock. */
static int nv_seen_stale(nv_lease_seen **seen, size_t *nseen, const nv_lease_rec *rec)
{
	double now = nv_mono();
	nv_lease_seen *g;

	for (size_t i = 0; i < *nseen; i++) {
		if (strcmp((*seen)[i].key, rec->key) != 0)
			continue;
		if (memcmp((*seen)[i].sha, rec->sha, NV_SHA256_LEN) != 0) {
			memcpy((*seen)[i].sha, rec->sha, NV_SHA256_LEN);
			(*seen)[i].since = now; /* renewed: alive */
			return 0;
		}
		return now - (*seen)[i].since >= (double)rec->ttl;
	}
	g = realloc(*seen, (*nseen + 1) * sizeof(*g));
	if (!g)
		return 0;
	*seen = g;
	g[*nseen].key = strdup(rec->key);
	if (!g[*nseen].key)
		return 0;
	memcpy(g[*nseen].sha, rec->sha, NV_SHA256_LEN);
	g[*nseen].since = now;
	(*nseen)++;
	return 0;
}

static void nv_seen_free(nv_lease_seen *seen, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(seen[i].key);
	free(seen);
}

/* One JSON line, sorted keys (docs/FORMAT.md section 10). */
static int nv_lease_format(nv_lease *l, char **out, size_t *len)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:i, s:i}",
			      "type", "lease", "mode",
			      l->mode == NV_LEASE_SHARED ? "shared" : "exclusive", "holder",
			      l->holder, "run", l->run, "pid", (json_int_t)getpid(), "start",
			      l->start, "command", l->command ? l->command : "",
			      "renewals", (json_int_t)l->renewals, "ttl", (int)l->ttl,
			      "version", 1);
	char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;

	json_decref(o);
	*out = NULL;
	if (text) {
		*len = strlen(text);
		if ((*out = malloc(*len + 2))) {
			memcpy(*out, text, *len);
			(*out)[(*len)++] = '\n';
			(*out)[*len] = '\0';
		}
	}
	free(text);
	return *out ? 0 : nv_error_set(NV_ERR, "out of memory");
}

/* Writes this holder's object; a transient failure is retried under the one
 * policy (util/retry.h), each write an item of its own: one glitch must not
 * stop a run (taking the lease) or lose it (renewing). */
static int nv_lease_write(nv_lease *l, nv_store *s, unsigned flags)
{
	char *buf;
	size_t len = 0;
	int rc = nv_lease_format(l, &buf, &len), tries = 0;

	if (rc)
		return rc;
	nv_retry_begin(nv_retry_get_default(), NULL);
	do
		rc = nv_drv_put_buf(s, l->key, buf, len, flags);
	while (rc == NV_ERETRY && ++tries && nv_retry_again(rc));
	/* An attempt that landed but answered with an error: the name is this
	 * holder's own (random), so "exists" after a retry is our object. */
	if (rc == NV_EEXISTS && tries && (flags & NV_WRITE_EXCLUSIVE)) {
		nv_error_clear();
		rc = nv_drv_put_buf(s, l->key, buf, len, 0);
	}
	free(buf);
	return rc;
}

/* Does other conflict with this lease? Shared leases of one run do not. */
static int nv_conflicts(const nv_lease *l, const nv_lease_rec *other)
{
	if (strcmp(other->key, l->key) == 0)
		return 0;
	return other->exclusive || l->mode == NV_LEASE_EXCLUSIVE || strcmp(other->run, l->run);
}

/* Is other older than this lease? By start time, then by name. */
static int nv_older(const nv_lease *l, const nv_lease_rec *other)
{
	int c = strcmp(other->start, l->start);

	return c < 0 || (c == 0 && strcmp(other->key, l->key) < 0);
}

static void nv_holder_describe(char *out, size_t cap, const nv_lease_rec *r)
{
	snprintf(out, cap, "%s (%s %s lease of run %s, started %s, %s)", r->holder,
		 r->command[0] ? r->command : "a", r->exclusive ? "exclusive" : "shared", r->run,
		 r->start, r->key);
}

/* The first live lease that conflicts with l (older ones only, or any);
 * -1 when none. */
static long nv_find_conflict(nv_lease *l, nv_lease_rec *r, size_t n, nv_lease_seen **seen,
			     size_t *nseen, int older_only)
{
	for (size_t i = 0; i < n; i++) {
		if (!nv_conflicts(l, &r[i]) || nv_seen_stale(seen, nseen, &r[i]))
			continue;
		if (!older_only || nv_older(l, &r[i]))
			return (long)i;
	}
	return -1;
}

/* One round, after this lease's object was written and had time to show:
 * 1 when this lease wins, 0 with *holder set when another does. An older
 * live conflicting lease wins. A younger one either is a contender that will
 * see ours and step back within a settle period, or a holder that won before
 * ours showed: so after waiting, one still there is a holder. */
static int nv_lease_round(nv_lease *l, nv_store *s, nv_lease_seen **seen, size_t *nseen,
			  char *holder, size_t cap)
{
	nv_lease_rec *r;
	size_t n;
	long k;
	int rc;

	if ((rc = nv_lease_list(s, l->key, &r, &n)))
		return rc;
	if ((k = nv_find_conflict(l, r, n, seen, nseen, 1)) >= 0)
		nv_holder_describe(holder, cap, &r[k]);
	else if (nv_find_conflict(l, r, n, seen, nseen, 0) < 0)
		k = -2; /* nobody else: ours */
	nv_recs_free(r, n);
	if (k != -1)
		return k == -2;
	/* A contender steps back within one list-and-delete round trip. */
	nv_sleep_ms(1000 + 2 * nv_lease_settle_ms());
	if ((rc = nv_lease_list(s, l->key, &r, &n)))
		return rc;
	if ((k = nv_find_conflict(l, r, n, seen, nseen, 0)) >= 0)
		nv_holder_describe(holder, cap, &r[k]);
	nv_recs_free(r, n);
	return k < 0;
}

static void *nv_lease_renewer(void *arg)
{
	nv_lease *l = arg;
	struct timespec until;
	int rc;

	/* A renewal must go out within the TTL: never queued behind --bwlimit's
	 * waits or the memory budget's, never refused by --max-transfer. */
	nv_bwlimit_exempt_thread();
	nv_fault_exempt_thread(); /* and counted by no test's fault rule */
	nv_mem_exempt_thread();
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += l->ttl / 3 ? l->ttl / 3 : 1;
		pthread_cond_timedwait(&l->cv, &l->mu, &until);
		if (l->stop)
			break;
		l->renewals++;
		pthread_mutex_unlock(&l->mu);
		rc = nv_lease_write(l, l->store, 0);
		pthread_mutex_lock(&l->mu);
		if (rc) {
			nv_log(NV_LOG_ERROR, "renewing the lease %s at %s failed (%s): stopping "
			       "writes", l->key, l->loc->text, nv_error_msg());
			atomic_store(&l->lost, 1);
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static int nv_lease_init(nv_lease *l, const nv_location *loc, const nv_lease_opts *o)
{
	unsigned char rnd[8];
	char host[256] = "unknown-host", hex[17], when[NV_TIME_LEN];
	struct timespec ts;

	l->loc = loc;
	l->mode = o->mode;
	l->ttl = nv_lease_ttl(o->ttl);
	l->command = o->command;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return nv_error_set(NV_ERR, "no randomness for a lease name");
	nv_hex(hex, rnd, sizeof(rnd));
	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, "/. \t\n")] = '\0'; /* a key component: no '/', no dots */
	snprintf(l->holder, sizeof(l->holder), "%s pid %ld", host, (long)getpid());
	snprintf(l->key, sizeof(l->key), NV_LEASE_DIR "%s.%ld.%s.json", host, (long)getpid(),
		 hex);
	/* The run id that this process's temporary files carry too. */
	snprintf(l->run, sizeof(l->run), "%s", o->run_id ? o->run_id : nv_run_id());
	/* Sub-second start times order two holders that started in one second. */
	clock_gettime(CLOCK_REALTIME, &ts);
	nv_time_utc(when, ts.tv_sec);
	snprintf(l->start, sizeof(l->start), "%.19s.%09ldZ", when, ts.tv_nsec);
	return 0;
}

int nv_lease_acquire(nv_lease **out, const nv_location *loc, const nv_lease_opts *o)
{
	nv_lease *l = calloc(1, sizeof(*l));
	nv_lease_seen *seen = NULL;
	size_t nseen = 0;
	char holder[1024] = "";
	double deadline = nv_mono() + (double)o->wait_ms / 1000.0;
	int rc, wins = 0;

	*out = NULL;
	if (!l)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_lease_init(l, loc, o)) || (rc = nv_drv_open(&l->store, loc)))
		goto fail;
	if (o->dead_key && strncmp(o->dead_key, NV_LEASE_DIR, strlen(NV_LEASE_DIR)) == 0) {
		/* Left by a run of this caller that died (or lost its store at the
		 * end): no other holder can be waiting on it to go stale. */
		nv_entry dead;

		/* gone already (unlock removed it): nothing to say; an S3 DELETE of a
		 * missing key succeeds, so only a stat tells */
		rc = nv_drv_stat(l->store, o->dead_key, &dead);
		if (rc == NV_ENOTFOUND) {
			nv_error_clear();
		} else if (rc || (rc = nv_drv_remove(l->store, o->dead_key))) {
			goto fail;
		} else {
			nv_log(NV_LOG_NOTICE, "removed the lease %s that an earlier run of this "
			       "host left at %s", o->dead_key, loc->text);
		}
	}
	for (;;) {
		if ((rc = nv_lease_write(l, l->store, NV_WRITE_EXCLUSIVE)))
			goto fail;
		nv_sleep_ms(nv_lease_settle_ms());
		rc = nv_lease_round(l, l->store, &seen, &nseen, holder, sizeof(holder));
		if (rc < 0)
			goto fail_remove;
		if ((wins = rc == 1))
			break;
		nv_drv_remove(l->store, l->key); /* step back: ours must not block anyone */
		if (nv_mono() >= deadline) {
			rc = nv_error_set(NV_EEXISTS, "%s is locked by %s; if that run is dead, "
					  "its lease goes stale after %u s unchanged: wait for it "
					  "with --wait-lock, or remove it with navette unlock",
					  loc->text, holder, l->ttl);
			goto fail;
		}
		nv_log(NV_LOG_INFO, "%s is locked by %s; waiting", loc->text, holder);
		nv_sleep_ms(l->ttl * 1000LL / 3 < 2000 ? l->ttl * 1000LL / 3 : 2000);
	}
	nv_seen_free(seen, nseen);
	if (pthread_create(&l->renewer, NULL, nv_lease_renewer, l) == 0)
		l->renewing = 1;
	nv_held_add(l);
	*out = l;
	return 0;
fail_remove:
	nv_drv_remove(l->store, l->key);
fail:
	nv_seen_free(seen, nseen);
	nv_drv_close(l->store);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
	return rc;
}

int nv_lease_probe(nv_lease *l)
{
	static const char body[] = "create-if-absent probe\n";
	unsigned char rnd[8];
	char key[64], hex[17];
	int rc;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return nv_error_set(NV_ERR, "no randomness for a probe name");
	nv_hex(hex, rnd, sizeof(rnd));
	snprintf(key, sizeof(key), NV_LEASE_PROBE "%s", hex);
	if ((rc = nv_drv_put_buf(l->store, key, body, sizeof(body) - 1, NV_WRITE_EXCLUSIVE)))
		return rc;
	rc = nv_drv_put_buf(l->store, key, body, sizeof(body) - 1, NV_WRITE_EXCLUSIVE);
	nv_drv_remove(l->store, key);
	if (rc == NV_EEXISTS) {
		nv_error_clear();
		return 0;
	}
	return rc ? rc : 1;
}

int nv_lease_lost(const nv_lease *l)
{
	return l && atomic_load(&l->lost);
}

const char *nv_lease_key(const nv_lease *l)
{
	return l->key;
}

int nv_lease_release(nv_lease *l)
{
	int rc;

	if (!l)
		return 0;
	nv_held_remove(l);
	if (l->renewing) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->renewer, NULL);
	}
	/* Left behind, the lease would stop the next run for a TTL: retried. */
	nv_retry_begin(nv_retry_get_default(), NULL);
	while ((rc = nv_drv_remove(l->store, l->key)) == NV_ERETRY && nv_retry_again(rc))
		;
	if (rc)
		nv_log(NV_LOG_WARN, "could not remove the lease %s at %s: %s", l->key,
		       l->loc->text, nv_error_msg());
	nv_drv_close(l->store);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
	return rc;
}

int nv_lease_unlock(const nv_location *loc, int remove_all, long long watch_ms,
		    unsigned *removed)
{
	nv_store *s = NULL;
	nv_lease_seen *seen = NULL;
	size_t nseen = 0, n;
	nv_lease_rec *r = NULL;
	double until = nv_mono() + (double)watch_ms / 1000.0;
	int rc;

	*removed = 0;
	if ((rc = nv_drv_open(&s, loc)))
		return rc;
	for (;;) {
		if ((rc = nv_lease_list(s, NULL, &r, &n)))
			break;
		for (size_t i = 0; i < n; i++) {
			int stale = nv_seen_stale(&seen, &nseen, &r[i]);

			if (!remove_all && !stale)
				continue;
			if ((rc = nv_drv_remove(s, r[i].key)))
				break;
			nv_log(NV_LOG_WARN, "removed the lease of %s (%s)", r[i].holder, r[i].key);
			(*removed)++;
		}
		nv_recs_free(r, n);
		if (rc || remove_all || !n || nv_mono() >= until)
			break;
		nv_sleep_ms(1000);
	}
	nv_seen_free(seen, nseen);
	nv_drv_close(s);
	return rc;
}
