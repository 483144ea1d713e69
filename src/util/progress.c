/* progress.c: the progress counters and the thread that reports them
 * (progress.h). The CLI begins and ends it; everyone may count. */
#include "progress.h"
#include "log.h"
#include "strbuf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum nv_progress_mode { NV_PROGRESS_OFF, NV_PROGRESS_INPLACE, NV_PROGRESS_LINES,
			NV_PROGRESS_JSON };

static _Atomic uint64_t nv_files_known, nv_bytes_known, nv_files_done, nv_bytes_done;
static _Atomic uint64_t nv_errors;
static atomic_int nv_listed;

static struct {
	enum nv_progress_mode mode;
	long interval_ms;
	struct timespec t0;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, running;
} nv_pr;

void nv_progress_known(uint64_t files, uint64_t bytes)
{
	atomic_fetch_add(&nv_files_known, files);
	atomic_fetch_add(&nv_bytes_known, bytes);
}

void nv_progress_listed(void) { atomic_store(&nv_listed, 1); }

/* What this thread streamed for the item it works on (a pool worker works
 * on one item at a time): replaced by the item's size once it is done. */
static _Thread_local uint64_t nv_item_streamed;

void nv_progress_stream(uint64_t bytes)
{
	atomic_fetch_add(&nv_bytes_done, bytes);
	nv_item_streamed += bytes;
}

void nv_progress_done(uint64_t files, uint64_t bytes)
{
	atomic_fetch_add(&nv_files_done, files);
	/* unsigned arithmetic: a retry or a second read streamed more than the
	 * item's size, and the difference goes back */
	atomic_fetch_add(&nv_bytes_done, bytes - nv_item_streamed);
	nv_item_streamed = 0;
}

void nv_progress_error(void) { atomic_fetch_add(&nv_errors, 1); }

static void nv_size_text(nv_sb *b, uint64_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		nv_sb_addf(b, "%llu B", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	nv_sb_addf(b, "%.1f %s", v, units[u]);
}

/* One report: a snapshot of the counters, in the mode's form. */
static void nv_progress_report(void)
{
	uint64_t fk = atomic_load(&nv_files_known), bk = atomic_load(&nv_bytes_known);
	uint64_t fd = atomic_load(&nv_files_done), bd = atomic_load(&nv_bytes_done);
	uint64_t errs = atomic_load(&nv_errors);
	int listed = atomic_load(&nv_listed);
	struct timespec now;
	double secs, rate, eta = -1;
	nv_sb line = { 0 };

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - nv_pr.t0.tv_sec) + (double)(now.tv_nsec - nv_pr.t0.tv_nsec) / 1e9;
	rate = secs > 0 ? (double)bd / secs : 0;
	if (listed && fd >= fk)
		eta = 0;
	else if (listed && bk > bd && rate > 0)
		eta = (double)(bk - bd) / rate;
	else if (listed && secs > 0 && fd > 0)
		eta = (double)(fk - fd) * secs / (double)fd;
	if (nv_pr.mode == NV_PROGRESS_JSON) {
		nv_log_field f[] = {
			NV_LF_U("files_done", fd), NV_LF_U("files_known", fk),
			NV_LF_U("bytes_done", bd), NV_LF_U("bytes_known", bk),
			NV_LF_B("listing_complete", listed), NV_LF_U("errors", errs),
			NV_LF_D("elapsed", secs), NV_LF_D("rate", rate), NV_LF_D("eta", eta),
		};

		if (eta < 0)
			f[8] = (nv_log_field)NV_LF_NULL_("eta");
		nv_log_progress(NULL, 0, f, NV_LF_COUNT(f));
		return;
	}
	nv_sb_addf(&line, "progress: %llu of %llu%s files, ", (unsigned long long)fd,
		    (unsigned long long)fk, listed ? "" : "+");
	nv_size_text(&line, bd);
	nv_sb_add(&line, " of ");
	nv_size_text(&line, bk);
	nv_sb_add(&line, listed ? ", " : "+, ");
	nv_size_text(&line, (uint64_t)rate);
	nv_sb_add(&line, "/s, ");
	if (eta >= 0)
		nv_sb_addf(&line, "ETA %lld:%02lld:%02lld, ", (long long)eta / 3600,
			    (long long)eta / 60 % 60, (long long)eta % 60);
	nv_sb_addf(&line, "%llu error%s", (unsigned long long)errs, errs == 1 ? "" : "s");
	nv_log_progress(nv_sb_str(&line), nv_pr.mode == NV_PROGRESS_INPLACE, NULL, 0);
	nv_sb_free(&line);
}

