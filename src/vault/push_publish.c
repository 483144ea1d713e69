/* push_publish.c: catalog, manifest, signature and heartbeat, written in the
 * order that leaves the previous generation restorable at every step.
 * Called through push_publish.h. */
#include "push_publish.h"
#include "util/log.h"
#include "ssh/sshsig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Encrypts a small plaintext (a catalog) into a new write-once object. */
static int nv_put_object_buf(const nv_publisher *pb, const unsigned char *plain, size_t plen,
			     nv_obj_rec *out)
{
	const nv_age_recipient *recips;
	unsigned char sha[NV_SHA256_LEN];
	char id[NV_OBJECT_ID_HEX];
	size_t n_recips;

	nv_vault_recipients(pb->v, &recips, &n_recips);
	nv_sha256_buf(sha, plain, plen);
	nv_push_object_id(pb->ps, sha, id);
	return nv_vault_put_object(pb->s, id, plain, plen, recips, n_recips, out);
}

/* The store holds exactly buf under key, else NV_EEXISTS (exit 4). */
static int nv_push_read_back(const nv_publisher *pb, const char *key, const char *buf,
			     size_t len)
{
	unsigned char *have = NULL;
	size_t got = 0;
	int rc = nv_drv_get_buf(pb->s, key, len, &have, &got);

	if (rc == NV_EINVAL || (!rc && (got != len || memcmp(have, buf, len) != 0)))
		rc = nv_error_set(NV_EEXISTS, "%s at the store is not the manifest this push "
				  "wrote: another pusher published it at the same time (the store "
				  "does not enforce create-if-absent); nothing more is published, "
				  "run push again", key);
	free(have);
	return rc;
}

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

/* The catalog's JSON Lines: header, then one line per file in path order.
 * body_sha is the SHA-256 of every line but the header: equal bodies mean
 * nothing changed since the last generation. *out malloc'd. */
