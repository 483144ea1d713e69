/* times.c: the one range of calendar times and their UTC form (times.h).
 * Everyone may call. */
#include "times.h"

#include <stdio.h>
#include <time.h>

int nv_time_in_range(int64_t sec)
{
	return sec >= NV_TIME_MIN && sec <= NV_TIME_MAX;
}

int nv_time_utc(char out[NV_TIME_LEN], int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	/* gmtime_r fails past its int year; strftime would then print whatever the
	 * stack held (ls once showed other garbage on each run) */
	if (!nv_time_in_range(sec) || (int64_t)t != sec || !gmtime_r(&t, &tm)) {
		snprintf(out, NV_TIME_LEN, "@%lld", (long long)sec);
		return -1;
	}
	/* %04d: strftime's %Y does not pad the years before 1000 */
	snprintf(out, NV_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}
