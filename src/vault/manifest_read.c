/* manifest_read.c: the choice of a generation, and its manifest fetched to a
 * spool under its signature and read back line by line. Called through
 * manifest_read.h and vault.h (nv_vault_current). */
#include "manifest_read.h"
#include "util/runs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NV_MREAD_IO (64u << 10)

struct nv_mread {
	FILE *f;
	long body;              /* offset of the first object line */
	char *line;
	size_t cap;
	uint64_t count, bytes;  /* the header's */
	uint64_t n, sum;
	char *catalog, *canary; /* the header's (copies) */
	int seen_cat, seen_canary;
	char name[NV_OBJECT_NAME_MAX], last[NV_OBJECT_NAME_MAX];
};

/* Copies key's bytes into f, hashing them and feeding the signature. */
static int nv_mread_fetch(nv_vault *v, const char *key, FILE *f, nv_sshsig_ctx *sig,
			  unsigned char sha[NV_SHA256_LEN], uint64_t *len)
{
	unsigned char *buf = malloc(NV_MREAD_IO);
	nv_sha256 *h = nv_sha256_new();
	size_t got = NV_MREAD_IO;
	int rc = buf && h ? 0 : nv_error_set(NV_ERR, "out of memory");

	*len = 0;
	while (!rc && got == NV_MREAD_IO) {
		if ((rc = nv_drv_read(nv_vault_store(v), key, *len, buf, NV_MREAD_IO, &got)))
			break;
		if (*len + got > NV_VAULT_MANIFEST_MAX)
			rc = nv_error_set(NV_EINVAL, "%s is more than the %u bytes expected", key,
					  NV_VAULT_MANIFEST_MAX);
		else if (fwrite(buf, 1, got, f) != got)
			rc = nv_error_errno(errno, "spooling %s", key);
		else
			rc = nv_sshsig_update(sig, buf, got);
		nv_sha256_update(h, buf, got);
		*len += got;
	}
	if (!rc && fflush(f) != 0)
		rc = nv_error_errno(errno, "spooling %s", key);
	if (!rc)
		nv_sha256_final(h, sha);
	nv_sha256_free(h);
	free(buf);
	return rc;
}

