/* publish.c: a sharded push's one generation: the run's partial catalogs found
 * (waiting for them with --wait), opened and checked, their files merged on
 * disk and every object they record read back on the reader pool
 * (publish_merge.h), published by push_publish.c, the run's files removed.
 * Called through publish.h. */
#include "publish.h"
#include "canary_push.h"
#include "engine/leftovers.h"
#include "engine/lister.h"
#include "engine/shard.h"
#include "manifest_read.h"
#include "partial.h"
#include "publish_merge.h"
#include "push_publish.h"
#include "run_key.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NV_PUBLISH_POLL_MS 2000 /* --wait: how often the run's folder is listed */

typedef struct nv_pub {
	nv_vault *v;
	const nv_publish_opts *o;
	nv_publisher pb;
	nv_objindex *prev;     /* the generation published chains from, by object */
	unsigned char prev_sha[NV_SHA256_LEN];
	uint64_t prev_gen;
	nv_run_doc doc;
	nv_age_identity *id;
	char **keys;           /* keys[k]: shard k's partial catalog, NULL while missing */
	unsigned n;            /* N, the run's shards; 0 while none was found */
	nv_pmerge *merge;      /* their files, merged on disk */
	nv_push_recs files;    /* as published */
} nv_pub;

static long long nv_pub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nv_pub_keys_free(nv_pub *p)
{
	for (unsigned k = 0; p->keys && k < p->n; k++)
		free(p->keys[k]);
	free(p->keys);
	p->keys = NULL;
	p->n = 0;
}

/* One name of the run's folder: a partial catalog of shard k of n, recorded;
 * partial catalogs of two shard counts are refused. */
static int nv_pub_found(nv_pub *p, const char *key, unsigned k, unsigned n)
{
	if (!p->n && !(p->keys = calloc(n, sizeof(*p->keys))))
		return nv_error_set(NV_ERR, "out of memory");
	if (!p->n)
		p->n = n;
	if (n != p->n)
		return nv_error_set(NV_EINVAL, "run %s has partial catalogs of %u and of %u shards: "
				    "one run has one shard count (remove the other's from %s%s/ and "
				    "publish again)", p->o->run, p->n, n, NV_VAULT_RUNS, p->o->run);
	return (p->keys[k] = strdup(key)) ? 0 : nv_error_set(NV_ERR, "out of memory");
}

/* Lists runs/<run>/: which shards' partial catalogs are there. */
static int nv_pub_list(nv_pub *p, nv_store *s)
{
	char dir[NV_RUN_NAME_MAX];
	nv_sorted *l;
	nv_entry e;
	unsigned k, n;
	int rc;

	nv_pub_keys_free(p);
	snprintf(dir, sizeof(dir), NV_VAULT_RUNS "%s/", p->o->run);
	if ((rc = nv_sorted_open(&l, s, dir, 1)))
		return nv_error_wrap(rc, "listing %s", dir);
	while ((rc = nv_sorted_next(l, &e)) == 0) {
		if (nv_partial_name_parse(e.key, p->o->run, &k, &n) != 0) {
			nv_error_clear(); /* the run's document and its signature */
			continue;
		}
		if ((rc = nv_pub_found(p, e.key, k, n)))
			break;
	}
	nv_sorted_close(l);
	return rc == NV_EOF ? 0 : rc;
}

/* NV_ENOTFOUND naming the missing shards (the first few), or 0. */
static int nv_pub_missing(const nv_pub *p)
{
	char list[200] = "";
	size_t len = 0;
	unsigned missing = 0;

	if (!p->n)
		return nv_error_set(NV_ENOTFOUND, "run %s: no shard has written its partial catalog "
				    "(%s%s/ holds none): run the shards (push --shard K/N --run %s), "
				    "then publish", p->o->run, NV_VAULT_RUNS, p->o->run, p->o->run);
	for (unsigned k = 0; k < p->n; k++) {
		if (p->keys[k])
			continue;
		if (missing++ < 8 && len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u/%u",
						missing > 1 ? ", " : "", k, p->n);
	}
	if (!missing)
		return 0;
	return nv_error_set(NV_ENOTFOUND, "run %s: %u of %u shards have not written their partial "
			    "catalog: %s%s (not run, failed or still running): run %s again, then "
			    "publish", p->o->run, missing, p->n, list, missing > 8 ? ", ..." : "",
			    missing > 1 ? "them" : "it");
}

/* --wait: lists until every shard is there or the time is up (*left_ms then
 * what remains of it, for the lease). Without --wait, one look. */
