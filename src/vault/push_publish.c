/* push_publish.c: catalog, manifest, signature and heartbeat, written in the
 * order that leaves the previous generation restorable at every step.
 * Called through push_publish.h. */
#include "push_publish.h"
#include "util/log.h"
#include "ssh/sshsig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NV_CAT_SPOOL_IO (64u << 10) /* the manifest's bytes uploaded or read back at a time */

static int nv_push_heartbeat(const nv_publisher *pb, uint64_t gen,
			     const unsigned char msha[NV_SHA256_LEN])
{
	nv_heartbeat h;
	char *buf;
	size_t len;
	int rc;

	memset(&h, 0, sizeof(h));
	memcpy(h.vault_id, nv_vault_descriptor(pb->v)->vault_id, NV_VAULT_ID_HEX);
	h.generation = gen;
	nv_hex(h.manifest_sha256, msha, NV_SHA256_LEN);
	nv_time_format(h.time, time(NULL));
	if ((rc = nv_heartbeat_format(&buf, &len, &h)))
		return rc;
	/* signature first: a reader may briefly see the old heartbeat with the new
	 * signature, which fails verification (retry), never a forged freshness */
	rc = nv_vault_put_signature(pb->v, pb->sk, NV_VAULT_HEARTBEAT, NV_SSHSIG_NS_MANIFEST, buf,
				    len);
	if (!rc)
		rc = nv_drv_put_buf(pb->s, NV_VAULT_HEARTBEAT, buf, len, 0);
	free(buf);
	return rc;
}

int nv_push_complete_pending(const nv_publisher *pb)
{
	char key[NV_MANIFEST_NAME_MAX], hex[NV_SHA256_HEX], want[NV_SHA256_HEX];
	unsigned char *buf, sha[NV_SHA256_LEN];
	uint64_t gen;
	size_t len;
	int rc;

	if (nv_push_pending_get(pb->ps, &gen, want)) {
		nv_error_clear();
		return 0;
	}
	nv_manifest_name(key, gen);
	if (nv_drv_get_buf(pb->s, key, NV_VAULT_MANIFEST_MAX, &buf, &len)) {
		nv_error_clear();
		nv_push_pending_clear(pb->ps); /* never published: the objects are in landed.tsv */
		return 0;
	}
	nv_sha256_buf(sha, buf, len);
	nv_hex(hex, sha, sizeof(sha));
	rc = 0;
	if (strcmp(hex, want) == 0 &&
	    nv_vault_check_signature(pb->v, key, NV_SSHSIG_NS_MANIFEST, buf, len) != 0) {
		nv_log(NV_LOG_NOTICE, "completing generation %llu, interrupted before its "
		       "signature", (unsigned long long)gen);
		rc = nv_vault_put_signature(pb->v, pb->sk, key, NV_SSHSIG_NS_MANIFEST, buf, len);
		if (!rc)
			rc = nv_push_heartbeat(pb, gen, sha);
		if (!rc)
			rc = nv_drv_flush(pb->s);
	}
	if (!rc) {
		nv_error_clear();
		nv_push_pending_clear(pb->ps);
	}
	free(buf);
	return rc;
}

/* The canary catalog's JSON Lines (a few files, built in memory): header,
 * then one line per file in path order. body_sha is the SHA-256 of every line
 * but the header. *out malloc'd. */
