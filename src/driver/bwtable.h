/* bwtable.h: the values --bwlimit takes: one rate ("10M", "off") or a
 * timetable of rates by time of day or of week, written as rclone writes it
 * ("08:00,10M 19:00,off", "Mon-08:00,512K Sat-00:00,off"), and which entry is in
 * force at a given time. Pure functions: the command line parses, bwlimit.c
 * follows the table, tests give the time. */
#ifndef NV_BWTABLE_H
#define NV_BWTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NV_BW_MAX_ENTRIES 32                 /* entries as written */
#define NV_BW_WEEK_MINUTES (7u * 24u * 60u)  /* a timetable repeats every week */

typedef struct nv_bw_entry {
	unsigned minute; /* from Monday 00:00 local time, below NV_BW_WEEK_MINUTES */
	uint64_t rate;   /* bytes per second; 0: no limit */
} nv_bw_entry;

/* A daily entry ("08:00,10M") stands for seven, one each day, so that daily and
 * weekday entries mix. e[] is sorted by minute, no minute twice. n == 0: no
 * limit at any time. */
typedef struct nv_bw_table {
	nv_bw_entry e[NV_BW_MAX_ENTRIES * 7];
	size_t n;
} nv_bw_table;

/* One rate of len bytes of text: bytes/s with an optional binary suffix K, M,
 * G or T, optionally followed by i and B (10M = 10MiB = 10 MiB/s, 1.5K = 1536
 * bytes/s, 100B = 100), "off" or 0 for none. rclone's "UP:DOWN" pairs are
 * refused: navette's limit is one bucket for every byte moved. NV_EINVAL with
 * a message otherwise. */
int nv_bw_rate_parse(uint64_t *out, const char *text, size_t len);

/* A rate alone, or space-separated entries "[Ddd-]HH:MM,RATE" (Ddd: Mon..Sun).
 * Entries may come in any order; two for the same minute are refused. */
int nv_bw_table_parse(nv_bw_table *t, const char *text);

/* The entry in force at week_minute: the last one whose time has passed, or,
 * before the first of the week, the last of the week (the table wraps). */
uint64_t nv_bw_table_at(const nv_bw_table *t, unsigned week_minute);

/* Does any entry limit anything? (A table of "off" entries only does not.) */
int nv_bw_table_limits(const nv_bw_table *t);

/* The minute of the week (Monday 00:00 = 0) of t in local time. */
unsigned nv_bw_week_minute(time_t t);

#endif
