/* sshbuf.c: bounds-checked SSH wire buffers and base64 (see sshbuf.h).
 * Callers: sshkey.c and sshsig.c only. */
#include "sshbuf.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"
#include "util/error.h"

void nv_sshbuf_init(nv_sshbuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void nv_sshbuf_free(nv_sshbuf *b)
{
	if (b->data) {
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	nv_sshbuf_init(b);
}

/* Grows by copying rather than realloc so the old block can be wiped. */
static int sshbuf_reserve(nv_sshbuf *b, size_t n)
{
	size_t ncap;
	unsigned char *nd;

	if (n > NV_SSHBUF_MAX || b->len > NV_SSHBUF_MAX - n)
		return nv_error_set(NV_EINVAL, "SSH data larger than %zu bytes", (size_t)NV_SSHBUF_MAX);
	if (b->len + n <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + n)
		ncap *= 2;
	nd = malloc(ncap);
	if (!nd)
		return nv_error_set(NV_ERR, "out of memory");
	if (b->data) {
		memcpy(nd, b->data, b->len);
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	b->data = nd;
	b->cap = ncap;
	return 0;
}

int nv_sshbuf_put(nv_sshbuf *b, const void *p, size_t n)
{
	int rc = sshbuf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int nv_sshbuf_put_u32(nv_sshbuf *b, uint32_t v)
{
	unsigned char be[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
				(unsigned char)(v >> 8), (unsigned char)v };

	return nv_sshbuf_put(b, be, 4);
}

int nv_sshbuf_put_string(nv_sshbuf *b, const void *p, size_t n)
{
	int rc;

	if (n > NV_SSHBUF_MAX)
		return nv_error_set(NV_EINVAL, "SSH string too long");
	if ((rc = nv_sshbuf_put_u32(b, (uint32_t)n)) || (rc = nv_sshbuf_put(b, p, n)))
		return rc;
	return 0;
}

int nv_sshbuf_put_cstring(nv_sshbuf *b, const char *s)
{
	return nv_sshbuf_put_string(b, s, strlen(s));
}

void nv_sshrd_init(nv_sshrd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

size_t nv_sshrd_left(const nv_sshrd *r)
{
	return r->len - r->off;
}

int nv_sshrd_bytes(nv_sshrd *r, const unsigned char **out, size_t n)
{
	if (n > nv_sshrd_left(r))
		return nv_error_set(NV_EINVAL, "truncated SSH data");
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

int nv_sshrd_u32(nv_sshrd *r, uint32_t *out)
{
	const unsigned char *q = NULL;
	int rc = nv_sshrd_bytes(r, &q, 4);

	if (rc)
		return rc;
	*out = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	return 0;
}

int nv_sshrd_string(nv_sshrd *r, const unsigned char **out, size_t *n)
{
	size_t save = r->off;
	uint32_t len;
	int rc;

	if ((rc = nv_sshrd_u32(r, &len)))
		return rc;
	if ((rc = nv_sshrd_bytes(r, out, len))) {
		r->off = save;
		return rc;
	}
	*n = len;
	return 0;
}

int nv_sshrd_expect_cstring(nv_sshrd *r, const char *s)
{
	const unsigned char *p;
	size_t n;
	int rc;

	if ((rc = nv_sshrd_string(r, &p, &n)))
		return rc;
	if (n != strlen(s) || memcmp(p, s, n) != 0)
		return nv_error_set(NV_EMISMATCH, "expected \"%s\" in SSH data", s);
	return 0;
}

/* The base64 itself is src/b64.c's (strict and canonical); these wrappers add
 * allocation and the whitespace of armor lines. */
int nv_base64_encode(char **out, const void *p, size_t n)
{
	char *s;

	if (n > NV_SSHBUF_MAX)
		return nv_error_set(NV_EINVAL, "data too large to encode");
	if (!(s = malloc(nv_b64_pad_len(n) + 1)))
		return nv_error_set(NV_ERR, "out of memory");
	nv_b64_pad_encode(s, p, n);
	*out = s;
	return 0;
}

static int b64_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int nv_base64_decode(unsigned char **out, size_t *out_len, const char *s, size_t n)
{
	char *packed;
	unsigned char *d;
	size_t i, k = 0, cap = n / 4 * 3 + 3;
	long got;

	if (n > NV_SSHBUF_MAX)
		return nv_error_set(NV_EINVAL, "base64 data too large");
	packed = malloc(n + 1);
	d = malloc(cap);
	if (!packed || !d) {
		free(packed);
		free(d);
		return nv_error_set(NV_ERR, "out of memory");
	}
	for (i = 0; i < n; i++)
		if (!b64_space((unsigned char)s[i]))
			packed[k++] = s[i];
	/* Padding is optional (a bare key blob may come without it). */
	got = k % 4 == 0 ? nv_b64_pad_decode(d, packed, k) : nv_b64_raw_decode(d, packed, k);
	OPENSSL_cleanse(packed, n + 1);
	free(packed);
	if (got < 0) {
		OPENSSL_cleanse(d, cap);
		free(d);
		return nv_error_set(NV_EINVAL, "invalid base64");
	}
	*out = d;
	*out_len = (size_t)got;
	return 0;
}

void nv_sshbuf_printable(char *out, size_t cap, const unsigned char *s, size_t n)
{
	size_t i;

	if (!cap)
		return;
	for (i = 0; i < n && i + 1 < cap; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	out[i] = '\0';
}

int nv_ssh_armor(char **out, const unsigned char *data, size_t len, const char *begin,
		 const char *end, size_t width)
{
	char *b64, *text, *o;
	size_t n, i, need;
	int rc;

	if ((rc = nv_base64_encode(&b64, data, len)))
		return rc;
	n = strlen(b64);
	need = strlen(begin) + 1 + n + n / width + 1 + strlen(end) + 2;
	if (!(text = malloc(need))) {
		OPENSSL_cleanse(b64, n);
		free(b64);
		return nv_error_set(NV_ERR, "out of memory");
	}
	o = text + snprintf(text, need, "%s\n", begin);
	for (i = 0; i < n; i += width) {
		size_t w = n - i < width ? n - i : width;

		memcpy(o, b64 + i, w);
		o += w;
		*o++ = '\n';
	}
	snprintf(o, need - (size_t)(o - text), "%s\n", end);
	OPENSSL_cleanse(b64, n);
	free(b64);
	*out = text;
	return 0;
}

int nv_ssh_dearmor(unsigned char **out, size_t *out_len, const char *text, size_t len,
		   const char *begin, const char *end)
{
	const char *p = text, *stop = text + len, *b64, *q;
	size_t bl = strlen(begin), el = strlen(end);

	while (p < stop && b64_space((unsigned char)*p))
		p++;
	if ((size_t)(stop - p) < bl || memcmp(p, begin, bl) != 0)
		return nv_error_set(NV_EINVAL, "missing \"%s\" line", begin);
	b64 = p + bl;
	if (b64 == stop || (*b64 != '\n' && *b64 != '\r'))
		return nv_error_set(NV_EINVAL, "missing line break after \"%s\"", begin);
	/* base64 never holds '-', so the first one starts the end line. */
	q = memchr(b64, '-', (size_t)(stop - b64));
	if (!q || (size_t)(stop - q) < el || memcmp(q, end, el) != 0)
		return nv_error_set(NV_EINVAL, "missing \"%s\" line", end);
	for (p = q + el; p < stop; p++)
		if (!b64_space((unsigned char)*p))
			return nv_error_set(NV_EINVAL, "data after \"%s\"", end);
	if (nv_base64_decode(out, out_len, b64, (size_t)(q - b64)))
		return nv_error_set(NV_EINVAL, "armored data is not valid base64");
	return 0;
}