static void *nv_progress_thread(void *arg)
{
	struct timespec until;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &until);
	pthread_mutex_lock(&nv_pr.mu);
	while (!nv_pr.stop) {
		until.tv_sec += nv_pr.interval_ms / 1000;
		until.tv_nsec += nv_pr.interval_ms % 1000 * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!nv_pr.stop && pthread_cond_timedwait(&nv_pr.cv, &nv_pr.mu, &until) == 0)
			;
		if (nv_pr.stop)
			break;
		pthread_mutex_unlock(&nv_pr.mu);
		nv_progress_report();
		pthread_mutex_lock(&nv_pr.mu);
	}
	pthread_mutex_unlock(&nv_pr.mu);
	return NULL;
}

static enum nv_progress_mode nv_progress_choose(int asked)
{
	const char *term = getenv("TERM");
	int tty = isatty(STDERR_FILENO);

	if (nv_log_json())
		return asked ? NV_PROGRESS_JSON : NV_PROGRESS_OFF;
	if (asked)
		return tty ? NV_PROGRESS_INPLACE : NV_PROGRESS_LINES;
	if (tty && !nv_log_quiet() && !(term && strcmp(term, "dumb") == 0))
		return NV_PROGRESS_INPLACE;
	return NV_PROGRESS_OFF;
}

void nv_progress_begin(int asked)
{
	const char *env = getenv("NAVETTE_PROGRESS_MS");
	pthread_condattr_t ca;

	atomic_store(&nv_files_known, 0);
	atomic_store(&nv_bytes_known, 0);
	atomic_store(&nv_files_done, 0);
	atomic_store(&nv_bytes_done, 0);
	atomic_store(&nv_errors, 0);
	atomic_store(&nv_listed, 0);
	memset(&nv_pr, 0, sizeof(nv_pr));
	nv_pr.mode = nv_progress_choose(asked);
	nv_pr.interval_ms = env && atol(env) >= 10 ? atol(env) : 1000;
	clock_gettime(CLOCK_MONOTONIC, &nv_pr.t0);
	if (nv_pr.mode == NV_PROGRESS_OFF)
		return;
	nv_log_on_summary(nv_progress_end);
	pthread_mutex_init(&nv_pr.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&nv_pr.cv, &ca);
	pthread_condattr_destroy(&ca);
	nv_pr.running = pthread_create(&nv_pr.tid, NULL, nv_progress_thread, NULL) == 0;
}

void nv_progress_end(void)
{
	if (nv_pr.mode == NV_PROGRESS_OFF)
		return;
	if (nv_pr.running) {
		pthread_mutex_lock(&nv_pr.mu);
		nv_pr.stop = 1;
		pthread_cond_signal(&nv_pr.cv);
		pthread_mutex_unlock(&nv_pr.mu);
		pthread_join(nv_pr.tid, NULL);
	}
	if (nv_pr.mode == NV_PROGRESS_INPLACE)
		nv_log_progress_clear();
	else
		nv_progress_report(); /* asked for: the last word, on the record */
	pthread_cond_destroy(&nv_pr.cv);
	pthread_mutex_destroy(&nv_pr.mu);
	nv_pr.mode = NV_PROGRESS_OFF;
	nv_log_on_summary(NULL);
}
