/* progress.h: the run's progress: files and bytes done of those known so far,
 * rate, ETA once the listing is complete, errors; reported every second by a
 * thread of its own through the log sink (log.h). The CLI begins and ends it
 * around a command; the layers below only count. Everyone may call the
 * counters (cheap atomics, also when no report is shown).
 *
 * Shown: on a terminal (stderr), rewritten in place, unless -q or --log-json;
 * elsewhere only when asked (--progress): a "progress:" line per report, or
 * with --log-json a JSON "progress" event (never plain text in the JSON
 * stream). An asked-for report also comes once at the end. */
#ifndef NV_PROGRESS_H
#define NV_PROGRESS_H

#include <stdint.h>

/* asked: --progress. The interval is 1 s ($NAVETTE_PROGRESS_MS overrides). */
void nv_progress_begin(int asked);
/* Stops the reports (an in-place line is cleared, an asked-for one comes a
 * last time); the counters start again from 0 at the next begin. */
void nv_progress_end(void);

/* A listing (or plan) found more work: files, and the bytes to move or read. */
void nv_progress_known(uint64_t files, uint64_t bytes);
/* Nothing more will be found: the ETA can be computed. */
void nv_progress_listed(void);
/* Bytes read for the current item, as they stream (a large file shows its
 * progress before it is done). */
void nv_progress_stream(uint64_t bytes);
/* Work finished (copied, unchanged, failed: each file once), with its whole
 * size: what nv_progress_stream counted for it on this thread (a retry's
 * bytes included) is replaced by that size. */
void nv_progress_done(uint64_t files, uint64_t bytes);
/* An item failed (or differed). */
void nv_progress_error(void);

#endif
