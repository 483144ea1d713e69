/* age_dec.c: streaming age decryption: header (X25519 identities or a
 * passphrase), nonce, then STREAM chunks released one by one once authenticated.
 * Calls the crypto, header and stanza layers. Called through age.h by everyone
 * (age_stream.h: src/age/). */
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age_crypto.h"
#include "age_header.h"
#include "age_int.h"
#include "age_stanza.h"
#include "age_stream.h"
#include "util/error.h"
#include "util/membudget.h"

#define NV_AGE_HDR_STEP 4096

enum nv_age_dec_state { NV_AGE_IN_HEADER, NV_AGE_IN_NONCE, NV_AGE_IN_PAYLOAD, NV_AGE_ENDED };

struct nv_age_dec {
	const nv_age_identity *id; /* NULL in passphrase mode */
	char *passphrase;
	int max_log2n;
	enum nv_age_dec_state state;
	int failed; /* sticky error code, 0 while healthy */
	char failmsg[256];
	unsigned char *hdr;
	size_t hdrlen, hdrcap, scanned;
	unsigned char file_key[NV_AGE_FILE_KEY]; /* from header to nonce, then wiped */
	unsigned char nonce[NV_AGE_NONCE];
	size_t noncelen;
	nv_age_aead *aead;
	unsigned long long counter;
	size_t buflen;
	size_t bufhw; /* how much of buf was ever filled: what free wipes */
	/* Holds the latest chunk until the next byte shows whether it is the last. */
	unsigned char buf[NV_AGE_CHUNK_ENC];
};

/* A decryptor per file pulled, its bytes from the thread's seat
 * (util/membudget.h): buf (64 KiB) is neither zeroed when made nor wiped
 * beyond what it held, which for a small file cost more than its decryption.
 * Nothing reads buf past buflen, which only ever counts bytes copied in. */
static nv_age_dec *nv_age_dec_alloc(void)
{
	nv_age_dec *d = nv_mem_alloc(sizeof(*d));

	if (d)
		memset(d, 0, offsetof(nv_age_dec, buf));
	return d;
}

int nv_age_dec_new(nv_age_dec **out, const nv_age_identity *id)
{
	nv_age_dec *d;

	*out = NULL;
	if (!id || id->n == 0)
		return nv_error_set(NV_EINVAL, "age: no identity to decrypt with");
	if (!(d = nv_age_dec_alloc()))
		return nv_error_set(NV_ERR, "out of memory");
	d->id = id;
	*out = d;
	return 0;
}

int nv_age_dec_new_passphrase(nv_age_dec **out, const char *passphrase, int max_log2n)
{
	nv_age_dec *d;

	*out = NULL;
	if (!(d = nv_age_dec_alloc()) || !(d->passphrase = strdup(passphrase))) {
		nv_age_dec_free(d);
		return nv_error_set(NV_ERR, "out of memory");
	}
	d->max_log2n = max_log2n;
	*out = d;
	return 0;
}

size_t nv_age_dec_bound(size_t inlen)
{
	return (inlen / NV_AGE_CHUNK_ENC + 1) * NV_AGE_CHUNK_SIZE;
}

void nv_age_dec_free(nv_age_dec *d)
{
	if (!d)
		return;
	if (d->passphrase)
		nv_age_wipe_free(d->passphrase, strlen(d->passphrase));
	nv_age_aead_free(d->aead);
	free(d->hdr);
	OPENSSL_cleanse(d->buf, d->bufhw);
	OPENSSL_cleanse(d, offsetof(nv_age_dec, buf));
	nv_mem_free(d, sizeof(*d));
}

static int nv_age_dec_file_key(nv_age_dec *d, const struct nv_age_header *h)
{
	size_t i;
	int rc = 1;

	/* A passphrase file must not also open with a key (spec: scrypt stands alone). */
	for (i = 0; i < h->n; i++)
		if (strcmp(h->st[i].type, "scrypt") == 0 && h->n != 1)
			return nv_error_set(NV_EMISMATCH, "age header: an scrypt stanza must be alone");
	if (d->passphrase)
		return nv_age_scrypt_unwrap(d->file_key, h, d->passphrase, d->max_log2n);
	for (i = 0; i < h->n && rc == 1; i++)
		rc = nv_age_x25519_unwrap(d->file_key, &h->st[i], d->id);
	if (rc == 1)
		return nv_error_set(NV_EAUTH, "no identity matches any recipient stanza");
	return rc;
}

/* Collects header bytes; once the MAC line is in, checks it all and hands the
 * bytes that followed it to the next stage through *rest. */
