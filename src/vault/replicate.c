/* replicate.c: `navette replicate`: verify the source (pin, signatures, hash
 * chain, rollback), compare with what the destination holds (same vault, no
 * fork, not ahead), copy the missing objects on the pool, then publish
 * catalogs, signatures before manifests, the descriptor, the drill document and
 * the heartbeat last. Called by cmd_replicate.c. */
#include "replicate.h"
#include "replicate_int.h"
#include "canary.h"
#include "engine/dest_lock.h"
#include "engine/leftovers.h"
#include "engine/lister.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct nv_repl {
	const nv_location *src_loc, *dst_loc;
	const nv_replicate_opts *o;
	nv_replicate_stats *st;
	nv_vault *v;              /* the source, verified */
	nv_store *dst;
	nv_rgen *g;               /* generations 1..n of the source */
	size_t n;
	nv_rdoc desc, hb;         /* the source's descriptor and heartbeat (hb may be empty) */
	nv_heartbeat hb_parsed;
	nv_rdoc drill;            /* the source's drill document (may be empty) */
	uint64_t drill_serial;
	int dst_has_desc;
	nv_robj *objs;
	size_t nobjs, ncatalogs;  /* catalogs are the last ncatalogs of objs */
	nv_outcome out;
} nv_repl;

static void nv_repl_free(nv_repl *r)
{
	for (size_t i = 0; i < r->n; i++) {
		nv_rdoc_clear(&r->g[i].doc);
		nv_manifest_clear(&r->g[i].m);
	}
	free(r->g);
	nv_rdoc_clear(&r->desc);
	nv_rdoc_clear(&r->hb);
	nv_rdoc_clear(&r->drill);
	free(r->objs);
	nv_drv_close(r->dst);
	nv_vault_close(r->v);
}

/* ---- the source: every generation verified, chained, not rolled back ---- */

static int nv_repl_load_gen(nv_repl *r, nv_rgen *g, const unsigned char prev[NV_SHA256_LEN])
{
	const char *vid = nv_vault_descriptor(r->v)->vault_id;
	char key[NV_MANIFEST_NAME_MAX], hex[NV_SHA256_HEX];
	int rc;

	nv_manifest_name(key, g->gen);
	if ((rc = nv_rdoc_fetch(nv_vault_store(r->v), nv_vault_signer(r->v), key,
				"navette-manifest", NV_VAULT_MANIFEST_MAX, &g->doc)))
		return nv_error_wrap(rc == NV_ENOTFOUND ? NV_EMISMATCH : rc, "%s",
				     r->src_loc->text);
	nv_sha256_buf(g->sha, g->doc.body, g->doc.body_len);
	if ((rc = nv_manifest_parse(&g->m, (const char *)g->doc.body, g->doc.body_len)))
		return nv_error_wrap(rc, "%s: %s", r->src_loc->text, key);
	if (strcmp(g->m.vault_id, vid) != 0 || g->m.generation != g->gen)
		return nv_error_set(NV_EMISMATCH, "%s: %s belongs to another vault or generation",
				    r->src_loc->text, key);
	nv_hex(hex, prev, NV_SHA256_LEN);
	if (g->gen > 1 && strcmp(g->m.previous, hex) != 0)
		return nv_error_set(NV_EMISMATCH, "%s: %s does not chain to generation %llu (its "
				    "'previous' is not that manifest's SHA-256)", r->src_loc->text,
				    key, (unsigned long long)(g->gen - 1));
	return 0;
}

/* The drill document (FORMAT.md 2.8) goes with the vault: verified, and held
 * against this host's pin as every reader does. */
static int nv_repl_drill_source(nv_repl *r)
{
	nv_drill_doc d;
	int rc = nv_rdoc_fetch(nv_vault_store(r->v), nv_vault_signer(r->v), NV_VAULT_DRILL,
			       "navette-drill", NV_VAULT_DOC_MAX, &r->drill);

	if (rc == NV_ENOTFOUND) {
		nv_error_clear();
		return 0;
	}
	if (!rc && !(rc = nv_drill_trust(r->v, r->drill.body, r->drill.body_len, &d))) {
		r->drill_serial = d.serial;
		nv_drill_doc_clear(&d);
	}
	return rc ? nv_error_wrap(rc, "%s", r->src_loc->text) : 0;
}