/* Reads the header line from the spool and checks it. */
static int nv_mread_head(nv_mread *r, nv_vault *v, const char *key, uint64_t gen,
			 uint64_t total, nv_manifest *head)
{
	ssize_t n = getline(&r->line, &r->cap, r->f);
	const char *p = r->line;
	int rc;

	if (n <= 0)
		return nv_error_set(NV_EMISMATCH, "manifest: empty");
	if ((rc = nv_manifest_parse_head(head, &p, r->line + n, total)) ||
	    (rc = nv_vault_manifest_check_head(v, key, head, gen)))
		return rc;
	r->count = head->n;
	r->bytes = head->bytes;
	r->body = ftell(r->f);
	if (!(r->catalog = strdup(head->catalog)) ||
	    (head->canary && !(r->canary = strdup(head->canary))))
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

int nv_mread_open(nv_mread **out, nv_vault *v, uint64_t gen, nv_manifest *head,
		  unsigned char sha[NV_SHA256_LEN])
{
	char key[NV_MANIFEST_NAME_MAX];
	nv_mread *r = calloc(1, sizeof(*r));
	nv_sshsig_ctx *sig = NULL;
	uint64_t len = 0;
	int rc, fd = -1;

	*out = NULL;
	memset(head, 0, sizeof(*head));
	nv_manifest_name(key, gen);
	if (!r)
		return nv_error_set(NV_ERR, "out of memory");
	if (!(rc = nv_runs_tmpfile(&fd)) && !(r->f = fdopen(fd, "w+")))
		rc = nv_error_errno(errno, "opening a spool for %s", key);
	if (!r->f && fd >= 0)
		close(fd);
	if (!rc)
		rc = nv_vault_signature_begin(v, key, NV_SSHSIG_NS_MANIFEST, &sig);
	if (!rc && (rc = nv_mread_fetch(v, key, r->f, sig, sha, &len)))
		rc = nv_error_wrap(rc, "fetching generation %llu", (unsigned long long)gen);
	if (!rc) {
		rc = nv_vault_signature_end(key, sig);
		sig = NULL;
	}
	if (!rc && fseek(r->f, 0, SEEK_SET) != 0)
		rc = nv_error_errno(errno, "reading the spool of %s", key);
	if (!rc)
		rc = nv_mread_head(r, v, key, gen, len, head);
	nv_sshsig_ctx_free(sig);
	if (rc) {
		nv_manifest_clear(head);
		nv_mread_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* At the end: the header's count and byte total, and its catalogs listed. */
static int nv_mread_end(nv_mread *r)
{
	if (r->n != r->count || r->sum != r->bytes)
		return nv_error_set(NV_EMISMATCH, "manifest: %llu objects and %llu bytes listed, "
				    "header says %llu and %llu", (unsigned long long)r->n,
				    (unsigned long long)r->sum, (unsigned long long)r->count,
				    (unsigned long long)r->bytes);
	if (!r->seen_cat || (r->canary && !r->seen_canary))
		return nv_error_set(NV_EMISMATCH, "manifest: its catalog is not among its objects");
	return NV_EOF;
}

int nv_mread_next(nv_mread *r, nv_obj_rec *out)
{
	ssize_t n = getline(&r->line, &r->cap, r->f);
	const char *p = r->line;
	int rc;

	if (n <= 0)
		return ferror(r->f) ? nv_error_errno(errno, "reading a manifest's spool")
				    : nv_mread_end(r);
	if (r->n >= r->count)
		return nv_error_set(NV_EMISMATCH, "manifest: object line %llu is malformed, out "
				    "of order or beyond the count", (unsigned long long)r->n + 1);
	if ((rc = nv_manifest_parse_obj(&p, r->line + n, out, r->name, r->n ? r->last : NULL,
					(size_t)r->n + 1)))
		return rc;
	memcpy(r->last, r->name, sizeof(r->last));
	r->seen_cat |= strcmp(r->name, r->catalog) == 0;
	r->seen_canary |= r->canary && strcmp(r->name, r->canary) == 0;
	r->n++;
	r->sum += out->size;
	return 0;
}

int nv_mread_rewind(nv_mread *r)
{
	r->n = r->sum = 0;
	r->seen_cat = r->seen_canary = 0;
	if (fseek(r->f, r->body, SEEK_SET) != 0)
		return nv_error_errno(errno, "reading a manifest's spool");
	return 0;
}

int nv_mread_check(nv_mread *r)
{
	nv_obj_rec rec;
	int rc = nv_mread_rewind(r);

	while (!rc && (rc = nv_mread_next(r, &rec)) == 0)
		;
	return rc == NV_EOF ? nv_mread_rewind(r) : rc;
}

void nv_mread_close(nv_mread *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->line);
	free(r->catalog);
	free(r->canary);
	free(r);
}

/* ---- the generation to read ---- */

int nv_vault_pick(nv_vault *v, long long want, uint64_t *gen, uint64_t *newest)
{
	uint64_t *gens, seen = nv_vault_seen(nv_vault_descriptor(v)->vault_id);
	size_t n;
	int rc;

	*gen = 0;
	if ((rc = nv_vault_generations(v, &gens, &n)))
		return rc;
	*newest = n ? gens[n - 1] : 0;
	free(gens);
	if (*newest < seen)
		return nv_error_set(NV_EMISMATCH, "%s: newest generation is %llu but this host has "
				    "seen generation %llu: refusing a rollback", nv_vault_location(v)->text,
				    (unsigned long long)*newest, (unsigned long long)seen);
	if (want > 0 && (uint64_t)want > *newest)
		return nv_error_set(NV_ENOTFOUND, "%s has no generation %lld (newest %llu)",
				    nv_vault_location(v)->text, want, (unsigned long long)*newest);
	*gen = want > 0 ? (uint64_t)want : *newest;
	return 0;
}

int nv_vault_picked(nv_vault *v, int rc, long long want, uint64_t gen, uint64_t newest)
{
	if (rc && want <= 0)
		return nv_error_wrap(rc, "%s: the newest generation (%llu) cannot be trusted; "
				     "an interrupted push is completed by the next push, and "
				     "--generation %llu reads the one before", nv_vault_location(v)->text,
				     (unsigned long long)gen, (unsigned long long)(gen - 1));
	if (rc)
		return rc;
	return nv_vault_set_seen(nv_vault_descriptor(v)->vault_id, newest);
}

int nv_vault_current(nv_vault *v, long long want, nv_manifest *out,
		     unsigned char sha[NV_SHA256_LEN], uint64_t *gen)
{
	uint64_t newest;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = nv_vault_pick(v, want, gen, &newest)) || *gen == 0)
		return rc;
	rc = nv_vault_manifest(v, *gen, out, sha);
	return nv_vault_picked(v, rc, want, *gen, newest);
}

/* nv_vault_current_read, and with check every line checked first. */
static int nv_vault_current_stream(nv_vault *v, long long want, int check, nv_mread **out,
				   nv_manifest *head, unsigned char sha[NV_SHA256_LEN],
				   uint64_t *gen)
{
	uint64_t newest;
	int rc;

	*out = NULL;
	memset(head, 0, sizeof(*head));
	if ((rc = nv_vault_pick(v, want, gen, &newest)) || *gen == 0)
		return rc;
	if (!(rc = nv_mread_open(out, v, *gen, head, sha)) && check &&
	    (rc = nv_mread_check(*out))) {
		nv_mread_close(*out);
		*out = NULL;
		nv_manifest_clear(head);
	}
	return nv_vault_picked(v, rc, want, *gen, newest);
}

int nv_vault_current_read(nv_vault *v, long long want, nv_mread **out, nv_manifest *head,
			  unsigned char sha[NV_SHA256_LEN], uint64_t *gen)
{
	return nv_vault_current_stream(v, want, 0, out, head, sha, gen);
}

int nv_vault_current_checked(nv_vault *v, long long want, nv_mread **out, nv_manifest *head,
			     unsigned char sha[NV_SHA256_LEN], uint64_t *gen)
{
	return nv_vault_current_stream(v, want, 1, out, head, sha, gen);
}