static int nv_age_dec_header(nv_age_dec *d, const unsigned char **p, size_t *n)
{
	size_t take = *n < NV_AGE_HDR_STEP ? *n : NV_AGE_HDR_STEP;
	struct nv_age_header h;
	unsigned char *nh;
	long end;
	int rc;

	/* Grown by doubling: fed a few bytes at a time (a network read can be that
	 * small), growing by each call's bytes copied the header once per call. */
	if (d->hdrlen + take > d->hdrcap) {
		size_t cap = d->hdrcap ? 2 * d->hdrcap : NV_AGE_HDR_STEP;

		if (cap > NV_AGE_HEADER_MAX + NV_AGE_HDR_STEP) /* the most it ever holds */
			cap = NV_AGE_HEADER_MAX + NV_AGE_HDR_STEP;
		if (cap < d->hdrlen + take)
			cap = d->hdrlen + take;
		if (!(nh = realloc(d->hdr, cap)))
			return nv_error_set(NV_ERR, "out of memory");
		d->hdr = nh;
		d->hdrcap = cap;
	}
	memcpy(d->hdr + d->hdrlen, *p, take);
	d->hdrlen += take;
	*p += take;
	*n -= take;
	if ((end = nv_age_header_end(d->hdr, d->hdrlen, &d->scanned)) <= 0)
		return (int)end;
	if ((rc = nv_age_header_parse(&h, d->hdr, (size_t)end)) == 0 &&
	    (rc = nv_age_dec_file_key(d, &h)) == 0)
		rc = nv_age_header_verify(&h, d->hdr, d->file_key);
	nv_age_header_clear(&h);
	if (rc < 0)
		return rc;
	/* Bytes read past the header belong to the nonce and payload: give them back. */
	*p -= d->hdrlen - (size_t)end;
	*n += d->hdrlen - (size_t)end;
	free(d->hdr);
	d->hdr = NULL;
	d->state = NV_AGE_IN_NONCE;
	return 0;
}

static int nv_age_dec_nonce(nv_age_dec *d, const unsigned char **p, size_t *n)
{
	size_t take = NV_AGE_NONCE - d->noncelen < *n ? NV_AGE_NONCE - d->noncelen : *n;
	unsigned char key[32];
	int rc;

	memcpy(d->nonce + d->noncelen, *p, take);
	d->noncelen += take;
	*p += take;
	*n -= take;
	if (d->noncelen < NV_AGE_NONCE)
		return 0;
	if ((rc = nv_age_payload_key(key, d->file_key, d->nonce)) == 0)
		rc = nv_age_aead_new(&d->aead, key);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(d->file_key, sizeof(d->file_key));
	if (rc == 0)
		d->state = NV_AGE_IN_PAYLOAD;
	return rc;
}

/* Errors are sticky: later calls repeat the first message. */
static int nv_age_dec_fail(nv_age_dec *d, int rc)
{
	d->failed = rc;
	snprintf(d->failmsg, sizeof(d->failmsg), "%s", nv_error_msg());
	return rc;
}

static int nv_age_dec_open(nv_age_dec *d, const unsigned char *in, size_t len, int last,
			   unsigned char *out)
{
	unsigned char nonce[12];

	nv_age_stream_nonce(nonce, d->counter, last);
	return nv_age_aead_open(d->aead, nonce, in, len, out);
}

/* A full chunk known to have bytes after it: it must not be the last. */
static int nv_age_dec_middle(nv_age_dec *d, const unsigned char *in, unsigned char *out,
			     size_t *o)
{
	int rc = nv_age_dec_open(d, in, NV_AGE_CHUNK_ENC, 0, out + *o);

	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (nv_age_dec_open(d, in, NV_AGE_CHUNK_ENC, 1, out + *o) == 0) {
			OPENSSL_cleanse(out + *o, NV_AGE_CHUNK_SIZE);
			return nv_error_set(NV_EMISMATCH,
					    "age payload: trailing data after the last chunk (chunk %llu)",
					    d->counter);
		}
		return nv_error_set(NV_EMISMATCH, "age payload: chunk %llu failed authentication",
				    d->counter);
	}
	d->counter++;
	*o += NV_AGE_CHUNK_SIZE;
	return 0;
}

