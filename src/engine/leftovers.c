/* leftovers.c: the clean-up of what interrupted runs left (leftovers.h): which
 * leftover is provably dead, its removal through the driver, the report.
 * Called by the writing commands as they start. */
#include "leftovers.h"
#include "lease.h"
#include "driver/tmpname.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t nv_leftover_max_age(void)
{
	const char *env = getenv("NAVETTE_TEMP_MAX_AGE");
	char *end;
	long long v;

	if (env && *env && (v = strtoll(env, &end, 10)) >= 0 && !*end)
		return v;
	return NV_LEFTOVER_MAX_AGE;
}

/* What to do with lo: 0 leave it (this run's own, or not ours), 1 ask the
 * driver to remove it, 2 keep it (no proof). *proven: its writer is known dead. */
static int nv_leftover_judge(const nv_leftover *lo, int lease, int64_t now, int64_t max_age,
			     int *proven)
{
	const char *leaf = strrchr(lo->name, '/');
	char run[NV_RUN_ID_LEN + 1];
	enum nv_tmp_kind kind = NV_TMP_OLD; /* an upload: no run id either */

	if (!lo->upload && (kind = nv_tmp_parse(leaf ? leaf + 1 : lo->name, run)) ==
			   NV_TMP_NOT_OURS)
		return 0;
	if (kind == NV_TMP_RUN && strcmp(run, nv_run_id()) == 0)
		return 0;
	*proven = lease || (lo->time_sec > 0 && now - lo->time_sec > max_age);
	/* A run-id temp file: the driver may know more (a local writer's lock). */
	return *proven || kind == NV_TMP_RUN ? 1 : 2;
}

/* Counts what came of one removal; 1 when the clean-up must stop. */
static int nv_leftover_count(nv_leftover_stats *st, const nv_leftover *lo, int rc,
			     const char *where)
{
	switch (rc) {
	case 0:
		if (lo->upload) {
			st->aborted++;
			nv_log_item(NV_LOG_INFO, "aborted upload", lo->name,
				    "left incomplete by an interrupted run");
		} else {
			st->removed++;
			st->bytes += lo->size;
			nv_log_item(NV_LOG_INFO, "removed temporary file", lo->name,
				    "left by an interrupted run");
		}
		return 0;
	case NV_ENOTFOUND: /* gone since it was listed */
		return 0;
	case NV_EEXISTS:
		st->in_use++;
		return 0;
	case NV_ENOTSUP:
		st->kept++;
		return 0;
	default:
		st->failed++;
		nv_log(NV_LOG_WARN, "cleaning up %s: %s", where, nv_error_msg());
		return 1;
	}
}

static const char *nv_leftover_noun(uint64_t n, int uploads)
{
	if (uploads)
		return n == 1 ? "incomplete upload" : "incomplete uploads";
	return n == 1 ? "temporary file" : "temporary files";
}

/* The one line that says what was done, when there was anything. uploads:
 * the store's leftovers are incomplete uploads, not files. */
static void nv_leftovers_report(const nv_leftover_stats *st, const char *where, int uploads)
{
	nv_log_field f[] = {
		NV_LF_S("location", where), NV_LF_U("removed", st->removed),
		NV_LF_U("bytes", st->bytes), NV_LF_U("aborted_uploads", st->aborted),
		NV_LF_U("in_use", st->in_use), NV_LF_U("kept", st->kept),
		NV_LF_U("failed", st->failed),
	};
	nv_sb b = { 0 };

	if (!st->removed && !st->aborted && !st->kept && !st->in_use)
		return;
	if (st->removed)
		nv_sb_addf(&b, "removed %llu %s (%llu bytes) left by interrupted runs in %s",
			   (unsigned long long)st->removed, nv_leftover_noun(st->removed, 0),
			   (unsigned long long)st->bytes, where);
	if (st->aborted)
		nv_sb_addf(&b, "%saborted %llu %s left by interrupted runs in %s",
			   b.len ? "; " : "", (unsigned long long)st->aborted,
			   nv_leftover_noun(st->aborted, 1), where);
	if (st->kept)
		nv_sb_addf(&b, "%skept %llu %s in %s of runs that may still be alive (removed "
			   "once %lld s old, or by a run that holds the lease there)",
			   b.len ? "; " : "", (unsigned long long)st->kept,
			   nv_leftover_noun(st->kept, uploads), where,
			   (long long)nv_leftover_max_age());
	if (st->in_use)
		nv_sb_addf(&b, "%s%llu %s in %s belong%s to runs still writing", b.len ? "; " : "",
			   (unsigned long long)st->in_use, nv_leftover_noun(st->in_use, 0), where,
			   st->in_use == 1 ? "s" : "");
	nv_log_record(st->removed || st->aborted || st->kept ? NV_LOG_NOTICE : NV_LOG_INFO,
		      "cleanup", f, NV_LF_COUNT(f), "%s", nv_sb_str(&b));
	nv_sb_free(&b);
}

void nv_leftovers_clean(nv_store *s, nv_leftover_stats *out)
{
	const nv_location *loc = nv_drv_location(s);
	nv_leftover_stats st = { 0 };
	int lease = nv_lease_held(loc), rc, proven = 0;
	int64_t now = (int64_t)time(NULL), max_age = nv_leftover_max_age();
	nv_leftover_list *l = NULL;
	nv_leftover lo = { 0 };
	int uploads = 0;

	if ((rc = nv_drv_leftovers_open(&l, s))) {
		/* A driver or server without the list (azure, s3rver), or credentials
		 * that may not list it: nothing to do, and nothing to warn about. */
		if (rc == NV_ENOTSUP || rc == NV_EPERM)
			nv_log(NV_LOG_DEBUG, "not cleaning up %s: %s", loc->text, nv_error_msg());
		else
			nv_leftover_count(&st, &lo, rc, loc->text);
		nv_error_clear();
		goto out;
	}
	while ((rc = nv_drv_leftovers_next(l, &lo)) == 0) {
		uploads |= lo.upload != NULL;
		switch (nv_leftover_judge(&lo, lease, now, max_age, &proven)) {
		case 1:
			rc = nv_drv_leftover_remove(s, &lo, proven);
			break;
		case 2:
			rc = NV_ENOTSUP;
			break;
		default:
			continue;
		}
		if (nv_leftover_count(&st, &lo, rc, loc->text))
			break;
	}
	if (rc < 0 && !st.failed)
		nv_leftover_count(&st, &lo, rc, loc->text);
	nv_drv_leftovers_close(l);
	nv_error_clear();
out:
	nv_leftovers_report(&st, loc->text, uploads);
	if (out)
		*out = st;
}