static int nv_repl_source(nv_repl *r)
{
	const char *vid;
	uint64_t *gens = NULL, newest, seen;
	unsigned char zero[NV_SHA256_LEN] = { 0 };
	size_t n, i;
	int rc;

	if ((rc = nv_vault_open(&r->v, r->src_loc, r->o->signing_pubkey)))
		return rc;
	vid = nv_vault_descriptor(r->v)->vault_id;
	snprintf(r->st->vault_id, sizeof(r->st->vault_id), "%s", vid);
	if ((rc = nv_vault_generations(r->v, &gens, &n)))
		return rc;
	newest = n ? gens[n - 1] : 0;
	for (i = 0; i < n; i++)
		if (gens[i] != i + 1) {
			free(gens);
			return nv_error_set(NV_EMISMATCH, "%s: generation %zu is missing from the "
					    "chain", r->src_loc->text, i + 1);
		}
	free(gens);
	/* The rollback rule of every reader: never below what this host has seen.
	 * (Not nv_vault_current: it would parse the newest manifest a second time.) */
	if (newest < (seen = nv_vault_seen(vid)))
		return nv_error_set(NV_EMISMATCH, "%s: newest generation is %llu but this host has "
				    "seen generation %llu: refusing a rollback", r->src_loc->text,
				    (unsigned long long)newest, (unsigned long long)seen);
	r->st->generation = newest;
	if (n && !(r->g = calloc(n, sizeof(*r->g))))
		return nv_error_set(NV_ERR, "out of memory");
	for (i = 0; i < n; i++) {
		r->g[i].gen = i + 1;
		r->n = i + 1;
		if ((rc = nv_repl_load_gen(r, &r->g[i], i ? r->g[i - 1].sha : zero)))
			return rc;
	}
	if ((rc = nv_vault_set_seen(vid, newest)) || (rc = nv_repl_drill_source(r)))
		return rc;
	if ((rc = nv_rdoc_fetch(nv_vault_store(r->v), nv_vault_signer(r->v), NV_VAULT_DESCRIPTOR,
				"navette-vault", NV_VAULT_DOC_MAX, &r->desc)))
		return nv_error_wrap(rc, "%s", r->src_loc->text);
	rc = nv_rdoc_fetch(nv_vault_store(r->v), nv_vault_signer(r->v), NV_VAULT_HEARTBEAT,
			   "navette-manifest", NV_VAULT_DOC_MAX, &r->hb);
	if (rc == NV_ENOTFOUND) {
		nv_error_clear();
		return 0;
	}
	if (!rc)
		rc = nv_heartbeat_parse(&r->hb_parsed, (const char *)r->hb.body, r->hb.body_len);
	else
		return nv_error_wrap(rc, "%s", r->src_loc->text);
	if (!rc && (strcmp(r->hb_parsed.vault_id, vid) || r->hb_parsed.generation > newest))
		rc = nv_error_set(NV_EMISMATCH, "%s: the heartbeat names another vault or a "
				  "generation the store withholds", r->src_loc->text);
	return rc;
}

/* ---- the destination: same vault, no fork, not ahead ---- */

