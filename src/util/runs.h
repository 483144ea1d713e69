/* runs.h: an external sort: records (a key and a value, any bytes) added in
 * any order come back sorted, holding at most a budget of them in memory and
 * the rest in sorted runs on disk. Everyone may call (the vault's catalogs and
 * manifests of a million files go through it: docs/ARCHITECTURE.md). */
#ifndef NV_RUNS_H
#define NV_RUNS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nv_runs nv_runs;

/* One record as read back: valid until the next nv_runs_next or nv_runs_free. */
typedef struct nv_run_rec {
	const unsigned char *key, *val;
	size_t klen, vlen;
} nv_run_rec;

/* The default budget: what one sorter holds in memory before it writes a run. */
#define NV_RUNS_BUDGET ((size_t)8 << 20)

/* A sorter whose runs are anonymous files in dir: created with O_TMPFILE (or
 * created and unlinked at once where the file system lacks it), mode 0600,
 * so they never have a name and a killed process leaves none behind. budget 0:
 * NV_RUNS_BUDGET; $NAVETTE_RUNS_BUDGET (bytes, for tests) overrides both. */
int nv_runs_new(nv_runs **out, const char *dir, size_t budget);
/* A sorter in navette's state directory (util/state.h), which already holds
 * this host's plaintext names (a push's cache): the same protection, 0700.
 * Where the state directory does not exist yet (a dry run creates none), in
 * $TMPDIR (else /tmp): the files have no name there either. */
int nv_runs_new_state(nv_runs **out);
/* One anonymous file (read and write) where nv_runs_new_state puts its runs,
 * for a spool: *fd is the caller's to close. */
int nv_runs_tmpfile(int *fd);
/* Adds a record (copied). Keys are compared as bytes (memcmp, the shorter
 * first on a tie); equal keys come back in the order they were added. A run
 * that cannot be written (ENOSPC) is an error naming the directory. */
int nv_runs_add(nv_runs *r, const void *key, size_t klen, const void *val, size_t vlen);
/* No more records: sorts what is in memory and, if runs were written, writes
 * it as the last run. Then nv_runs_next reads from the first record. */
int nv_runs_sort(nv_runs *r);
/* The next record in order: 0, or NV_EOF after the last; an error if a run
 * cannot be read back or was altered (lengths out of bounds). */
int nv_runs_next(nv_runs *r, nv_run_rec *out);
/* Starts reading again from the first record (another pass over the same
 * sorted records, nothing re-sorted). */
int nv_runs_rewind(nv_runs *r);
/* How many records were added; how many runs went to disk (0: all in memory). */
uint64_t nv_runs_count(const nv_runs *r);
size_t nv_runs_spilled(const nv_runs *r);
/* Closes (so deletes) every run. NULL is a no-op. */
void nv_runs_free(nv_runs *r);

#endif
