/* partial.c: a shard's partial catalog: sealed by the shard as a stream from
 * its sorted records (MAC under K_id, then age to the run's key), opened by
 * publish from a spool: the MAC checked in a first pass, the lines checked
 * one by one in a second. Called through partial.h. */
#include "partial.h"
#include "age_spool.h"
#include "engine/shard.h"
#include "enc_put.h"
#include "vault.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing, from the records sorted on disk ---- */

typedef struct nv_pwrite {
	nv_partial_hmac *mac;
	uint64_t len;
	nv_encput *w;          /* the second pass: NULL in the first */
	nv_push_state *ps;     /* the first pass: the next cache, or NULL */
} nv_pwrite;

/* One line (malloc'd, NULL when it could not be made) to the pass. */
static int nv_pwrite_line(nv_pwrite *pw, char *line, const char *what)
{
	size_t len;
	int rc = 0;

	if (!line)
		return nv_error_set(NV_ERR, "cannot write the partial catalog line of %s (out of "
				    "memory, or a name that is not UTF-8)", what);
	len = strlen(line);
	nv_partial_mac_update(pw->mac, line, len);
	pw->len += len;
	if (pw->w)
		rc = nv_encput_write(pw->w, line, len);
	free(line);
	return rc;
}

static int nv_pwrite_file(void *ctx, const nv_push_rec *rec)
{
	nv_pwrite *pw = ctx;
	int rc = nv_pwrite_line(pw, nv_partial_file_line(&rec->cat, &rec->obj), rec->path);

	return !rc && pw->ps ? nv_push_cache_put(pw->ps, rec->path, &rec->fact) : rc;
}

/* A pass over the header and the files: their MAC in mac, their length. */
static int nv_pwrite_pass(nv_pwrite *pw, const unsigned char key[NV_KID_LEN],
			  const nv_partial_head *h, nv_push_recs *recs,
			  unsigned char mac[NV_SHA256_LEN])
{
	int rc;

	pw->len = 0;
	if (!(pw->mac = nv_partial_mac_begin(key)))
		return nv_error_set(NV_ERR, "out of memory");
	if (!(rc = nv_pwrite_line(pw, nv_partial_head_line(h), "its header")))
		rc = nv_push_recs_each(recs, nv_pwrite_file, pw);
	nv_partial_mac_end(pw->mac, mac);
	pw->mac = NULL;
	return rc;
}

int nv_partial_write(nv_store *s, const unsigned char kid[NV_KID_LEN], const nv_partial_head *h,
		     const nv_age_recipient *r, nv_push_recs *recs, nv_push_state *ps)
{
	unsigned char key[NV_KID_LEN], mac[NV_SHA256_LEN], again[NV_SHA256_LEN];
	char name[NV_RUN_NAME_MAX], *end = NULL;
	nv_pwrite pw = { .ps = ps };
	nv_obj_rec stored;
	int rc;

	nv_partial_key(key, kid);
	if ((rc = nv_partial_name(name, h->run, h->shard, h->shards)) ||
	    (rc = nv_pwrite_pass(&pw, key, h, recs, mac)))
		goto out;
	if (!(end = nv_partial_end_line(mac))) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	/* Not write-once: a shard run again replaces what it wrote (atomically). */
	pw.ps = NULL;
	if ((rc = nv_encput_open(&pw.w, s, name, 0, pw.len + strlen(end), r, 1)) ||
	    (rc = nv_pwrite_pass(&pw, key, h, recs, again)))
		goto out;
	if (memcmp(mac, again, sizeof(mac)) != 0) {
		rc = nv_error_set(NV_EMISMATCH, "%s: the records read back from their sort runs "
				  "are not the ones authenticated: not stored", name);
		goto out;
	}
	if (!(rc = nv_encput_write(pw.w, end, strlen(end)))) {
		rc = nv_encput_commit(pw.w, NULL, &stored);
		pw.w = NULL;
	}
	if (!rc)
		rc = nv_drv_flush(s);
out:
	nv_encput_abort(pw.w);
	OPENSSL_cleanse(key, sizeof(key));
	free(end);
	return rc;
}

/* ---- reading, from a spool ---- */

struct nv_partial {
	nv_agespool *sp;
	unsigned char kid[NV_KID_LEN];
	nv_object_ids *ids;    /* HMAC under K_id, set up once: each line's object id */
	nv_partial_head want;
	uint64_t body, read;   /* bytes before the end line; of them, read so far */
	nv_cat_entry cur;      /* the line handed out last (.path malloc'd) */
	nv_obj_rec obj;        /* its object (.name malloc'd) */
};

/* The first pass: every line but the last goes into the MAC, held back one
 * line, since only the end of the plaintext says which line is the last. */