static int nv_age_dec_payload(nv_age_dec *d, const unsigned char **p, size_t *n,
			      unsigned char *out, size_t *o)
{
	size_t take;
	int rc;

	if (d->buflen == NV_AGE_CHUNK_ENC) {
		if ((rc = nv_age_dec_middle(d, d->buf, out, o)) < 0)
			return rc;
		d->buflen = 0;
	}
	/* Whole chunks with more input behind them are opened straight from the input. */
	if (d->buflen == 0 && *n > NV_AGE_CHUNK_ENC) {
		if ((rc = nv_age_dec_middle(d, *p, out, o)) < 0)
			return rc;
		*p += NV_AGE_CHUNK_ENC;
		*n -= NV_AGE_CHUNK_ENC;
		return 0;
	}
	take = NV_AGE_CHUNK_ENC - d->buflen < *n ? NV_AGE_CHUNK_ENC - d->buflen : *n;
	memcpy(d->buf + d->buflen, *p, take);
	d->buflen += take;
	if (d->buflen > d->bufhw)
		d->bufhw = d->buflen;
	*p += take;
	*n -= take;
	return 0;
}

int nv_age_dec_update(nv_age_dec *d, const void *in, size_t inlen, void *out, size_t *outlen)
{
	const unsigned char *p = in;
	size_t o = 0;
	int rc = 0;

	*outlen = 0;
	if (d->failed)
		return nv_error_set(d->failed, "%s", d->failmsg);
	if (d->state == NV_AGE_ENDED)
		return nv_error_set(NV_EINVAL, "age: decryption already finished");
	while (inlen > 0 && rc == 0) {
		if (d->state == NV_AGE_IN_HEADER)
			rc = nv_age_dec_header(d, &p, &inlen);
		else if (d->state == NV_AGE_IN_NONCE)
			rc = nv_age_dec_nonce(d, &p, &inlen);
		else
			rc = nv_age_dec_payload(d, &p, &inlen, out, &o);
	}
	if (rc < 0) {
		/* Chunks already opened in this call were authentic, but the caller learns of
		 * them only through *outlen; withhold them along with the error. */
		OPENSSL_cleanse(out, o);
		return nv_age_dec_fail(d, rc);
	}
	*outlen = o;
	return 0;
}

static int nv_age_dec_last(nv_age_dec *d, unsigned char *out, size_t *outlen)
{
	unsigned long long c = d->counter;
	int rc;

	if (d->state == NV_AGE_IN_HEADER)
		return nv_error_set(NV_EMISMATCH, d->hdrlen ? "age: input ends inside the header"
						      : "age: empty input is not an age file");
	if (d->state == NV_AGE_IN_NONCE)
		return nv_error_set(NV_EMISMATCH, "age: input ends before the payload nonce");
	if (d->buflen == 0 && c == 0)
		return nv_error_set(NV_EMISMATCH, "age payload: no chunk after the nonce");
	if (d->buflen == 0)
		return nv_error_set(NV_EMISMATCH, "age payload: last chunk missing after chunk %llu",
				    c - 1);
	if (d->buflen < NV_AGE_TAG)
		return nv_error_set(NV_EMISMATCH,
				    "age payload: truncated: chunk %llu is shorter than its tag", c);
	if ((rc = nv_age_dec_open(d, d->buf, d->buflen, 1, out)) < 0)
		return rc;
	if (rc == 1) {
		if (d->buflen == NV_AGE_CHUNK_ENC && nv_age_dec_open(d, d->buf, d->buflen, 0, out) == 0) {
			OPENSSL_cleanse(out, NV_AGE_CHUNK_SIZE);
			return nv_error_set(NV_EMISMATCH,
					    "age payload: last chunk missing: input ends after chunk %llu "
					    "(truncated at a chunk boundary)", c);
		}
		return nv_error_set(NV_EMISMATCH,
				    "age payload: last chunk %llu failed authentication (truncated or corrupted)",
				    c);
	}
	/* Only the empty file may end with an empty chunk. */
	if (d->buflen == NV_AGE_TAG && c > 0)
		return nv_error_set(NV_EMISMATCH,
				    "age payload: empty last chunk %llu after a full chunk", c);
	*outlen = d->buflen - NV_AGE_TAG;
	return 0;
}

int nv_age_dec_final(nv_age_dec *d, void *out, size_t *outlen)
{
	int rc;

	*outlen = 0;
	if (d->failed)
		return nv_error_set(d->failed, "%s", d->failmsg);
	if (d->state == NV_AGE_ENDED)
		return nv_error_set(NV_EINVAL, "age: decryption already finished");
	if ((rc = nv_age_dec_last(d, out, outlen)) < 0)
		return nv_age_dec_fail(d, rc);
	d->state = NV_AGE_ENDED;
	OPENSSL_cleanse(d->buf, d->buflen);
	d->buflen = 0;
	return 0;
}
