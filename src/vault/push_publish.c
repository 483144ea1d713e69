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
	unsigned char sha[NV_SHA256_LEN], *ct;
	char id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	size_t clen, n_recips;
	int rc;

	nv_vault_recipients(pb->v, &recips, &n_recips);
	nv_sha256_buf(sha, plain, plen);
	nv_push_object_id(pb->ps, sha, id);
	if ((rc = nv_object_name_new(name, id)) ||
	    (rc = nv_age_encrypt_buf(&ct, &clen, plain, plen, recips, n_recips)))
		return rc;
	rc = nv_drv_put_buf(pb->s, name, ct, clen, NV_WRITE_EXCLUSIVE);
	if (!rc) {
		nv_sha256_buf(out->sha256, ct, clen);
		out->size = clen;
		out->name = strdup(name);
		if (!out->name)
			rc = nv_error_set(NV_ERR, "out of memory");
	}
	free(ct);
	return rc;
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

/* The files' objects, one each even when several files share one, sorted by
 * name, with room for the catalog's after them. m->objs malloc'd. */
static int nv_manifest_objects(nv_manifest *m, nv_push_file *const *files, size_t n)
{
	size_t k = 0;

	if (!(m->objs = calloc(n + 1, sizeof(*m->objs))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < n; i++)
		m->objs[i] = files[i]->obj;
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

/* The catalog of generation prev_gen + 1 (head filled, *cat malloc'd), and
 * whether its body is the last one this host published on top of prev_gen:
 * then nothing changed. */
static int nv_push_catalog(const nv_publisher *pb, nv_push_file *const *files, size_t n,
			   uint64_t prev_gen, nv_catalog *head, char **cat, size_t *clen,
			   char body_hex[NV_SHA256_HEX], int *same)
{
	char last_hex[NV_SHA256_HEX];
	unsigned char body_sha[NV_SHA256_LEN];
	uint64_t last_gen = 0;
	int rc;

	memset(head, 0, sizeof(*head));
	memcpy(head->vault_id, nv_vault_descriptor(pb->v)->vault_id, NV_VAULT_ID_HEX);
	head->generation = prev_gen + 1;
	if ((rc = nv_catalog_build(head, files, n, cat, clen, body_sha)))
		return rc;
	nv_hex(body_hex, body_sha, NV_SHA256_LEN);
	nv_push_last_get(pb->ps, &last_gen, last_hex);
	*same = prev_gen && last_gen == prev_gen && strcmp(last_hex, body_hex) == 0;
	return 0;
}

int nv_push_would_publish(const nv_publisher *pb, nv_push_file *const *files, size_t n,
			  uint64_t prev_gen, int *publish)
{
	nv_catalog head;
	char *cat = NULL, body_hex[NV_SHA256_HEX];
	size_t clen = 0;
	int same = 0, rc = nv_push_catalog(pb, files, n, prev_gen, &head, &cat, &clen, body_hex,
					   &same);

	free(cat);
	*publish = !same;
	return rc;
}

int nv_push_publish(const nv_publisher *pb, nv_push_file *const *files, size_t n,
		    uint64_t prev_gen, const unsigned char prev_sha[NV_SHA256_LEN], uint64_t *gen,
		    int *published)
{
	nv_catalog head;
	nv_manifest m;
	char *cat = NULL, *catname = NULL, body_hex[NV_SHA256_HEX];
	size_t clen = 0;
	int rc, same = 0;

	*gen = prev_gen;
	*published = 0;
	memset(&m, 0, sizeof(m));
	if ((rc = nv_push_catalog(pb, files, n, prev_gen, &head, &cat, &clen, body_hex, &same)))
		return rc;
	if (same) {
		/* nothing changed: no new generation, only a fresh heartbeat */
		rc = nv_push_heartbeat(pb, prev_gen, prev_sha);
		if (!rc)
			rc = nv_drv_flush(pb->s);
		goto out;
	}
	if ((rc = nv_manifest_objects(&m, files, n)) ||
	    (rc = nv_put_object_buf(pb, (unsigned char *)cat, clen, &m.objs[m.n])))
		goto out;
	m.catalog = catname = m.objs[m.n].name;
	m.n++;
	/* every object durable before anything names it */
	if ((rc = nv_drv_flush(pb->s)))
		goto out;
	memcpy(m.vault_id, head.vault_id, NV_VAULT_ID_HEX);
	m.generation = head.generation;
	nv_time_format(m.time, time(NULL));
	if (prev_gen)
		nv_hex(m.previous, prev_sha, NV_SHA256_LEN);
	if ((rc = nv_publish_manifest(pb, &m)))
		goto out;
	*gen = m.generation;
	*published = 1;
	nv_vault_set_seen(head.vault_id, m.generation);
	nv_push_last_set(pb->ps, m.generation, body_hex);
	/* the landed objects are now named by a published manifest */
	nv_push_landed_reset(pb->ps);
out:
	free(catname);
	free(m.objs);
	free(cat);
	return rc;
}
