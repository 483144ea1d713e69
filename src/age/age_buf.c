/* age_buf.c: whole-buffer encryption and decryption over the streaming API
 * (also with a passphrase, as `age -p`), and the ASCII armor (`age -a`) on input.
 * Calls the streams and the layers below them. Called through age.h by everyone. */
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "age_crypto.h"
#include "age_int.h"
#include "age_stanza.h"
#include "age_stream.h"
#include "util/b64.h"
#include "util/error.h"

#define NV_AGE_ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define NV_AGE_ARMOR_END "-----END AGE ENCRYPTED FILE-----"

/* Runs e over the whole of in; *out malloc'd. */
static int nv_age_enc_run(unsigned char **out, size_t *outlen, nv_age_enc *e, const void *in,
			  size_t inlen)
{
	size_t cap = nv_age_enc_bound(e, inlen) + NV_AGE_CHUNK_ENC, n1 = 0, n2 = 0;
	unsigned char *buf = malloc(cap);
	int rc;

	if (!buf)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_age_enc_update(e, in, inlen, buf, &n1)) < 0 ||
	    (rc = nv_age_enc_final(e, buf + n1, &n2)) < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = n1 + n2;
	return 0;
}

static int nv_age_dec_run(unsigned char **out, size_t *outlen, nv_age_dec *d, const void *in,
			  size_t inlen)
{
	size_t cap = nv_age_dec_bound(inlen) + NV_AGE_CHUNK_SIZE, n1 = 0, n2 = 0;
	unsigned char *buf = malloc(cap);
	int rc;

	if (!buf)
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = nv_age_dec_update(d, in, inlen, buf, &n1)) < 0 ||
	    (rc = nv_age_dec_final(d, buf + n1, &n2)) < 0) {
		nv_age_wipe_free(buf, cap);
		return rc;
	}
	*out = buf;
	*outlen = n1 + n2;
	return 0;
}

/* Next line of [*p, end) without its "\n" or "\r\n"; NULL at the end. */
static const char *nv_age_armor_line(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	*len = (size_t)((nl ? nl : end) - s);
	*p = nl ? nl + 1 : end;
	if (*len && s[*len - 1] == '\r')
		--*len;
	return s;
}

/* 1 when in is not armored; 0 with the binary file in *out; <0 on a bad armor. */
static int nv_age_dearmor(unsigned char **out, size_t *outlen, const void *in, size_t inlen)
{
	const char *p = in, *end = p + inlen, *line;
	size_t len, n = 0, last = 64;
	char *b64;
	long got;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if ((size_t)(end - p) < strlen(NV_AGE_ARMOR_BEGIN) ||
	    memcmp(p, NV_AGE_ARMOR_BEGIN, strlen(NV_AGE_ARMOR_BEGIN)) != 0)
		return 1;
	if (!(line = nv_age_armor_line(&p, end, &len)) || len != strlen(NV_AGE_ARMOR_BEGIN))
		return nv_error_set(NV_EMISMATCH, "age armor: bad BEGIN line");
	if (!(b64 = malloc(inlen + 1)))
		return nv_error_set(NV_ERR, "out of memory");
	while ((line = nv_age_armor_line(&p, end, &len)) != NULL) {
		if (len == strlen(NV_AGE_ARMOR_END) && memcmp(line, NV_AGE_ARMOR_END, len) == 0)
			break;
		/* Only the last line may be shorter than 64 columns. */
		if (len > 64 || last != 64 || len == 0)
			break;
		memcpy(b64 + n, line, len);
		n += len;
		last = len;
	}
	while (line && p < end && isspace((unsigned char)*p))
		p++;
	if (!line || len != strlen(NV_AGE_ARMOR_END) || p != end) {
		free(b64);
		return nv_error_set(NV_EMISMATCH, "age armor: bad line or data after the END line");
	}
	if (!(*out = malloc(n / 4 * 3 + 3))) {
		free(b64);
		return nv_error_set(NV_ERR, "out of memory");
	}
	got = nv_b64_pad_decode(*out, b64, n);
	free(b64);
	if (got < 0) {
		free(*out);
		*out = NULL;
		return nv_error_set(NV_EMISMATCH, "age armor: not canonical base64");
	}
	*outlen = (size_t)got;
	return 0;
}

/* Runs dec over in, first removing an armor if there is one; frees dec. */
static int nv_age_decrypt_any(unsigned char **out, size_t *outlen, nv_age_dec *d,
			      const void *in, size_t inlen)
{
	unsigned char *bin = NULL;
	size_t binlen = 0;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = nv_age_dearmor(&bin, &binlen, in, inlen)) < 0) {
		nv_age_dec_free(d);
		return rc;
	}
	if (rc == 0)
		rc = nv_age_dec_run(out, outlen, d, bin, binlen);
	else
		rc = nv_age_dec_run(out, outlen, d, in, inlen);
	free(bin);
	nv_age_dec_free(d);
	return rc;
}

int nv_age_encrypt_buf(unsigned char **out, size_t *outlen, const void *in, size_t inlen,
		       const nv_age_recipient *r, size_t n)
{
	nv_age_enc *e;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = nv_age_enc_new(&e, r, n)) < 0)
		return rc;
	rc = nv_age_enc_run(out, outlen, e, in, inlen);
	nv_age_enc_free(e);
	return rc;
}

int nv_age_encrypt_passphrase_buf(unsigned char **out, size_t *outlen, const void *in,
				  size_t inlen, const char *passphrase, int log2n)
{
	unsigned char file_key[NV_AGE_FILE_KEY];
	char stanza[NV_AGE_SCRYPT_STANZA_MAX];
	size_t len = 0;
	nv_age_enc *e = NULL;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (log2n < 10 || log2n > NV_AGE_SCRYPT_MAX_LOGN)
		return nv_error_set(NV_EINVAL, "age: scrypt work factor %d outside 10..%d", log2n,
				    NV_AGE_SCRYPT_MAX_LOGN);
	if ((rc = nv_age_random(file_key, sizeof(file_key))) == 0 &&
	    (rc = nv_age_scrypt_wrap(stanza, &len, file_key, passphrase, log2n)) == 0 &&
	    (rc = nv_age_enc_new_raw(&e, file_key, stanza, len)) == 0)
		rc = nv_age_enc_run(out, outlen, e, in, inlen);
	OPENSSL_cleanse(file_key, sizeof(file_key));
	nv_age_enc_free(e);
	return rc;
}

int nv_age_decrypt_buf(unsigned char **out, size_t *outlen, const void *in, size_t inlen,
		       const nv_age_identity *id)
{
	nv_age_dec *d;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = nv_age_dec_new(&d, id)) < 0)
		return rc;
	return nv_age_decrypt_any(out, outlen, d, in, inlen);
}

int nv_age_decrypt_passphrase_buf(unsigned char **out, size_t *outlen, const void *in,
				  size_t inlen, const char *passphrase, int max_log2n)
{
	nv_age_dec *d;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = nv_age_dec_new_passphrase(&d, passphrase, max_log2n)) < 0)
		return rc;
	return nv_age_decrypt_any(out, outlen, d, in, inlen);
}
