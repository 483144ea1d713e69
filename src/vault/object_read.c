/* object_read.c: one vault object in one pass (object_read.h): stored bytes
 * hashed, decrypted and, for a restore, written to the target's temporary file
 * as they arrive; the commit waits for both hashes. Called through object_read.h. */
#include "object_read.h"
#include "util/membudget.h"
#include "util/progress.h"
#include "util/sha_pair.h"
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nv_objread {
	unsigned char *in, *out; /* stored bytes; plaintext (wiped when freed) */
	size_t in_size;
	size_t grant;            /* both buffers' bytes, from the thread's seat */
	nv_sha_pair *pair;       /* the stored bytes (first), the plaintext (second),
	                          * side by side: interleaved on SHA-NI */
	char why[1024];          /* decryption's error, kept while the rest is hashed */
};

/* One object's pass. */
typedef struct nv_objpass {
	nv_objread *r;
	const nv_obj_rec *rec;
	const nv_cat_entry *e;
	nv_age_dec *d;    /* NULL: stored bytes only, or decryption given up (derr) */
	nv_wstream *ws;   /* restore: the target's temporary file */
	uint64_t off;     /* stored bytes read */
	uint64_t plain;   /* plaintext released */
	size_t fresh;     /* plaintext released by the last step, in r->out */
	int derr;         /* the decryption's first error (the vault's, not the target's) */
	int tfail;        /* the target failed: the pass stops at once */
} nv_objpass;

