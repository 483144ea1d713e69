/* times.h: the calendar times navette shows and applies: one range, years 1 to 9999
 * UTC, and one way to print a time outside it. Everyone may call. */
#ifndef NV_TIMES_H
#define NV_TIMES_H

#include <stdint.h>

#define NV_TIME_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define NV_TIME_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */
#define NV_TIME_LEN 32               /* "@-9223372036854775808" fits */

/* 1 when sec (seconds since 1970, UTC) lies in [NV_TIME_MIN, NV_TIME_MAX]. A time
 * outside (a crafted catalog, a file dated 2^63-1, a store's metadata) is never
 * shown as a date nor applied to a file: the rule is in README.md ("File times"). */
int nv_time_in_range(int64_t sec);

/* out: "YYYY-MM-DDTHH:MM:SSZ" and 0; for a time out of range, "@SECONDS" (the raw
 * number, as date(1) reads it) and -1. */
int nv_time_utc(char out[NV_TIME_LEN], int64_t sec);

#endif
