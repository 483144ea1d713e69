/* vault_push.c: push — the walk over the source tree feeding jobs to the one
 * worker pool (push_job.c: hash only files the cache cannot vouch for,
 * deduplicate by keyed id, encrypt+upload the rest; each file done goes to
 * sorted records on disk); then publication (push_publish.c), or a shard's
 * partial catalog (partial.c). The host's state is push_state.c's. Called by
 * cmd_push.c. */
#include "vault_push.h"
#include "engine/dest_lock.h"
#include "engine/leftovers.h"
#include "engine/lister.h"
#include "engine/pool.h"
#include "canary_push.h"
#include "partial.h"
#include "push_job.h"
#include "push_publish.h"
#include "push_state.h"
#include "run_key.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- walking the tree ---- */

/* A new job for a listed entry, with what the cache says of it (the cache is
 * read beside the walk, in the same order). */
static int nv_push_job(nv_push *p, const nv_entry *e, nv_push_file **out)
{
	nv_push_file *j;

	if (!(j = calloc(1, sizeof(*j))) || !(j->path = strdup(e->key))) {
		free(j);
		return nv_error_set(NV_ERR, "out of memory");
	}
	/* size, times, inode and mode as the source driver listed them */
	j->e = *e;
	j->e.key = NULL;
	nv_push_cache_seek(p->ps, j->path, &j->cached);
	*out = j;
	return 0;
}

static int nv_push_walk(nv_push *p)
{
	nv_store *s = NULL;
	nv_sorted *l = NULL;
	nv_push_file *j = NULL;
	nv_entry e;
	int rc, listing = 1;

	if ((rc = nv_drv_open(&s, p->src)) || (rc = nv_sorted_open(&l, s, "", 0)))
		goto out;
	while (!nv_pool_stopped(p->pool) && (rc = nv_sorted_next(l, &e)) == 0) {
		/* A filtered push publishes the files that pass, as a push of the
		 * smaller tree would (README.md, "Filters"); a shard pushes its own
		 * files (FORMAT.md 14: by path). */
		if (!nv_filter_entry(p->o->filter, &e) || !nv_shard_mine(p->o->shard, e.key))
			continue;
		if ((rc = nv_push_job(p, &e, &j)))
			break;
		nv_progress_known(1, e.size);
		p->listed++;
		if ((rc = nv_push_unchanged(p, j)) < 0) {
			nv_push_file_free(j);
			listing = 0; /* not the listing's error: its message stands */
			break;
		}
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (nv_pool_submit(p->pool, j) != 0) {
			nv_push_file_free(j); /* the run stopped: never attempted */
			break;
		}
	}
	if (rc == NV_EOF)
		rc = 0;
	nv_progress_listed();
	if (!rc)
		p->unlisted = nv_sorted_skipped(l);
out:
	if (rc && listing)
		nv_error_wrap(rc, "listing %s", p->src->text);
	nv_sorted_close(l);
	nv_drv_close(s);
	return rc;
}

/* ---- the whole push ---- */

/* The generation this push chains from (its number and the SHA-256 of its
 * manifest), read as a stream into an index by object id: a million objects
 * cost 8 MiB here, not the manifest parsed whole. A push that can read a
 * file once (push_job.c, nv_pjob_plan) also keeps the stored sizes of its
 * objects and of those landed, from the smallest it can ask of: that of a
 * file of one buffer (smaller ones are read once anyway). Others keep no
 * such set. */
static int nv_push_prev(nv_push *p, unsigned char sha[NV_SHA256_LEN], uint64_t *gen)
{
	uint64_t floor = nv_age_ciphertext_size(p->o->buffer_size, p->n_recips);
	nv_mread *r = NULL;
	nv_manifest head;
	nv_obj_rec rec;
	int rc = nv_vault_current_read(p->v, -1, &r, &head, sha, gen);

	if (!rc)
		rc = nv_objindex_build(&p->prev, r);
	if (!rc && p->retarget && !(rc = nv_push_sizes_track(p->ps, floor)) && r &&
	    !(rc = nv_mread_rewind(r))) {
		while ((rc = nv_mread_next(r, &rec)) == 0)
			if ((rc = nv_push_size_add(p->ps, rec.size)))
				break;
		if (rc == NV_EOF)
			rc = 0;
	}
	nv_mread_close(r);
	nv_manifest_clear(&head);
	return rc;
}

