/* cli_memory.c: --max-memory and the config's max_memory: the run's one memory
 * budget (util/membudget.h), set before the command runs, and a warning after
 * it when the budget was too small for every worker's seat. Called by cli.c
 * only (a leaf: it calls nothing back in cli.c). */
#include "cli.h"
#include "util/log.h"
#include "util/membudget.h"

#define NV_MIB(x) ((double)(x) / (1u << 20))

int nv_cli_memory_begin(nv_cli *c)
{
	const char *v = c->max_memory, *what = "--max-memory";
	uint64_t limit = NV_MEMBUDGET_DEFAULT, need;

	if (!v) {
		v = nv_config_global(c->cfg, "max_memory", "NAVETTE_MAX_MEMORY");
		what = "max_memory";
	}
	if (v && (nv_parse_size(what, v, &limit) || limit < (1u << 20))) {
		nv_log(NV_LOG_ERROR, "%s takes a size of at least 1M, such as 64M or 1G, not "
		       "'%s'", what, v);
		return NV_EXIT_USAGE;
	}
	/* The workers' own buffers may take half of it: the rest is for the
	 * part buffers of uploads and the read-ahead. */
	need = (uint64_t)c->eng.transfers * c->eng.buffer_size;
	if (need > limit / 2) {
		nv_log(NV_LOG_ERROR, "%s %.0f MiB is too small for %u transfers of a %.2f MiB "
		       "buffer (%.1f MiB, at most half of it): raise it, or lower --transfers "
		       "or --buffer-size", what, NV_MIB(limit), c->eng.transfers,
		       NV_MIB(c->eng.buffer_size), NV_MIB(need));
		return NV_EXIT_USAGE;
	}
	nv_membudget_set(limit);
	return 0;
}

void nv_cli_memory_end(void)
{
	uint64_t over = nv_membudget_overdraft();

	if (over)
		nv_log(NV_LOG_WARN, "the buffers took %.1f MiB more than the memory budget of "
		       "%.0f MiB: it cannot hold every transfer's buffer and one part of its "
		       "upload; raise --max-memory, or lower --transfers or the store's "
		       "part_size", NV_MIB(over), NV_MIB(nv_membudget_limit()));
}