static int nv_catalog_build(const nv_catalog *head, nv_push_file *const *files, size_t n,
			    char **out, size_t *len, unsigned char body_sha[NV_SHA256_LEN])
{
	nv_sha256 *h = nv_sha256_new();
	char *cat = NULL, *line;
	size_t clen = 0;
	int rc = h ? 0 : nv_error_set(NV_ERR, "out of memory");

	for (size_t i = 0; i <= n && !rc; i++) {
		size_t ln;
		char *g;

		if (!(line = nv_catalog_line(head, i ? &files[i - 1]->cat : NULL))) {
			rc = nv_error_set(NV_ERR, "cannot write a canary catalog line");
			break;
		}
		ln = strlen(line);
		if (!(g = realloc(cat, clen + ln + 1))) {
			free(line);
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
		cat = g;
		memcpy(cat + clen, line, ln + 1);
		if (i)
			nv_sha256_update(h, line, ln);
		clen += ln;
		free(line);
	}
	if (!rc)
		nv_sha256_final(h, body_sha);
	nv_sha256_free(h);
	if (rc) {
		free(cat);
		return rc;
	}
	*out = cat;
	*len = clen;
	return 0;
}

/* ---- the manifest, written as a stream ---- */

/* The manifest's object lines in name order: the files' objects (sorted on
 * disk; a name several files share comes once) merged with the few others
 * (the catalogs, the canary files'), sorted in memory. */
typedef struct nv_mobjs {
	nv_runs *runs;
	const nv_obj_rec *extra;
	size_t n_extra, ix;
	int have_run;
	nv_obj_rec run;              /* the run's current record; .name is rname */
	char rname[NV_OBJECT_NAME_MAX];
	char last[NV_OBJECT_NAME_MAX];
} nv_mobjs;

static int nv_mobjs_read(nv_mobjs *it)
{
	nv_run_rec rr;
	int rc = nv_runs_next(it->runs, &rr);

	it->have_run = rc == 0;
	if (rc)
		return rc == NV_EOF ? 0 : rc;
	if (rr.klen >= sizeof(it->rname) || rr.vlen != 8 + NV_SHA256_LEN)
		return nv_error_set(NV_EMISMATCH, "a record of the manifest was altered");
	memcpy(it->rname, rr.key, rr.klen);
	it->rname[rr.klen] = '\0';
	memcpy(&it->run.size, rr.val, 8);
	memcpy(it->run.sha256, rr.val + 8, NV_SHA256_LEN);
	it->run.name = it->rname;
	return 0;
}

static int nv_mobjs_start(nv_mobjs *it)
{
	int rc;

	it->ix = 0;
	it->last[0] = '\0';
	if ((rc = nv_runs_rewind(it->runs)))
		return rc;
	return nv_mobjs_read(it);
}

/* The next object (*out points into it or the extras): 0, or NV_EOF. */
static int nv_mobjs_next(nv_mobjs *it, nv_obj_rec *out)
{
	for (;;) {
		const nv_obj_rec *e = it->ix < it->n_extra ? &it->extra[it->ix] : NULL;
		int rc, from_run;

		if (!e && !it->have_run)
			return NV_EOF;
		from_run = it->have_run && (!e || strcmp(it->run.name, e->name) <= 0);
		*out = from_run ? it->run : *e;
		if (!from_run)
			it->ix++;
		if (strcmp(out->name, it->last) == 0) {
			if (from_run && (rc = nv_mobjs_read(it)))
				return rc;
			continue;
		}
		snprintf(it->last, sizeof(it->last), "%s", out->name);
		/* out must survive the read below: it keeps the name in last */
		out->name = it->last;
		return from_run ? nv_mobjs_read(it) : 0;
	}
}

/* Counts the objects and their bytes (the header comes first). */
static int nv_mobjs_count(nv_mobjs *it, nv_manifest *m)
{
	nv_obj_rec r;
	int rc;

	m->n = 0;
	m->bytes = 0;
	if ((rc = nv_mobjs_start(it)))
		return rc;
	while ((rc = nv_mobjs_next(it, &r)) == 0) {
		m->n++;
		m->bytes += r.size;
	}
	return rc == NV_EOF ? 0 : rc;
}

/* Writes the manifest's lines to the spool f, each hashed (SHA-256 for its
 * name in push/<vault_id>/pending, the signature's context for SSHSIG). */
typedef struct nv_mspool {
	FILE *f;
	nv_sha256 *sha;
	nv_sshsig_ctx *sig;
	uint64_t len;
} nv_mspool;

static int nv_mspool_put(nv_mspool *sp, char *line, size_t len)
{
	int rc = 0;

	nv_sha256_update(sp->sha, line, len);
	if (fwrite(line, 1, len, sp->f) != len)
		rc = nv_error_errno(errno, "writing the manifest's spool");
	else
		rc = nv_sshsig_update(sp->sig, line, len);
	sp->len += len;
	free(line);
	return rc;
}

static int nv_mspool_write(nv_mspool *sp, nv_mobjs *it, const nv_manifest *m)
{
	char *line = NULL;
	size_t len = 0;
	nv_obj_rec r;
	int rc;

	if ((rc = nv_manifest_head_line(&line, &len, m)) || (rc = nv_mspool_put(sp, line, len)) ||
	    (rc = nv_mobjs_start(it)))
		return rc;
	while ((rc = nv_mobjs_next(it, &r)) == 0) {
		line = NULL;
		len = 0;
		if ((rc = nv_manifest_obj_line(&line, &len, &r)) ||
		    (rc = nv_mspool_put(sp, line, len)))
			return rc;
	}
	if (rc != NV_EOF)
		return rc;
	return fflush(sp->f) == 0 ? 0 : nv_error_errno(errno, "writing the manifest's spool");
}

/* Uploads the spool's len bytes as key (create-if-absent). */
static int nv_mspool_upload(const nv_publisher *pb, const char *key, int fd, uint64_t len,
			    unsigned char *buf, size_t cap)
{
	nv_write_opts wo = { .size = (int64_t)len, .flags = NV_WRITE_EXCLUSIVE };
	nv_wstream *ws = NULL;
	uint64_t off = 0;
	int rc = nv_drv_write_open(&ws, pb->s, key, &wo);

	while (!rc && off < len) {
		ssize_t got = pread(fd, buf, cap, (off_t)off);

		if (got <= 0)
			rc = nv_error_errno(got < 0 ? errno : EIO, "reading the manifest's spool");
		else if (!(rc = nv_drv_write(ws, buf, (size_t)got)))
			off += (uint64_t)got;
	}
	if (!rc) {
		rc = nv_drv_write_commit(ws, NULL);
		ws = NULL;
	}
	nv_drv_write_abort(ws);
	return rc;
}

/* The store holds exactly our manifest under key (its length and SHA-256,
 * read back as a stream), else NV_EEXISTS (exit 4). */
static int nv_push_read_back(const nv_publisher *pb, const char *key, uint64_t len,
			     const unsigned char sha[NV_SHA256_LEN], unsigned char *buf,
			     size_t cap)
{
	nv_sha256 *h = nv_sha256_new();
	unsigned char have[NV_SHA256_LEN];
	uint64_t off = 0;
	size_t got = cap;
	int rc = h ? 0 : nv_error_set(NV_ERR, "out of memory");

	/* one byte past our length too: a longer object is not ours either */
	while (!rc && got == cap && off <= len) {
		if (!(rc = nv_drv_read(pb->s, key, off, buf, cap, &got))) {
			nv_sha256_update(h, buf, got);
			off += got;
		}
	}
	if (!rc)
		nv_sha256_final(h, have);
	nv_sha256_free(h);
	if (rc == NV_ENOTFOUND || (!rc && (off != len || memcmp(have, sha, NV_SHA256_LEN) != 0)))
		rc = nv_error_set(NV_EEXISTS, "%s at the store is not the manifest this push "
				  "wrote: another pusher published it at the same time (the store "
				  "does not enforce create-if-absent); nothing more is published, "
				  "run push again", key);
	return rc;
}

/* Signs what the spool's context hashed and stores it as key's signature. */
static int nv_mspool_sign(const nv_publisher *pb, const char *key, nv_mspool *sp)
{
	char sk[NV_SIGNED_NAME_MAX], *sig = NULL;
	int rc = nv_sshsig_sign_end(&sig, sp->sig, pb->sk, NV_SSHSIG_NS_MANIFEST);

	sp->sig = NULL;
	if (!rc && !(rc = nv_signature_name(sk, key)))
		rc = nv_drv_put_buf(pb->s, sk, sig, strlen(sig), 0);
	free(sig);
	return rc;
}

/* Manifest N (create-if-absent: this claims the generation), its signature,
 * the heartbeat, a final flush. Recorded as pending first, so that a push
 * killed before the signature is completed by the next one. The manifest is
 * spooled to an anonymous file (util/runs.h; it names no file, only objects)
 * and uploaded from there. */
static int nv_publish_manifest(const nv_publisher *pb, nv_manifest *m, nv_mobjs *it)
{
	char key[NV_MANIFEST_NAME_MAX];
	unsigned char msha[NV_SHA256_LEN], *buf = malloc(NV_CAT_SPOOL_IO);
	nv_mspool sp = { .sha = nv_sha256_new() };
	int rc, fd = -1;

	nv_manifest_name(key, m->generation);
	if (!buf || !sp.sha)
		rc = nv_error_set(NV_ERR, "out of memory");
	else if (!(rc = nv_mobjs_count(it, m)) && !(rc = nv_sshsig_sign_begin(&sp.sig)) &&
		 !(rc = nv_runs_tmpfile(&fd)) && !(sp.f = fdopen(fd, "w+")))
		rc = nv_error_errno(errno, "opening the manifest's spool");
	if (sp.f)
		fd = -1; /* the stream owns it */
	if (rc || (rc = nv_mspool_write(&sp, it, m)))
		goto out;
	nv_sha256_final(sp.sha, msha);
	if ((rc = nv_push_pending_set(pb->ps, m->generation, msha)))
		goto out;
	rc = nv_mspool_upload(pb, key, fileno(sp.f), sp.len, buf, NV_CAT_SPOOL_IO);
	if (rc == NV_EEXISTS) {
		nv_push_pending_clear(pb->ps);
		rc = nv_error_set(NV_EEXISTS, "generation %llu was published by another pusher "
				  "meanwhile: run push again", (unsigned long long)m->generation);
		goto out;
	}
	/* Read back what was published, before and after signing: a store that
	 * ignores create-if-absent (If-None-Match) lets a racing pusher replace
	 * the manifest unseen; then these bytes are not ours (FORMAT.md 10). */
	if (rc || (rc = nv_push_read_back(pb, key, sp.len, msha, buf, NV_CAT_SPOOL_IO)) ||
	    (rc = nv_mspool_sign(pb, key, &sp)) ||
	    (rc = nv_push_read_back(pb, key, sp.len, msha, buf, NV_CAT_SPOOL_IO)) ||
	    (rc = nv_push_heartbeat(pb, m->generation, msha)) || (rc = nv_drv_flush(pb->s)))
		goto out;
	nv_push_pending_clear(pb->ps);
out:
	if (sp.f)
		fclose(sp.f);
	if (fd >= 0)
		close(fd);
	nv_sshsig_ctx_free(sp.sig);
	nv_sha256_free(sp.sha);
	free(buf);
	return rc;
}

/* The catalogs of generation prev_gen + 1: the real one (its hashes: it is
 * written by a second pass only if published) and, with canary files
 * (FORMAT.md 2.8), the canary one. */
typedef struct nv_push_cats {
	nv_catalog head;
	unsigned char full[NV_SHA256_LEN]; /* the catalog's plaintext: its object id */
	uint64_t plen;
	char *ccat;           /* malloc'd; NULL without canary files */
	size_t cclen;
	nv_push_file *const *cf; /* the canary files, cf[0..nc) */
	size_t nc;
	char body_hex[NV_SHA256_HEX]; /* what push/<vault_id>/last records */
	int same;             /* the body is the last one published on top of prev_gen */
} nv_push_cats;

/* The canary catalog of head's generation (FORMAT.md 2.8). body_sha, the
 * catalog's body hash on entry, becomes the SHA-256 of both bodies' hashes:
 * a change of the canaries (new drill recipients) is a change too. */
static int nv_canary_catalog(const nv_catalog *head, nv_push_file *const *cf, size_t nc,
			     char **out, size_t *len, unsigned char body_sha[NV_SHA256_LEN])
{
	nv_catalog ch = *head;
	unsigned char both[2 * NV_SHA256_LEN];
	int rc;

	ch.type = NV_CANARY_CATALOG_TYPE;
	memcpy(both, body_sha, NV_SHA256_LEN);
	if ((rc = nv_catalog_build(&ch, cf, nc, out, len, both + NV_SHA256_LEN)))
		return rc;
	nv_sha256_buf(body_sha, both, sizeof(both));
	return 0;
}

/* Hashes c's catalogs of generation prev_gen + 1 (c zeroed first; free
 * c->ccat even on error), writing the next cache on the way when cache, and
 * tells whether their body is the last one this host published on top of
 * prev_gen: then nothing changed. Both the push and its dry run decide by this. */
static int nv_push_catalog(const nv_publisher *pb, nv_push_recs *recs, uint64_t prev_gen,
			   int cache, nv_push_cats *c)
{
	char last_hex[NV_SHA256_HEX];
	unsigned char body_sha[NV_SHA256_LEN];
	uint64_t last_gen = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	memcpy(c->head.vault_id, nv_vault_descriptor(pb->v)->vault_id, NV_VAULT_ID_HEX);
	c->head.generation = prev_gen + 1;
	if ((rc = nv_push_catalog_hash(&c->head, recs, cache ? pb->ps : NULL, pb->check_catalog,
				       c->full, body_sha, &c->plen)))
		return rc;
	if (pb->canary) {
		c->cf = nv_canary_files(pb->canary, &c->nc);
		if ((rc = nv_canary_catalog(&c->head, c->cf, c->nc, &c->ccat, &c->cclen,
					    body_sha)))
			return rc;
	}
	nv_hex(c->body_hex, body_sha, NV_SHA256_LEN);
	nv_push_last_get(pb->ps, &last_gen, last_hex);
	c->same = prev_gen && last_gen == prev_gen && strcmp(last_hex, c->body_hex) == 0;
	return 0;
}

int nv_push_would_publish(const nv_publisher *pb, nv_push_recs *recs, uint64_t prev_gen,
			  int *publish)
{
	nv_push_cats c;
	int rc = nv_push_catalog(pb, recs, prev_gen, 0, &c);

	free(c.ccat);
	*publish = !c.same;
	return rc;
}

static int nv_obj_name_cmp(const void *a, const void *b)
{
	return strcmp(((const nv_obj_rec *)a)->name, ((const nv_obj_rec *)b)->name);
}

/* The catalog objects (stored here) and the canary files' objects: the
 * manifest's lines besides the files'. *out malloc'd, sorted by name; the
 * names of [0] and, with canaries, [1] are malloc'd (the catalogs'). */
static int nv_push_put_catalogs(const nv_publisher *pb, nv_push_recs *recs,
				const nv_push_cats *c, nv_obj_rec **out, size_t *n)
{
	const nv_age_recipient *recips;
	char id[NV_OBJECT_ID_HEX];
	size_t n_recips, k = 0;
	nv_obj_rec *x = calloc(c->nc + 2, sizeof(*x));
	int rc;

	*out = x;
	*n = 0;
	if (!x)
		return nv_error_set(NV_ERR, "out of memory");
	nv_vault_recipients(pb->v, &recips, &n_recips);
	nv_push_object_id(pb->ps, c->full, id);
	if ((rc = nv_push_catalog_put(&c->head, recs, pb->s, id, c->full, c->plen, recips,
				      n_recips, &x[k])))
		return rc;
	k++;
	if (pb->canary) {
		if ((rc = nv_canary_put_catalog(pb->canary, c->ccat, c->cclen, &x[k])))
			return rc;
		k++;
	}
	for (size_t i = 0; i < c->nc; i++)
		x[k + i] = c->cf[i]->obj;
	*n = k + c->nc;
	return 0;
}

int nv_push_publish(const nv_publisher *pb, nv_push_recs *recs, uint64_t prev_gen,
		    const unsigned char prev_sha[NV_SHA256_LEN], uint64_t *gen, int *published)
{
	nv_push_cats c;
	nv_manifest m;
	nv_obj_rec *extra = NULL, *sorted = NULL;
	size_t n_extra = 0;
	nv_mobjs it = { .runs = recs->objs };
	int rc;

	*gen = prev_gen;
	*published = 0;
	memset(&m, 0, sizeof(m));
	if ((!pb->no_cache && (rc = nv_push_cache_begin(pb->ps))) ||
	    (rc = nv_push_catalog(pb, recs, prev_gen, !pb->no_cache, &c)))
		goto out;
	if (c.same) {
		/* nothing changed: no new generation, only a fresh heartbeat */
		rc = nv_push_heartbeat(pb, prev_gen, prev_sha);
		if (!rc)
			rc = nv_drv_flush(pb->s);
		goto out;
	}
	if ((rc = nv_push_put_catalogs(pb, recs, &c, &extra, &n_extra)))
		goto out;
	m.catalog = extra[0].name;
	m.canary = pb->canary ? extra[1].name : NULL;
	if (!(sorted = malloc((n_extra ? n_extra : 1) * sizeof(*sorted)))) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	memcpy(sorted, extra, n_extra * sizeof(*sorted));
	qsort(sorted, n_extra, sizeof(*sorted), nv_obj_name_cmp);
	it.extra = sorted;
	it.n_extra = n_extra;
	/* every object durable before anything names it */
	if ((rc = nv_drv_flush(pb->s)))
		goto out;
	memcpy(m.vault_id, c.head.vault_id, NV_VAULT_ID_HEX);
	m.generation = c.head.generation;
	nv_time_format(m.time, time(NULL));
	if (prev_gen)
		nv_hex(m.previous, prev_sha, NV_SHA256_LEN);
	if ((rc = nv_publish_manifest(pb, &m, &it)))
		goto out;
	*gen = m.generation;
	*published = 1;
	nv_vault_set_seen(c.head.vault_id, m.generation);
	nv_push_last_set(pb->ps, m.generation, c.body_hex);
	/* the landed objects are now named by a published manifest */
	nv_push_landed_reset(pb->ps);
out:
	if (!rc)
		rc = nv_push_cache_commit(pb->ps);
	else
		nv_push_cache_abort(pb->ps);
	if (extra) {
		free(extra[0].name);
		if (pb->canary)
			free(extra[1].name);
	}
	free(extra);
	free(sorted);
	free(c.ccat);
	return rc;
}
