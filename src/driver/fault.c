/* fault.c: fault injection for the nv_drv_* wrappers (fault.h): the rules of
 * NAVETTE_FAULT or nv_fault_set(), per-slot call counts. Called by driver.c and tests. */
#include "fault.h"
#include "util/error.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { NV_FAULT_UNREAD, NV_FAULT_OFF, NV_FAULT_ON };
enum { NV_FAULT_RULES_MAX = 64, NV_FAULT_KILL = 2, NV_FAULT_STOP = 3, NV_FAULT_HOLD = 4 };

typedef struct nv_fault_rule {
	enum nv_fault_slot slot;
	unsigned lo, hi; /* calls lo..hi fail (hi UINT_MAX: every call from lo on) */
	int code;        /* an nv_err, NV_FAULT_FLIP, NV_FAULT_KILL, NV_FAULT_STOP or NV_FAULT_HOLD */
} nv_fault_rule;

static const char *const nv_fault_names[NV_FAULT_SLOTS] = {
	"open", "list", "read", "write", "write_commit", "remove", "flush", "stat",
	"leftovers",
};

/* Read without the lock on every driver call: while it says OFF nothing else is touched. */
static atomic_int nv_fault_state = NV_FAULT_UNREAD;
static pthread_mutex_t nv_fault_mu = PTHREAD_MUTEX_INITIALIZER; /* guards the rules */
static nv_fault_rule nv_fault_rules[NV_FAULT_RULES_MAX];
static size_t nv_fault_nrules;
static atomic_uint nv_fault_count[NV_FAULT_SLOTS];
static _Thread_local int nv_fault_exempt; /* this thread's calls are not counted */

void nv_fault_exempt_thread(void)
{
	nv_fault_exempt = 1;
}

static int nv_fault_code(const char *name)
{
	static const struct { const char *n; int code; } codes[] = {
		{ "io", NV_EIO }, { "retry", NV_ERETRY }, { "nospc", NV_ENOSPC },
		{ "auth", NV_EAUTH }, { "perm", NV_EPERM }, { "kill", NV_FAULT_KILL },
		{ "flip", NV_FAULT_FLIP }, { "stop", NV_FAULT_STOP }, { "hold", NV_FAULT_HOLD },
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strncmp(name, codes[i].n, strlen(codes[i].n)) == 0)
			return codes[i].code;
	return NV_EIO;
}

/* One rule "slot@N[-[M]][=code]" of len bytes at p; 0 when it is not one. */
static int nv_fault_parse_rule(nv_fault_rule *r, const char *p, size_t len)
{
	const char *at = memchr(p, '@', len), *eq = memchr(p, '=', len);
	char *end;
	int slot;

	if (!at)
		return 0;
	for (slot = 0; slot < NV_FAULT_SLOTS; slot++)
		if (strlen(nv_fault_names[slot]) == (size_t)(at - p) &&
		    strncmp(p, nv_fault_names[slot], (size_t)(at - p)) == 0)
			break;
	if (slot == NV_FAULT_SLOTS || at[1] < '0' || at[1] > '9')
		return 0;
	r->slot = (enum nv_fault_slot)slot;
	r->lo = r->hi = (unsigned)strtoul(at + 1, &end, 10);
	if (*end == '-')
		r->hi = end[1] >= '0' && end[1] <= '9' ? (unsigned)strtoul(end + 1, NULL, 10)
						       : UINT_MAX;
	r->code = eq ? nv_fault_code(eq + 1) : NV_EIO;
	return 1;
}

/* Replaces the rules with spec's (the lock held); counts the rules it could not read. */
static unsigned nv_fault_parse(const char *spec)
{
	unsigned bad = 0;

	nv_fault_nrules = 0;
	for (const char *p = spec; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len && nv_fault_nrules < NV_FAULT_RULES_MAX &&
		    nv_fault_parse_rule(&nv_fault_rules[nv_fault_nrules], p, len))
			nv_fault_nrules++;
		else if (len)
			bad++;
		p = comma ? comma + 1 : NULL;
	}
	return bad;
}

static void nv_fault_counts_clear(void)
{
	for (int i = 0; i < NV_FAULT_SLOTS; i++)
		atomic_store(&nv_fault_count[i], 0);
}

int nv_fault_set(const char *spec)
{
	unsigned bad;

	pthread_mutex_lock(&nv_fault_mu);
	bad = nv_fault_parse(spec);
	nv_fault_counts_clear();
	atomic_store(&nv_fault_state, spec ? NV_FAULT_ON : NV_FAULT_OFF);
	pthread_mutex_unlock(&nv_fault_mu);
	if (bad)
		return nv_error_set(NV_EINVAL, "fault spec '%s': %u rule(s) not of the form "
				    "slot@N[-M][=code] with a known slot", spec, bad);
	return 0;
}

unsigned nv_fault_calls(enum nv_fault_slot slot)
{
	return atomic_load(&nv_fault_count[slot]);
}

/* The first call of any slot reads NAVETTE_FAULT, unless a test set faults first. */
static int nv_fault_from_env(void)
{
	pthread_mutex_lock(&nv_fault_mu);
	if (atomic_load(&nv_fault_state) == NV_FAULT_UNREAD) {
		const char *spec = getenv("NAVETTE_FAULT");

		nv_fault_parse(spec); /* lenient, as it always was: unknown rules never fire */
		atomic_store(&nv_fault_state, spec ? NV_FAULT_ON : NV_FAULT_OFF);
	}
	pthread_mutex_unlock(&nv_fault_mu);
	return atomic_load(&nv_fault_state);
}

int nv_fault_check(enum nv_fault_slot slot)
{
	int state = atomic_load_explicit(&nv_fault_state, memory_order_acquire), code = 0;
	unsigned n;

	if (state == NV_FAULT_UNREAD)
		state = nv_fault_from_env();
	if (state != NV_FAULT_ON || nv_fault_exempt)
		return 0;
	n = atomic_fetch_add(&nv_fault_count[slot], 1) + 1;
	pthread_mutex_lock(&nv_fault_mu);
	for (size_t i = 0; i < nv_fault_nrules && !code; i++)
		if (nv_fault_rules[i].slot == slot && n >= nv_fault_rules[i].lo &&
		    n <= nv_fault_rules[i].hi)
			code = nv_fault_rules[i].code;
	pthread_mutex_unlock(&nv_fault_mu);
	if (code == 0)
		return 0;
	if (code == NV_FAULT_KILL) /* die as a crash would, for crash-safety tests */
		_exit(137);
	if (code == NV_FAULT_STOP) { /* hold still at this call until SIGCONT, then go on */
		raise(SIGSTOP);
		return 0;
	}
	if (code == NV_FAULT_HOLD) { /* a run held at a known point, for a test */
		const char *f = getenv("NAVETTE_FAULT_HOLD");
		struct timespec pause = { 0, 50 * 1000000L };

		while (f && access(f, F_OK) == 0)
			nanosleep(&pause, NULL);
		return 0;
	}
	if (code == NV_FAULT_FLIP) /* the caller alters what it returns */
		return slot == NV_FAULT_READ ? NV_FAULT_FLIP
					     : nv_error_set(NV_EINVAL, "flip applies to read");
	return nv_error_set(code, "injected fault in %s (call %u)", nv_fault_names[slot], n);
}
