/* cli_shard.c: --shard K/N|auto, --shard-count and --run: which shard this run
 * is and of which run, its own state folder, the labels of its log and
 * metrics (engine/shard.h). Called by cli.c, once the options are parsed. */
#include "cli.h"
#include "util/log.h"
#include "util/state.h"

#include <string.h>

/* The commands that hold their destination's lock and lease: their shards
 * share both under the run id, so they cannot do without one. */
static int nv_cli_shard_locks(const char *command)
{
	return !strcmp(command, "sync") || !strcmp(command, "copy") ||
	       !strcmp(command, "replicate") || !strcmp(command, "push");
}

static int nv_cli_shard_refuse(void)
{
	nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return NV_EXIT_USAGE;
}

int nv_cli_shard(nv_cli *c)
{
	nv_shard *s = &c->shard;
	char dir[64];

	if (!c->shard_arg) {
		/* publish names the run it publishes; it is no shard */
		if (!c->shard_count && (!c->run || strcmp(c->command, "publish") == 0))
			return 0;
		nv_error_set(NV_EINVAL, "--shard-count and --run go with --shard");
		return nv_cli_shard_refuse();
	}
	if (strcmp(c->shard_arg, "auto") == 0) {
		if (nv_shard_auto(s, c->shard_count))
			return nv_cli_shard_refuse();
	} else if (c->shard_count) {
		nv_error_set(NV_EINVAL, "--shard-count goes with --shard auto (in K/N, N is the "
			     "count)");
		return nv_cli_shard_refuse();
	} else if (nv_shard_parse(s, c->shard_arg)) {
		return nv_cli_shard_refuse();
	}
	if (c->run && nv_shard_set_run(s, c->run)) /* --run overrides the scheduler's */
		return nv_cli_shard_refuse();
	if (!s->run[0] && nv_cli_shard_locks(c->command)) {
		nv_error_set(NV_EINVAL, "a sharded %s needs --run ID, the same for every shard "
			     "of the run: they hold the destination's lease together under it",
			     c->command);
		return nv_cli_shard_refuse();
	}
	/* Locks and caches apart from the other shards' (one home over NFS). */
	nv_shard_dir(s, dir, sizeof(dir));
	nv_state_set_scope(dir);
	nv_log_set_shard(s->label, s->run);
	c->eng.shard = s;
	return 0;
}
