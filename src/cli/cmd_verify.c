/* cmd_verify.c: the verify command: signatures, hash chain, objects at the
 * level asked, heartbeat age. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cmd_vault.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "vault/vault_many.h"
#include "vault/vault_verify.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* --metrics-file: the objects found good and the problems, per vault. */
static void nv_verify_metrics(nv_cli *c, const char *vault, const nv_verify_report *r,
			      int code)
{
	nv_cli_metrics_add(c, vault, &(nv_metrics_figures){ .objects = r->objects,
		.failures = r->problems, .generation = r->generation }, code);
}

/* verify --all reports each vault as an item (log.h). */
__attribute__((format(printf, 4, 5)))
static void nv_verify_item(int code, const char *rel, const nv_verify_report *r,
			   const char *fmt, ...)
{
	nv_log_field f[] = {
		NV_LF_S("action", code ? "failed" : "verified"), NV_LF_S("path", *rel ? rel : "."),
		NV_LF_U("manifests", r->manifests), NV_LF_U("generation", r->generation),
		NV_LF_U("objects", r->objects), NV_LF_U("problems", r->problems),
		NV_LF_I("exit", code),
	};
	nv_sb msg = { 0 };
	va_list ap;

	va_start(ap, fmt);
	nv_sb_vaddf(&msg, fmt, ap);
	va_end(ap);
	nv_log_record(code ? NV_LOG_ERROR : NV_LOG_NOTICE, "item", f, NV_LF_COUNT(f), "%s",
		      nv_sb_str(&msg));
	nv_sb_free(&msg);
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
	nv_verify_item(code, rel, &r, "vault %s (%s): %s: %llu manifests, "
	       "generation %llu, %llu objects good, %llu problem%s", *rel ? rel : ".",
	       nv_vault_descriptor(v)->vault_id, code ? "FAILED" : "ok",
	       (unsigned long long)r.manifests, (unsigned long long)r.generation,
	       (unsigned long long)r.objects, (unsigned long long)r.problems,
	       r.problems == 1 ? "" : "s");
	nv_verify_metrics(c, text, &r, code);
	goto out;
fail:
	nv_verify_item(code, rel, &r, "vault %s: FAILED: %s", *rel ? rel : ".", nv_error_msg());
	if (text)
		nv_verify_metrics(c, text, &r, code);
out:
	nv_vault_close(v);
	nv_location_free(loc);
	free(text);
	free(key);
	return code;
}

static int nv_verify_each(nv_cli *c, const char *rel, const void *o)
{
	return nv_verify_one(c, rel, o);
}

static int nv_verify_all(nv_cli *c, const nv_verify_opts *o)
{
	size_t n, bad;
	int code;

	if (o->level == NV_VERIFY_DEEP) {
		nv_log(NV_LOG_ERROR, "verify --all checks list or hash: each vault has its own "
		       "owner's identity");
		return NV_EXIT_USAGE;
	}
	code = nv_vread_each_vault(c, nv_verify_each, o, &n, &bad);
	{
		nv_log_field x[] = { NV_LF_U("vaults", n), NV_LF_U("good", n - bad) };
		nv_summary s = { .failed = bad, .generation = -1, .exit_code = code,
				 .extra = x, .n_extra = NV_LF_COUNT(x) };

		nv_log_summary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &s, "verify --all %s: %zu "
			       "vaults, %zu good, %zu failed", c->args[0], n, n - bad, bad);
	}
	nv_cli_metrics_total(c, c->args[0], code);
	return code;
}

__attribute__((format(printf, 3, 4)))
static void nv_verify_summary(const nv_verify_report *r, int code, const char *fmt, ...)
{
	nv_log_field x[] = {
		NV_LF_U("manifests", r->manifests), NV_LF_U("older_objects", r->extra),
		NV_LF_U("problems", r->problems),
	};
	nv_summary s = {
		.files = r->objects, .failed = r->problems, .generation = (int64_t)r->generation,
		.exit_code = code, .extra = x, .n_extra = NV_LF_COUNT(x),
	};
	va_list ap;

	va_start(ap, fmt);
	nv_log_vsummary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &s, fmt, ap);
	va_end(ap);
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
	o.shard = c->eng.shard;
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
	nv_verify_summary(&r, rc, "verify (%s%s%s): %s: %llu manifests "
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
