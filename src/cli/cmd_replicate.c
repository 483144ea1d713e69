/* cmd_replicate.c: the replicate and unlock commands. Called by the
 * dispatcher in cli.c. */
#include "cli.h"
#include "engine/lease.h"
#include "util/log.h"
#include "vault/replicate.h"

#include <stdlib.h>

int nv_cmd_replicate(nv_cli *c)
{
	nv_replicate_opts o = {
		.signing_pubkey = c->signing_pubkey,
		.transfers = c->eng.transfers,
		.buffer_size = c->eng.buffer_size,
		.retries = c->eng.retries,
		.verify = c->verify_hash ? NV_RVERIFY_HASH
					 : c->eng.verify_reread ? NV_RVERIFY_REREAD : NV_RVERIFY_SIZE,
		.wait_lock_ms = c->wait_lock_ms,
	};
	nv_location *src = NULL, *dst = NULL;
	nv_replicate_stats st;
	int code;

	if (nv_cli_location(c, 0, &src) || nv_cli_location(c, 1, &dst)) {
		code = NV_EXIT_USAGE;
		goto out;
	}
	code = nv_replicate(src, dst, &o, &st);
	nv_log(code ? NV_LOG_ERROR : NV_LOG_NOTICE, "replicate %s -> %s: vault %s generation "
	       "%llu: %llu objects copied (%.1f MiB), %llu already there, %llu repaired, %llu "
	       "failed, %llu refused by verification; %llu manifests published%s, in %.2f s",
	       src->text, dst->text, st.vault_id[0] ? st.vault_id : "?",
	       (unsigned long long)st.generation, (unsigned long long)st.copied,
	       (double)st.copied_bytes / (1 << 20), (unsigned long long)st.present,
	       (unsigned long long)st.repaired, (unsigned long long)st.failed,
	       (unsigned long long)st.differ, (unsigned long long)st.generations,
	       st.heartbeat ? ", heartbeat updated" : "", st.seconds);
out:
	nv_location_free(src);
	nv_location_free(dst);
	return code;
}

int nv_cmd_unlock(nv_cli *c)
{
	const char *env = getenv("NAVETTE_LEASE_TTL");
	long long ttl = env && atoll(env) > 0 ? atoll(env) : NV_LEASE_TTL_DEFAULT;
	nv_location *loc = NULL;
	unsigned removed = 0;
	int rc;

	if (nv_cli_location(c, 0, &loc))
		return NV_EXIT_USAGE;
	if (!c->remove_all)
		nv_log(NV_LOG_NOTICE, "watching the leases at %s for up to %lld s: a lease that "
		       "stays unchanged that long is stale", loc->text, ttl + 2);
	rc = nv_lease_unlock(loc, c->remove_all, (ttl + 2) * 1000, &removed);
	if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	else
		nv_log(NV_LOG_NOTICE, "%u lease%s removed at %s", removed, removed == 1 ? "" : "s",
		       loc->text);
	nv_location_free(loc);
	return nv_exit_for_error(rc);
}
