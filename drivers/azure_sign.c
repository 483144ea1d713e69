/* azure_sign.c: Azure Storage Shared Key signing and the account key's decoding.
 * Called by the azure driver files only (see azure_sign.h); base64 from util/b64.h. */
#include "azure_sign.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "util/b64.h"
#include "util/error.h"
#include "http.h"

static const char *az_find_hdr(const nv_az_hdr *hdrs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(hdrs[i].name, name) == 0)
			return hdrs[i].value;
	return NULL;
}

/* Header value with linear whitespace folded to one space and trimmed. */
static void sb_hdr_value(nv_sb *sb, const char *v)
{
	int space = 0, started = 0;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			space = started;
			continue;
		}
		if (space)
			nv_sb_addn(sb, " ", 1);
		nv_sb_addn(sb, v, 1);
		space = 0;
		started = 1;
	}
}

/* Case-insensitive header-name order on the lower-cased names (byte order). */
static int az_hdr_cmp(const void *a, const void *b)
{
	const nv_az_hdr *x = *(const nv_az_hdr *const *)a;
	const nv_az_hdr *y = *(const nv_az_hdr *const *)b;

	return strcasecmp(x->name, y->name);
}

static int sb_canon_headers(nv_sb *sb, const nv_az_hdr *hdrs, size_t n)
{
	const nv_az_hdr **ms = calloc(n ? n : 1, sizeof(*ms));
	size_t m = 0;

	if (!ms)
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (strncasecmp(hdrs[i].name, "x-ms-", 5) == 0)
			ms[m++] = &hdrs[i];
	/* Sorted by name alone: sorting whole "name:value" lines would put
	 * x-ms-range-get-content-md5 before x-ms-range (':' > '-'). */
	qsort(ms, m, sizeof(*ms), az_hdr_cmp);
	for (size_t i = 0; i < m; i++) {
		for (const char *c = ms[i]->name; *c; c++) {
			char l = (char)tolower((unsigned char)*c);
			nv_sb_addn(sb, &l, 1);
		}
		nv_sb_addn(sb, ":", 1);
		sb_hdr_value(sb, ms[i]->value);
		nv_sb_addn(sb, "\n", 1);
	}
	free(ms);
	return 0;
}

/* One query parameter, name lower-cased and value decoded. */
struct az_qp {
	char *name;
	char *value;
};

static int az_qp_cmp(const void *a, const void *b)
{
	const struct az_qp *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->value, y->value);
}

static void az_qp_free(struct az_qp *qp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(qp[i].name);
		free(qp[i].value);
	}
	free(qp);
}

static int az_query_parse(struct az_qp **out, size_t *nout, const char *query)
{
	size_t n = 0, cap = 1;
	struct az_qp *qp;
	const char *p = query;

	for (const char *c = query; *c; c++)
		cap += *c == '&';
	qp = calloc(cap, sizeof(*qp));
	if (!qp)
		return nv_error_set(NV_ERR, "out of memory");
	while (*p) {
		const char *end = strchr(p, '&'), *eq;

		if (!end)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (end > p) {
			const char *ne = eq ? eq : end;
			const char *vs = eq ? eq + 1 : end;

			if (nv_url_decode(&qp[n].name, p, (size_t)(ne - p)) < 0 ||
			    nv_url_decode(&qp[n].value, vs, (size_t)(end - vs)) < 0) {
				az_qp_free(qp, n + 1);
				return NV_EINVAL;
			}
			for (char *c = qp[n].name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			n++;
		}
		p = *end ? end + 1 : end;
	}
	qsort(qp, n, sizeof(*qp), az_qp_cmp);
	*out = qp;
	*nout = n;
	return 0;
}

static int sb_canon_resource(nv_sb *sb, const char *account, const char *path,
			     const char *query)
{
	struct az_qp *qp = NULL;
	size_t n = 0;
	int rc;

	nv_sb_addn(sb, "/", 1);
	nv_sb_add(sb, account);
	nv_sb_add(sb, path && *path ? path : "/");
	if (!query || !*query)
		return 0;
	rc = az_query_parse(&qp, &n, query);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		/* Repeated names become one line, values sorted, joined by ','. */
		if (i > 0 && strcmp(qp[i].name, qp[i - 1].name) == 0) {
			nv_sb_addn(sb, ",", 1);
		} else {
			nv_sb_addn(sb, "\n", 1);
			nv_sb_add(sb, qp[i].name);
			nv_sb_addn(sb, ":", 1);
		}
		nv_sb_add(sb, qp[i].value);
	}
	az_qp_free(qp, n);
	return 0;
}

int nv_az_string_to_sign(char **out, const char *method, const nv_az_hdr *hdrs,
			 size_t nhdrs, const char *account, const char *path,
			 const char *query)
{
	static const char *const std[] = {
		"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
		"Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
		"If-Unmodified-Since", "Range",
	};
	nv_sb sb = { 0 };
	int rc;

	*out = NULL;
	nv_sb_add(&sb, method);
	nv_sb_addn(&sb, "\n", 1);
	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		const char *v = az_find_hdr(hdrs, nhdrs, std[i]);

		/* Since 2015-02-21 a zero Content-Length is signed as empty. */
		if (v && !(i == 2 && strcmp(v, "0") == 0))
			sb_hdr_value(&sb, v);
		nv_sb_addn(&sb, "\n", 1);
	}
	rc = sb_canon_headers(&sb, hdrs, nhdrs);
	if (rc == 0)
		rc = sb_canon_resource(&sb, account, path, query);
	if (rc == 0)
		rc = nv_sb_ok(&sb);
	if (rc < 0) {
		nv_sb_free(&sb);
		return rc;
	}
	*out = nv_sb_take(&sb);
	return 0;
}

int nv_az_authorization(char **out, const char *account, const unsigned char *key,
			size_t keylen, const char *sts)
{
	unsigned char mac[32];
	char b64[45];
	size_t n;

	*out = NULL;
	if (nv_hmac_sha256(mac, key, keylen, sts, strlen(sts)) < 0)
		return nv_error_set(NV_ERR, "azure: HMAC-SHA256 failed");
	nv_b64_pad_encode(b64, mac, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	n = strlen("SharedKey ") + strlen(account) + 1 + strlen(b64) + 1;
	*out = malloc(n);
	if (*out)
		snprintf(*out, n, "SharedKey %s:%s", account, b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	return *out ? 0 : nv_error_set(NV_ERR, "out of memory");
}

int nv_az_key_decode(unsigned char **out, size_t *len, const char *b64)
{
	size_t n;
	long got;

	*out = NULL;
	*len = 0;
	/* A key pasted into a file or a variable often keeps its newline. */
	while (isspace((unsigned char)*b64))
		b64++;
	n = strlen(b64);
	while (n && isspace((unsigned char)b64[n - 1]))
		n--;
	if (!(*out = malloc(n / 4 * 3 + 3)))
		return nv_error_set(NV_ERR, "out of memory");
	got = n % 4 == 0 ? nv_b64_pad_decode(*out, b64, n) : nv_b64_raw_decode(*out, b64, n);
	if (got <= 0) {
		OPENSSL_cleanse(*out, n / 4 * 3 + 3);
		free(*out);
		*out = NULL;
		return nv_error_set(NV_EINVAL, "azure: the account key is not valid base64");
	}
	*len = (size_t)got;
	return 0;
}
