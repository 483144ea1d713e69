/* age_header.c: the age v1 text header: finding its end in a stream, strict
 * parsing, writing stanzas, the header MAC and the payload key. Calls only
 * age_crypto.c. Called by src/age/ only (age_header.h). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "age_crypto.h"
#include "age_header.h"
#include "age_int.h"
#include "util/b64.h"
#include "util/error.h"

#define NV_AGE_ERR(...) nv_error_set(NV_EMISMATCH, "age header: " __VA_ARGS__)

/* Checks the version line once it is complete; 1 when more bytes are needed. */
static int nv_age_check_intro(const unsigned char *buf, size_t len)
{
	size_t plen = strlen(NV_AGE_VERSION_PREFIX), i, n = len < plen ? len : plen;
	const unsigned char *nl;

	if (memcmp(buf, NV_AGE_VERSION_PREFIX, n) != 0)
		return nv_error_set(NV_EMISMATCH, "not an age file (no age-encryption.org header)");
	nl = memchr(buf, '\n', len < 128 ? len : 128);
	if (!nl)
		return len < 128 ? 1 : nv_error_set(NV_EMISMATCH, "not an age file (no version line)");
	if ((size_t)(nl - buf) + 1 == NV_AGE_INTRO_LEN && memcmp(buf, NV_AGE_INTRO, NV_AGE_INTRO_LEN) == 0)
		return 0;
	for (i = plen; buf + i < nl; i++)
		if (buf[i] < 0x21 || buf[i] > 0x7e)
			return nv_error_set(NV_EMISMATCH, "not an age file (bad version line)");
	return nv_error_set(NV_EMISMATCH, "unsupported age version '%.*s' (only v1 is known)",
			    (int)(nl - buf - plen), (const char *)buf + plen);
}

long nv_age_header_end(const unsigned char *buf, size_t len, size_t *scanned)
{
	size_t i;
	int rc;

	if ((rc = nv_age_check_intro(buf, len)) != 0)
		return rc > 0 ? 0 : rc;
	/* Body lines are base64 and stanza lines start "->", so the first line that
	 * starts with "---" is the MAC line. */
	for (i = *scanned > NV_AGE_INTRO_LEN - 1 ? *scanned : NV_AGE_INTRO_LEN - 1; i + 4 <= len; i++) {
		const unsigned char *nl;

		if (buf[i] != '\n' || memcmp(buf + i + 1, "---", 3) != 0)
			continue;
		nl = memchr(buf + i + 4, '\n', len - i - 4);
		if (nl)
			return (long)(nl - buf) + 1;
		break;
	}
	*scanned = i;
	if (len > NV_AGE_HEADER_MAX)
		return NV_AGE_ERR("longer than %u bytes", NV_AGE_HEADER_MAX);
	return 0;
}

static int nv_age_vchar_arg(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int nv_age_parse_args(struct nv_age_stanza *s, const char *line, size_t n, unsigned lineno)
{
	size_t i, start = 0;

	for (i = 0; i <= n; i++) {
		char **a;

		if (i < n && line[i] != ' ')
			continue;
		if (!nv_age_vchar_arg(line + start, i - start))
			return NV_AGE_ERR("line %u: empty or non-printable stanza argument", lineno);
		if (!(a = realloc(s->args, (s->nargs + 1) * sizeof(*a))))
			return nv_error_set(NV_ERR, "out of memory");
		s->args = a;
		if (!(a[s->nargs] = strndup(line + start, i - start)))
			return nv_error_set(NV_ERR, "out of memory");
		s->nargs++;
		start = i + 1;
	}
	s->type = s->args[0];
	return 0;
}

/* Reads body lines from *pos: full 64-column lines, then one shorter line. */
static int nv_age_parse_body(struct nv_age_stanza *s, const unsigned char *buf, size_t len,
			     size_t *pos, unsigned *lineno)
{
	for (;;) {
		const unsigned char *nl = memchr(buf + *pos, '\n', len - *pos);
		size_t n = nl ? (size_t)(nl - buf) - *pos : 0;
		unsigned char *b;
		long got;

		++*lineno;
		if (!nl)
			return NV_AGE_ERR("line %u: stanza body missing", *lineno);
		if (n > NV_AGE_STANZA_COLS)
			return NV_AGE_ERR("line %u: stanza body line longer than 64 columns", *lineno);
		if (!(b = realloc(s->body, s->bodylen + 48 + 1)))
			return nv_error_set(NV_ERR, "out of memory");
		s->body = b;
		got = nv_b64_raw_decode(s->body + s->bodylen, (const char *)buf + *pos, n);
		if (got < 0)
			return NV_AGE_ERR("line %u: stanza body is not canonical unpadded base64", *lineno);
		s->bodylen += (size_t)got;
		*pos += n + 1;
		if (n < NV_AGE_STANZA_COLS)
			return 0;
	}
}

static int nv_age_parse_mac(struct nv_age_header *h, const unsigned char *buf, size_t pos,
			    size_t n, unsigned lineno)
{
	unsigned char mac[33];

	if (n != 4 + 43 || buf[pos + 3] != ' ' ||
	    nv_b64_raw_decode(mac, (const char *)buf + pos + 4, 43) != 32)
		return NV_AGE_ERR("line %u: malformed MAC line (not '--- ' and 43 canonical base64 chars)",
				  lineno);
	memcpy(h->mac, mac, 32);
	h->mac_off = pos + 3;
	return 0;
}

int nv_age_header_parse(struct nv_age_header *h, const unsigned char *buf, size_t len)
{
	size_t pos = NV_AGE_INTRO_LEN;
	unsigned lineno = 1;
	int rc;

	memset(h, 0, sizeof(*h));
	while (pos < len) {
		const unsigned char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - buf) - pos : len - pos;
		struct nv_age_stanza *st;

		lineno++;
		if (n >= 3 && memcmp(buf + pos, "---", 3) == 0) {
			if (!nl || pos + n + 1 != len)
				return NV_AGE_ERR("line %u: data after the MAC line", lineno);
			if (h->n == 0)
				return NV_AGE_ERR("no recipient stanza");
			return nv_age_parse_mac(h, buf, pos, n, lineno);
		}
		if (!nl || n < 4 || memcmp(buf + pos, "-> ", 3) != 0)
			return NV_AGE_ERR("line %u: expected a '-> ' stanza or the '---' MAC line", lineno);
		if (!(st = realloc(h->st, (h->n + 1) * sizeof(*st))))
			return nv_error_set(NV_ERR, "out of memory");
		h->st = st;
		memset(&h->st[h->n], 0, sizeof(*st));
		h->n++;
		if ((rc = nv_age_parse_args(&h->st[h->n - 1], (const char *)buf + pos + 3, n - 3,
					    lineno)) < 0)
			return rc;
		pos += n + 1;
		if ((rc = nv_age_parse_body(&h->st[h->n - 1], buf, len, &pos, &lineno)) < 0)
			return rc;
	}
	return NV_AGE_ERR("missing MAC line");
}