static int nv_pub_wait(nv_pub *p, long long *left_ms)
{
	long long deadline = nv_pub_now_ms() + p->o->wait_ms, nap;
	int rc, said = 0;

	for (;;) {
		if ((rc = nv_pub_list(p, nv_vault_store(p->v))) || !(rc = nv_pub_missing(p)) ||
		    nv_pub_now_ms() >= deadline)
			break;
		if (!said++)
			nv_log(NV_LOG_NOTICE, "%s; waiting up to %lld s", nv_error_msg(),
			       (deadline - nv_pub_now_ms() + 999) / 1000);
		nv_error_clear();
		nap = deadline - nv_pub_now_ms();
		nap = nap > NV_PUBLISH_POLL_MS ? NV_PUBLISH_POLL_MS : nap;
		if (nap > 0)
			nanosleep(&(struct timespec){ nap / 1000, (nap % 1000) * 1000000 }, NULL);
	}
	*left_ms = deadline - nv_pub_now_ms();
	if (*left_ms < 0)
		*left_ms = 0;
	return rc;
}

/* Every shard's partial catalog, opened and checked as its files are merged;
 * a problem names it. */
static int nv_pub_read(nv_pub *p, const unsigned char kid[NV_KID_LEN])
{
	nv_partial_head want = { .shards = p->n };
	uint64_t bytes, files;
	int rc;

	memcpy(want.vault_id, nv_vault_descriptor(p->v)->vault_id, NV_VAULT_ID_HEX);
	memcpy(want.run, p->doc.run, sizeof(want.run));
	memcpy(want.recipient, p->doc.recipient, sizeof(want.recipient));
	if ((rc = nv_pmerge_new(&p->merge, p->n, p->prev)))
		return rc;
	for (unsigned k = 0; k < p->n; k++) {
		nv_partial *pc = NULL;

		want.shard = k;
		if (!(rc = nv_partial_open(&pc, p->pb.s, p->keys[k], kid, &want, p->id, &bytes)))
			rc = nv_pmerge_add(p->merge, pc, k, &files);
		nv_partial_close(pc);
		if (rc == NV_EMISMATCH)
			return nv_error_wrap(rc, "run %s: shard %u/%u's partial catalog %s is refused "
					     "(nothing published; run that shard again, then publish)",
					     p->o->run, k, p->n, p->keys[k]);
		if (rc)
			return nv_error_wrap(rc, "reading %s", p->keys[k]);
		nv_log(NV_LOG_INFO, "shard %u/%u of run %s: %llu files, partial catalog of %llu "
		       "bytes authentic", k, p->n, p->o->run, (unsigned long long)files,
		       (unsigned long long)bytes);
	}
	return nv_pmerge_sort(p->merge);
}

/* Every recorded object read back: its stored size and SHA-256 must be the
 * recorded ones before any manifest names it. */
static int nv_pub_check_objects(nv_pub *p, nv_publish_stats *st)
{
	const nv_engine_opts *eng = p->o->eng;
	nv_vread_opts ro = { .mode = NV_VREAD_HASH, .vault = nv_vault_location(p->v),
			     .workers = eng->transfers, .buf_size = eng->buffer_size,
			     .retries = eng->retries };
	nv_vread_stats vs;
	char bad[120];
	int rc = nv_pmerge_check(p->merge, &ro, &vs, bad, sizeof(bad));

	if (rc)
		return rc;
	st->objects = vs.done;
	st->bytes = vs.bytes;
	st->out = vs.out;
	if (vs.out.fatal)
		return nv_error_set(vs.out.fatal, "%s", vs.fatal_msg);
	if (vs.out.differ)
		return nv_error_set(NV_EMISMATCH, "%llu recorded object(s) are not in the store as "
				    "the shards recorded them (shard %s): nothing published; run "
				    "those shards again, then publish",
				    (unsigned long long)vs.out.differ, bad);
	if (vs.out.failed)
		return nv_error_set(NV_EIO, "%llu recorded object(s) could not be read back: "
				    "nothing published; publish again",
				    (unsigned long long)vs.out.failed);
	return 0;
}

/* Publication, exactly as a single push's (push_publish.c), then the run's
 * files go. */