/* The walk feeds the pool; 0 when every file is ready to publish. A file
 * that failed (or differed) fails the push: no generation is published, what
 * landed is kept. out gets the pool's counts. */
static int nv_push_files(nv_push *p, nv_outcome *out)
{
	nv_pool_opts po = { .workers = p->n_workers, .retries = p->o->retries };
	int rc;

	if ((rc = nv_pool_start(&p->pool, &po, &nv_push_ops, p)))
		return rc;
	rc = nv_push_walk(p);
	nv_pool_finish(p->pool, out); /* its fatal error's message, if any, is ours now */
	p->pool = NULL;
	out->failed += p->unlisted;
	if (out->fatal)
		return out->fatal;
	if (rc)
		return rc;
	if (out->failed || out->differ)
		return nv_error_set(NV_EIO, "%llu file(s) could not be pushed: no generation "
				    "published (what landed is kept for the next push)",
				    (unsigned long long)(out->failed + out->differ));
	return nv_push_recs_sort(&p->recs);
}

static void nv_push_stats_fill(const nv_push *p, nv_push_stats *st)
{
	st->files = p->listed;
	st->hashed = p->hashed;
	st->uploaded = p->uploaded;
	st->uploaded_bytes = p->uploaded_bytes;
	st->reused = p->reused;
	if (p->canary) {
		size_t nc = 0;

		nv_canary_files(p->canary, &nc);
		st->canaries = nc;
		st->canaries_uploaded = nv_canary_uploaded(p->canary);
	}
}

/* This host's locks on the vault, then the lease there (push_state.h); a
 * shard's lease is shared with the other shards of its run. A dry run takes
 * none: it writes nothing. */
static int nv_push_lock(nv_push *p, nv_dest_lock **lock)
{
	*lock = NULL;
	if (p->o->dry_run)
		return 0;
	return nv_push_lock_take(lock, nv_vault_location(p->v),
				 nv_vault_descriptor(p->v)->vault_id, "push", p->o->wait_lock_ms,
				 p->o->shard);
}

/* A shard's end: its objects durable, then its partial catalog (FORMAT.md
 * 2.9), which names them, for publish, written as a stream from the sorted
 * records with the next cache beside it. */
static int nv_push_shard_finish(nv_push *p, nv_store *s, nv_push_stats *st)
{
	const nv_shard *sh = p->o->shard;
	nv_partial_head h = { .shard = sh->k, .shards = sh->n };
	int rc;

	memcpy(h.vault_id, p->run.vault_id, NV_VAULT_ID_HEX);
	memcpy(h.run, p->run.run, sizeof(h.run));
	memcpy(h.recipient, p->run.recipient, sizeof(h.recipient));
	if ((rc = nv_drv_flush(s)) || (rc = nv_push_cache_begin(p->ps)) ||
	    (rc = nv_partial_write(s, nv_push_kid(p->ps), &h, &p->run_key, &p->recs, p->ps))) {
		nv_push_cache_abort(p->ps);
		return rc;
	}
	st->partial = 1;
	return nv_push_cache_commit(p->ps);
}

/* After the files: publish, or for a dry run say whether it would. */
static int nv_push_finish(nv_push *p, nv_publisher *pb, uint64_t prev_gen,
			  const unsigned char prev_sha[NV_SHA256_LEN], nv_dest_lock *lock,
			  nv_push_stats *st)
{
	int rc;

	if (p->o->dry_run && p->o->shard)
		return 0; /* a shard publishes nothing: only its objects are said */
	if (p->o->dry_run) {
		st->generation = prev_gen;
		st->would_publish = 1;
		/* an object to upload, a canary's too, is a new generation; else the
		 * catalogs (the canary one included) say whether anything changed */
		if (!p->uploaded && !(p->canary && nv_canary_uploaded(p->canary)) &&
		    (rc = nv_push_would_publish(pb, &p->recs, prev_gen, &st->would_publish)))
			return rc;
		if (st->would_publish)
			st->generation = prev_gen + 1;
		return 0;
	}
	if (nv_dest_lock_lost(lock))
		return nv_error_set(NV_ECANCEL, "the lease at %s was lost (not renewed in time): "
				    "nothing published", nv_vault_location(p->v)->text);
	if (p->o->shard)
		return nv_push_shard_finish(p, pb->s, st);
	return nv_push_publish(pb, &p->recs, prev_gen, prev_sha, &st->generation,
			       &st->published);
}

