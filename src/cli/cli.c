/* cli.c: parses the command line, loads the config, dispatches to a command.
 * Called by main.c only. */
#include "nv_autoconf.h"

#include "cli.h"
#include "cli_commands.h"
#include "util/retry.h"
#include "driver/bwlimit.h"
#include "driver/driver.h"
#include "driver/txcap.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/state.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_CONFIG = 1000, OPT_LOG_JSON, OPT_JSON, OPT_FSYNC, OPT_TRANSFERS, OPT_BUFFER,
	OPT_RETRIES, OPT_TIMEOUT, OPT_VERIFY, OPT_DELETE, OPT_SIZE_ONLY,
	OPT_RECIPIENTS_FILE, OPT_SIGNING_KEY, OPT_SIGNING_PUBKEY, OPT_PASSPHRASE_FILE,
	OPT_SIGNING, OPT_GENERATION, OPT_LEVEL, OPT_MAX_AGE, OPT_KEEP_MODES, OPT_WAIT_LOCK,
	OPT_REMOVE_ALL, OPT_ALL, OPT_SIGNING_PUBKEYS, OPT_EXCLUDE, OPT_INCLUDE, OPT_EXCLUDE_FROM,
	OPT_FILES_FROM, OPT_MIN_AGE, OPT_DELETE_EXCLUDED, OPT_ALLOW_EMPTY_SOURCE, OPT_MAX_DELETE,
	OPT_BACKUP_DIR,
	OPT_BWLIMIT, OPT_MAX_TRANSFER, OPT_METRICS_FILE,
	OPT_SHARD, OPT_SHARD_COUNT, OPT_RUN,
	OPT_TO, OPT_NO_KEEP, OPT_SAMPLE, OPT_SEED, OPT_REPORT, OPT_REPORT_MD, OPT_HASHES_FROM,
	OPT_CANARY, OPT_PREPARE, OPT_WAIT, OPT_MERGE_REPORTS, OPT_MAX_MEMORY,
};

static const struct option nv_long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "log-json", no_argument, NULL, OPT_LOG_JSON },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "checksum", no_argument, NULL, 'c' },
	{ "progress", no_argument, NULL, 'P' },
	{ "fsync", required_argument, NULL, OPT_FSYNC },
	{ "transfers", required_argument, NULL, OPT_TRANSFERS },
	{ "buffer-size", required_argument, NULL, OPT_BUFFER },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "verify", required_argument, NULL, OPT_VERIFY },
	{ "delete", no_argument, NULL, OPT_DELETE },
	{ "size-only", no_argument, NULL, OPT_SIZE_ONLY },
	{ "identity", required_argument, NULL, 'i' },
	{ "recipient", required_argument, NULL, 'r' },
	{ "recipients-file", required_argument, NULL, OPT_RECIPIENTS_FILE },
	{ "signing-key", required_argument, NULL, OPT_SIGNING_KEY },
	{ "signing-pubkey", required_argument, NULL, OPT_SIGNING_PUBKEY },
	{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
	{ "output", required_argument, NULL, 'o' },
	{ "signing", no_argument, NULL, OPT_SIGNING },
	{ "generation", required_argument, NULL, OPT_GENERATION },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "keep-modes", no_argument, NULL, OPT_KEEP_MODES },
	{ "wait-lock", required_argument, NULL, OPT_WAIT_LOCK },
	{ "remove-all", no_argument, NULL, OPT_REMOVE_ALL },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "signing-pubkeys", required_argument, NULL, OPT_SIGNING_PUBKEYS },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM },
	{ "files-from", required_argument, NULL, OPT_FILES_FROM },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "delete-excluded", no_argument, NULL, OPT_DELETE_EXCLUDED },
	{ "allow-empty-source", no_argument, NULL, OPT_ALLOW_EMPTY_SOURCE },
	{ "max-delete", required_argument, NULL, OPT_MAX_DELETE },
	{ "backup-dir", required_argument, NULL, OPT_BACKUP_DIR },
	{ "bwlimit", required_argument, NULL, OPT_BWLIMIT },
	{ "max-transfer", required_argument, NULL, OPT_MAX_TRANSFER },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "shard-count", required_argument, NULL, OPT_SHARD_COUNT },
	{ "run", required_argument, NULL, OPT_RUN },
	{ "to", required_argument, NULL, OPT_TO },
	{ "no-keep", no_argument, NULL, OPT_NO_KEEP },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "report-md", required_argument, NULL, OPT_REPORT_MD },
	{ "hashes-from", required_argument, NULL, OPT_HASHES_FROM },
	{ "canary", no_argument, NULL, OPT_CANARY },
	{ "prepare", no_argument, NULL, OPT_PREPARE },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "merge-reports", required_argument, NULL, OPT_MERGE_REPORTS },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ NULL, 0, NULL, 0 },
};

