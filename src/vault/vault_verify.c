/* vault_verify.c: verify's checks, each problem logged with the manifest or
 * object it concerns; the manifests and the catalog read as streams, the
 * object checks planned into a spool (util/runs.h) and fed to the reader pool
 * (vault_pull.c). Called through vault_verify.h. */
#include "vault_verify.h"
#include "catalog_read.h"
#include "engine/lister.h"
#include "manifest_read.h"
#include "util/b64.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/runs.h"
#include "vault_pull.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void nv_verify_vproblem(nv_verify_report *r, const char *kind, const char *what,
			const char *fmt, va_list ap)
{
	char msg[1536];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	nv_log_item(NV_LOG_ERROR, kind, what, msg);
	if (r->note)
		r->note(r->note_ctx, kind, what, msg);
	r->problems++;
}

__attribute__((format(printf, 4, 5)))
static void nv_problem(nv_verify_report *r, const char *kind, const char *what,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nv_verify_vproblem(r, kind, what, fmt, ap);
	va_end(ap);
}

/* Every manifest's signature, and each link of the hash chain: manifest g
 * must name the SHA-256 of manifest g-1's bytes; a gap is a missing manifest.
 * Each is read as a stream (manifest_read.h), every line checked. */
int nv_verify_chain(nv_vault *v, nv_verify_report *r)
{
	unsigned char sha[NV_SHA256_LEN], prev[NV_SHA256_LEN];
	char key[NV_MANIFEST_NAME_MAX], hex[NV_SHA256_HEX];
	uint64_t *gens, expect = 1;
	int have_prev = 0, rc;
	nv_manifest m;
	nv_mread *mr;
	size_t n;

	if ((rc = nv_vault_generations(v, &gens, &n)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint64_t g = gens[i];

		nv_manifest_name(key, g);
		if (g > expect + 1)
			nv_problem(r, "missing", key, "manifests %llu to %llu missing: the chain is "
				   "broken", (unsigned long long)expect, (unsigned long long)(g - 1));
		else if (g > expect)
			nv_problem(r, "missing", key, "manifest %llu missing: the chain is broken",
				   (unsigned long long)expect);
		if (g > expect)
			have_prev = 0;
		expect = g + 1;
		if ((rc = nv_mread_open(&mr, v, g, &m, sha)) || (rc = nv_mread_check(mr))) {
			nv_problem(r, "bad-manifest", key, "%s", nv_error_msg());
			nv_mread_close(mr);
			nv_manifest_clear(&m);
			have_prev = 0;
			continue;
		}
		nv_mread_close(mr);
		nv_hex(hex, prev, sizeof(prev));
		if (g > 1 && have_prev && strcmp(m.previous, hex) != 0)
			nv_problem(r, "chain", key, "its 'previous' is not the SHA-256 of manifest "
				   "%llu", (unsigned long long)(g - 1));
		else
			r->manifests++;
		memcpy(prev, sha, sizeof(prev));
		have_prev = 1;
		nv_manifest_clear(&m);
	}
	free(gens);
	return 0;
}

/* The next object line of mr into *rec: 0, NV_EOF, or an error; at most n
 * lines (the header's count, which sizes ok[]). */
static int nv_verify_mnext(nv_mread *mr, nv_obj_rec *rec, size_t i, size_t n)
{
	int rc = nv_mread_next(mr, rec);

	if (!rc && i >= n)
		return nv_error_set(NV_EMISMATCH, "manifest: more objects than its header counts");
	return rc;
}

/* One sorted listing of objects/ merged with the manifest (read as a stream,
 * also sorted): every object present with its size, without one stat per
 * object. ok[i] says which of the n records passed (the deeper levels read
 * only those); another shard's objects are neither reported nor passed. */
static int nv_verify_list(nv_vault *v, nv_mread *mr, size_t n, const nv_shard *shard,
			  unsigned char *ok, nv_verify_report *r)
{
	nv_sorted *l;
	nv_entry e;
	nv_obj_rec rec;
	size_t i = 0;
	int rc, mrc, c;

	if ((rc = nv_mread_rewind(mr)) ||
	    (rc = nv_sorted_open(&l, nv_vault_store(v), NV_VAULT_OBJECTS, 1)))
		return rc;
	mrc = nv_verify_mnext(mr, &rec, i, n);
	rc = nv_sorted_next(l, &e);
	while ((rc == 0 || rc == NV_EOF) && (mrc == 0 || mrc == NV_EOF) && (!rc || !mrc)) {
		c = rc == NV_EOF ? 1 : mrc == NV_EOF ? -1 : strcmp(e.key, rec.name);
		if (c < 0) {
			/* older generations' objects, or landed before a crash */
			r->extra += nv_shard_mine(shard, e.key);
		} else if (!nv_shard_mine(shard, rec.name)) {
			mrc = nv_verify_mnext(mr, &rec, ++i, n); /* another shard's */
			if (c > 0)
				continue; /* absent: the listing stays where it is */
		} else if (c > 0) {
			nv_problem(r, "missing", rec.name, "object missing from the store");
			mrc = nv_verify_mnext(mr, &rec, ++i, n);
			continue;
		} else if (e.size != rec.size) {
			nv_problem(r, "mismatch", rec.name, "the store holds %llu bytes, the "
				   "manifest says %llu", (unsigned long long)e.size,
				   (unsigned long long)rec.size);
			mrc = nv_verify_mnext(mr, &rec, ++i, n);
		} else {
			ok[i] = 1;
			mrc = nv_verify_mnext(mr, &rec, ++i, n);
		}
		rc = nv_sorted_next(l, &e);
	}
	nv_sorted_close(l);
	if (mrc && mrc != NV_EOF)
		return mrc;
	return rc == NV_EOF ? 0 : rc;
}

/* K_id, from the descriptor, with the identity (deep only). */
static int nv_verify_kid(nv_vault *v, const nv_age_identity *id,
			 unsigned char kid[NV_KID_LEN])
{
	const char *b = nv_vault_descriptor(v)->kid_age;
	size_t blen = strlen(b), klen = 0;
	unsigned char *ct = malloc(blen / 4 * 3 + 3), *pt = NULL;
	long n = ct ? nv_b64_pad_decode(ct, b, blen) : -1;
	int rc;

	if (n < 0) {
		free(ct);
		return nv_error_set(NV_EMISMATCH, "the descriptor's kid_age is not base64");
	}
	rc = nv_age_decrypt_buf(&pt, &klen, ct, (size_t)n, id);
	free(ct);
	if (!rc && klen != NV_KID_LEN)
		rc = nv_error_set(NV_EMISMATCH, "the descriptor's K_id is %zu bytes, not %d", klen,
				  NV_KID_LEN);
	if (!rc)
		memcpy(kid, pt, NV_KID_LEN);
	if (pt)
		nv_age_wipe_free(pt, klen);
	return rc ? nv_error_wrap(rc, "decrypting the descriptor's K_id") : 0;
}

/* ---- the jobs of the reader pool, planned in one pass and spooled ---- */

/* A catalog entry as sorted (key: its object, NUL, its SHA-256 and size, so
 * that equal claims on one object come together), the path after it. */
typedef struct nv_ventry {
	int64_t mtime;
	int32_t mtime_ns;
	uint32_t mode;
} nv_ventry;

/* A job as spooled (key: its sequence number), the path after it. */
typedef struct nv_vjrec {
	uint64_t osize, size;
	unsigned char osha[NV_SHA256_LEN], sha[NV_SHA256_LEN];
	int64_t mtime;
	int32_t mtime_ns;
	uint32_t mode;
	int has_entry;         /* 0: the stored bytes only */
	char object[NV_OBJECT_NAME_MAX];
} nv_vjrec;

/* A job handed to the pool, with the strings it points to. */
typedef struct nv_vjob {
	nv_vread_job job;
	nv_obj_rec rec;
	nv_cat_entry entry;
	char object[NV_OBJECT_NAME_MAX];
	char path[];
} nv_vjob;

typedef struct nv_vplan {
	nv_vault *v;
	const nv_verify_opts *o;
	const nv_vread_opts *ro;
	nv_verify_report *r;
	nv_runs *spool;        /* the jobs */
	nv_runs *cat;          /* deep, the catalog loaded: its entries, by object */
	int have_kid, no_kid;
	unsigned char kid[NV_KID_LEN];
} nv_vplan;

/* Spools a job on rec (e: the file it holds, NULL: its stored bytes only). */
static int nv_vplan_job(nv_vplan *pl, const nv_obj_rec *rec, const nv_cat_entry *e)
{
	size_t plen = e ? strlen(e->path) : 0;
	unsigned char key[8], *val = malloc(sizeof(nv_vjrec) + plen);
	uint64_t seq = nv_runs_count(pl->spool);
	nv_vread_job j = { .rec = rec, .entry = e };
	nv_vjrec jr;
	int rc;

	if (!val)
		return nv_error_set(NV_ERR, "out of memory");
	memset(&jr, 0, sizeof(jr)); /* the padding too: the bytes go to disk */
	jr.osize = rec->size;
	memcpy(jr.osha, rec->sha256, NV_SHA256_LEN);
	snprintf(jr.object, sizeof(jr.object), "%s", rec->name);
	if (e) {
		jr.has_entry = 1;
		jr.size = e->size;
		memcpy(jr.sha, e->sha256, NV_SHA256_LEN);
		jr.mtime = e->mtime;
		jr.mtime_ns = e->mtime_ns;
		jr.mode = e->mode;
		memcpy(val + sizeof(jr), e->path, plen);
	}
	memcpy(val, &jr, sizeof(jr));
	for (int i = 7; i >= 0; i--, seq >>= 8) /* big-endian: sorted = in plan order */
		key[i] = (unsigned char)seq;
	nv_progress_known(1, nv_vread_job_size(pl->ro, &j));
	rc = nv_runs_add(pl->spool, key, sizeof(key), val, sizeof(jr) + plen);
	free(val);
	return rc;
}

/* Deep: the newest catalog read as a stream (catalog_read.h), each entry of
 * this shard's objects sorted by object. One that cannot be read is a problem
 * and none of its entries is used (the objects are then checked at the hash
 * level); a wrong identity stops the check. */
static int nv_vplan_catalog(nv_vplan *pl, nv_mread *mr, const nv_manifest *head)
{
	unsigned char key[NV_OBJECT_NAME_MAX + NV_SHA256_LEN + 8], val[sizeof(nv_ventry) + 4097];
	nv_cread *cr = NULL;
	nv_cat_entry e;
	int rc;

	if ((rc = nv_runs_new_state(&pl->cat)))
		return rc;
	if (!(rc = nv_cread_open_catalog(&cr, pl->v, mr, head, pl->o->id))) {
		while ((rc = nv_cread_next(cr, &e)) == 0) {
			size_t ol = strlen(e.object), pl_ = strlen(e.path);
			nv_ventry ve = { .mtime = e.mtime, .mtime_ns = e.mtime_ns, .mode = e.mode };
			uint64_t size = e.size;

			if (!nv_shard_mine(pl->o->shard, e.object))
				continue; /* another shard's object */
			if (ol >= NV_OBJECT_NAME_MAX || pl_ > 4096) {
				rc = nv_error_set(NV_EMISMATCH, "catalog: entry too long");
				break;
			}
			memcpy(key, e.object, ol + 1);
			memcpy(key + ol + 1, e.sha256, NV_SHA256_LEN);
			for (int i = 7; i >= 0; i--, size >>= 8)
				key[ol + 1 + NV_SHA256_LEN + i] = (unsigned char)size;
			memcpy(val, &ve, sizeof(ve));
			memcpy(val + sizeof(ve), e.path, pl_);
			if ((rc = nv_runs_add(pl->cat, key, ol + 1 + NV_SHA256_LEN + 8, val,
					      sizeof(ve) + pl_)))
				break;
		}
		rc = rc == NV_EOF ? nv_runs_sort(pl->cat) : rc;
	}
	nv_cread_close(cr);
	if (!rc || rc == NV_ERR)
		return rc;
	nv_problem(pl->r, rc == NV_EAUTH ? "identity" : "catalog", head->catalog, "%s",
		   nv_error_msg());
	nv_runs_free(pl->cat);
	pl->cat = NULL; /* no catalog: the objects are still checked at the hash level */
	return rc == NV_EAUTH ? rc : 0;
}

/* One sorted entry: its object, claim and path (in buffers of the caller). */
typedef struct nv_vcat {
	char object[NV_OBJECT_NAME_MAX];
	char path[4097];
	nv_cat_entry e;
	unsigned char claim[NV_SHA256_LEN + 8]; /* SHA-256, size: equal claims come once */
	int have, same;   /* same: the claim of the entry before, on the same object */
} nv_vcat;

static int nv_vcat_next(nv_vplan *pl, nv_vcat *c)
{
	nv_run_rec rr;
	nv_ventry ve;
	size_t ol;
	uint64_t size = 0;
	int rc = pl->cat ? nv_runs_next(pl->cat, &rr) : NV_EOF;
	unsigned char claim[NV_SHA256_LEN + 8];

	if (rc) {
		c->have = 0;
		return rc == NV_EOF ? 0 : rc;
	}
	ol = strnlen((const char *)rr.key, rr.klen);
	if (ol >= NV_OBJECT_NAME_MAX || rr.klen != ol + 1 + sizeof(claim) ||
	    rr.vlen < sizeof(ve) || rr.vlen - sizeof(ve) >= sizeof(c->path))
		return nv_error_set(NV_EMISMATCH, "a record of the catalog's sort was altered");
	memcpy(claim, rr.key + ol + 1, sizeof(claim));
	c->same = c->have && strlen(c->object) == ol && memcmp(c->object, rr.key, ol) == 0 &&
		  memcmp(c->claim, claim, sizeof(claim)) == 0;
	memcpy(c->object, rr.key, ol);
	c->object[ol] = '\0';
	memcpy(c->claim, claim, sizeof(claim));
	memcpy(&ve, rr.val, sizeof(ve));
	memcpy(c->path, rr.val + sizeof(ve), rr.vlen - sizeof(ve));
	c->path[rr.vlen - sizeof(ve)] = '\0';
	for (int i = 0; i < 8; i++)
		size = size << 8 | claim[NV_SHA256_LEN + i];
	c->e = (nv_cat_entry){ .path = c->path, .size = size, .mode = ve.mode,
			       .mtime = ve.mtime, .mtime_ns = ve.mtime_ns, .object = c->object };
	memcpy(c->e.sha256, claim, NV_SHA256_LEN);
	c->have = 1;
	return 0;
}

/* An object must be named after its contents (HMAC-SHA256 under K_id of the
 * plaintext SHA-256): a push deduplicates by that name, so a wrongly named
 * object would later stand in for other contents. */
static void nv_vplan_name(nv_vplan *pl, const nv_cat_entry *e)
{
	char want[NV_OBJECT_ID_HEX], id[NV_OBJECT_ID_HEX];

	if (pl->no_kid)
		return;
	if (!pl->have_kid && nv_verify_kid(pl->v, pl->o->id, pl->kid)) {
		nv_problem(pl->r, "descriptor", NV_VAULT_DESCRIPTOR, "%s", nv_error_msg());
		pl->no_kid = 1;
		return;
	}
	pl->have_kid = 1;
	nv_object_id(want, pl->kid, e->sha256);
	/* the catalog parser checked the name already: this cannot fail */
	if (nv_object_name_parse(e->object, id, NULL) || strcmp(id, want) != 0)
		nv_problem(pl->r, "misnamed", e->path, "object %s is not named after the contents "
			   "the catalog gives it (its id is not HMAC-SHA256 under K_id of the "
			   "SHA-256)", e->object);
}

/* Entries before rec (NULL: all that are left) name objects the manifest
 * does not list: a problem for each distinct claim. */
static int nv_vplan_unlisted(nv_vplan *pl, nv_vcat *c, const nv_obj_rec *rec)
{
	int rc = 0;

	while (!rc && c->have && (!rec || strcmp(c->object, rec->name) < 0)) {
		nv_vplan_name(pl, &c->e);
		if (!c->same)
			nv_problem(pl->r, "catalog", c->path, "names object %s, which the manifest "
				   "does not list", c->object);
		rc = nv_vcat_next(pl, c);
	}
	return rc;
}

/* The jobs, in manifest order: one decrypting job per distinct (object,
 * claimed SHA-256 and size) of the catalog, a stored-bytes job for every other
 * object that passed the listing; the catalog itself none when it was read
 * (reading it checked its stored bytes and decrypted it: one read). */
static int nv_vplan_make(nv_vplan *pl, nv_mread *mr, const nv_manifest *head,
			 const unsigned char *ok)
{
	nv_vcat *c = calloc(1, sizeof(*c));
	nv_obj_rec rec;
	size_t i = 0;
	int rc = c ? 0 : nv_error_set(NV_ERR, "out of memory");

	if (!rc && pl->cat && !(rc = nv_runs_rewind(pl->cat)))
		rc = nv_vcat_next(pl, c);
	if (!rc)
		rc = nv_mread_rewind(mr);
	while (!rc && (rc = nv_mread_next(mr, &rec)) == 0) {
		int named = pl->cat && strcmp(rec.name, head->catalog) == 0;

		if (named)
			pl->r->objects += ok[i];
		if ((rc = nv_vplan_unlisted(pl, c, &rec)))
			break;
		for (; !rc && c->have && strcmp(c->object, rec.name) == 0; rc = nv_vcat_next(pl, c)) {
			named = 1;
			nv_vplan_name(pl, &c->e);
			if (!c->same && ok[i])
				rc = nv_vplan_job(pl, &rec, &c->e);
		}
		if (!rc && !named && ok[i])
			rc = nv_vplan_job(pl, &rec, NULL);
		i++;
	}
	if (rc == NV_EOF)
		rc = nv_vplan_unlisted(pl, c, NULL);
	free(c);
	return rc ? rc : nv_runs_sort(pl->spool);
}

static int nv_vplan_next(void *ctx, nv_vread_job **out)
{
	nv_vplan *pl = ctx;
	nv_run_rec rr;
	nv_vjrec jr;
	nv_vjob *j;
	size_t plen;
	int rc = nv_runs_next(pl->spool, &rr);

	if (rc)
		return rc;
	if (rr.vlen < sizeof(jr))
		return nv_error_set(NV_EMISMATCH, "a record of verify's spool was altered");
	memcpy(&jr, rr.val, sizeof(jr));
	plen = rr.vlen - sizeof(jr);
	if (!(j = calloc(1, sizeof(*j) + plen + 1)))
		return nv_error_set(NV_ERR, "out of memory");
	memcpy(j->path, rr.val + sizeof(jr), plen);
	memcpy(j->object, jr.object, sizeof(j->object));
	j->object[sizeof(j->object) - 1] = '\0';
	j->rec = (nv_obj_rec){ .name = j->object, .size = jr.osize };
	memcpy(j->rec.sha256, jr.osha, NV_SHA256_LEN);
	j->entry = (nv_cat_entry){ .path = j->path, .size = jr.size, .mode = jr.mode,
				   .mtime = jr.mtime, .mtime_ns = jr.mtime_ns, .object = j->object };
	memcpy(j->entry.sha256, jr.sha, NV_SHA256_LEN);
	j->job = (nv_vread_job){ .rec = &j->rec, .entry = jr.has_entry ? &j->entry : NULL };
	*out = &j->job;
	return 0;
}

static void nv_vplan_free(void *ctx, nv_vread_job *job)
{
	(void)ctx;
	free((nv_vjob *)job); /* job is the first member */
}

/* The objects' checks on the reader pool, planned in one pass over the
 * manifest (and, deep, the catalog) read as streams: memory does not grow
 * with the number of objects but for ok[]. */
static int nv_verify_objects(nv_vault *v, nv_mread *mr, const nv_manifest *head,
			     const unsigned char *ok, const nv_verify_opts *o, nv_verify_report *r)
{
	nv_vread_opts ro = {
		.mode = o->level == NV_VERIFY_DEEP ? NV_VREAD_DEEP : NV_VREAD_HASH,
		.vault = nv_vault_location(v),
		.id = o->id,
		.workers = o->workers,
		.buf_size = o->buf_size,
		.retries = o->retries,
	};
	nv_vplan pl = { .v = v, .o = o, .ro = &ro, .r = r };
	nv_vread_feed feed = { .next = nv_vplan_next, .free = nv_vplan_free, .ctx = &pl };
	nv_vread_stats st;
	int rc;

	if (!(rc = nv_runs_new_state(&pl.spool)) &&
	    (o->level != NV_VERIFY_DEEP || !(rc = nv_vplan_catalog(&pl, mr, head))))
		rc = nv_vplan_make(&pl, mr, head, ok);
	OPENSSL_cleanse(pl.kid, sizeof(pl.kid));
	feed.n = rc ? 0 : nv_runs_count(pl.spool);
	nv_progress_listed();
	if (!rc && feed.n && (rc = nv_vread_run_feed(&ro, &feed, &st)) == 0) {
		r->objects += st.done;
		r->problems += st.mismatched + st.missing + st.failed;
		r->failed += st.failed;
		if (st.out.fatal) {
			nv_log(NV_LOG_ERROR, "%s", st.fatal_msg);
			r->fatal = st.out.fatal;
			r->problems += !st.stopped; /* a stop no job's failure counted */
		}
	}
	nv_runs_free(pl.cat);
	nv_runs_free(pl.spool);
	return rc;
}

/* verify --sample: the seeded sample (sample.h) is drawn from every object
 * of the manifest at once, which it holds in memory for that. */
static int nv_verify_sample(nv_mread *mr, const nv_manifest *head, const nv_verify_opts *o,
			    unsigned char *ok, nv_verify_report *r)
{
	nv_manifest m = { .n = 0, .catalog = head->catalog };
	nv_obj_rec rec;
	int rc = (m.objs = calloc(head->n ? head->n : 1, sizeof(*m.objs))) ? nv_mread_rewind(mr)
	       : nv_error_set(NV_ERR, "out of memory");

	while (!rc && (rc = nv_mread_next(mr, &rec)) == 0) {
		if (m.n >= head->n) {
			rc = nv_error_set(NV_EMISMATCH, "manifest: more objects than its header "
					  "counts");
			break;
		}
		m.objs[m.n] = rec;
		if (!(m.objs[m.n++].name = strdup(rec.name)))
			rc = nv_error_set(NV_ERR, "out of memory");
	}
	if (rc == NV_EOF)
		rc = nv_sample_manifest(o->sample, &m, o->shard, ok, &r->sample);
	for (size_t i = 0; m.objs && i < m.n; i++)
		free(m.objs[i].name);
	free(m.objs);
	return rc;
}

void nv_verify_heartbeat(nv_vault *v, long long max_age, uint64_t newest,
			 const unsigned char newest_sha[NV_SHA256_LEN], nv_verify_report *r,
			 nv_heartbeat *out)
{
	const char *vid = nv_vault_descriptor(v)->vault_id;
	char hex[NV_SHA256_HEX];
	nv_heartbeat hb;
	time_t t, now = time(NULL);
	int rc = nv_vault_heartbeat(v, &hb);

	if (out)
		*out = rc ? (nv_heartbeat){ 0 } : hb;
	if (rc == NV_ENOTFOUND) {
		nv_problem(r, "heartbeat", NV_VAULT_HEARTBEAT, "no heartbeat: no push has "
			   "completed");
		return;
	}
	if (rc || nv_time_parse(&t, hb.time)) {
		nv_problem(r, "heartbeat", NV_VAULT_HEARTBEAT, "%s", nv_error_msg());
		return;
	}
	if (hb.generation < newest || hb.generation < nv_vault_seen(vid)) {
		nv_problem(r, "rollback", NV_VAULT_HEARTBEAT, "names generation %llu, older than "
			   "generation %llu: refusing a rolled-back heartbeat",
			   (unsigned long long)hb.generation, (unsigned long long)
			   (newest > nv_vault_seen(vid) ? newest : nv_vault_seen(vid)));
		return;
	}
	if (hb.generation > newest) {
		nv_problem(r, "rollback", NV_VAULT_HEARTBEAT, "names generation %llu, but the "
			   "newest manifest is %llu: manifests withheld or rolled back",
			   (unsigned long long)hb.generation, (unsigned long long)newest);
		nv_vault_set_seen(vid, hb.generation); /* signed: it did exist */
		return;
	}
	nv_hex(hex, newest_sha, NV_SHA256_LEN);
	if (newest && strcmp(hb.manifest_sha256, hex) != 0) {
		nv_problem(r, "heartbeat", NV_VAULT_HEARTBEAT, "names another manifest for "
			   "generation %llu than the one stored", (unsigned long long)newest);
		return;
	}
	if (max_age >= 0 && now - t > max_age)
		nv_problem(r, "stale", NV_VAULT_HEARTBEAT, "the last push was at %s, %lld "
			   "seconds ago: older than --max-age (%lld seconds)", hb.time,
			   (long long)(now - t), max_age);
}

int nv_vault_verify(nv_vault *v, const nv_verify_opts *o, nv_verify_report *r)
{
	unsigned char sha[NV_SHA256_LEN], *ok = NULL;
	nv_mread *mr = NULL;
	nv_manifest head;
	uint64_t gen;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(sha, 0, sizeof(sha));
	if ((rc = nv_verify_chain(v, r)))
		goto fatal;
	/* The newest generation as every reader takes it: signed, naming this vault
	 * and its own number, not below what this host has seen; read as a stream. */
	rc = nv_vault_current_checked(v, -1, &mr, &head, sha, &gen);
	if (rc) {
		nv_problem(r, "newest", NV_VAULT_MANIFESTS, "%s", nv_error_msg());
		rc = 0;
		gen = 0;
	}
	r->generation = gen;
	if (gen) {
		if (!(ok = calloc(head.n ? head.n : 1, 1))) {
			rc = nv_error_set(NV_ERR, "out of memory");
		} else if ((rc = nv_verify_list(v, mr, head.n, o->shard, ok, r)) == 0 &&
			   (!o->sample || !(rc = nv_verify_sample(mr, &head, o, ok, r)))) {
			if (o->level == NV_VERIFY_LIST)
				for (size_t i = 0; i < head.n; i++)
					r->objects += ok[i];
			else
				rc = nv_verify_objects(v, mr, &head, ok, o, r);
		}
		free(ok);
		nv_mread_close(mr);
		nv_manifest_clear(&head);
		if (rc)
			goto fatal;
	}
	if (o->max_age >= 0)
		nv_verify_heartbeat(v, o->max_age, gen, sha, r, NULL);
	return 0;
fatal:
	if (!r->fatal)
		r->fatal = rc;
	return rc;
}

void nv_verify_outcome(const nv_verify_report *r, nv_outcome *out)
{
	out->fatal = r->fatal;
	out->failed = r->failed;
	out->differ = r->problems - r->failed;
}