static int nv_repl_dst_descriptor(nv_repl *r)
{
	unsigned char *have;
	size_t len;
	int rc = nv_drv_get_buf(r->dst, NV_VAULT_DESCRIPTOR, NV_VAULT_DOC_MAX, &have, &len);

	if (rc == NV_ENOTFOUND) {
		nv_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	r->dst_has_desc = 1;
	rc = len == r->desc.body_len && memcmp(have, r->desc.body, len) == 0;
	free(have);
	if (!rc)
		return nv_error_set(NV_EEXISTS, "%s holds another vault (its descriptor is not "
				    "vault %s's): refusing to write into it", r->dst_loc->text,
				    r->st->vault_id);
	return 0;
}

/* Marks the generations the destination already has; refuses a fork (a
 * manifest that differs from the source's) and a replica ahead of its source. */
static int nv_repl_dst_manifests(nv_repl *r)
{
	nv_sorted *l = NULL;
	nv_entry e;
	int rc;

	if ((rc = nv_sorted_open(&l, r->dst, "manifests/", 1)))
		return rc;
	while ((rc = nv_sorted_next(l, &e)) == 0) {
		uint64_t gen;
		unsigned char *have;
		size_t len;
		int same;

		if (nv_manifest_name_parse(&gen, e.key)) {
			nv_error_clear(); /* a signature or a stray file: not a generation */
			continue;
		}
		if (gen > r->n) {
			rc = nv_error_set(NV_EEXISTS, "%s is ahead of its source: it holds generation "
					  "%llu, %s only %zu (replicate in the other direction?)",
					  r->dst_loc->text, (unsigned long long)gen, r->src_loc->text,
					  r->n);
			break;
		}
		if ((rc = nv_drv_get_buf(r->dst, e.key, NV_VAULT_MANIFEST_MAX, &have, &len)))
			break;
		same = gen >= 1 && len == r->g[gen - 1].doc.body_len &&
		       memcmp(have, r->g[gen - 1].doc.body, len) == 0;
		free(have);
		if (!same) {
			rc = nv_error_set(NV_EMISMATCH, "%s: generation %llu differs from the "
					  "source's: the two vaults have forked; refusing",
					  r->dst_loc->text, (unsigned long long)gen);
			break;
		}
		r->g[gen - 1].at_dst = 1;
	}
	nv_sorted_close(l);
	return rc == NV_EOF ? 0 : rc;
}

/* ---- the plan: every object of every generation, once ---- */

static int nv_robj_cmp(const void *a, const void *b)
{
	return strcmp(((const nv_robj *)a)->rec->name, ((const nv_robj *)b)->rec->name);
}

static int nv_is_catalog(const nv_repl *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->g[i].m.catalog, name) == 0 ||
		    (r->g[i].m.canary && strcmp(r->g[i].m.canary, name) == 0))
			return 1;
	return 0;
}

/* Gathers, sorts and de-duplicates; one name is one byte string in every
 * manifest (write-once names), else the source contradicts itself. */
static int nv_repl_gather(nv_repl *r, nv_robj **out, size_t *nout)
{
	size_t total = 0, k = 0, i, j;
	nv_robj *o;

	for (i = 0; i < r->n; i++)
		total += r->g[i].m.n;
	*out = NULL;
	*nout = 0;
	if (!total)
		return 0;
	if (!(o = calloc(total, sizeof(*o))))
		return nv_error_set(NV_ERR, "out of memory");
	for (i = 0; i < r->n; i++)
		for (j = 0; j < r->g[i].m.n; j++)
			o[k++].rec = &r->g[i].m.objs[j];
	qsort(o, total, sizeof(*o), nv_robj_cmp);
	for (i = 0, k = 0; i < total; i++) {
		if (k && strcmp(o[k - 1].rec->name, o[i].rec->name) == 0) {
			if (o[k - 1].rec->size != o[i].rec->size ||
			    memcmp(o[k - 1].rec->sha256, o[i].rec->sha256, NV_SHA256_LEN)) {
				nv_error_set(NV_EMISMATCH, "%s: two manifests give object %s "
					     "different bytes", r->src_loc->text, o[i].rec->name);
				free(o);
				return NV_EMISMATCH;
			}
			continue;
		}
		o[k++] = o[i];
	}
	*out = o;
	*nout = k;
	return 0;
}

/* Merge-joins the gathered objects with the destination's listing of
 * objects/: what is there with the manifest's size is dropped from the plan
 * (or hashed, --verify hash). */
static int nv_repl_plan(nv_repl *r)
{
	nv_robj *all = r->objs;
	size_t n = r->nobjs, i = 0, keep = 0, cats = 0;
	nv_sorted *l = NULL;
	nv_entry e;
	int rc, more;

	if ((rc = nv_sorted_open(&l, r->dst, "objects/", 1)))
		return rc;
	more = (rc = nv_sorted_next(l, &e)) == 0;
	for (i = 0; i < n; i++) {
		int c = 1;

		while (more && (c = strcmp(e.key, all[i].rec->name)) < 0)
			more = (rc = nv_sorted_next(l, &e)) == 0;
		if (!more && rc != NV_EOF)
			break;
		if (!nv_shard_mine(r->o->shard, all[i].rec->name))
			continue; /* another shard's */
		all[i].act = NV_ROBJ_COPY;
		if (more && c == 0) {
			if (e.size != all[i].rec->size)
				all[i].act = NV_ROBJ_REPAIR;
			else if (r->o->verify == NV_RVERIFY_HASH)
				all[i].act = NV_ROBJ_CHECK;
			else {
				r->st->present++;
				continue;
			}
		}
		all[keep++] = all[i];
	}
	nv_sorted_close(l);
	if (!more && rc != NV_EOF)
		return rc;
	/* Catalogs last: a catalog never names an object that is not there yet. */
	for (i = 0; i < keep; i++)
		if (!nv_is_catalog(r, all[i].rec->name)) {
			nv_robj t = all[cats];

			all[cats++] = all[i];
			all[i] = t;
		}
	r->nobjs = keep;
	r->ncatalogs = keep - cats;
	return 0;
}

