/* uses_cli.c: fixture of tests/structure/run.sh: a lower layer that includes
 * the CLI's header, which the cli-header rule refuses. */
#include "cli/cli.h"

int nv_uses_cli(void)
{
	return nv_cli_main(0);
}