static int nv_pub_publish(nv_pub *p, nv_dest_lock *lock, nv_publish_stats *st)
{
	nv_canary_set *canary = NULL;
	int rc;

	if ((rc = nv_canary_prepare(&canary, p->v, p->pb.ps, p->pb.s, NULL, p->prev, 0)))
		return rc;
	if (canary) {
		size_t nc = 0;

		nv_canary_files(canary, &nc);
		st->canaries = nc;
	}
	p->pb.canary = canary;
	p->pb.check_catalog = 1;
	p->pb.no_cache = 1;
	if (nv_dest_lock_lost(lock))
		rc = nv_error_set(NV_ECANCEL, "the lease at %s was lost (not renewed in time): "
				  "nothing published", nv_vault_location(p->v)->text);
	else
		rc = nv_push_publish(&p->pb, &p->files, p->prev_gen, p->prev_sha,
				     &st->generation, &st->published);
	nv_canary_free(canary);
	p->pb.canary = NULL;
	if (rc)
		return rc;
	nv_pmerge_drop_dups(p->merge, p->pb.s);
	if (nv_run_forget(p->v, p->pb.s, p->o->run, p->keys, p->n)) {
		nv_log(NV_LOG_WARN, "generation %llu is published, but the run's files are not "
		       "all removed: %s", (unsigned long long)st->generation, nv_error_msg());
		nv_error_clear();
	}
	return 0;
}

/* The generation to chain from, read as a stream into an index by object. */
static int nv_pub_prev(nv_pub *p)
{
	nv_mread *r = NULL;
	nv_manifest head;
	int rc = nv_vault_current_read(p->v, -1, &r, &head, p->prev_sha, &p->prev_gen);

	if (!rc)
		rc = nv_objindex_build(&p->prev, r);
	nv_mread_close(r);
	nv_manifest_clear(&head);
	return rc;
}

/* Under the lease: the state, what interrupted runs left, the generation to
 * chain from, the run's key, the shards, the objects, then publication. */
static int nv_pub_locked(nv_pub *p, nv_dest_lock *lock, nv_publish_stats *st)
{
	const char *vid = nv_vault_descriptor(p->v)->vault_id;
	int rc;

	if ((rc = nv_push_state_open(&p->pb.ps, vid, 0)) ||
	    (rc = nv_drv_open(&p->pb.s, nv_vault_location(p->v))))
		return rc;
	nv_leftovers_clean(p->pb.s, NULL);
	if ((rc = nv_push_complete_pending(&p->pb)) || (rc = nv_pub_prev(p)) ||
	    (rc = nv_pub_list(p, p->pb.s)) || (rc = nv_pub_missing(p)))
		return rc;
	st->shards = p->n;
	if ((rc = nv_pub_read(p, nv_push_kid(p->pb.ps))))
		return rc;
	st->files = nv_pmerge_files(p->merge);
	if ((rc = nv_pub_check_objects(p, st)) || (rc = nv_push_recs_open(&p->files)) ||
	    (rc = nv_pmerge_recs(p->merge, &p->files)))
		return rc;
	return nv_pub_publish(p, lock, st);
}

int nv_vault_publish(nv_vault *v, const nv_sshkey *sk, const nv_publish_opts *o,
		     nv_publish_stats *st)
{
	nv_pub p = { .v = v, .o = o, .pb = { .v = v, .sk = sk } };
	nv_dest_lock *lock = NULL;
	long long t0 = nv_pub_now_ms(), left = 0;
	char msg[9000];
	int rc;

	memset(st, 0, sizeof(*st));
	/* The run's key first: without it, waiting for its shards is pointless. */
	if (!(rc = nv_vault_check_signing_key(v, sk)) &&
	    !(rc = nv_run_identity(v, o->run, &p.doc, &p.id)) && !(rc = nv_pub_wait(&p, &left)) &&
	    !(rc = nv_push_lock_take(&lock, nv_vault_location(v), nv_vault_descriptor(v)->vault_id,
				     "publish", left, NULL)))
		rc = nv_pub_locked(&p, lock, st);
	if (rc && !st->out.fatal && !st->out.failed && !st->out.differ)
		st->out.fatal = rc;
	st->seconds = (double)(nv_pub_now_ms() - t0) / 1000;
	snprintf(msg, sizeof(msg), "%s", rc ? nv_error_msg() : "");
	nv_dest_lock_release(lock);
	if (rc)
		nv_error_set(rc, "%s", msg); /* the message that stopped it survives */
	nv_pub_keys_free(&p);
	nv_pmerge_free(p.merge);
	nv_push_recs_close(&p.files);
	nv_age_identity_free(p.id);
	nv_objindex_free(p.prev);
	nv_drv_close(p.pb.s);
	nv_push_state_close(p.pb.ps);
	return rc;
}
