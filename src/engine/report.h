/* report.h: the report of `check --report` (the proof of migration) and of
 * `copy`/`sync --report` (the hashes taken at copy time): JSON Lines, a
 * header, one line per file or per name not compared, a summary; the schema
 * is docs/FORMAT.md section 13 and navette(1) REPORTS. Thread-safe: workers
 * add lines as they decide. Called by engine.c, vault/vault_check.c and the
 * commands that open and close it. */
#ifndef NV_REPORT_H
#define NV_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "driver/driver.h"
#include "filter.h"
#include "lister.h"
#include "shard.h"
#include "util/hash.h"

typedef struct nv_report nv_report;

/* How a side's SHA-256 (or its size alone) was obtained: its "how". */
typedef enum nv_report_how {
	NV_HOW_READ,       /* "read": every byte read by this run and hashed */
	NV_HOW_RECORDED,   /* "recorded": from the report of the copy that sent it
			    * (check --hashes-from), the file unchanged since */
	NV_HOW_SERVER_MD5, /* "server-md5": the store checked the MD5 of every byte
			    * sent (copy), so it holds the bytes whose SHA-256 is given */
	NV_HOW_SIZE,       /* "size": the size alone (--size-only, a store that
			    * confirmed nothing more, a file that was not read) */
} nv_report_how;

typedef struct nv_report_side {
	const nv_entry *e;        /* NULL: no such file on this side */
	const unsigned char *sha; /* NULL: no SHA-256 known */
	nv_report_how how;
} nv_report_side;

/* A vault pair's object: what the signed manifest says it must be. */
typedef struct nv_report_expect {
	uint64_t size;
	const unsigned char *sha;
	uint64_t generation;      /* the first manifest naming it */
} nv_report_expect;

typedef struct nv_report_head {
	const char *command;      /* "check", "copy", "sync" */
	const char *compare;      /* "files", or "objects" for a vault pair */
	const nv_location *source, *destination; /* as nv_report_location writes them */
	const nv_filter *filter;  /* may be NULL */
	int size_only;
	const char *hashes_from;  /* may be NULL */
	const char *vault_id;     /* may be NULL */
	const nv_shard *shard;    /* NULL, or --shard: named in the header ("shard",
				   * "run"); names not compared are listed by the
				   * shard whose key they are */
} nv_report_head;

/* How a report names a location: a local one by its absolute path, any
 * other as given with its credentials stripped (nv_location_public). malloc'd. */
char *nv_report_location(const nv_location *loc);
/* Opens path + ".part" and writes the header; the report takes its name only
 * when closed, so a run that dies leaves no report that looks finished. */
int nv_report_open(nv_report **out, const char *path, const nv_report_head *h);
/* One file. verdict: identical, differ, missing, extra (check); copied,
 * unchanged, failed, deleted (copy, sync). why may be NULL; ex NULL but for
 * a vault pair's objects. r may be NULL: nothing is written. */
void nv_report_file(nv_report *r, const char *path, const char *verdict,
		    const nv_report_side *src, const nv_report_side *dst,
		    const nv_report_expect *ex, const char *why);
/* The engine's lines. Both sides by size alone (r may be NULL): */
void nv_report_sizes(nv_report *r, const char *path, const char *verdict,
		     const nv_entry *src, const nv_entry *dst);
/* Both sides hashed: a read now, or recorded (--hashes-from); b read now. */
void nv_report_hashes(nv_report *r, const char *path, const char *verdict,
		      const nv_entry *src, const unsigned char *a, int recorded,
		      const nv_entry *dst, const unsigned char *b);
/* A file copied: src as listed, res what was sent and what the destination
 * confirmed (transfer.h): its "how". */
struct nv_xfer_result;
void nv_report_copied(nv_report *r, const char *path, const nv_entry *src,
		      const struct nv_xfer_result *res);
/* A file the engine could not compare or copy (why: the thread's message):
 * reading 0 for a copy ("failed"), 1 or 2 for a check that failed to read
 * the source or the destination ("unreadable", not compared). */
void nv_report_failed(nv_report *r, const char *path, const nv_entry *src, int reading);
/* Names, as not compared, what the listings src and dst (either may be NULL)
 * leave out (lister.h), unless the filter f leaves them out too or they are
 * another shard's. r may be NULL. */
void nv_report_observe(nv_report *r, nv_sorted *src, nv_sorted *dst, const nv_filter *f);
/* A name that was not compared (kind: symlink, special, unsafe-name,
 * unreadable), on side "source" or "destination". r may be NULL. */
void nv_report_skip(nv_report *r, const char *side, const char *path, const char *kind,
		    const char *why);
/* Writes the summary (the counts of the lines written, the end time, the
 * result: "identical" only for a full check that found every file so), then
 * flushes, syncs and renames the file into place; frees r (NULL accepted).
 * stopped: the run ended early. *result (may be NULL) gets the result word.
 * 0, or an error. */
int nv_report_close(nv_report *r, int exit_code, int stopped, const char **result);

/* The SHA-256 recorded for files by earlier reports (check --hashes-from). */
typedef struct nv_hashbook nv_hashbook;
/* Reads the file lines of the reports in path (several may be concatenated)
 * made for the source `source` (its header's "source" as nv_report_location
 * names it): each source side read whole with its SHA-256, size and mtime.
 * NV_EINVAL when the file is not such a report or names only other sources. */
int nv_hashbook_load(nv_hashbook **out, const char *path, const nv_location *source);
void nv_hashbook_free(nv_hashbook *b);
size_t nv_hashbook_count(const nv_hashbook *b);
/* 1 with sha set when b holds key with e's size and mtime (to the
 * nanosecond); 0 otherwise (then the file is read). b may be NULL. */
int nv_hashbook_find(const nv_hashbook *b, const char *key, const nv_entry *e,
		     unsigned char sha[NV_SHA256_LEN]);

#endif
