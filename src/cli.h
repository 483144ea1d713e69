/* cli.h: command-line dispatcher and the per-command entry points.
 * Called by main.c only. */
#ifndef NV_CLI_H
#define NV_CLI_H

/* Exit codes, documented in README.md and navette.1. */
enum nv_exit {
	NV_EXIT_OK = 0,
	NV_EXIT_DIFF = 1,    /* differences found or verification failed */
	NV_EXIT_USAGE = 2,   /* usage or configuration error */
	NV_EXIT_PARTIAL = 3, /* some items failed, the rest done */
	NV_EXIT_FATAL = 4,
};

int nv_cli_main(int argc, char **argv);

#endif
