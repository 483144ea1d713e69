/* fault.h: fault injection at the nv_drv_* choke point, for tests of failure
 * paths. Called by driver.c (nv_fault_check) and by tests (nv_fault_set, nv_fault_calls).
 *
 * A spec is "rule,rule,...", each rule "slot@N[=code]": the Nth call of that
 * slot (counted across the process, from 1) fails. "slot@N-M" fails calls N
 * to M, "slot@N-" every call from N on (a persistent fault). The first rule
 * matching a call decides it.
 * Slots: open list read write write_commit remove flush stat leftovers
 * ("remove" also counts each remove_many request, once per batch;
 * "leftovers" each listing of leftovers and each removal of one).
 * Codes (io when none is given): io retry nospc auth perm; kill (the process
 * dies as in a crash, exit status 137); stop (the process stops itself with
 * SIGSTOP before the call, which goes on after SIGCONT: a test acts while a
 * run is held at a known point); flip (read only: the call works but one byte
 * of what it returns is inverted, as a store serving other bytes would);
 * hold (the call waits while the file named by $NAVETTE_FAULT_HOLD exists, then
 * proceeds: a run held at a known point while a test does something else).
 *
 * The environment variable NAVETTE_FAULT holds a spec for a whole process
 * (integration tests); it is read once, at the first driver call. A unit test
 * sets and resets faults with nv_fault_set(). Unset, a call costs one atomic
 * load: nothing is counted or parsed. */
#ifndef NV_FAULT_H
#define NV_FAULT_H

enum nv_fault_slot {
	NV_FAULT_OPEN,
	NV_FAULT_LIST,
	NV_FAULT_READ,
	NV_FAULT_WRITE,
	NV_FAULT_COMMIT, /* "write_commit" */
	NV_FAULT_REMOVE,
	NV_FAULT_FLUSH,
	NV_FAULT_STAT,
	NV_FAULT_LEFTOVERS,
	NV_FAULT_SLOTS
};

/* What nv_fault_check returns for a "flip" rule on a read (an nv_err is negative). */
#define NV_FAULT_FLIP 1

/* Replaces the process's faults (NAVETTE_FAULT included) with spec and
 * restarts every slot's count from 0. "" injects nothing but counts calls;
 * NULL stops injecting and counting. NV_EINVAL when a rule names an unknown
 * slot or has no call number (the other rules still apply). */
int nv_fault_set(const char *spec);

/* Calls of slot counted since the last nv_fault_set() (or since the process
 * started, under NAVETTE_FAULT); 0 while nothing is set. */
unsigned nv_fault_calls(enum nv_fault_slot slot);

/* The calling thread's calls are neither counted nor faulted from now on:
 * background control traffic (lease renewals), whose timing would otherwise
 * shift every count a test names. */
void nv_fault_exempt_thread(void);

/* driver.c only: counts one call of slot; 0 to let it proceed, NV_FAULT_FLIP
 * (read), or a negative nv_err with the message set. */
int nv_fault_check(enum nv_fault_slot slot);

#endif
