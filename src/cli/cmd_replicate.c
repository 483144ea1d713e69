/* cmd_replicate.c: the replicate and unlock commands. Called by the
 * dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "cmd_vault.h"
#include "engine/lease.h"
#include "util/log.h"
#include "vault/replicate.h"
#include "vault/vault_many.h"

#include <stdarg.h>
#include <stdlib.h>

static int nv_cmd_replicate_all(nv_cli *c, const nv_replicate_opts *o);

/* --metrics-file: what one replication copied, under its destination. */
static void nv_replicate_metrics(nv_cli *c, const char *dst, const nv_replicate_stats *st,
				 int code)
{
	nv_cli_metrics_add(c, dst, &(nv_metrics_figures){ .bytes = st->copied_bytes,
		.objects = st->copied, .failures = st->failed + st->differ,
		.generation = st->generation }, code);
}

/* The fields of a replication's summary (and of each vault's item, --all). */
#define NV_REPLICATE_FIELDS(st)                                                        \
	NV_LF_S("vault_id", (st)->vault_id[0] ? (st)->vault_id : NULL),               \
	NV_LF_U("already_there", (st)->present), NV_LF_U("repaired", (st)->repaired),   \
	NV_LF_U("refused", (st)->differ), NV_LF_U("manifests_published", (st)->generations), \
	NV_LF_B("heartbeat_updated", (st)->heartbeat)

__attribute__((format(printf, 4, 5)))
static void nv_replicate_summary(const nv_replicate_stats *st, int code, int dry_run,
				 const char *fmt, ...)
{
	nv_log_field x[] = { NV_REPLICATE_FIELDS(st), NV_LF_B("dry_run", dry_run) };
	nv_summary s = {
		.files = st->copied, .bytes = st->copied_bytes, .failed = st->failed + st->differ,
		.seconds = st->seconds, .generation = st->vault_id[0] ? (int64_t)st->generation : -1,
		.exit_code = code, .extra = x, .n_extra = NV_LF_COUNT(x),
	};
	va_list ap;

	va_start(ap, fmt);
	nv_log_vsummary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &s, fmt, ap);
	va_end(ap);
}

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
		.shard = c->eng.shard,
		.dry_run = c->eng.dry_run,
	};
	nv_location *src = NULL, *dst = NULL;
	nv_replicate_stats st = { 0 };
	int code;

	if (c->all)
		return nv_cmd_replicate_all(c, &o);
	if (c->signing_pubkeys) {
		nv_log(NV_LOG_ERROR, "--signing-pubkeys goes with --all (one vault: --signing-pubkey)");
		return NV_EXIT_USAGE;
	}
	if (nv_cli_location(c, 0, &src) || nv_cli_location(c, 1, &dst)) {
		code = NV_EXIT_USAGE;
		goto out;
	}
	code = nv_replicate(src, dst, &o, &st);
	nv_replicate_summary(&st, code, o.dry_run, "%sreplicate %s -> %s: vault %s generation "
	       "%llu: %llu objects copied (%.1f MiB), %llu already there, %llu repaired, %llu "
	       "failed, %llu refused by verification; %llu manifests published%s, in %.2f s",
	       o.dry_run ? "dry run: " : "", src->text, dst->text,
	       st.vault_id[0] ? st.vault_id : "?",
	       (unsigned long long)st.generation, (unsigned long long)st.copied,
	       (double)st.copied_bytes / (1 << 20), (unsigned long long)st.present,
	       (unsigned long long)st.repaired, (unsigned long long)st.failed,
	       (unsigned long long)st.differ, (unsigned long long)st.generations,
	       st.heartbeat ? ", heartbeat updated" : "", st.seconds);
	if (c->eng.shard && code == 0)
		nv_log(NV_LOG_NOTICE, "shard %s: objects only, nothing published; once every "
		       "shard of run %s is done, replicate without --shard to publish",
		       c->eng.shard->label, c->eng.shard->run);
	if (!o.dry_run) /* a dry run moved nothing */
		nv_replicate_metrics(c, c->args[1], &st, code);
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
		nv_log_summary(NV_LOG_NOTICE, &(nv_summary){ .deleted = removed, .generation = -1 },
			       "%u lease%s removed at %s", removed, removed == 1 ? "" : "s",
			       loc->text);
	nv_location_free(loc);
	return nv_exit_for_error(rc);
}

/* replicate --all: every vault under SRC-PREFIX, each under its own pin. */
static int nv_replicate_one(nv_cli *c, const char *rel, nv_replicate_opts o)
{
	char *st_text = NULL, *dt_text = NULL, *key = NULL;
	nv_location *src = NULL, *dst = NULL;
	nv_replicate_stats st = { .vault_id = "" };
	int code;

	if (nv_vaults_join(&st_text, c->args[0], rel) || nv_vaults_join(&dt_text, c->args[1], rel) ||
	    nv_location_parse(&src, st_text, c->cfg) || nv_location_parse(&dst, dt_text, c->cfg)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		code = NV_EXIT_USAGE;
		goto out;
	}
	if (nv_vault_pick_key(src, c->signing_pubkeys, &key)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		code = nv_exit_for_error(nv_error_code());
		goto out;
	}
	o.signing_pubkey = key;
	code = nv_replicate(src, dst, &o, &st);
out:
	{
		nv_log_field f[] = {
			NV_LF_S("action", code ? "failed" : "replicated"),
			NV_LF_S("path", *rel ? rel : "."), NV_LF_U("generation", st.generation),
			NV_LF_U("objects", st.copied), NV_LF_U("bytes", st.copied_bytes),
			NV_LF_I("exit", code), NV_REPLICATE_FIELDS(&st),
		};

		if (code)
			nv_log_record(NV_LOG_ERROR, "item", f, NV_LF_COUNT(f), "vault %s: FAILED "
				      "(exit %d)", *rel ? rel : ".", code);
		else
			nv_log_record(NV_LOG_NOTICE, "item", f, NV_LF_COUNT(f), "vault %s (%s): "
				      "generation %llu, %llu objects copied, %llu manifests "
				      "published", *rel ? rel : ".", st.vault_id,
				      (unsigned long long)st.generation,
				      (unsigned long long)st.copied,
				      (unsigned long long)st.generations);
	}
	if (dt_text && !o.dry_run)
		nv_replicate_metrics(c, dt_text, &st, code);
	free(key);
	free(st_text);
	free(dt_text);
	nv_location_free(src);
	nv_location_free(dst);
	return code;
}

static int nv_replicate_each(nv_cli *c, const char *rel, const void *o)
{
	return nv_replicate_one(c, rel, *(const nv_replicate_opts *)o);
}

static int nv_cmd_replicate_all(nv_cli *c, const nv_replicate_opts *o)
{
	size_t n, failed;
	int code = nv_vread_each_vault(c, nv_replicate_each, o, &n, &failed);
	nv_log_field x[] = { NV_LF_U("vaults", n), NV_LF_U("replicated", n - failed) };
	nv_summary s = { .failed = failed, .generation = -1, .exit_code = code,
			 .extra = x, .n_extra = NV_LF_COUNT(x) };
	char *from = nv_location_public(c->args[0]), *to = nv_location_public(c->args[1]);

	nv_log_summary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &s, "replicate --all %s -> %s: "
		       "%zu vaults, %zu replicated, %zu failed", from ? from : "?", to ? to : "?",
		       n, n - failed, failed);
	free(from);
	free(to);
	nv_cli_metrics_total(c, c->args[1], code);
	return code;
}
