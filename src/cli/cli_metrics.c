/* cli_metrics.c: --metrics-file for the commands (util/metrics.h): opened
 * before a command runs, fed with each command's end-of-run figures under its
 * destination with credentials stripped, written when it returns. Called by
 * cli.c and the cmd_*.c files (a leaf: it calls nothing back in cli.c). */
#include "cli.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

int nv_cli_metrics_begin(nv_cli *c)
{
	if (!c->metrics_file)
		return 0;
	if (nv_metrics_new(&c->metrics, c->metrics_file, c->command) ||
	    (c->eng.shard && nv_metrics_set_shard(c->metrics, c->eng.shard->label,
						  c->eng.shard->run))) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return NV_EXIT_FATAL;
	}
	return 0;
}

static void nv_cli_metrics_put(nv_cli *c, const char *dest, const nv_metrics_figures *f,
			       int code)
{
	char *pub;

	if (!c->metrics)
		return;
	pub = nv_location_public(dest);
	if (!pub || (f ? nv_metrics_add(c->metrics, pub, f, code)
		       : nv_metrics_add_total(c->metrics, pub, code)))
		nv_log(NV_LOG_ERROR, "metrics: out of memory");
	free(pub);
}

void nv_cli_metrics_add(nv_cli *c, const char *dest, const nv_metrics_figures *f, int code)
{
	nv_metrics_figures none = { 0 };

	nv_cli_metrics_put(c, dest, f ? f : &none, code);
}

void nv_cli_metrics_total(nv_cli *c, const char *dest, int code)
{
	nv_cli_metrics_put(c, dest, NULL, code);
}

/* What a command's series is named after: the location it writes to, or for
 * verify the vault it checks. */
static const char *nv_cli_destination(const nv_cli *c)
{
	int i = strcmp(c->command, "verify") == 0 ? 0 : 1;

	return c->nargs > i ? c->args[i] : "";
}

int nv_cli_metrics_end(nv_cli *c, int code)
{
	if (!c->metrics)
		return code;
	if (!nv_metrics_count(c->metrics))
		nv_cli_metrics_add(c, nv_cli_destination(c), NULL, code);
	if (nv_metrics_write(c->metrics)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		code = nv_exit_worst(code, NV_EXIT_FATAL);
	}
	nv_metrics_free(c->metrics);
	c->metrics = NULL;
	return code;
}
