/* cli_location.c: a command's location arguments, parsed with the run's
 * config, and the filter that chooses the files considered there. Called by
 * the cmd_*.c files (a leaf: it calls nothing back in cli.c). */
#include "cli.h"
#include "util/log.h"

#include <time.h>

int nv_cli_location(nv_cli *c, int i, nv_location **out)
{
	int rc = nv_location_parse(out, c->args[i], c->cfg);

	if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return rc;
}

int nv_cli_filter(nv_cli *c)
{
	if (c->min_age_seconds >= 0 || c->max_age) {
		if (!c->filter && nv_filter_new(&c->filter))
			return NV_EXIT_FATAL;
		nv_filter_set_age(c->filter, c->min_age_seconds,
				  c->max_age ? c->max_age_seconds : -1, (int64_t)time(NULL));
	}
	if (c->filter && nv_filter_check(c->filter)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return NV_EXIT_USAGE;
	}
	c->eng.filter = c->filter;
	return 0;
}