/* ---- publication ---- */

/* 1 when the source's heartbeat should replace the destination's: never by a
 * lower generation or an older time. */
static int nv_repl_hb_newer(nv_repl *r)
{
	nv_rdoc have;
	nv_heartbeat h;
	time_t ts, td;
	int rc, newer = 1;

	if (!r->hb.body)
		return 0;
	rc = nv_rdoc_fetch(r->dst, nv_vault_signer(r->v), NV_VAULT_HEARTBEAT, "navette-manifest",
			   NV_VAULT_DOC_MAX, &have);
	if (rc == NV_ENOTFOUND) {
		nv_error_clear();
		return 1;
	}
	if (rc) {
		nv_log(NV_LOG_WARN, "%s: replacing a heartbeat that does not verify: %s",
		       r->dst_loc->text, nv_error_msg());
		return 1;
	}
	if (nv_heartbeat_parse(&h, (const char *)have.body, have.body_len) == 0 &&
	    strcmp(h.vault_id, r->hb_parsed.vault_id) == 0 &&
	    nv_time_parse(&ts, r->hb_parsed.time) == 0 && nv_time_parse(&td, h.time) == 0)
		newer = r->hb_parsed.generation > h.generation ||
			(r->hb_parsed.generation == h.generation && ts > td);
	nv_rdoc_clear(&have);
	return newer;
}

/* The source's drill document, unless the destination holds one of a serial
 * as high (never one step back). */
static int nv_repl_drill_publish(nv_repl *r)
{
	nv_drill_doc d;
	nv_rdoc have;
	int rc, newer = 1;

	if (!r->drill.body)
		return 0;
	rc = nv_rdoc_fetch(r->dst, nv_vault_signer(r->v), NV_VAULT_DRILL, "navette-drill",
			   NV_VAULT_DOC_MAX, &have);
	if (!rc && nv_drill_doc_parse(&d, (const char *)have.body, have.body_len) == 0) {
		newer = r->drill_serial > d.serial;
		nv_drill_doc_clear(&d);
	} else if (rc && rc != NV_ENOTFOUND) {
		nv_log(NV_LOG_WARN, "%s: replacing a drill document that does not verify: %s",
		       r->dst_loc->text, nv_error_msg());
	}
	nv_rdoc_clear(&have);
	nv_error_clear();
	return newer ? nv_rdoc_publish(r->dst, NV_VAULT_DRILL, &r->drill, 0) : 0;
}

static int nv_repl_publish(nv_repl *r)
{
	char key[NV_MANIFEST_NAME_MAX];
	int rc;

	if ((rc = nv_drv_flush(r->dst)))
		return rc;
	for (size_t i = 0; i < r->n; i++) {
		if (r->g[i].at_dst)
			continue;
		nv_manifest_name(key, r->g[i].gen);
		if ((rc = nv_rdoc_publish(r->dst, key, &r->g[i].doc, 1)))
			return rc;
		r->st->generations++;
		nv_log_item(NV_LOG_INFO, "published", key, NULL);
	}
	if ((!r->dst_has_desc && (rc = nv_rdoc_publish(r->dst, NV_VAULT_DESCRIPTOR, &r->desc, 1))) ||
	    (rc = nv_repl_drill_publish(r)))
		return rc;
	if (nv_repl_hb_newer(r)) {
		if ((rc = nv_rdoc_publish(r->dst, NV_VAULT_HEARTBEAT, &r->hb, 0)))
			return rc;
		r->st->heartbeat = 1;
	}
	return nv_drv_flush(r->dst);
}

/* ---- a dry run: the plan said, nothing written ---- */

