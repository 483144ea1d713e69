/* cmd_verify.c: the verify command: signatures, hash chain, objects at the
 * level asked, heartbeat age. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cmd_vault.h"
#include "util/log.h"
#include "vault/vault_many.h"
#include "vault/vault_verify.h"

#include <stdlib.h>
#include <string.h>

/* --metrics-file: the objects found good and the problems, per vault. */
static void nv_verify_metrics(nv_cli *c, const char *vault, const nv_verify_report *r,
			      int code)
{
	nv_cli_metrics_add(c, vault, &(nv_metrics_figures){ .objects = r->objects,
		.failures = r->problems, .generation = r->generation }, code);
}

/* One vault of verify --all: its own pin, or its line of --signing-pubkeys. */
static int nv_verify_one(nv_cli *c, const char *rel, const nv_verify_opts *o)
{
	char *text = NULL, *key = NULL;
	nv_location *loc = NULL;
	nv_verify_report r = { 0 };
	nv_vault *v = NULL;
	int code;

	if (nv_vaults_join(&text, c->args[0], rel) || nv_location_parse(&loc, text, c->cfg)) {
		code = NV_EXIT_USAGE;
		goto fail;
	}
	if (nv_vault_pick_key(loc, c->signing_pubkeys, &key) || nv_vault_open(&v, loc, key)) {
		code = nv_exit_for_error(nv_error_code());
		goto fail;
	}
	{
		nv_outcome out;
		int rc = nv_vault_verify(v, o, &r);

		nv_verify_outcome(&r, &out);
		if (rc && !out.fatal)
			out.fatal = rc;
		code = nv_exit_code(&out);
	}
	nv_log(code ? NV_LOG_ERROR : NV_LOG_NOTICE, "vault %s (%s): %s: %llu manifests, "
	       "generation %llu, %llu objects good, %llu problem%s", *rel ? rel : ".",
	       nv_vault_descriptor(v)->vault_id, code ? "FAILED" : "ok",
	       (unsigned long long)r.manifests, (unsigned long long)r.generation,
	       (unsigned long long)r.objects, (unsigned long long)r.problems,
	       r.problems == 1 ? "" : "s");
	nv_verify_metrics(c, text, &r, code);
	goto out;
fail:
	nv_log(NV_LOG_ERROR, "vault %s: FAILED: %s", *rel ? rel : ".", nv_error_msg());
	if (text)
		nv_verify_metrics(c, text, &r, code);
out:
	nv_vault_close(v);
	nv_location_free(loc);
	free(text);
	free(key);
	return code;
}

static int nv_verify_all(nv_cli *c, const nv_verify_opts *o)
{
	nv_location *prefix = NULL;
	char **vaults = NULL;
	size_t n = 0, bad = 0;
	int code = NV_EXIT_OK, one;

	if (o->level == NV_VERIFY_DEEP) {
		nv_log(NV_LOG_ERROR, "verify --all checks list or hash: each vault has its own "
		       "owner's identity");
		return NV_EXIT_USAGE;
	}
	if (nv_cli_location(c, 0, &prefix))
		return NV_EXIT_USAGE;
	if (nv_vaults_find(prefix, &vaults, &n)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		nv_location_free(prefix);
		return nv_exit_for_error(nv_error_code());
	}
	for (size_t i = 0; i < n; i++) {
		one = nv_verify_one(c, vaults[i], o);
		bad += one != 0;
		code = nv_exit_worst(code, one);
	}
	nv_log(code ? NV_LOG_ERROR : NV_LOG_NOTICE, "verify --all %s: %zu vaults, %zu good, %zu "
	       "failed", prefix->text, n, n - bad, bad);
	nv_cli_metrics_total(c, c->args[0], code);
	nv_vaults_free(vaults, n);
	nv_location_free(prefix);
	return code;
}

int nv_cmd_verify(nv_cli *c)
{
	nv_verify_opts o = { .level = NV_VERIFY_LIST, .max_age = -1 };
	static const char *const names[] = { "list", "hash", "deep" };
	nv_verify_report r = { 0 };
	nv_vread_session s;
	nv_outcome out;
	int rc;

	if (c->level && strcmp(c->level, "hash") == 0)
		o.level = NV_VERIFY_HASH;
	else if (c->level && strcmp(c->level, "deep") == 0)
		o.level = NV_VERIFY_DEEP;
	if (c->max_age)
		o.max_age = c->max_age_seconds;
	o.workers = c->eng.transfers;
	o.buf_size = c->eng.buffer_size;
	o.retries = c->eng.retries;
	if (c->all)
		return nv_verify_all(c, &o);
	if ((rc = nv_vread_open(&s, c, 0, o.level == NV_VERIFY_DEEP ? NV_VREAD_IDENTITY : 0)))
		goto out;
	o.id = s.id;
	if ((rc = nv_vault_verify(s.v, &o, &r)))
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	nv_verify_outcome(&r, &out);
	if (rc && !out.fatal)
		out.fatal = rc;
	rc = nv_exit_code(&out);
	nv_log(rc ? NV_LOG_ERROR : NV_LOG_NOTICE, "verify (%s%s%s): %s: %llu manifests "
	       "verified, newest generation %llu, %llu objects good, %llu older objects, "
	       "%llu problem%s", names[o.level], c->max_age ? ", heartbeat max-age " : "",
	       c->max_age ? c->max_age : "", s.loc->text, (unsigned long long)r.manifests,
	       (unsigned long long)r.generation, (unsigned long long)r.objects,
	       (unsigned long long)r.extra, (unsigned long long)r.problems,
	       r.problems == 1 ? "" : "s");
	nv_verify_metrics(c, c->args[0], &r, rc);
out:
	nv_vread_close(&s);
	return rc;
}
