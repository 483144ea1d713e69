/* cli.h: command-line dispatcher, the options every command shares, and the
 * per-command entry points. Called by main.c; commands live in src/cmd_*.c. */
#ifndef NV_CLI_H
#define NV_CLI_H

#include "util/config.h"
#include "driver/bwtable.h"
#include "engine/engine.h"
#include "util/exit.h"
#include "util/metrics.h"


#define NV_CLI_MAX_LIST 32

typedef struct nv_cli {
	const char *command;
	char **args;          /* positional arguments after the command */
	int nargs;
	nv_config *cfg;
	nv_config *cfg_file;   /* while loading: the file, before overrides move in */
	nv_engine_opts eng;
	int json;             /* --json output (ls, log, verify) */
	/* vault options */
	const char *identity_files[NV_CLI_MAX_LIST];
	int n_identity_files;
	const char *recipients[NV_CLI_MAX_LIST];
	int n_recipients;
	const char *recipients_files[NV_CLI_MAX_LIST];
	int n_recipients_files;
	const char *signing_key;
	const char *signing_pubkey;
	const char *passphrase_file;
	const char *output;   /* keygen -o */
	const char *level;    /* verify --level */
	const char *max_age;  /* verify --max-age, as given */
	long long max_age_seconds;
	long long generation; /* -1: newest */
	int signing;          /* keygen --signing */
	int keep_modes;       /* pull --keep-modes */
	int verify_hash;      /* replicate --verify hash */
	long long wait_lock_ms; /* --wait-lock */
	int remove_all;       /* unlock --remove-all */
	int all;              /* replicate/verify --all: every vault under a prefix */
	const char *signing_pubkeys; /* --signing-pubkeys FILE: vault id + key lines */
	/* drill (checked by cmd_drill.c), with --sample and --seed; --max-age is the
	 * heartbeat's age there too */
	const char *to;        /* --to DIR: restore there and keep it */
	int no_keep;           /* --no-keep: stream, write nothing */
	const char *report;    /* --report FILE: drill (JSON); check, copy, sync (JSON Lines) */
	const char *report_md; /* --report-md FILE (Markdown) */
	int canary;            /* drill --canary: the canary files, with a drill key */
	/* copy, sync, check: what is considered (engine/filter.h), in option order */
	nv_filter *filter;    /* NULL until a filter option is given */
	long long min_age_seconds; /* --min-age; -1: not given. --max-age is verify's
				    * max_age, read as a file age by these commands */
	const char *backup_dir; /* sync, copy --backup-dir LOCATION */
	/* unattended runs */
	const char *bwlimit;  /* --bwlimit as given, parsed into bw */
	nv_bw_table bw;
	uint64_t max_transfer; /* --max-transfer; 0: none */
	const char *metrics_file; /* --metrics-file */
	nv_metrics *metrics;  /* open while the command runs, with --metrics-file */
	/* sharded runs (cli_shard.c): c->eng.shard points at shard once resolved */
	const char *shard_arg; /* --shard K/N or auto, as given */
	unsigned shard_count; /* --shard-count; 0: not given */
	const char *run;      /* --run (publish's too) */
	nv_shard shard;
	int prepare;          /* publish --prepare */
	long long wait_ms;    /* publish --wait DURATION */
	const char *sample, *seed; /* verify --sample, --seed, as given */
	const char *hashes_from; /* check --hashes-from REPORT */
	const char *merge_reports; /* check --merge-reports OUT (cmd_merge.c) */
	const char *max_memory; /* --max-memory as given */
} nv_cli;

int nv_cli_main(int argc, char **argv);
/* Parses args[i] as a location with the command's config; prints the error. */
int nv_cli_location(nv_cli *c, int i, nv_location **out);

/* The filter options (--include ... --min-age, --max-age as a file age) into
 * c->eng.filter; 0, or an exit code with the error logged (cli_location.c). */
int nv_cli_filter(nv_cli *c);

/* --metrics-file (cli_metrics.c): the report is opened before the command
 * runs; the command adds its end-of-run figures under the location it wrote
 * to (or checked), as written on the command line: credentials are stripped
 * here. c->metrics may be NULL: then these do nothing. */
int nv_cli_metrics_begin(nv_cli *c);
void nv_cli_metrics_add(nv_cli *c, const char *dest, const nv_metrics_figures *f, int code);
/* A series for dest summing the ones added so far (replicate/verify --all). */
void nv_cli_metrics_total(nv_cli *c, const char *dest, int code);
/* Writes the file (a bare series when the command added none: it stopped
 * before any figure); returns code, or 4 when the file could not be written. */
int nv_cli_metrics_end(nv_cli *c, int code);

/* --shard, --shard-count and --run (cli_shard.c): resolves K/N and the run id,
 * gives the shard its own state folder, labels the log and the metrics.
 * Returns 0 (also when not sharded) or an exit code, the error logged. */
int nv_cli_shard(nv_cli *c);

/* The run's memory budget (cli_memory.c): --max-memory, else the config's
 * max_memory (or $NAVETTE_MAX_MEMORY), else 48M; set before the command runs
 * (0, or an exit code). The end warns when the budget was too small. */
int nv_cli_memory_begin(nv_cli *c);
void nv_cli_memory_end(void);

/* "90s", "30m", "26h", "7d" (plain number: seconds); -1 if malformed. */
int nv_parse_duration(const char *s, long long *out);

/* The commands' entry points are declared in cli_commands.h, beside their table. */

#endif