static const nv_command *nv_command_find(const char *name)
{
	for (const nv_command *c = nv_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void nv_print_usage(FILE *f)
{
	fputs("usage: navette [OPTIONS] COMMAND [ARGS]\n\ncommands:\n", f);
	for (const nv_command *c = nv_commands; c->name; c++)
		fprintf(f, "  navette %s\n", c->usage);
	fputs("\nglobal options:\n"
	      "  --config FILE     config file (default ~/.config/navette/navette.conf)\n"
	      "  --log-json        log as JSON Lines on stderr\n"
	      "  -v, --verbose     say more (each copied/deleted file)\n"
	      "  -q, --quiet       errors only\n"
	      "  -h, --help        this help; `navette help COMMAND` for one command\n"
	      "  -V, --version     version and compiled-in drivers\n"
	      "\nexit codes: 0 success, 1 differences or verification failure, 2 usage or\n"
	      "configuration error, 3 partial (some items failed), 4 fatal error\n", f);
}

static void nv_print_command_help(const nv_command *c)
{
	printf("usage: navette %s\n\n%s\n", c->usage, c->help);
	if (c->options[0]) {
		const char *p = c->options;

		printf("\noptions:");
		while (*p) {
			size_t n = strcspn(p, " ");

			printf(" --%.*s", (int)n, p);
			p += n + (p[n] == ' ');
		}
		printf("\n");
	}
	printf("(see navette(1) for every option)\n");
}

static void nv_print_version(void)
{
	printf("navette %s\ndrivers:", PACKAGE_VERSION);
	for (const nv_driver *const *d = nv_drivers(); *d; d++)
		printf(" %s", (*d)->name);
	printf("\n");
}

/* Arguments are echoed: escaped, or a JSON line under --log-json. */
__attribute__((format(printf, 1, 2)))
static int nv_usage_error(const char *fmt, ...)
{
	nv_sb b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	nv_sb_vaddf(&b, fmt, ap);
	va_end(ap);
	if (nv_log_json()) {
		nv_log(NV_LOG_ERROR, "%s (try navette --help)", nv_sb_str(&b));
	} else {
		fputs("navette: ", stderr);
		nv_escape_fputs(nv_sb_str(&b), stderr);
		fputs("\n(try navette --help)\n", stderr);
	}
	nv_sb_free(&b);
	return NV_EXIT_USAGE;
}

static int nv_parse_count(const char *opt, const char *v, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || n > max || (n == 0 && strcmp(opt, "retries") != 0))
		return nv_usage_error("bad value for --%s", opt), -1;
	*out = (unsigned)n;
	return 0;
}

/* A filter option, in the order given (engine/filter.h): first match wins. */
static int nv_filter_option(nv_cli *c, int ch, const char *arg)
{
	int rc;

	if (!c->filter && nv_filter_new(&c->filter))
		return NV_EXIT_FATAL;
	if (ch == OPT_EXCLUDE || ch == OPT_INCLUDE)
		rc = nv_filter_add(c->filter, ch == OPT_INCLUDE, arg);
	else if (ch == OPT_EXCLUDE_FROM)
		rc = nv_filter_add_file(c->filter, 0, arg);
	else
		rc = nv_filter_files_from(c->filter, arg);
	return rc ? nv_usage_error("%s", nv_error_msg()) : 0;
}

/* --max-delete N (files) or N% (of the destination); one of each may be given. */
static int nv_max_delete_option(nv_cli *c, const char *arg)
{
	char *end;
	long long n = strtoll(arg, &end, 10);

	if (end == arg || n < 0 || (*end && strcmp(end, "%")) || (*end && n > 100))
		return nv_usage_error("--max-delete takes a number of files (100) or a share "
				      "of the destination (10%%), not '%s'", arg);
	if (*end)
		c->eng.guard.max_pct = (int)n;
	else
		c->eng.guard.max_count = n;
	return 0;
}

/* Applies one parsed option; returns 0, or an exit code. */
static int nv_apply_option(nv_cli *c, int ch, const char *arg, int *verbosity, int *log_json,
			   const char **config_path)
{
	unsigned n;
	uint64_t sz;

	switch (ch) {
	case 'v': (*verbosity)++; break;
	case 'q': *verbosity = -1; break;
	case OPT_CONFIG: *config_path = arg; break;
	case OPT_LOG_JSON: *log_json = 1; break;
	case OPT_JSON: c->json = 1; break;
	case 'n': c->eng.dry_run = 1; break;
	case 'c': c->eng.checksum = 1; break;
	case 'P': c->eng.progress = 1; break;
	case OPT_DELETE: c->eng.delete_extra = 1; break;
	case OPT_SIZE_ONLY: c->eng.size_only = 1; break;
	case 'i':
		if (c->n_identity_files >= NV_CLI_MAX_LIST)
			return nv_usage_error("too many --identity options");
		c->identity_files[c->n_identity_files++] = arg;
		break;
	case 'r':
		if (c->n_recipients >= NV_CLI_MAX_LIST)
			return nv_usage_error("too many --recipient options");
		c->recipients[c->n_recipients++] = arg;
		break;
	case OPT_RECIPIENTS_FILE:
		if (c->n_recipients_files >= NV_CLI_MAX_LIST)
			return nv_usage_error("too many --recipients-file options");
		c->recipients_files[c->n_recipients_files++] = arg;
		break;
	case OPT_SIGNING_KEY: c->signing_key = arg; break;
	case OPT_SIGNING_PUBKEY: c->signing_pubkey = arg; break;
	case OPT_PASSPHRASE_FILE: c->passphrase_file = arg; break;
	case 'o': c->output = arg; break;
	case OPT_SIGNING: c->signing = 1; break;
	case OPT_KEEP_MODES: c->keep_modes = 1; break;
	case OPT_REMOVE_ALL: c->remove_all = 1; break;
	case OPT_ALL: c->all = 1; break;
	case OPT_SIGNING_PUBKEYS: c->signing_pubkeys = arg; break;
	case OPT_EXCLUDE: case OPT_INCLUDE: case OPT_EXCLUDE_FROM: case OPT_FILES_FROM:
		return nv_filter_option(c, ch, arg);
	case OPT_DELETE_EXCLUDED: c->eng.delete_excluded = 1; break;
	case OPT_ALLOW_EMPTY_SOURCE: c->eng.guard.allow_empty_source = 1; break;
	case OPT_MAX_DELETE: return nv_max_delete_option(c, arg);
	case OPT_BACKUP_DIR: c->backup_dir = arg; break;
	case OPT_MIN_AGE:
		if (nv_parse_duration(arg, &c->min_age_seconds))
			return nv_usage_error("--min-age takes a duration such as 90s, 30m, 26h "
					      "or 7d, not '%s'", arg);
		break;
	case OPT_METRICS_FILE: c->metrics_file = arg; break;
	case OPT_SHARD: c->shard_arg = arg; break;
	case OPT_SHARD_COUNT:
		return nv_parse_count("shard-count", arg, NV_SHARD_MAX, &c->shard_count) ?
		       NV_EXIT_USAGE : 0;
	case OPT_RUN: c->run = arg; break;
	case OPT_TO: c->to = arg; break;
	case OPT_NO_KEEP: c->no_keep = 1; break;
	case OPT_SAMPLE: c->sample = arg; break;
	case OPT_SEED: c->seed = arg; break;
	case OPT_REPORT: c->report = arg; break;
	case OPT_REPORT_MD: c->report_md = arg; break;
	case OPT_HASHES_FROM: c->hashes_from = arg; break;
	case OPT_CANARY: c->canary = 1; break;
	case OPT_PREPARE: c->prepare = 1; break;
	case OPT_MERGE_REPORTS: c->merge_reports = arg; break;
	case OPT_MAX_MEMORY: c->max_memory = arg; break;
	case OPT_BWLIMIT:
		if (nv_bw_table_parse(&c->bw, arg))
			return nv_usage_error("%s", nv_error_msg());
		c->bwlimit = arg;
		break;
	case OPT_MAX_TRANSFER:
		if (nv_parse_size("--max-transfer", arg, &sz) || !sz)
			return nv_usage_error("--max-transfer takes a size such as 500M or 2G, "
					      "not '%s'", arg);
		c->max_transfer = sz;
		break;
	case OPT_WAIT_LOCK: case OPT_WAIT: {
		long long secs;

		if (nv_parse_duration(arg, &secs))
			return nv_usage_error("--%s takes a duration such as 90s, 30m or 2h, not "
					      "'%s'", ch == OPT_WAIT ? "wait" : "wait-lock", arg);
		*(ch == OPT_WAIT ? &c->wait_ms : &c->wait_lock_ms) = secs * 1000;
		break;
	}
	case OPT_LEVEL:
		if (strcmp(arg, "list") && strcmp(arg, "hash") && strcmp(arg, "deep"))
			return nv_usage_error("--level takes list, hash or deep, not '%s'", arg);
		c->level = arg;
		break;
	case OPT_MAX_AGE:
		if (nv_parse_duration(arg, &c->max_age_seconds))
			return nv_usage_error("--max-age takes a duration such as 90s, 30m, 26h "
					      "or 7d, not '%s'", arg);
		c->max_age = arg;
		break;
	case OPT_GENERATION: {
		char *end;

		c->generation = strtoll(arg, &end, 10);
		if (!*arg || *end || c->generation < 1)
			return nv_usage_error("--generation takes a number from 1, not '%s'", arg);
		break;
	}
	case OPT_FSYNC:
		if (strcmp(arg, "each") && strcmp(arg, "batch") && strcmp(arg, "none"))
			return nv_usage_error("--fsync takes each, batch or none, not '%s'", arg);
		return nv_config_set_override(c->cfg, "fsync", arg) ? NV_EXIT_FATAL : 0;
	case OPT_TRANSFERS:
		if (nv_parse_count("transfers", arg, 256, &n))
			return NV_EXIT_USAGE;
		c->eng.transfers = n;
		break;
	case OPT_RETRIES:
		if (nv_parse_count("retries", arg, 100, &n))
			return NV_EXIT_USAGE;
		c->eng.retries = n;
		nv_retry_set_default(n); /* steps outside a pool item: listings, manifests */
		return nv_config_set_override(c->cfg, "retries", arg) ? NV_EXIT_FATAL : 0;
	case OPT_TIMEOUT:
		if (nv_parse_count("timeout", arg, 86400, &n))
			return NV_EXIT_USAGE;
		return nv_config_set_override(c->cfg, "timeout", arg) ? NV_EXIT_FATAL : 0;
	case OPT_BUFFER:
		if (nv_parse_size("--buffer-size", arg, &sz) || sz < 4096 || sz > (256u << 20))
			return nv_usage_error("--buffer-size takes 4K to 256M, not '%s'", arg);
		c->eng.buffer_size = (size_t)sz;
		break;
	case OPT_VERIFY:
		if (strcmp(arg, "reread") == 0)
			c->eng.verify_reread = 1;
		else if (strcmp(arg, "size") == 0)
			c->eng.verify_reread = 0;
		else if (strcmp(arg, "hash") == 0)
			c->verify_hash = 1; /* replicate only: cmd_copy refuses it */
		else
			return nv_usage_error("--verify takes size, reread or hash, not '%s'", arg);
		break;
	default:
		return NV_EXIT_USAGE;
	}
	return 0;
}

int nv_parse_duration(const char *s, long long *out)
{
	char *end;
	long long n = strtoll(s, &end, 10), mult;

	if (end == s || n < 0)
		return -1;
	switch (*end) {
	case '\0': case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	*out = n * mult;
	return 0;
}

static const char *nv_option_name(int ch)
{
	for (const struct option *o = nv_long_options; o->name; o++)
		if (o->val == ch)
			return o->name;
	return "?";
}

static int nv_option_allowed(const nv_command *cmd, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = cmd->options; (p = strstr(p, name)); p += n)
		if ((p == cmd->options || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Runs the command between its start and its summary (util/log.h), with a
 * progress report for those that take --progress (util/progress.h). Its
 * location arguments are the first min_args (pull: VAULT DIR, not PATHs). */
static int nv_cli_run_logged(nv_cli *c, const nv_command *cmd)
{
	int progress = nv_option_allowed(cmd, "progress"), rc, n = cmd->min_args;
	char *shown[4] = { NULL };

	for (int i = 0; i < n && i < 4; i++)
		shown[i] = nv_location_public(c->args[i]);
	nv_log_start(c->command, (const char *const *)shown, (size_t)(n < 4 ? n : 4));
	for (int i = 0; i < 4; i++)
		free(shown[i]);
	if (progress)
		nv_progress_begin(c->eng.progress);
	rc = cmd->run(c);
	nv_cli_memory_end();
	if (progress)
		nv_progress_end();
	nv_log_finish(rc);
	return rc;
}

static int nv_cli_dispatch(nv_cli *c, const nv_command *cmd, const char *config_path);

static int nv_cli_run(nv_cli *c, int argc, char **argv)
{
	static const int globals[] = { 'h', 'V', 'v', 'q', OPT_CONFIG, OPT_LOG_JSON };
	int seen[64], nseen = 0, ch, verbosity = 0, log_json = 0, rc, help = 0, version = 0;
	const char *config_path = NULL;
	const nv_command *cmd;

	opterr = 0;
	optind = 1;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (strcmp(argv[i], "--log-json") == 0)
			nv_log_setup(1, 0); /* so that usage errors are JSON lines too */
	while ((ch = getopt_long(argc, argv, "+hVvqncPi:r:o:", nv_long_options, NULL)) != -1 ||
	       optind < argc) {
		if (ch == -1) {
			/* A positional argument: keep it and go on parsing options after
			 * it; after "--" everything is positional. */
			if (strcmp(argv[optind - 1], "--") == 0) {
				while (optind < argc)
					c->args[c->nargs++] = argv[optind++];
				break;
			}
			c->args[c->nargs++] = argv[optind++];
			continue;
		}
		if (ch == '?' || ch == ':')
			return nv_usage_error("unknown option or missing value: %s",
					      argv[optind - 1]);
		if (ch == 'h') {
			help = 1;
			continue;
		}
		if (ch == 'V') {
			version = 1;
			continue;
		}
		if (nseen < 64)
			seen[nseen++] = ch;
		if ((rc = nv_apply_option(c, ch, optarg, &verbosity, &log_json, &config_path)))
			return rc;
	}
	nv_log_setup(log_json, verbosity);
	if (version) {
		nv_print_version();
		return NV_EXIT_OK;
	}
	if (c->nargs == 0) {
		if (help) {
			nv_print_usage(stdout);
			return NV_EXIT_OK;
		}
		nv_print_usage(stderr);
		return NV_EXIT_USAGE;
	}
	c->command = c->args[0];
	c->args++;
	c->nargs--;
	if (strcmp(c->command, "help") == 0) {
		if (c->nargs == 0) {
			nv_print_usage(stdout);
			return NV_EXIT_OK;
		}
		cmd = nv_command_find(c->args[0]);
		if (!cmd)
			return nv_usage_error("no such command: %s", c->args[0]);
		nv_print_command_help(cmd);
		return NV_EXIT_OK;
	}
	cmd = nv_command_find(c->command);
	if (!cmd)
		return nv_usage_error("unknown command: %s", c->command);
	if (help) {
		nv_print_command_help(cmd);
		return NV_EXIT_OK;
	}
	if (c->merge_reports && strcmp(cmd->name, "check") == 0)
		cmd = &nv_check_merge; /* check --merge-reports OUT REPORT...: its own arguments */
	for (int i = 0; i < nseen; i++) {
		int global = 0;

		for (size_t g = 0; g < sizeof(globals) / sizeof(globals[0]); g++)
			global |= seen[i] == globals[g];
		if (!global && !nv_option_allowed(cmd, nv_option_name(seen[i])))
			return nv_usage_error("%s does not take --%s", cmd == &nv_check_merge ?
					      "check --merge-reports" : "this command",
					      nv_option_name(seen[i]));
	}
	if (c->nargs < cmd->min_args || (cmd->max_args >= 0 && c->nargs > cmd->max_args)) {
		if (nv_log_json())
			nv_log(NV_LOG_ERROR, "usage: navette %s", cmd->usage);
		else
			fprintf(stderr, "usage: navette %s\n", cmd->usage);
		return NV_EXIT_USAGE;
	}
	/* Process-wide, before any worker starts: every driver's reads and writes
	 * go through the one bucket and the one cap (driver/driver.c). */
	nv_bwlimit_set(c->bwlimit ? &c->bw : NULL, NULL);
	nv_state_readonly(c->eng.dry_run); /* a dry run leaves the state dir as it is */
	nv_txcap_set(c->max_transfer);
	if ((rc = nv_cli_shard(c)) || (rc = nv_cli_metrics_begin(c)))
		return rc;
	return nv_cli_metrics_end(c, nv_cli_dispatch(c, cmd, config_path));
}

/* Loads the config, then runs the command; returns its exit code. */
static int nv_cli_dispatch(nv_cli *c, const nv_command *cmd, const char *config_path)
{
	int rc = nv_config_load(&c->cfg_file, config_path);

	if (rc) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return NV_EXIT_USAGE;
	}
	if ((rc = nv_config_merge_overrides(c->cfg_file, c->cfg))) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return NV_EXIT_FATAL;
	}
	nv_config_free(c->cfg);
	c->cfg = c->cfg_file;
	c->cfg_file = NULL;
	if ((rc = nv_cli_memory_begin(c)))
		return rc;
	return nv_cli_run_logged(c, cmd);
}

int nv_cli_main(int argc, char **argv)
{
	nv_cli c;
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	int rc;

	memset(&c, 0, sizeof(c));
	nv_engine_defaults(&c.eng);
	c.generation = -1;
	c.min_age_seconds = -1;
	c.args = args;
	c.cfg = nv_config_new(); /* holds command-line overrides until the file is read */
	if (!args || !c.cfg) {
		fputs("navette: out of memory\n", stderr);
		free(args);
		nv_config_free(c.cfg);
		return NV_EXIT_FATAL;
	}
	rc = nv_cli_run(&c, argc, argv);
	nv_filter_free(c.filter);
	nv_config_free(c.cfg);
	nv_config_free(c.cfg_file);
	free(args);
	return rc;
}
