/* publish.c: a sharded push's one generation: the run's partial catalogs found
 * (waiting for them with --wait), opened and checked, every object they record
 * read back on the reader pool (vault_pull.h), the files merged and published
 * by push_publish.c, the run's files removed. Called through publish.h. */
#include "publish.h"
#include "canary_push.h"
#include "engine/leftovers.h"
#include "engine/lister.h"
#include "engine/shard.h"
#include "partial.h"
#include "push_publish.h"
#include "run_key.h"
#include "util/log.h"
#include "vault_pull.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NV_PUBLISH_POLL_MS 2000 /* --wait: how often the run's folder is listed */

/* An object the partial catalogs record (rec is f's), and the shard of f. */
typedef struct nv_pub_obj {
	const nv_obj_rec *rec;
	nv_push_file *f;
	unsigned shard;
} nv_pub_obj;

typedef struct nv_pub {
	nv_vault *v;
	const nv_publish_opts *o;
	nv_publisher pb;
	nv_manifest prev;
	unsigned char prev_sha[NV_SHA256_LEN];
	uint64_t prev_gen;
	nv_run_doc doc;
	nv_age_identity *id;
	char **keys;           /* keys[k]: shard k's partial catalog, NULL while missing */
	unsigned n;            /* N, the run's shards; 0 while none was found */
	nv_push_list files;
	nv_pub_obj *objs;      /* sorted by name, one each */
	size_t n_objs;
	char **dups;           /* objects of contents another shard stored too, unnamed */
	size_t n_dups;
	atomic_uchar *bad;     /* bad[k]: shard k recorded what the store does not hold */
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

/* Every shard's partial catalog, opened and checked; a problem names it. */
static int nv_pub_read(nv_pub *p, const unsigned char kid[NV_KID_LEN])
{
	nv_partial_head want = { .shards = p->n };
	uint64_t bytes;
	int rc;

	memcpy(want.vault_id, nv_vault_descriptor(p->v)->vault_id, NV_VAULT_ID_HEX);
	memcpy(want.run, p->doc.run, sizeof(want.run));
	memcpy(want.recipient, p->doc.recipient, sizeof(want.recipient));
	for (unsigned k = 0; k < p->n; k++) {
		size_t before = p->files.n;

		want.shard = k;
		rc = nv_partial_read(p->pb.s, p->keys[k], kid, &want, p->id, &p->files, &bytes);
		if (rc == NV_EMISMATCH)
			return nv_error_wrap(rc, "run %s: shard %u/%u's partial catalog %s is refused "
					     "(nothing published; run that shard again, then publish)",
					     p->o->run, k, p->n, p->keys[k]);
		if (rc)
			return nv_error_wrap(rc, "reading %s", p->keys[k]);
		nv_log(NV_LOG_INFO, "shard %u/%u of run %s: %zu files, partial catalog of %llu "
		       "bytes authentic", k, p->n, p->o->run, p->files.n - before,
		       (unsigned long long)bytes);
	}
	return 0;
}

static int nv_pub_path_cmp(const void *a, const void *b)
{
	return strcmp((*(nv_push_file *const *)a)->path, (*(nv_push_file *const *)b)->path);
}

static int nv_pub_obj_cmp(const void *a, const void *b)
{
	return strcmp(((const nv_pub_obj *)a)->rec->name, ((const nv_pub_obj *)b)->rec->name);
}

/* f names the object canon holds (the same contents: the same id). */
static int nv_pub_remap(nv_pub *p, nv_push_file *f, const nv_obj_rec *canon)
{
	if (!p->n_dups || strcmp(p->dups[p->n_dups - 1], f->obj.name) != 0)
		p->dups[p->n_dups++] = f->obj.name; /* kept: named by no manifest, removed later */
	else
		free(f->obj.name);
	f->obj = *canon;
	f->cat.object = f->obj.name = strdup(canon->name);
	return f->obj.name ? 0 : nv_error_set(NV_ERR, "out of memory");
}

/* The files in path order (each shard's paths are its own: no path twice),
 * and the objects they record, one each: two records of one name must agree,
 * and contents two shards both uploaded (one id, two nonces) are named by
 * one of them, as a single push would store them once. */
static int nv_pub_merge(nv_pub *p)
{
	nv_push_file **f = p->files.j;
	size_t k = 0, n = p->files.n, idlen = NV_OBJECT_PREFIX_MAX - 1;
	int rc;

	qsort(f, n, sizeof(*f), nv_pub_path_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(f[i - 1]->path, f[i]->path) == 0)
			return nv_error_set(NV_EMISMATCH, "'%s' is in two partial catalogs",
					    f[i]->path);
	if (!(p->objs = calloc(n ? n : 1, sizeof(*p->objs))) ||
	    !(p->dups = calloc(n ? n : 1, sizeof(*p->dups))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < n; i++)
		p->objs[i] = (nv_pub_obj){ .rec = &f[i]->obj, .f = f[i],
					   .shard = (unsigned)(nv_shard_hash(f[i]->path,
						 strlen(f[i]->path)) % p->n) };
	qsort(p->objs, n, sizeof(*p->objs), nv_pub_obj_cmp);
	for (size_t i = 0; i < n; i++) {
		const nv_obj_rec *a = k ? p->objs[k - 1].rec : NULL, *b = p->objs[i].rec;

		if (a && strcmp(a->name, b->name) == 0) {
			if (a->size != b->size || memcmp(a->sha256, b->sha256, NV_SHA256_LEN))
				return nv_error_set(NV_EMISMATCH, "object %s is recorded with two "
						    "sizes or SHA-256 (shards %u/%u and %u/%u)",
						    b->name, p->objs[k - 1].shard, p->n,
						    p->objs[i].shard, p->n);
		} else if (a && strncmp(a->name, b->name, idlen) == 0 &&
			   !nv_manifest_find(&p->prev, b->name)) {
			if ((rc = nv_pub_remap(p, p->objs[i].f, a)))
				return rc;
		} else {
			p->objs[k++] = p->objs[i];
		}
	}
	p->n_objs = k;
	return 0;
}

/* The objects of contents another shard also stored: named by no manifest
 * now, removed while the lease is held (a failure leaves one unnamed object,
 * as a killed push does). */
static void nv_pub_drop_dups(nv_pub *p)
{
	for (size_t i = 0; i < p->n_dups; i++)
		if (nv_drv_remove(p->pb.s, p->dups[i]) != 0) {
			nv_log(NV_LOG_WARN, "%s", nv_error_msg());
			nv_error_clear();
		}
}

/* The reader pool's word on an object: its recording shard is marked. */
static void nv_pub_note(void *ctx, const char *kind, const char *what, const char *msg)
{
	nv_pub *p = ctx;
	nv_obj_rec key = { .name = (char *)what };
	nv_pub_obj k = { .rec = &key }, *o = bsearch(&k, p->objs, p->n_objs, sizeof(k),
						     nv_pub_obj_cmp);

	(void)kind;
	(void)msg;
	if (o)
		atomic_store(&p->bad[o->shard], 1);
}

/* The shards marked bad, as "1/3, 2/3" (the first few). */
static void nv_pub_bad_list(const nv_pub *p, char *buf, size_t cap)
{
	size_t len = 0;
	unsigned shown = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < p->n && len < cap; k++)
		if (atomic_load(&p->bad[k]) && shown++ < 8)
			len += (size_t)snprintf(buf + len, cap - len, "%s%u/%u", shown > 1 ? ", " : "",
						k, p->n);
}

/* Every recorded object read back: its stored size and SHA-256 must be the
 * recorded ones before any manifest names it. */
static int nv_pub_check_objects(nv_pub *p, nv_publish_stats *st)
{
	const nv_engine_opts *eng = p->o->eng;
	nv_vread_opts ro = { .mode = NV_VREAD_HASH, .vault = nv_vault_location(p->v),
			     .workers = eng->transfers, .buf_size = eng->buffer_size,
			     .retries = eng->retries, .note = nv_pub_note, .note_ctx = p };
	nv_vread_job *jobs = calloc(p->n_objs ? p->n_objs : 1, sizeof(*jobs));
	nv_vread_stats vs;
	char bad[120];
	int rc;

	p->bad = calloc(p->n, sizeof(*p->bad));
	if (!jobs || !p->bad) {
		free(jobs);
		return nv_error_set(NV_ERR, "out of memory");
	}
	for (size_t i = 0; i < p->n_objs; i++)
		jobs[i].rec = p->objs[i].rec;
	rc = p->n_objs ? nv_vread_run(&ro, jobs, p->n_objs, &vs) : 0;
	free(jobs);
	if (rc || !p->n_objs)
		return rc;
	st->objects = vs.done;
	st->bytes = vs.bytes;
	st->out = vs.out;
	if (vs.out.fatal)
		return nv_error_set(vs.out.fatal, "%s", vs.fatal_msg);
	nv_pub_bad_list(p, bad, sizeof(bad));
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

	if ((rc = nv_canary_prepare(&canary, p->v, p->pb.ps, p->pb.s, NULL, &p->prev, 0)))
		return rc;
	if (canary) {
		size_t nc = 0;

		nv_canary_files(canary, &nc);
		st->canaries = nc;
	}
	p->pb.canary = canary;
	p->pb.check_catalog = 1;
	if (nv_dest_lock_lost(lock))
		rc = nv_error_set(NV_ECANCEL, "the lease at %s was lost (not renewed in time): "
				  "nothing published", nv_vault_location(p->v)->text);
	else
		rc = nv_push_publish(&p->pb, p->files.j, p->files.n, p->prev_gen, p->prev_sha,
				     &st->generation, &st->published);
	nv_canary_free(canary);
	p->pb.canary = NULL;
	if (rc)
		return rc;
	nv_pub_drop_dups(p);
	if (nv_run_forget(p->v, p->pb.s, p->o->run, p->keys, p->n)) {
		nv_log(NV_LOG_WARN, "generation %llu is published, but the run's files are not "
		       "all removed: %s", (unsigned long long)st->generation, nv_error_msg());
		nv_error_clear();
	}
	return 0;
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
	if ((rc = nv_push_complete_pending(&p->pb)) ||
	    (rc = nv_vault_current(p->v, -1, &p->prev, p->prev_sha, &p->prev_gen)) ||
	    (rc = nv_pub_list(p, p->pb.s)) || (rc = nv_pub_missing(p)))
		return rc;
	st->shards = p->n;
	if ((rc = nv_pub_read(p, nv_push_kid(p->pb.ps))) || (rc = nv_pub_merge(p)))
		return rc;
	st->files = p->files.n;
	if ((rc = nv_pub_check_objects(p, st)))
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
	nv_push_list_free(&p.files);
	free(p.objs);
	for (size_t i = 0; i < p.n_dups; i++)
		free(p.dups[i]);
	free(p.dups);
	free(p.bad);
	nv_age_identity_free(p.id);
	nv_manifest_clear(&p.prev);
	nv_drv_close(p.pb.s);
	nv_push_state_close(p.pb.ps);
	return rc;
}
