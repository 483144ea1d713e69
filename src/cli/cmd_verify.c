/* cmd_verify.c: the verify command: signatures, hash chain, objects at the
 * level asked, heartbeat age. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
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

static void nv_verify_sample_text(nv_sb *b, const nv_verify_opts *o,
				  const nv_verify_report *r);

/* One vault of verify --all: its own pin, or its line of --signing-pubkeys. */
static int nv_verify_one(nv_cli *c, const char *rel, const nv_verify_opts *o)
{
	char *text = NULL, *key = NULL;
	nv_location *loc = NULL;
	nv_verify_report r = { 0 };
	nv_sb smp = { 0 };
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
	nv_verify_sample_text(&smp, o, &r);
	nv_verify_item(code, rel, &r, "vault %s (%s): %s: %llu manifests, "
	       "generation %llu, %llu objects good, %llu problem%s%s", *rel ? rel : ".",
	       nv_vault_descriptor(v)->vault_id, code ? "FAILED" : "ok",
	       (unsigned long long)r.manifests, (unsigned long long)r.generation,
	       (unsigned long long)r.objects, (unsigned long long)r.problems,
	       r.problems == 1 ? "" : "s", nv_sb_str(&smp));
	nv_verify_metrics(c, text, &r, code);
	goto out;
fail:
	nv_verify_item(code, rel, &r, "vault %s: FAILED: %s", *rel ? rel : ".", nv_error_msg());
	if (text)
		nv_verify_metrics(c, text, &r, code);
out:
	nv_sb_free(&smp);
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
		char *shown = nv_location_public(c->args[0]);

		nv_log_summary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &s, "verify --all %s: %zu "
			       "vaults, %zu good, %zu failed", shown ? shown : "?", n, n - bad, bad);
		free(shown);
	}
	nv_cli_metrics_total(c, c->args[0], code);
	return code;
}

/* --sample, --seed: the share of the objects this run reads (vault/sample.h).
 * 0, or an exit code with the reason logged. */
static int nv_verify_sample_opts(nv_cli *c, nv_verify_opts *o, nv_sample_spec *s)
{
	if (!c->sample && !c->seed)
		return 0;
	if (!c->sample || o->level == NV_VERIFY_LIST) {
		nv_log(NV_LOG_ERROR, "%s", c->sample ? "--sample goes with --level hash or deep "
		       "(list reads no object and sees every one)" : "--seed goes with --sample");
		return NV_EXIT_USAGE;
	}
	if (nv_sample_parse(s, c->sample) || (c->seed && nv_sample_seed_parse(&s->seed, c->seed))) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return NV_EXIT_USAGE;
	}
	o->sample = s;
	return 0;
}

/* "; sample 1/7 (seed 20424): 15 of 100 objects read (15.0%), ...": what a
 * sampled run covered, and the seeds that cover every object together. */
static void nv_verify_sample_text(nv_sb *b, const nv_verify_opts *o, const nv_verify_report *r)
{
	const nv_sample_result *x = &r->sample;

	if (!o->sample || !x->items)
		return;
	nv_sb_addf(b, "; sample %s (seed %llu): %llu of %llu objects read (%.1f%%), %llu of "
		   "%llu bytes (%.1f%%)", o->sample->text, (unsigned long long)o->sample->seed,
		   (unsigned long long)x->kept, (unsigned long long)x->items,
		   100.0 * (double)x->kept / (double)x->items, (unsigned long long)x->kept_bytes,
		   (unsigned long long)x->bytes,
		   x->bytes ? 100.0 * (double)x->kept_bytes / (double)x->bytes : 100.0);
	if (x->runs > 1)
		nv_sb_addf(b, "; seeds %llu to %llu read every object", (unsigned long long)
			   o->sample->seed, (unsigned long long)(o->sample->seed + x->runs - 1));
}

__attribute__((format(printf, 4, 5)))
static void nv_verify_summary(const nv_verify_opts *o, const nv_verify_report *r, int code,
			      const char *fmt, ...)
{
	const nv_sample_result *z = &r->sample;
	nv_log_field x[] = {
		NV_LF_U("manifests", r->manifests), NV_LF_U("older_objects", r->extra),
		NV_LF_U("problems", r->problems),
		NV_LF_S("sample", o->sample ? o->sample->text : NULL),
		NV_LF_U("seed", o->sample ? o->sample->seed : 0),
		NV_LF_U("sampled_objects", z->kept), NV_LF_U("sample_of", z->items),
		NV_LF_U("sampled_bytes", z->kept_bytes), NV_LF_U("sample_of_bytes", z->bytes),
		NV_LF_D("coverage", z->items ? (double)z->kept / (double)z->items : 1.0),
		NV_LF_U("runs_to_cover", z->runs),
	};
	nv_summary s = {
		.files = r->objects, .failed = r->problems, .generation = (int64_t)r->generation,
		.exit_code = code, .extra = x, .n_extra = o->sample ? NV_LF_COUNT(x) : 3,
	};
	nv_sb msg = { 0 };
	va_list ap;

	va_start(ap, fmt);
	nv_sb_vaddf(&msg, fmt, ap);
	va_end(ap);
	nv_verify_sample_text(&msg, o, r);
	nv_log_summary(code ? NV_LOG_ERROR : NV_LOG_NOTICE, &s, "%s", nv_sb_str(&msg));
	nv_sb_free(&msg);
}

int nv_cmd_verify(nv_cli *c)
{
	nv_verify_opts o = { .level = NV_VERIFY_LIST, .max_age = -1 };
	static const char *const names[] = { "list", "hash", "deep" };
	nv_verify_report r = { 0 };
	nv_sample_spec sample;
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
	if ((rc = nv_verify_sample_opts(c, &o, &sample)))
		return rc;
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
	nv_verify_summary(&o, &r, rc, "verify (%s%s%s): %s: %llu manifests "
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