static int nv_catalog_build(const nv_catalog *head, nv_push_file *const *files, size_t n,
			    char **out, size_t *len, unsigned char body_sha[NV_SHA256_LEN])
{
	nv_sha256 *h = nv_sha256_new();
	char *cat = NULL, *line;
	size_t clen = 0, ccap = 0;
	int rc = h ? 0 : nv_error_set(NV_ERR, "out of memory");

	for (size_t i = 0; i <= n && !rc; i++) {
		size_t ln;

		if (!(line = nv_catalog_line(head, i ? &files[i - 1]->cat : NULL))) {
			rc = nv_error_set(NV_ERR, "cannot write the catalog line of %s (out of "
					  "memory, or a name that is not UTF-8)",
					  i ? files[i - 1]->cat.path : "its header");
			break;
		}
		ln = strlen(line);
		if (clen + ln + 1 > ccap) {
			char *g = realloc(cat, ccap = (clen + ln + 1) * 2);

			if (!g) {
				free(line);
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			cat = g;
		}
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

static int nv_obj_name_cmp(const void *a, const void *b)
{
	return strcmp(((const nv_obj_rec *)a)->name, ((const nv_obj_rec *)b)->name);
}

/* The objects of files and of the canary files cf, one each even when several
 * files share one, sorted by name, with room for the two catalogs' after them.
 * m->objs malloc'd. */
static int nv_manifest_objects(nv_manifest *m, nv_push_file *const *files, size_t n,
			       nv_push_file *const *cf, size_t nc)
{
	size_t k = 0;

	if (!(m->objs = calloc(n + nc + 2, sizeof(*m->objs))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < n; i++)
		m->objs[i] = files[i]->obj;
	for (size_t i = 0; i < nc; i++)
		m->objs[n + i] = cf[i]->obj;
	n += nc;
	qsort(m->objs, n, sizeof(*m->objs), nv_obj_name_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || strcmp(m->objs[k - 1].name, m->objs[i].name) != 0)
			m->objs[k++] = m->objs[i];
	m->n = k;
	return 0;
}

/* Manifest N (create-if-absent: this claims the generation), its signature,
 * the heartbeat, a final flush. Recorded as pending first, so that a push
 * killed before the signature is completed by the next one. */
static int nv_publish_manifest(const nv_publisher *pb, nv_manifest *m)
{
	char key[NV_MANIFEST_NAME_MAX], *mbuf = NULL;
	unsigned char msha[NV_SHA256_LEN];
	size_t mlen;
	int rc;

	if ((rc = nv_manifest_format(&mbuf, &mlen, m)))
		return rc;
	nv_sha256_buf(msha, mbuf, mlen);
	nv_manifest_name(key, m->generation);
	if ((rc = nv_push_pending_set(pb->ps, m->generation, msha)))
		goto out;
	rc = nv_drv_put_buf(pb->s, key, mbuf, mlen, NV_WRITE_EXCLUSIVE);
	if (rc == NV_EEXISTS) {
		nv_push_pending_clear(pb->ps);
		rc = nv_error_set(NV_EEXISTS, "generation %llu was published by another pusher "
				  "meanwhile: run push again", (unsigned long long)m->generation);
		goto out;
	}
	/* Read back what was published, before and after signing: a store that
	 * ignores create-if-absent (If-None-Match) lets a racing pusher replace
	 * the manifest unseen; then these bytes are not ours (FORMAT.md 10). */
	if (rc || (rc = nv_push_read_back(pb, key, mbuf, mlen)) ||
	    (rc = nv_vault_put_signature(pb->v, pb->sk, key, NV_SSHSIG_NS_MANIFEST, mbuf, mlen)) ||
	    (rc = nv_push_read_back(pb, key, mbuf, mlen)) ||
	    (rc = nv_push_heartbeat(pb, m->generation, msha)) || (rc = nv_drv_flush(pb->s)))
		goto out;
	nv_push_pending_clear(pb->ps);
out:
	free(mbuf);
	return rc;
}

/* The catalogs of generation prev_gen + 1: the real one and, with canary
 * files (FORMAT.md 2.8), the canary one. */
typedef struct nv_push_cats {
	nv_catalog head;
	char *cat, *ccat;     /* malloc'd; ccat NULL without canary files */
	size_t clen, cclen;
	nv_push_file *const *cf; /* the canary files, cf[0..nc) */
	size_t nc;
	char body_hex[NV_SHA256_HEX]; /* what push/<vault_id>/last records */
	int same;             /* the body is the last one published on top of prev_gen */
} nv_push_cats;

static void nv_push_cats_free(nv_push_cats *c)
{
	free(c->cat);
	free(c->ccat);
}

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

/* Builds c's catalogs of generation prev_gen + 1 (c zeroed first; free with
 * nv_push_cats_free even on error), and tells whether their body is the last
 * one this host published on top of prev_gen: then nothing changed. Both the
 * push and its dry run decide by this. */
static int nv_push_catalog(const nv_publisher *pb, nv_push_file *const *files, size_t n,
			   uint64_t prev_gen, nv_push_cats *c)
{
	char last_hex[NV_SHA256_HEX];
	unsigned char body_sha[NV_SHA256_LEN];
	uint64_t last_gen = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	memcpy(c->head.vault_id, nv_vault_descriptor(pb->v)->vault_id, NV_VAULT_ID_HEX);
	c->head.generation = prev_gen + 1;
	if ((rc = nv_catalog_build(&c->head, files, n, &c->cat, &c->clen, body_sha)))
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

/* The catalog as every reader parses it (FORMAT.md 3, rule 4). */
static int nv_push_check_catalog(const nv_push_cats *c)
{
	nv_catalog cat;
	int rc = nv_catalog_parse(&cat, c->cat, c->clen);

	nv_catalog_clear(&cat);
	return rc ? nv_error_wrap(rc, "the merged catalog would not be readable: nothing "
				  "published") : 0;
}

int nv_push_would_publish(const nv_publisher *pb, nv_push_file *const *files, size_t n,
			  uint64_t prev_gen, int *publish)
{
	nv_push_cats c;
	int rc = nv_push_catalog(pb, files, n, prev_gen, &c);

	nv_push_cats_free(&c);
	*publish = !c.same;
	return rc;
}

int nv_push_publish(const nv_publisher *pb, nv_push_file *const *files, size_t n,
		    uint64_t prev_gen, const unsigned char prev_sha[NV_SHA256_LEN], uint64_t *gen,
		    int *published)
{
	nv_push_cats c;
	nv_manifest m;
	char *catname = NULL, *cname = NULL;
	int rc;

	*gen = prev_gen;
	*published = 0;
	memset(&m, 0, sizeof(m));
	if ((rc = nv_push_catalog(pb, files, n, prev_gen, &c)) ||
	    (pb->check_catalog && (rc = nv_push_check_catalog(&c))))
		goto out;
	if (c.same) {
		/* nothing changed: no new generation, only a fresh heartbeat */
		rc = nv_push_heartbeat(pb, prev_gen, prev_sha);
		if (!rc)
			rc = nv_drv_flush(pb->s);
		goto out;
	}
	if ((rc = nv_manifest_objects(&m, files, n, c.cf, c.nc)) ||
	    (rc = nv_put_object_buf(pb, (unsigned char *)c.cat, c.clen, &m.objs[m.n])))
		goto out;
	m.catalog = catname = m.objs[m.n].name;
	m.n++;
	if (pb->canary) {
		if ((rc = nv_canary_put_catalog(pb->canary, c.ccat, c.cclen, &m.objs[m.n])))
			goto out;
		m.canary = cname = m.objs[m.n].name;
		m.n++;
	}
	/* every object durable before anything names it */
	if ((rc = nv_drv_flush(pb->s)))
		goto out;
	memcpy(m.vault_id, c.head.vault_id, NV_VAULT_ID_HEX);
	m.generation = c.head.generation;
	nv_time_format(m.time, time(NULL));
	if (prev_gen)
		nv_hex(m.previous, prev_sha, NV_SHA256_LEN);
	if ((rc = nv_publish_manifest(pb, &m)))
		goto out;
	*gen = m.generation;
	*published = 1;
	nv_vault_set_seen(c.head.vault_id, m.generation);
	nv_push_last_set(pb->ps, m.generation, c.body_hex);
	/* the landed objects are now named by a published manifest */
	nv_push_landed_reset(pb->ps);
out:
	free(catname);
	free(cname);
	free(m.objs);
	nv_push_cats_free(&c);
	return rc;
}