static int nv_partial_check_mac(nv_partial *p, const unsigned char kid[NV_KID_LEN])
{
	unsigned char key[NV_KID_LEN], want[NV_SHA256_LEN], got[NV_SHA256_LEN];
	const char *line, *end;
	char *held = NULL;
	size_t hlen = 0, hcap = 0;
	nv_partial_hmac *mac;
	int rc = 0;

	nv_partial_key(key, kid);
	mac = nv_partial_mac_begin(key);
	OPENSSL_cleanse(key, sizeof(key));
	if (!mac)
		return nv_error_set(NV_ERR, "out of memory");
	while (nv_agespool_line(p->sp, &line, &end, &rc)) {
		size_t len = (size_t)(end - line);

		if (hlen) {
			nv_partial_mac_update(mac, held, hlen);
			p->body += hlen;
		}
		if (len > hcap) {
			char *g = malloc(len * 2);

			if (!g) {
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			nv_age_wipe_free(held, hcap);
			held = g;
			hcap = len * 2;
		}
		memcpy(held, line, len);
		hlen = len;
	}
	nv_partial_mac_end(mac, got);
	if (rc == NV_EMISMATCH && !nv_agespool_undecryptable(p->sp))
		rc = nv_error_set(NV_EMISMATCH, "it does not end with a line");
	else if (rc && nv_agespool_undecryptable(p->sp))
		rc = nv_error_wrap(NV_EMISMATCH, "it does not decrypt with the run's key");
	if (!rc && hlen < 2)
		rc = nv_error_set(NV_EMISMATCH, "it does not end with a line");
	if (!rc && !(rc = nv_partial_end_parse(want, held, hlen - 1)) &&
	    CRYPTO_memcmp(want, got, sizeof(got)) != 0)
		rc = nv_error_set(NV_EMISMATCH, "its HMAC under K_id does not match: forged or "
				  "altered (not written by a holder of K_id)");
	nv_age_wipe_free(held, hcap);
	return rc;
}

static int nv_partial_check_head(const nv_partial_head *h, const nv_partial_head *want)
{
	if (strcmp(h->vault_id, want->vault_id) || strcmp(h->run, want->run) ||
	    strcmp(h->recipient, want->recipient) || h->shard != want->shard ||
	    h->shards != want->shards)
		return nv_error_set(NV_EMISMATCH, "its header names vault %s, run %s, key %s, "
				    "shard %u/%u", h->vault_id, h->run, h->recipient, h->shard,
				    h->shards);
	return 0;
}

/* The second pass's header line. */
static int nv_partial_read_head(nv_partial *p)
{
	const char *line, *end;
	nv_partial_head h;
	int rc;

	if (!p->body || !nv_agespool_line(p->sp, &line, &end, &rc))
		return nv_error_set(NV_EMISMATCH, "it has no header");
	p->read = (uint64_t)(end - line);
	if ((rc = nv_partial_head_parse(&h, line, (size_t)(end - line) - 1)))
		return rc;
	return nv_partial_check_head(&h, &p->want);
}

int nv_partial_open(nv_partial **out, nv_store *s, const char *key,
		    const unsigned char kid[NV_KID_LEN], const nv_partial_head *want,
		    const nv_age_identity *id, uint64_t *bytes)
{
	nv_partial *p = calloc(1, sizeof(*p));
	unsigned char sha[NV_SHA256_LEN];
	int rc;

	*out = NULL;
	*bytes = 0;
	if (!p)
		return nv_error_set(NV_ERR, "out of memory");
	memcpy(p->kid, kid, NV_KID_LEN);
	p->want = *want;
	rc = nv_agespool_fetch(&p->sp, s, key, NV_VAULT_MANIFEST_MAX, key, bytes, sha);
	if (!rc && *bytes > NV_VAULT_MANIFEST_MAX)
		rc = nv_error_set(NV_EMISMATCH, "it holds more than %u bytes",
				  NV_VAULT_MANIFEST_MAX);
	if (!rc && (rc = nv_agespool_start(p->sp, id)))
		rc = nv_error_wrap(NV_EMISMATCH, "it does not decrypt with the run's key");
	if (!rc && !(rc = nv_partial_check_mac(p, kid)) && !(rc = nv_agespool_start(p->sp, id)) &&
	    !(rc = nv_object_ids_new(&p->ids, kid)))
		rc = nv_partial_read_head(p);
	if (rc) {
		nv_partial_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* One file line's claims that do not depend on the other lines. */
static int nv_partial_check_file(const nv_partial *p, const nv_cat_entry *e,
				 const nv_obj_rec *obj, const char *prev)
{
	char want[NV_OBJECT_ID_HEX], id[NV_OBJECT_ID_HEX];
	int rc;

	if (prev && strcmp(prev, e->path) >= 0)
		return nv_error_set(NV_EMISMATCH, "path '%s' %s", e->path,
				    strcmp(prev, e->path) ? "is out of order" : "appears twice");
	if (nv_shard_hash(e->path, strlen(e->path)) % p->want.shards != p->want.shard)
		return nv_error_set(NV_EMISMATCH, "path '%s' is not of shard %u/%u", e->path,
				    p->want.shard, p->want.shards);
	if ((rc = nv_object_ids_make(p->ids, want, e->sha256)))
		return rc;
	if (nv_object_name_parse(obj->name, id, NULL) || strcmp(id, want) != 0)
		return nv_error_set(NV_EMISMATCH, "'%s': object %s is not named after the "
				    "contents the line gives it", e->path, obj->name);
	return 0;
}

int nv_partial_next(nv_partial *p, nv_cat_entry *e, nv_obj_rec *obj)
{
	const char *line, *end;
	nv_cat_entry ne;
	nv_obj_rec no;
	int rc = 0;

	if (p->read >= p->body)
		return NV_EOF; /* the end line, checked by the first pass */
	if (!nv_agespool_line(p->sp, &line, &end, &rc))
		return rc ? rc : nv_error_set(NV_EMISMATCH, "it ended early");
	p->read += (uint64_t)(end - line);
	if ((rc = nv_partial_file_parse(&ne, &no, line, (size_t)(end - line) - 1)))
		return rc;
	if ((rc = nv_partial_check_file(p, &ne, &no, p->cur.path))) {
		free(ne.path);
		free(no.name);
		return rc;
	}
	free(p->cur.path);
	free(p->obj.name);
	p->cur = ne;
	p->obj = no;
	*e = ne;
	*obj = no;
	return 0;
}

void nv_partial_close(nv_partial *p)
{
	if (!p)
		return;
	nv_agespool_free(p->sp);
	nv_object_ids_free(p->ids);
	free(p->cur.path);
	free(p->obj.name);
	OPENSSL_cleanse(p->kid, sizeof(p->kid));
	free(p);
}
