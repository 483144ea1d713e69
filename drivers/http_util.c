/* http_util.c: string buffers, header lists, URL encoding, redaction, hashing and
 * time helpers for the HTTP drivers (see http.h). Only drivers/ call these. */
#include "http.h"
#include "util/b64.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ---- string buffer (util/strbuf.h): the HTTP drivers' own appends ---- */

void nv_sb_add_urlenc(nv_sb *b, const char *s, size_t n, int keep_slash)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t i;

	if (nv_sb_reserve(b, 3 * n))
		return;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		    (c == '/' && keep_slash)) {
			b->s[b->len++] = (char)c;
		} else {
			b->s[b->len++] = '%';
			b->s[b->len++] = hexd[c >> 4];
			b->s[b->len++] = hexd[c & 15];
		}
	}
	b->s[b->len] = '\0';
}

void nv_sb_free_secret(nv_sb *b)
{
	if (b->s)
		OPENSSL_cleanse(b->s, b->cap);
	nv_sb_free(b);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int nv_url_decode(char **out, const char *s, size_t n)
{
	char *d = malloc(n + 1);
	size_t i, j = 0;

	*out = NULL;
	if (!d)
		return nv_error_set(NV_ERR, "out of memory");
	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

/* ---- header lists ---- */

static int headers_push(nv_http_headers *h, char *line)
{
	if (!line)
		return nv_error_set(NV_ERR, "out of memory");
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		char **v = realloc(h->v, cap * sizeof(*v));

		if (!v) {
			free(line);
			return nv_error_set(NV_ERR, "out of memory");
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = line;
	return 0;
}

int nv_http_header_add_line(nv_http_headers *h, const char *line, size_t len)
{
	return headers_push(h, strndup(line, len));
}

int nv_http_header_add(nv_http_headers *h, const char *name, const char *fmt, ...)
{
	nv_sb b = { 0 };
	va_list ap;

	nv_sb_add(&b, name);
	nv_sb_add(&b, ": ");
	va_start(ap, fmt);
	nv_sb_vaddf(&b, fmt, ap);
	va_end(ap);
	return headers_push(h, nv_sb_take(&b));
}

const char *nv_http_header_get(const nv_http_headers *h, const char *name)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < h->n; i++) {
		const char *l = h->v[i];

		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			l += nl + 1;
			while (*l == ' ' || *l == '\t')
				l++;
			return l;
		}
	}
	return NULL;
}

void nv_http_headers_clear(nv_http_headers *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		OPENSSL_cleanse(h->v[i], strlen(h->v[i])); /* may hold Authorization */
		free(h->v[i]);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* ---- redaction ---- */

static int secret_param(const char *name, size_t n)
{
	/* Exact names, then fragments; "max-keys" or "continuation-token" carry no
	 * secret and stay readable. */
	static const char *const exact[] = { "sig", "key", "token", "X-Amz-Signature",
					     "X-Amz-Credential", "X-Amz-Security-Token", NULL };
	static const char *const parts[] = { "signature", "secret", "password", "credential",
					     "security-token", "sastoken", "accesskey", NULL };
	size_t i, j;

	for (i = 0; exact[i]; i++)
		if (strlen(exact[i]) == n && strncasecmp(name, exact[i], n) == 0)
			return 1;
	for (i = 0; parts[i]; i++) {
		size_t pl = strlen(parts[i]);

		for (j = 0; j + pl <= n; j++)
			if (strncasecmp(name + j, parts[i], pl) == 0)
				return 1;
	}
	return 0;
}

void nv_http_redact_url(char *out, size_t cap, const char *url)
{
	const char *q = strchr(url, '?');
	nv_sb b = { 0 };

	if (!cap)
		return;
	if (!q) {
		snprintf(out, cap, "%s", url);
		return;
	}
	nv_sb_addn(&b, url, (size_t)(q - url) + 1);
	for (q++; *q;) {
		size_t plen = strcspn(q, "&#");
		size_t nlen = strcspn(q, "=&#");

		if (nlen < plen && secret_param(q, nlen)) {
			nv_sb_addn(&b, q, nlen);
			nv_sb_add(&b, "=REDACTED");
		} else {
			nv_sb_addn(&b, q, plen);
		}
		q += plen;
		if (*q == '#')
			break;
		if (*q == '&') {
			nv_sb_add(&b, "&");
			q++;
		}
	}
	snprintf(out, cap, "%s", b.failed || !b.s ? "(url)" : b.s);
	nv_sb_free(&b);
}

void nv_http_redact_header(char *out, size_t cap, const char *line)
{
	static const char *const secret[] = { "authorization", "proxy-authorization",
					      "x-amz-security-token", "x-ms-copy-source-authorization",
					      "x-amz-server-side-encryption-customer-key", NULL };
	size_t n = strcspn(line, ":"), i;

	for (i = 0; secret[i]; i++) {
		if (strlen(secret[i]) == n && strncasecmp(line, secret[i], n) == 0) {
			snprintf(out, cap, "%.*s: REDACTED", (int)n, line);
			return;
		}
	}
	snprintf(out, cap, "%s", line);
}

/* ---- crypto and encodings ---- */

static void digest(const EVP_MD *md, unsigned char *out, const void *data, size_t len)
{
	unsigned int olen = 0;

	/* EVP_Digest fails only on allocation failure; the zeroed output then makes
	 * every later comparison or signature fail, which is the safe direction. */
	if (!EVP_Digest(data, len, out, &olen, md, NULL))
		memset(out, 0, (size_t)EVP_MD_get_size(md));
}

void nv_sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char d[32];

	digest(EVP_sha256(), d, data, len);
	nv_hex(out, d, 32);
}

void nv_md5(unsigned char out[16], const void *data, size_t len)
{
	digest(EVP_md5(), out, data, len);
}

int nv_hmac_sha256(unsigned char out[32], const void *key, size_t key_len, const void *msg,
		   size_t msg_len)
{
	unsigned int olen = 32;

	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &olen))
		return nv_error_set(NV_ERR, "HMAC-SHA256 failed");
	return 0;
}

void nv_md5_base64(char out[25], const void *data, size_t len)
{
	unsigned char d[16];

	nv_md5(d, data, len);
	nv_b64_pad_encode(out, d, 16);
}

/* ---- time ---- */

int nv_http_parse_time(const char *s, int64_t *sec, int32_t *nsec)
{
	struct tm tm;
	const char *end;
	int32_t ns = 0;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end) {
		if (*end == '.') {
			int digits = 0;

			for (end++; isdigit((unsigned char)*end); end++, digits++)
				if (digits < 9)
					ns = ns * 10 + (*end - '0');
			for (; digits < 9; digits++)
				ns *= 10;
		}
		if (*end != 'Z' && *end != '\0')
			end = NULL;
	} else {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	if (!end)
		return nv_error_set(NV_EINVAL, "unreadable time '%.40s'", s);
	*sec = (int64_t)timegm(&tm);
	*nsec = ns;
	return 0;
}

void nv_http_fmt_rfc1123(char out[30], time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	/* Spelled out instead of strftime so that the locale never changes it. */
	snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}
