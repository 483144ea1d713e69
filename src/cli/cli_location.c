/* cli_location.c: a command's location arguments, parsed with the run's
 * config. Called by the cmd_*.c files (a leaf: it calls nothing back in cli.c). */
#include "cli.h"
#include "util/log.h"

int nv_cli_location(nv_cli *c, int i, nv_location **out)
{
	int rc = nv_location_parse(out, c->args[i], c->cfg);

	if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return rc;
}
