/* age_enc.c: streaming age encryption (header, nonce, STREAM chunks) in bounded
 * memory, and the exact ciphertext size. Calls the crypto, header and X25519
 * stanza layers. Called through age.h by everyone (age_stream.h: src/age/). */
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "age_crypto.h"
#include "age_header.h"
#include "age_int.h"
#include "age_stanza.h"
#include "age_stream.h"
#include "util/error.h"
#include "util/membudget.h"

struct nv_age_enc {
	unsigned char *hdr; /* header + payload nonce, written by the first call */
	size_t hdrlen;
	int hdr_sent, done;
	nv_age_aead *aead;
	unsigned long long counter;
	size_t buflen;
	size_t bufhw; /* how much of buf ever held plaintext: what free wipes */
	/* A chunk is sealed only once the next byte exists: the last one is flagged. */
	unsigned char buf[NV_AGE_CHUNK_SIZE];
};

int nv_age_enc_new_raw(nv_age_enc **out, const unsigned char file_key[16],
		       const char *stanzas, size_t len)
{
	unsigned char key[32];
	/* One per file pushed, from the thread's seat (util/membudget.h): buf
	 * (64 KiB) is neither zeroed here nor wiped beyond what it held, which
	 * for a small file cost more than sealing it. Nothing reads buf past
	 * buflen, which only ever counts bytes copied in. */
	nv_age_enc *e = nv_mem_alloc(sizeof(*e));
	int rc = NV_ERR;

	*out = NULL;
	if (e)
		memset(e, 0, offsetof(nv_age_enc, buf));
	if (!e || !(e->hdr = malloc(NV_AGE_INTRO_LEN + len + NV_AGE_MAC_LINE_LEN + NV_AGE_NONCE))) {
		nv_error_set(NV_ERR, "out of memory");
		goto out_free;
	}
	memcpy(e->hdr, NV_AGE_INTRO, NV_AGE_INTRO_LEN);
	memcpy(e->hdr + NV_AGE_INTRO_LEN, stanzas, len);
	e->hdrlen = NV_AGE_INTRO_LEN + len;
	if ((rc = nv_age_header_seal(e->hdr, &e->hdrlen, file_key)) < 0 ||
	    (rc = nv_age_random(e->hdr + e->hdrlen, NV_AGE_NONCE)) < 0 ||
	    (rc = nv_age_payload_key(key, file_key, e->hdr + e->hdrlen)) < 0 ||
	    (rc = nv_age_aead_new(&e->aead, key)) < 0)
		goto out_free;
	e->hdrlen += NV_AGE_NONCE;
	OPENSSL_cleanse(key, sizeof(key));
	*out = e;
	return 0;
out_free:
	OPENSSL_cleanse(key, sizeof(key));
	nv_age_enc_free(e);
	return rc;
}

int nv_age_enc_new(nv_age_enc **out, const nv_age_recipient *r, size_t n)
{
	unsigned char file_key[NV_AGE_FILE_KEY];
	char *stanzas;
	size_t i;
	int rc;

	*out = NULL;
	if (n == 0 || n > NV_AGE_HEADER_MAX / NV_AGE_X25519_STANZA_LEN)
		return nv_error_set(NV_EINVAL, "age: %zu recipients (want 1 to %u)", n,
				    NV_AGE_HEADER_MAX / NV_AGE_X25519_STANZA_LEN);
	if (!(stanzas = malloc(n * NV_AGE_X25519_STANZA_LEN + 1)))
		return nv_error_set(NV_ERR, "out of memory");
	rc = nv_age_random(file_key, sizeof(file_key));
	for (i = 0; i < n && rc == 0; i++)
		rc = nv_age_x25519_wrap(stanzas + i * NV_AGE_X25519_STANZA_LEN, &r[i], file_key);
	if (rc == 0)
		rc = nv_age_enc_new_raw(out, file_key, stanzas, n * NV_AGE_X25519_STANZA_LEN);
	OPENSSL_cleanse(file_key, sizeof(file_key));
	free(stanzas);
	return rc;
}

size_t nv_age_enc_bound(const nv_age_enc *e, size_t inlen)
{
	return (e->hdr_sent ? 0 : e->hdrlen) + (inlen / NV_AGE_CHUNK_SIZE + 1) * NV_AGE_CHUNK_ENC;
}