static int nv_repl_dry(nv_repl *r)
{
	static const char *const verb[] = {
		[NV_ROBJ_COPY] = "would copy", [NV_ROBJ_CHECK] = "would check",
		[NV_ROBJ_REPAIR] = "would repair",
	};

	for (size_t i = 0; i < r->nobjs; i++) {
		nv_log_item(NV_LOG_WARN, verb[r->objs[i].act], r->objs[i].rec->name, NULL);
		if (r->objs[i].act == NV_ROBJ_CHECK)
			continue;
		r->st->copied++;
		r->st->copied_bytes += r->objs[i].rec->size;
		r->st->repaired += r->objs[i].act == NV_ROBJ_REPAIR;
	}
	if (r->o->shard) /* a shard publishes nothing, dry or not (nv_repl_run) */
		return 0;
	for (size_t i = 0; i < r->n; i++)
		if (!r->g[i].at_dst) {
			char key[NV_MANIFEST_NAME_MAX];

			nv_manifest_name(key, r->g[i].gen);
			nv_log_item(NV_LOG_WARN, "would publish", key, NULL);
			r->st->generations++;
		}
	r->st->heartbeat = nv_repl_hb_newer(r);
	return 0;
}

/* ---- the run ---- */

static int nv_repl_run(nv_repl *r, nv_dest_lock **lease)
{
	nv_dest_lock_opts lo = { .command = "replicate", .wait_ms = r->o->wait_lock_ms,
				 .probe = 1, .shard = r->o->shard };
	nv_outcome part = { 0 };
	int rc;

	/* Trust before anything is written (the lease is the first write): the
	 * source verified, and its manifests consistent with each other. */
	if ((rc = nv_repl_source(r)) || (rc = nv_repl_gather(r, &r->objs, &r->nobjs)))
		return rc;
	if ((rc = nv_drv_open(&r->dst, r->dst_loc)))
		return nv_error_wrap(rc, "%s", r->dst_loc->text);
	if ((rc = nv_repl_dst_descriptor(r)))
		return rc;
	/* This host's lock on the destination, then the lease there; a dry run
	 * writes nothing, not even those. */
	if (!r->o->dry_run && (rc = nv_dest_lock_take_opts(lease, r->dst_loc, &lo)))
		return rc;
	if ((rc = nv_repl_dst_manifests(r)) || (rc = nv_repl_plan(r)))
		return rc;
	if (r->o->dry_run)
		return nv_repl_dry(r);
	/* Holding the lease, before any write: what interrupted runs left (the
	 * listings of manifests/ and objects/ noted theirs: engine/leftovers.h). */
	nv_leftovers_clean(r->dst, NULL);
	/* Objects, then catalogs, each pass on the pool. */
	rc = nv_replicate_objects(r->src_loc, r->dst_loc, r->objs, r->nobjs - r->ncatalogs,
				  r->o, r->st, &part);
	if (!rc && !part.fatal && !part.failed && !part.differ && !nv_dest_lock_lost(*lease))
		rc = nv_replicate_objects(r->src_loc, r->dst_loc, r->objs + r->nobjs -
					  r->ncatalogs, r->ncatalogs, r->o, r->st, &part);
	r->out = part;
	if (rc)
		return rc;
	if (part.fatal)
		return part.fatal;
	if (nv_dest_lock_lost(*lease))
		return nv_error_set(NV_ECANCEL, "the lease at %s was lost: nothing published",
				    r->dst_loc->text);
	if (part.failed || part.differ) {
		nv_log(NV_LOG_ERROR, "%s: not publishing any manifest: some objects were not "
		       "copied", r->dst_loc->text);
		return 0;
	}
	if (r->o->shard) /* publication needs every shard's objects */
		return nv_drv_flush(r->dst);
	return nv_repl_publish(r);
}

int nv_replicate(const nv_location *src, const nv_location *dst, const nv_replicate_opts *o,
		 nv_replicate_stats *st)
{
	nv_repl r = { .src_loc = src, .dst_loc = dst, .o = o, .st = st };
	nv_dest_lock *lease = NULL;
	struct timespec t0, t1;
	int rc;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = nv_repl_run(&r, &lease);
	if (rc && !r.out.fatal)
		r.out.fatal = rc;
	if (r.out.fatal)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	nv_dest_lock_release(lease);
	st->failed = r.out.failed;
	st->differ = r.out.differ;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	nv_repl_free(&r);
	return nv_exit_code(&r.out);
}