int nv_objread_new(nv_objread **out, size_t buf_size)
{
	nv_objread *r = calloc(1, sizeof(*r));

	*out = r;
	if (!r)
		return nv_error_set(NV_ERR, "out of memory");
	r->in_size = buf_size ? buf_size : (1u << 20);
	r->grant = r->in_size + nv_age_dec_bound(r->in_size);
	if (nv_mem_acquire(r->grant, r->grant, NULL, &r->grant))
		return nv_error_code();
	r->in = malloc(r->in_size);
	r->out = malloc(nv_age_dec_bound(r->in_size));
	r->pair = nv_sha_pair_new(0);
	if (!r->in || !r->out || !r->pair)
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

void nv_objread_free(nv_objread *r)
{
	if (!r)
		return;
	nv_sha_pair_free(r->pair);
	free(r->in);
	if (r->out)
		nv_age_wipe_free(r->out, nv_age_dec_bound(r->in_size));
	nv_mem_release(r->grant);
	free(r);
}

/* An error of the restore target is the target's, never the vault's: it must
 * not read as a missing or tampered object. */
static int nv_objread_target_err(int rc, const char *doing, const char *path)
{
	if (rc == NV_ENOTFOUND || rc == NV_EMISMATCH)
		rc = NV_ERR;
	return nv_error_wrap(rc, "%s %s", doing, path);
}

/* An age failure on bytes the signed manifest names: the object is not what
 * its recipients were sent (or not sent to us): a verification failure of
 * that object, never a usage error. */
static int nv_objread_age(const nv_obj_rec *rec, int rc)
{
	if (rc == NV_EAUTH || rc == NV_EMISMATCH)
		return nv_error_wrap(NV_EMISMATCH, "object %s", rec->name);
	return rc;
}

/* Plaintext the decryptor released (each chunk after its tag verified):
 * counted and written to the temporary file when restoring (the pass hashes
 * it beside the stored bytes it came from). */
static int nv_objread_emit(nv_objpass *p, size_t len)
{
	int rc;

	if (!len)
		return 0;
	p->plain += len;
	if (p->plain > p->e->size)
		return nv_error_set(NV_EMISMATCH, "%s: the object decrypts to more than the "
				    "catalog's %llu bytes", p->e->path,
				    (unsigned long long)p->e->size);
	if (p->ws && (rc = nv_drv_write(p->ws, p->r->out, len))) {
		p->tfail = 1;
		return nv_objread_target_err(rc, "writing", p->e->path);
	}
	return 0;
}

/* One step of the decryptor (rc its verdict, olen bytes released in r->out):
 * emitted, and p->fresh says how many. The vault's errors stop the decryption
 * but not the pass: the rest is still hashed, so that bytes other than the
 * manifest's are reported as such, not as the decryption error they cause. */
static int nv_objread_take(nv_objpass *p, int rc, size_t olen)
{
	p->fresh = 0;
	if (!(rc = nv_objread_age(p->rec, rc)) && !(rc = nv_objread_emit(p, olen)))
		p->fresh = olen;
	if (!rc || p->tfail)
		return rc;
	p->derr = rc;
	snprintf(p->r->why, sizeof(p->r->why), "%s", nv_error_msg());
	nv_age_dec_free(p->d);
	p->d = NULL;
	return 0;
}

/* Decrypts the next stored bytes. */
static int nv_objread_feed(nv_objpass *p, const unsigned char *buf, size_t len)
{
	size_t olen = 0;
	int rc;

	p->fresh = 0;
	if (!p->d || p->derr)
		return 0;
	rc = nv_age_dec_update(p->d, buf, len, p->r->out, &olen); /* olen set before it is read */
	return nv_objread_take(p, rc, olen);
}

/* The decryptor's last chunk, hashed: before the digests are taken, so it
 * comes before the stored bytes are checked (its verdict waits in derr). */
static int nv_objread_last(nv_objpass *p)
{
	size_t olen = 0;
	int rc;

	p->fresh = 0;
	if (!p->d || p->derr)
		return 0;
	rc = nv_age_dec_final(p->d, p->r->out, &olen);
	rc = nv_objread_take(p, rc, olen);
	if (!rc && p->fresh)
		nv_sha_pair_update(p->r->pair, NULL, 0, p->r->out, p->fresh);
	return rc;
}

/* After the stored bytes matched: the decryption's verdict (psha: the
 * plaintext's SHA-256). */
static int nv_objread_finish(nv_objpass *p, const unsigned char psha[NV_SHA256_LEN])
{
	if (p->derr)
		return nv_error_set(p->derr, "%s", p->r->why);
	if (!p->d)
		return 0; /* stored bytes only */
	if (p->plain != p->e->size || memcmp(psha, p->e->sha256, NV_SHA256_LEN) != 0)
		return nv_error_set(NV_EMISMATCH, "%s: object %s decrypts to %llu bytes with "
				    "another SHA-256 than the catalog's (%llu bytes)", p->e->path,
				    p->rec->name, (unsigned long long)p->plain,
				    (unsigned long long)p->e->size);
	return 0;
}

/* The one read: from the first stored byte to at most one past the manifest's
 * size, so a grown object is caught without reading all of it. */
static int nv_objread_pass(nv_objpass *p, nv_store *vault)
{
	nv_objread *r = p->r;
	const nv_obj_rec *rec = p->rec;
	unsigned char sha[NV_SHA256_LEN], psha[NV_SHA256_LEN];
	size_t got, want;
	int rc;

	for (;;) {
		want = rec->size + 1 - p->off < r->in_size ? (size_t)(rec->size + 1 - p->off)
							    : r->in_size;
		if ((rc = nv_drv_read(vault, rec->name, p->off, r->in, want, &got))) {
			if (rc == NV_ENOTFOUND)
				rc = nv_error_set(NV_ENOTFOUND, "object %s is missing", rec->name);
			break;
		}
		nv_progress_stream(got);
		/* a byte past the manifest's size only shows the object grew */
		if ((rc = nv_objread_feed(p, r->in, p->off + got > rec->size ?
					  (size_t)(rec->size - p->off) : got)))
			break;
		nv_sha_pair_update(r->pair, r->in, got, p->fresh ? r->out : NULL, p->fresh);
		p->off += got;
		if (got < want || p->off > rec->size)
			break;
	}
	if (!rc)
		rc = nv_objread_last(p);
	nv_sha_pair_final(r->pair, sha, psha); /* also resets both for the next object */
	if (rc || (rc = nv_vault_check_stored(rec, p->off, sha)))
		return rc;
	return nv_objread_finish(p, psha);
}

static int nv_objread_run(nv_objread *r, nv_store *vault, const nv_obj_rec *rec,
			  const nv_age_identity *id, const nv_cat_entry *e, nv_wstream *ws)
{
	nv_objpass p = { .r = r, .rec = rec, .e = e, .ws = ws };
	int rc;

	if (id && e && (rc = nv_age_dec_new(&p.d, id)))
		return rc;
	rc = nv_objread_pass(&p, vault);
	nv_age_dec_free(p.d);
	return rc;
}

int nv_objread_check(nv_objread *r, nv_store *vault, const nv_obj_rec *rec,
		     const nv_age_identity *id, const nv_cat_entry *e)
{
	return nv_objread_run(r, vault, rec, id, e, NULL);
}

int nv_objread_restore(nv_objread *r, nv_store *vault, const nv_obj_rec *rec,
		       const nv_age_identity *id, const nv_cat_entry *e,
		       nv_store *target, const nv_write_opts *wo)
{
	nv_wstream *ws;
	int rc;

	if (!id || !e)
		return nv_error_set(NV_EINVAL, "restoring %s needs an identity and its "
				    "catalog entry", rec->name);
	if ((rc = nv_drv_write_open(&ws, target, e->path, wo)))
		return nv_objread_target_err(rc, "restoring", e->path);
	if ((rc = nv_objread_run(r, vault, rec, id, e, ws))) {
		nv_drv_write_abort(ws); /* the temporary file goes; nothing partial stays */
		return rc;
	}
	if ((rc = nv_drv_write_commit(ws, NULL)))
		return nv_objread_target_err(rc, "restoring", e->path);
	return 0;
}