static int nv_age_enc_seal(nv_age_enc *e, const unsigned char *in, size_t len, int last,
			   unsigned char *out, size_t *o)
{
	unsigned char nonce[12];
	int rc;

	nv_age_stream_nonce(nonce, e->counter, last);
	if ((rc = nv_age_aead_seal(e->aead, nonce, in, len, out + *o)) < 0)
		return rc;
	e->counter++;
	*o += len + NV_AGE_TAG;
	return 0;
}

static void nv_age_enc_header(nv_age_enc *e, unsigned char *out, size_t *o)
{
	if (e->hdr_sent)
		return;
	memcpy(out, e->hdr, e->hdrlen);
	*o = e->hdrlen;
	e->hdr_sent = 1;
}

int nv_age_enc_update(nv_age_enc *e, const void *in, size_t inlen, void *out, size_t *outlen)
{
	const unsigned char *p = in;
	size_t o = 0, take;
	int rc;

	*outlen = 0;
	if (e->done)
		return nv_error_set(NV_EINVAL, "age: encryption already finished");
	nv_age_enc_header(e, out, &o);
	while (inlen > 0) {
		if (e->buflen == NV_AGE_CHUNK_SIZE) {
			if ((rc = nv_age_enc_seal(e, e->buf, e->buflen, 0, out, &o)) < 0)
				return rc;
			e->buflen = 0;
		}
		/* Whole chunks with more input behind them go straight from the input. */
		if (e->buflen == 0 && inlen > NV_AGE_CHUNK_SIZE) {
			if ((rc = nv_age_enc_seal(e, p, NV_AGE_CHUNK_SIZE, 0, out, &o)) < 0)
				return rc;
			p += NV_AGE_CHUNK_SIZE;
			inlen -= NV_AGE_CHUNK_SIZE;
			continue;
		}
		take = NV_AGE_CHUNK_SIZE - e->buflen < inlen ? NV_AGE_CHUNK_SIZE - e->buflen : inlen;
		memcpy(e->buf + e->buflen, p, take);
		e->buflen += take;
		if (e->buflen > e->bufhw)
			e->bufhw = e->buflen;
		p += take;
		inlen -= take;
	}
	*outlen = o;
	return 0;
}

int nv_age_enc_final(nv_age_enc *e, void *out, size_t *outlen)
{
	size_t o = 0;
	int rc;

	*outlen = 0;
	if (e->done)
		return nv_error_set(NV_EINVAL, "age: encryption already finished");
	nv_age_enc_header(e, out, &o);
	if ((rc = nv_age_enc_seal(e, e->buf, e->buflen, 1, out, &o)) < 0)
		return rc;
	e->done = 1;
	OPENSSL_cleanse(e->buf, e->buflen);
	e->buflen = 0;
	*outlen = o;
	return 0;
}

void nv_age_enc_free(nv_age_enc *e)
{
	if (!e)
		return;
	nv_age_aead_free(e->aead);
	free(e->hdr);
	OPENSSL_cleanse(e->buf, e->bufhw);
	OPENSSL_cleanse(e, offsetof(nv_age_enc, buf));
	nv_mem_free(e, sizeof(*e));
}

static uint64_t nv_age_header_size(size_t n)
{
	return NV_AGE_INTRO_LEN + (uint64_t)n * NV_AGE_X25519_STANZA_LEN + NV_AGE_MAC_LINE_LEN +
	       NV_AGE_NONCE;
}

uint64_t nv_age_ciphertext_size(uint64_t plain_size, size_t n)
{
	uint64_t chunks = plain_size ? (plain_size + NV_AGE_CHUNK_SIZE - 1) / NV_AGE_CHUNK_SIZE : 1;

	return nv_age_header_size(n) + plain_size + chunks * NV_AGE_TAG;
}

int nv_age_plaintext_size(uint64_t *out, uint64_t cipher_size, size_t n)
{
	uint64_t payload, chunks, plain;

	if (cipher_size < nv_age_header_size(n) + NV_AGE_TAG)
		return nv_error_set(NV_EMISMATCH, "age: %llu bytes is too short for an age file",
				    (unsigned long long)cipher_size);
	payload = cipher_size - nv_age_header_size(n);
	chunks = (payload + NV_AGE_CHUNK_ENC - 1) / NV_AGE_CHUNK_ENC;
	plain = payload - chunks * NV_AGE_TAG;
	if (nv_age_ciphertext_size(plain, n) != cipher_size)
		return nv_error_set(NV_EMISMATCH, "age: %llu bytes is not a possible age file size",
				    (unsigned long long)cipher_size);
	*out = plain;
	return 0;
}
