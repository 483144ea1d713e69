/* enc_put.c: plaintext buffered a chunk at a time, encrypted, hashed and
 * written to the store's write stream. Called through enc_put.h. */
#include "enc_put.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NV_ENCPUT_IO (64u << 10) /* plaintext encrypted at a time */

struct nv_encput {
	char key[NV_OBJECT_NAME_MAX + 64]; /* for messages */
	nv_age_enc *enc;
	nv_wstream *ws;
	nv_sha256 *plain, *stored;
	unsigned char *pbuf, *ct;
	size_t pn;
	uint64_t stored_n;
};

int nv_encput_open(nv_encput **out, nv_store *s, const char *key, int exclusive, uint64_t plen,
		   const nv_age_recipient *rc_, size_t n)
{
	nv_write_opts wo = { .flags = exclusive ? NV_WRITE_EXCLUSIVE : 0 };
	nv_encput *w = calloc(1, sizeof(*w));
	int rc = 0;

	*out = NULL;
	if (!w)
		return nv_error_set(NV_ERR, "out of memory");
	snprintf(w->key, sizeof(w->key), "%s", key);
	wo.size = (int64_t)nv_age_ciphertext_size(plen, n);
	if (!(w->plain = nv_sha256_new()) || !(w->stored = nv_sha256_new()) ||
	    !(w->pbuf = malloc(NV_ENCPUT_IO)))
		rc = nv_error_set(NV_ERR, "out of memory");
	else if (!(rc = nv_age_enc_new(&w->enc, rc_, n)) &&
		 !(w->ct = malloc(nv_age_enc_bound(w->enc, NV_ENCPUT_IO))))
		rc = nv_error_set(NV_ERR, "out of memory");
	if (!rc)
		rc = nv_drv_write_open(&w->ws, s, key, &wo);
	if (rc) {
		nv_encput_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Encrypts what pbuf holds (ct has room for NV_ENCPUT_IO of it) and writes it. */
static int nv_encput_flush(nv_encput *w)
{
	size_t n;
	int rc = nv_age_enc_update(w->enc, w->pbuf, w->pn, w->ct, &n);

	w->pn = 0;
	if (rc)
		return rc;
	nv_sha256_update(w->stored, w->ct, n);
	w->stored_n += n;
	return n ? nv_drv_write(w->ws, w->ct, n) : 0;
}

int nv_encput_write(nv_encput *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int rc = 0;

	nv_sha256_update(w->plain, buf, len);
	while (len && !rc) {
		size_t k = len < NV_ENCPUT_IO - w->pn ? len : NV_ENCPUT_IO - w->pn;

		memcpy(w->pbuf + w->pn, p, k);
		w->pn += k;
		p += k;
		len -= k;
		if (w->pn == NV_ENCPUT_IO)
			rc = nv_encput_flush(w);
	}
	return rc;
}

static int nv_encput_finish(nv_encput *w, const unsigned char *want_sha, nv_obj_rec *out)
{
	unsigned char sha[NV_SHA256_LEN];
	nv_commit_info ci;
	size_t n;
	int rc;

	if ((rc = nv_encput_flush(w)) || (rc = nv_age_enc_final(w->enc, w->ct, &n)))
		return rc;
	nv_sha256_update(w->stored, w->ct, n);
	w->stored_n += n;
	if (n && (rc = nv_drv_write(w->ws, w->ct, n)))
		return rc;
	nv_sha256_final(w->plain, sha);
	if (want_sha && memcmp(sha, want_sha, NV_SHA256_LEN) != 0)
		return nv_error_set(NV_EMISMATCH, "%s: the plaintext read back from its sort "
				    "runs is not the one hashed: not stored", w->key);
	rc = nv_drv_write_commit(w->ws, &ci);
	w->ws = NULL;
	if (rc)
		return rc;
	if ((ci.confirmed & NV_CONFIRM_SIZE) && ci.size != w->stored_n)
		return nv_error_set(NV_EMISMATCH, "%s: the store holds %llu bytes, %llu were sent",
				    w->key, (unsigned long long)ci.size,
				    (unsigned long long)w->stored_n);
	nv_sha256_final(w->stored, out->sha256);
	out->size = w->stored_n;
	return 0;
}

int nv_encput_commit(nv_encput *w, const unsigned char *want_sha, nv_obj_rec *out)
{
	int rc = nv_encput_finish(w, want_sha, out);

	nv_encput_abort(w);
	return rc;
}

void nv_encput_abort(nv_encput *w)
{
	if (!w)
		return;
	nv_drv_write_abort(w->ws);
	nv_age_enc_free(w->enc);
	nv_sha256_free(w->plain);
	nv_sha256_free(w->stored);
	if (w->pbuf)
		memset(w->pbuf, 0, NV_ENCPUT_IO); /* plaintext names */
	free(w->pbuf);
	free(w->ct);
	free(w);
}