/* Whether the generation chained from names an object of this id. */
static int nv_push_prev_names(void *ctx, const char *id)
{
	char name[NV_OBJECT_NAME_MAX];
	nv_obj_rec r;

	return nv_objindex_find_id(ctx, id, &r, name);
}

/* Releases the locks; the message of an error that stopped the push survives. */
static void nv_push_unlock(nv_dest_lock *lock, int rc)
{
	char msg[9000];

	snprintf(msg, sizeof(msg), "%s", rc ? nv_error_msg() : "");
	nv_dest_lock_release(lock);
	if (rc)
		nv_error_set(rc, "%s", msg);
}

int nv_vault_push(nv_vault *v, const nv_location *src, const nv_sshkey *sk,
		  const nv_engine_opts *o, nv_push_stats *st)
{
	nv_push *p = calloc(1, sizeof(*p));
	nv_publisher pb = { .v = v, .sk = sk };
	nv_dest_lock *lock = NULL;
	unsigned char prev_sha[NV_SHA256_LEN];
	uint64_t prev_gen = 0;
	struct timespec t0, t1;
	int rc;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!p)
		return nv_error_set(NV_ERR, "out of memory");
	p->v = v;
	p->src = src;
	p->o = o;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->landed_cv, NULL);
	pthread_mutex_init(&p->recs_mu, NULL);
	p->n_workers = o->transfers ? o->transfers : 1;
	if (!(p->inflight = calloc(p->n_workers, sizeof(*p->inflight)))) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	nv_vault_recipients(v, &p->recips, &p->n_recips);
	/* A shard signs nothing: it needs the run's key instead of the signing key. */
	if ((rc = o->shard ? nv_run_load(v, o->shard->run, &p->run, &p->run_key) :
			     nv_vault_check_signing_key(v, sk)) ||
	    (rc = nv_push_lock(p, &lock)) ||
	    (rc = nv_push_state_open(&p->ps, nv_vault_descriptor(v)->vault_id, o->dry_run)) ||
	    (rc = nv_drv_open(&pb.s, nv_vault_location(v))))
		goto out;
	pb.ps = p->ps;
	/* a dry run writes no object, so never one before its name is known */
	p->retarget = !o->dry_run && nv_drv_can_retarget(pb.s);
	/* What interrupted pushes left, before this one writes (engine/leftovers.h:
	 * holding the vault's lease, the local driver's locks and the age tell). */
	if (!o->dry_run)
		nv_leftovers_clean(pb.s, NULL);
	/* The canary files of a sharded push are publish's (FORMAT.md 2.9). */
	if ((!o->dry_run && !o->shard && (rc = nv_push_complete_pending(&pb))) ||
	    (rc = nv_push_prev(p, prev_sha, &prev_gen)) ||
	    (!o->shard &&
	     (rc = nv_canary_prepare(&p->canary, v, p->ps, pb.s, src, p->prev, o->dry_run))))
		goto out;
	pb.canary = p->canary;
	if (o->shard && !o->dry_run) /* publish, on another host, never resets it */
		nv_push_landed_forget(p->ps, nv_push_prev_names, p->prev);
	if ((rc = nv_push_recs_open(&p->recs)) || (rc = nv_push_files(p, &st->out)))
		goto out;
	rc = nv_push_finish(p, &pb, prev_gen, prev_sha, lock, st);
out:
	if (rc && !st->out.fatal && !st->out.failed && !st->out.differ)
		st->out.fatal = rc;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	nv_push_stats_fill(p, st);
	nv_push_recs_close(&p->recs);
	nv_canary_free(p->canary);
	nv_objindex_free(p->prev);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->landed_cv);
	pthread_mutex_destroy(&p->recs_mu);
	free(p->inflight);
	nv_drv_close(pb.s);
	nv_push_state_close(p->ps);
	nv_push_unlock(lock, rc);
	free(p);
	return rc;
}
