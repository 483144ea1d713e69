/* vault_verify.c: verify's checks, each problem logged with the manifest or
 * object it concerns; the object checks run on the reader pool (vault_pull.c). */
#include "vault_verify.h"
#include "util/b64.h"
#include "engine/lister.h"
#include "util/log.h"
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
 * must name the SHA-256 of manifest g-1's bytes; a gap is a missing manifest. */
int nv_verify_chain(nv_vault *v, nv_verify_report *r)
{
	unsigned char sha[NV_SHA256_LEN], prev[NV_SHA256_LEN];
	char key[NV_MANIFEST_NAME_MAX], hex[NV_SHA256_HEX];
	uint64_t *gens, expect = 1;
	int have_prev = 0, rc;
	nv_manifest m;
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
		if (nv_vault_manifest(v, g, &m, sha)) {
			nv_problem(r, "bad-manifest", key, "%s", nv_error_msg());
			have_prev = 0;
			continue;
		}
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

/* One sorted listing of objects/ merged with the sorted manifest: every
 * object present with its size, without one stat per object. ok[i] says
 * which records passed (the deeper levels read only those); another shard's
 * objects are neither reported nor passed. */
static int nv_verify_list(nv_vault *v, const nv_manifest *m, const nv_shard *shard,
			  unsigned char *ok, nv_verify_report *r)
{
	nv_sorted *l;
	nv_entry e;
	size_t i = 0;
	int rc, c;

	if ((rc = nv_sorted_open(&l, nv_vault_store(v), NV_VAULT_OBJECTS, 1)))
		return rc;
	rc = nv_sorted_next(l, &e);
	while (rc == 0 || (rc == NV_EOF && i < m->n)) {
		c = rc == NV_EOF ? 1 : i == m->n ? -1 : strcmp(e.key, m->objs[i].name);
		if (c < 0) {
			/* older generations' objects, or landed before a crash */
			r->extra += nv_shard_mine(shard, e.key);
		} else if (!nv_shard_mine(shard, m->objs[i].name)) {
			i++; /* another shard's */
			if (c > 0)
				continue; /* absent: the listing stays where it is */
		} else if (c > 0) {
			nv_problem(r, "missing", m->objs[i].name, "object missing from the store");
			i++;
			continue;
		} else if (e.size != m->objs[i].size) {
			nv_problem(r, "mismatch", m->objs[i].name, "the store holds %llu bytes, the "
				   "manifest says %llu", (unsigned long long)e.size,
				   (unsigned long long)m->objs[i].size);
			i++;
		} else {
			ok[i++] = 1;
		}
		rc = nv_sorted_next(l, &e);
	}
	nv_sorted_close(l);
	return rc == NV_EOF ? 0 : rc;
}

static int nv_entry_obj_cmp(const void *a, const void *b)
{
	const nv_cat_entry *x = *(nv_cat_entry *const *)a, *y = *(nv_cat_entry *const *)b;
	int c = strcmp(x->object, y->object);

	return c ? c : memcmp(x->sha256, y->sha256, NV_SHA256_LEN);
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

/* An object must be named after its contents (HMAC-SHA256 under K_id of the
 * plaintext SHA-256): a push deduplicates by that name, so a wrongly named
 * object would later stand in for other contents. */
static void nv_verify_names(const nv_catalog *cat, const unsigned char kid[NV_KID_LEN],
			    const nv_shard *shard, nv_verify_report *r)
{
	char want[NV_OBJECT_ID_HEX], id[NV_OBJECT_ID_HEX];

	for (size_t i = 0; i < cat->n; i++) {
		const nv_cat_entry *e = &cat->e[i];

		if (!nv_shard_mine(shard, e->object))
			continue;
		nv_object_id(want, kid, e->sha256);
		/* the catalog parser checked the name already: this cannot fail */
		if (nv_object_name_parse(e->object, id, NULL) || strcmp(id, want) != 0)
			nv_problem(r, "misnamed", e->path, "object %s is not named after the "
				   "contents the catalog gives it (its id is not HMAC-SHA256 under "
				   "K_id of the SHA-256)", e->object);
	}
}

/* Deep: one decrypting job per distinct (object, claimed size and SHA-256)
 * of the catalog, a stored-bytes job for every other object that passed the
 * listing; the catalog itself only when it could not be loaded (loading it
 * checked its stored bytes and decrypted it: one read). *jobs malloc'd. */
static int nv_verify_deep_jobs(nv_vault *v, const nv_manifest *m, const unsigned char *ok,
			       const nv_verify_opts *o, nv_catalog *cat, nv_vread_job **jobs,
			       size_t *n, nv_verify_report *r)
{
	const nv_cat_entry **byobj;
	const nv_obj_rec *crec;
	unsigned char *named;
	int rc, loaded;

	rc = nv_vault_catalog(v, m, o->id, cat);
	if (!(loaded = rc == 0)) {
		nv_problem(r, rc == NV_EAUTH ? "identity" : "catalog", m->catalog, "%s",
			   nv_error_msg());
		if (rc == NV_EAUTH)
			return rc;
		/* No catalog: the objects are still checked at the hash level. */
	}
	byobj = malloc((cat->n ? cat->n : 1) * sizeof(*byobj));
	named = calloc(m->n ? m->n : 1, 1);
	*jobs = calloc(cat->n + m->n + 1, sizeof(**jobs));
	if (!byobj || !named || !*jobs) {
		free(byobj);
		free(named);
		return nv_error_set(NV_ERR, "out of memory");
	}
	if (loaded && (crec = nv_manifest_find(m, m->catalog))) {
		named[crec - m->objs] = 1;
		r->objects += ok[crec - m->objs];
	}
	for (size_t i = 0; i < cat->n; i++)
		byobj[i] = &cat->e[i];
	qsort(byobj, cat->n, sizeof(*byobj), nv_entry_obj_cmp);
	for (size_t i = 0; i < cat->n; i++) {
		const nv_obj_rec *rec = nv_manifest_find(m, byobj[i]->object);

		if (!nv_shard_mine(o->shard, byobj[i]->object))
			continue; /* another shard's object */
		if (i && nv_entry_obj_cmp(&byobj[i - 1], &byobj[i]) == 0 &&
		    byobj[i - 1]->size == byobj[i]->size)
			continue;
		if (!rec) {
			nv_problem(r, "catalog", byobj[i]->path, "names object %s, which the "
				   "manifest does not list", byobj[i]->object);
			continue;
		}
		named[rec - m->objs] = 1;
		if (ok[rec - m->objs])
			(*jobs)[(*n)++] = (nv_vread_job){ .rec = rec, .entry = byobj[i] };
	}
	for (size_t i = 0; i < m->n; i++)
		if (ok[i] && !named[i])
			(*jobs)[(*n)++] = (nv_vread_job){ .rec = &m->objs[i] };
	free(byobj);
	free(named);
	return 0;
}

static int nv_verify_objects(nv_vault *v, const nv_manifest *m, const unsigned char *ok,
			     const nv_verify_opts *o, nv_verify_report *r)
{
	nv_vread_opts ro = {
		.mode = o->level == NV_VERIFY_DEEP ? NV_VREAD_DEEP : NV_VREAD_HASH,
		.vault = nv_vault_location(v),
		.id = o->id,
		.workers = o->workers,
		.buf_size = o->buf_size,
		.retries = o->retries,
	};
	nv_vread_job *jobs = NULL;
	nv_catalog cat = { 0 };
	nv_vread_stats st;
	size_t n = 0;
	int rc = 0;

	if (o->level == NV_VERIFY_DEEP) {
		unsigned char kid[NV_KID_LEN];

		rc = nv_verify_deep_jobs(v, m, ok, o, &cat, &jobs, &n, r);
		if (!rc && cat.n) {
			if (nv_verify_kid(v, o->id, kid))
				nv_problem(r, "descriptor", NV_VAULT_DESCRIPTOR, "%s", nv_error_msg());
			else
				nv_verify_names(&cat, kid, o->shard, r);
			OPENSSL_cleanse(kid, sizeof(kid));
		}
	} else if (!(jobs = calloc(m->n + 1, sizeof(*jobs)))) {
		rc = nv_error_set(NV_ERR, "out of memory");
	} else {
		for (size_t i = 0; i < m->n; i++)
			if (ok[i])
				jobs[n++] = (nv_vread_job){ .rec = &m->objs[i] };
	}
	if (!rc && n && (rc = nv_vread_run(&ro, jobs, n, &st)) == 0) {
		r->objects += st.done;
		r->problems += st.mismatched + st.missing + st.failed;
		r->failed += st.failed;
		if (st.out.fatal) {
			nv_log(NV_LOG_ERROR, "%s", st.fatal_msg);
			r->fatal = st.out.fatal;
			r->problems += !st.stopped; /* a stop no job's failure counted */
		}
	}
	nv_catalog_clear(&cat);
	free(jobs);
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
	nv_manifest m;
	uint64_t gen;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(sha, 0, sizeof(sha));
	if ((rc = nv_verify_chain(v, r)))
		goto fatal;
	/* The newest generation as every reader takes it: signed, naming this vault
	 * and its own number, not below what this host has seen. */
	rc = nv_vault_current(v, -1, &m, sha, &gen);
	if (rc) {
		nv_problem(r, "newest", NV_VAULT_MANIFESTS, "%s", nv_error_msg());
		rc = 0;
		gen = 0;
	}
	r->generation = gen;
	if (gen) {
		if (!(ok = calloc(m.n ? m.n : 1, 1))) {
			rc = nv_error_set(NV_ERR, "out of memory");
		} else if ((rc = nv_verify_list(v, &m, o->shard, ok, r)) == 0 && (!o->sample ||
			   !(rc = nv_sample_manifest(o->sample, &m, o->shard, ok, &r->sample)))) {
			if (o->level == NV_VERIFY_LIST)
				for (size_t i = 0; i < m.n; i++)
					r->objects += ok[i];
			else
				rc = nv_verify_objects(v, &m, ok, o, r);
		}
		free(ok);
		nv_manifest_clear(&m);
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
