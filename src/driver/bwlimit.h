/* bwlimit.h: --bwlimit at the nv_drv_* choke point: one token bucket for the
 * whole process, shared by every worker of every driver, following its
 * timetable (bwtable.h) as the clock turns. A byte read counts; a byte written
 * counts unless the same thread has just read it (a copy counts each byte once,
 * as rclone's --bwlimit does, and a thread that reads then writes is never
 * paced twice for one byte). Set up once by the command line before a run;
 * driver.c paces every byte. The bucket and the clock are exposed so that
 * tests run on a clock of their own. */
#ifndef NV_BWLIMIT_H
#define NV_BWLIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "bwtable.h"

/* A token bucket in bytes. Tokens go below zero to grant bytes ahead of time:
 * each taker is told how long its own bytes take to be paid for, so takers
 * sleep side by side, never in turn, and together get `rate` bytes a second. */
typedef struct nv_bucket {
	double rate;   /* bytes/s; 0: no limit */
	double burst;  /* most tokens saved up while idle: one slice */
	double tokens;
	double last;   /* clock time of the last refill, in seconds */
} nv_bucket;

/* Sets the rate from clock time now, keeping any debt; a bucket that had no
 * limit starts empty (no free burst at the start of a limit). */
void nv_bucket_set(nv_bucket *b, uint64_t rate, double now);
/* Takes n bytes at now; returns how many seconds after now they are paid for
 * (0 when tokens were there). */
double nv_bucket_take(nv_bucket *b, uint64_t n, double now);

/* The bytes a driver call moves at once under rate: 1/20 s worth (at least
 * NV_BW_SLICE_MIN), so that each wait is short and streams never stall for
 * long; SIZE_MAX without a limit. */
size_t nv_bw_slice(uint64_t rate);
#define NV_BW_SLICE_MIN 4096u

/* Where the limiter gets the time. Every member must be provided. */
typedef struct nv_bw_clock {
	double (*now)(void);           /* monotonic, seconds */
	unsigned (*week_minute)(void); /* local time, minutes from Monday 00:00 */
	void (*sleep)(double seconds);
} nv_bw_clock;

/* Installs the limit of table t for the process (a copy; NULL or a table that
 * limits nothing: no limit), on clock clk (NULL: the real clocks). Call before
 * workers start. */
void nv_bwlimit_set(const nv_bw_table *t, const nv_bw_clock *clk);
/* The rate in force now (0: none), as last looked up in the timetable. */
uint64_t nv_bwlimit_rate(void);

/* How many of len bytes one driver call may move: a call goes to the driver in
 * slices of that size. */
size_t nv_bwlimit_slice(size_t len);
/* A read call starts: what this thread read before no longer pays for writes. */
void nv_bwlimit_read_begin(void);
/* After a slice of n bytes was read: takes them from the bucket and sleeps
 * until they are paid for; they then pay for as many bytes written next. */
void nv_bwlimit_read(uint64_t n);
/* Before a slice of n bytes is written: takes from the bucket what the bytes
 * just read do not pay for, and sleeps until it is paid for. */
void nv_bwlimit_write(uint64_t n);

/* The calling thread carries control traffic (lease renewals, which must go
 * out on time): from now on it is neither paced nor counted, nor refused by
 * --max-transfer. */
void nv_bwlimit_exempt_thread(void);
int nv_bwlimit_thread_exempt(void);

#endif
