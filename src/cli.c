/* cli.c: command dispatcher (placeholder until the commands land). */
#include "cli.h"

#include <stdio.h>

int nv_cli_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("navette: not yet\n", stderr);
	return NV_EXIT_FATAL;
}