void nv_age_header_clear(struct nv_age_header *h)
{
	size_t i, j;

	for (i = 0; i < h->n; i++) {
		for (j = 0; j < h->st[i].nargs; j++)
			free(h->st[i].args[j]);
		free(h->st[i].args);
		/* A body holds a wrapped file key: not secret, but wipe all the same. */
		nv_age_wipe_free(h->st[i].body, h->st[i].bodylen);
	}
	free(h->st);
	memset(h, 0, sizeof(*h));
}

size_t nv_age_stanza_write(char *out, const char *const *args, size_t nargs,
			   const unsigned char *body, size_t bodylen)
{
	size_t len = 2, i, left = bodylen;

	for (i = 0; i < nargs; i++) {
		if (out) {
			out[len] = ' ';
			memcpy(out + len + 1, args[i], strlen(args[i]));
		}
		len += 1 + strlen(args[i]);
	}
	if (out) {
		memcpy(out, "->", 2);
		out[len] = '\n';
	}
	len++;
	/* 48 bytes make one full 64-column line; the last line is always shorter. */
	for (;;) {
		size_t take = left < 48 ? left : 48, enc = nv_b64_raw_len(take);

		if (out) {
			char tmp[65];

			nv_b64_raw_encode(tmp, body + bodylen - left, take);
			memcpy(out + len, tmp, enc);
			out[len + enc] = '\n';
		}
		len += enc + 1;
		left -= take;
		if (take < 48)
			return len;
	}
}

static int nv_age_mac_compute(unsigned char mac[32], const unsigned char *buf, size_t len,
			      const unsigned char file_key[16])
{
	unsigned char key[32];
	int rc;

	if ((rc = nv_age_hkdf(key, 32, file_key, NV_AGE_FILE_KEY, NULL, 0, "header")) == 0)
		rc = nv_age_hmac(mac, key, 32, buf, len);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int nv_age_header_seal(unsigned char *hdr, size_t *len, const unsigned char file_key[16])
{
	unsigned char mac[32];
	char enc[44];
	int rc;

	memcpy(hdr + *len, "---", 3);
	if ((rc = nv_age_mac_compute(mac, hdr, *len + 3, file_key)) < 0)
		return rc;
	nv_b64_raw_encode(enc, mac, 32);
	hdr[*len + 3] = ' ';
	memcpy(hdr + *len + 4, enc, 43);
	hdr[*len + 47] = '\n';
	*len += NV_AGE_MAC_LINE_LEN;
	return 0;
}

int nv_age_header_verify(const struct nv_age_header *h, const unsigned char *buf,
			 const unsigned char file_key[16])
{
	unsigned char mac[32];
	int rc;

	if ((rc = nv_age_mac_compute(mac, buf, h->mac_off, file_key)) < 0)
		return rc;
	if (CRYPTO_memcmp(mac, h->mac, 32) != 0)
		return NV_AGE_ERR("MAC mismatch (header was modified)");
	return 0;
}

int nv_age_payload_key(unsigned char key[32], const unsigned char file_key[16],
		       const unsigned char nonce[16])
{
	return nv_age_hkdf(key, 32, file_key, NV_AGE_FILE_KEY, nonce, NV_AGE_NONCE, "payload");
}

void nv_age_stream_nonce(unsigned char nonce[12], unsigned long long counter, int last)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 10; i >= 3; i--, counter >>= 8)
		nonce[i] = (unsigned char)(counter & 0xff);
	nonce[11] = last ? 1 : 0;
}
