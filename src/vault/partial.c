/* partial.c: a shard's partial catalog: sealed by the shard (MAC under K_id,
 * then age to the run's key), opened and checked line by line by publish.
 * Called through partial.h. */
#include "partial.h"
#include "engine/shard.h"
#include "util/strbuf.h"
#include "vault.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Appends a line (malloc'd, NULL when it could not be made) to b. */
static int nv_partial_add(nv_sb *b, char *line, const char *what)
{
	if (!line)
		return nv_error_set(NV_ERR, "cannot write the partial catalog line of %s (out of "
				    "memory, or a name that is not UTF-8)", what);
	nv_sb_add(b, line);
	free(line);
	return nv_sb_ok(b);
}

int nv_partial_write(nv_store *s, const unsigned char kid[NV_KID_LEN], const nv_partial_head *h,
		     const nv_age_recipient *r, nv_push_file *const *files, size_t n)
{
	unsigned char key[NV_KID_LEN], mac[NV_SHA256_LEN], *ct = NULL;
	char name[NV_RUN_NAME_MAX];
	nv_sb b = { 0 };
	size_t clen;
	int rc;

	if ((rc = nv_partial_name(name, h->run, h->shard, h->shards)) ||
	    (rc = nv_partial_add(&b, nv_partial_head_line(h), "its header")))
		goto out;
	for (size_t i = 0; i < n && !rc; i++)
		rc = nv_partial_add(&b, nv_partial_file_line(&files[i]->cat, &files[i]->obj),
				    files[i]->path);
	if (rc)
		goto out;
	nv_partial_key(key, kid);
	nv_partial_mac(mac, key, b.s, b.len);
	OPENSSL_cleanse(key, sizeof(key));
	if ((rc = nv_partial_add(&b, nv_partial_end_line(mac), "its end")) ||
	    (rc = nv_age_encrypt_buf(&ct, &clen, b.s, b.len, r, 1)))
		goto out;
	/* Not write-once: a shard run again replaces what it wrote (atomically). */
	if (!(rc = nv_drv_put_buf(s, name, ct, clen, 0)))
		rc = nv_drv_flush(s);
out:
	if (b.s)
		OPENSSL_cleanse(b.s, b.len); /* paths and hashes: the catalog's secrets */
	nv_sb_free(&b);
	free(ct);
	return rc;
}

/* The next line of [*p, end) without its newline; NULL at the end or when the
 * last line has none. */
static const char *nv_partial_next(const char **p, const char *end, size_t *len)
{
	const char *line = *p, *nl = line < end ? memchr(line, '\n', (size_t)(end - line)) : NULL;

	if (!nl)
		return NULL;
	*len = (size_t)(nl - line);
	*p = nl + 1;
	return line;
}

/* Its MAC: the end line is the last and holds the MAC of every byte before. */
static int nv_partial_check_mac(const char *pt, size_t plen, const unsigned char kid[NV_KID_LEN],
				size_t *body)
{
	unsigned char key[NV_KID_LEN], want[NV_SHA256_LEN], got[NV_SHA256_LEN];
	size_t start;
	int rc;

	if (plen < 2 || pt[plen - 1] != '\n')
		return nv_error_set(NV_EMISMATCH, "it does not end with a line");
	for (start = plen - 1; start > 0 && pt[start - 1] != '\n'; start--)
		;
	if ((rc = nv_partial_end_parse(want, pt + start, plen - 1 - start)))
		return rc;
	nv_partial_key(key, kid);
	nv_partial_mac(got, key, pt, start);
	OPENSSL_cleanse(key, sizeof(key));
	if (CRYPTO_memcmp(want, got, sizeof(got)) != 0)
		return nv_error_set(NV_EMISMATCH, "its HMAC under K_id does not match: forged or "
				    "altered (not written by a holder of K_id)");
	*body = start;
	return 0;
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

/* One file line's claims that do not depend on the other lines. */
static int nv_partial_check_file(const nv_push_file *f, const nv_push_file *prev,
				 const unsigned char kid[NV_KID_LEN], const nv_partial_head *h)
{
	char want[NV_OBJECT_ID_HEX], id[NV_OBJECT_ID_HEX];

	if (prev && strcmp(prev->path, f->path) >= 0)
		return nv_error_set(NV_EMISMATCH, "path '%s' %s", f->path,
				    strcmp(prev->path, f->path) ? "is out of order" : "appears twice");
	if (nv_shard_hash(f->path, strlen(f->path)) % h->shards != h->shard)
		return nv_error_set(NV_EMISMATCH, "path '%s' is not of shard %u/%u", f->path,
				    h->shard, h->shards);
	nv_object_id(want, kid, f->cat.sha256);
	if (nv_object_name_parse(f->obj.name, id, NULL) || strcmp(id, want) != 0)
		return nv_error_set(NV_EMISMATCH, "'%s': object %s is not named after the "
				    "contents the line gives it", f->path, f->obj.name);
	return 0;
}

/* The header and file lines of an authenticated body. */
static int nv_partial_parse(const char *body, size_t blen, const unsigned char kid[NV_KID_LEN],
			    const nv_partial_head *want, nv_push_list *out)
{
	const char *p = body, *end = body + blen, *line;
	const nv_push_file *prev = NULL;
	nv_partial_head h;
	size_t len;
	int rc;

	if (!(line = nv_partial_next(&p, end, &len)))
		return nv_error_set(NV_EMISMATCH, "it has no header");
	if ((rc = nv_partial_head_parse(&h, line, len)) ||
	    (rc = nv_partial_check_head(&h, want)))
		return rc;
	while ((line = nv_partial_next(&p, end, &len))) {
		nv_push_file *f = calloc(1, sizeof(*f));

		if (!f)
			return nv_error_set(NV_ERR, "out of memory");
		if ((rc = nv_partial_file_parse(&f->cat, &f->obj, line, len))) {
			free(f);
			return rc;
		}
		f->path = f->cat.path;
		if ((rc = nv_push_list_add(out, f))) {
			free(f->path);
			free(f->obj.name);
			free(f);
			return rc;
		}
		if ((rc = nv_partial_check_file(f, prev, kid, want)))
			return rc;
		prev = f;
	}
	return 0;
}

int nv_partial_read(nv_store *s, const char *key, const unsigned char kid[NV_KID_LEN],
		    const nv_partial_head *want, const nv_age_identity *id, nv_push_list *out,
		    uint64_t *bytes)
{
	unsigned char *ct = NULL, *pt = NULL;
	size_t clen = 0, plen = 0, body = 0;
	int rc = nv_drv_get_buf(s, key, NV_VAULT_MANIFEST_MAX, &ct, &clen);

	*bytes = clen;
	if (rc)
		return rc;
	rc = nv_age_decrypt_buf(&pt, &plen, ct, clen, id);
	free(ct);
	if (rc)
		return nv_error_wrap(NV_EMISMATCH, "it does not decrypt with the run's key");
	if (!(rc = nv_partial_check_mac((const char *)pt, plen, kid, &body)))
		rc = nv_partial_parse((const char *)pt, body, kid, want, out);
	nv_age_wipe_free(pt, plen);
	return rc;
}
