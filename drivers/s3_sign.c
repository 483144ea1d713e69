/* s3_sign.c: AWS Signature Version 4 signer (canonical request, string to sign,
 * derived key, Authorization header). Called by the s3 driver and test_sigv4 only. */
#include "s3_sign.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct pair {
	char *name; /* encoded */
	char *value;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static char *enc(const char *s)
{
	nv_sb b = { 0 };

	nv_sb_add_urlenc(&b, s, strlen(s), 0);
	return nv_sb_take(&b);
}

int nv_sigv4_query(char **out, const char *const *pairs, size_t npairs)
{
	struct pair *p = calloc(npairs ? npairs : 1, sizeof(*p));
	nv_sb b = { 0 };
	size_t i, made = 0;
	int rc = 0;

	*out = NULL;
	if (!p)
		return nv_error_set(NV_ERR, "out of memory");
	for (; made < npairs; made++) {
		p[made].name = enc(pairs[2 * made]);
		p[made].value = enc(pairs[2 * made + 1] ? pairs[2 * made + 1] : "");
		if (!p[made].name || !p[made].value) {
			made++;
			rc = nv_error_set(NV_ERR, "out of memory");
			goto out_free;
		}
	}
	qsort(p, npairs, sizeof(*p), pair_cmp);
	for (i = 0; i < npairs; i++)
		nv_sb_addf(&b, "%s%s=%s", i ? "&" : "", p[i].name, p[i].value);
	if (!(*out = nv_sb_take(&b)))
		rc = nv_error_set(NV_ERR, "out of memory");
out_free:
	for (i = 0; i < made; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
	return rc;
}

struct hdr {
	char *name;        /* lowercased */
	const char *value; /* into the header line */
	size_t vlen;
};

static int hdr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

/* Value trimmed, inner runs of blanks folded to one space (SigV4's Trimall). */
static void add_trimmed(nv_sb *b, const char *v, size_t n)
{
	size_t i;
	int blank = 0;

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	for (i = 0; i < n && (v[i] == ' ' || v[i] == '\t'); i++)
		;
	for (; i < n; i++) {
		if (v[i] == ' ' || v[i] == '\t') {
			blank = 1;
			continue;
		}
		if (blank)
			nv_sb_addn(b, " ", 1);
		blank = 0;
		nv_sb_addn(b, v + i, 1);
	}
}

int nv_sigv4_canonical_request(char **out, char **signed_headers, const nv_sigv4 *s)
{
	size_t n = s->headers->n, i, j;
	struct hdr *h = calloc(n ? n : 1, sizeof(*h));
	nv_sb b = { 0 }, sh = { 0 };
	int rc = 0;

	*out = NULL;
	*signed_headers = NULL;
	if (!h)
		return nv_error_set(NV_ERR, "out of memory");
	for (i = 0; i < n; i++) {
		const char *line = s->headers->v[i], *colon = strchr(line, ':');
		size_t nl = colon ? (size_t)(colon - line) : strlen(line);

		h[i].name = strndup(line, nl);
		if (!h[i].name) {
			rc = nv_error_set(NV_ERR, "out of memory");
			goto out_free;
		}
		for (j = 0; j < nl; j++)
			h[i].name[j] = (char)tolower((unsigned char)h[i].name[j]);
		h[i].value = colon ? colon + 1 : "";
		h[i].vlen = strlen(h[i].value);
	}
	qsort(h, n, sizeof(*h), hdr_cmp);
	nv_sb_addf(&b, "%s\n%s\n%s\n", s->method, s->uri[0] ? s->uri : "/", s->query);
	for (i = 0; i < n; i++) {
		/* Repeated names join with ',' in one canonical line. */
		if (i && strcmp(h[i].name, h[i - 1].name) == 0) {
			nv_sb_add(&b, ",");
		} else {
			if (i)
				nv_sb_add(&b, "\n");
			nv_sb_addf(&b, "%s:", h[i].name);
			nv_sb_addf(&sh, "%s%s", sh.len ? ";" : "", h[i].name);
		}
		add_trimmed(&b, h[i].value, h[i].vlen);
	}
	nv_sb_addf(&b, "\n\n%s\n%s", sh.s ? sh.s : "", s->payload_hash);
	if ((rc = nv_sb_ok(&b)) || (rc = nv_sb_ok(&sh)))
		goto out_free;
	*out = nv_sb_take(&b);
	*signed_headers = nv_sb_take(&sh);
out_free:
	for (i = 0; i < n; i++)
		free(h[i].name);
	free(h);
	nv_sb_free(&b);
	nv_sb_free(&sh);
	return rc;
}

int nv_sigv4_string_to_sign(char **out, const nv_sigv4 *s, const char *canonical_request)
{
	char hash[65];
	nv_sb b = { 0 };

	nv_sha256_hex(hash, canonical_request, strlen(canonical_request));
	nv_sb_addf(&b, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", s->amz_date,
		   s->amz_date, s->region, s->service, hash);
	*out = nv_sb_take(&b);
	return *out ? 0 : nv_error_set(NV_ERR, "out of memory");
}

int nv_sigv4_signature(char out[65], const nv_sigv4 *s, const char *string_to_sign)
{
	unsigned char k[32], sig[32];
	nv_sb key = { 0 };
	int rc;

	nv_sb_addf(&key, "AWS4%s", s->secret_key);
	if ((rc = nv_sb_ok(&key)))
		goto out;
	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
	if ((rc = nv_hmac_sha256(k, key.s, key.len, s->amz_date, 8)) ||
	    (rc = nv_hmac_sha256(k, k, 32, s->region, strlen(s->region))) ||
	    (rc = nv_hmac_sha256(k, k, 32, s->service, strlen(s->service))) ||
	    (rc = nv_hmac_sha256(k, k, 32, "aws4_request", 12)) ||
	    (rc = nv_hmac_sha256(sig, k, 32, string_to_sign, strlen(string_to_sign))))
		goto out;
	nv_hex(out, sig, 32);
out:
	OPENSSL_cleanse(k, sizeof(k));
	nv_sb_free_secret(&key);
	return rc;
}

int nv_sigv4_authorization(char **out, const nv_sigv4 *s)
{
	char *creq = NULL, *signed_headers = NULL, *sts = NULL, sig[65];
	nv_sb b = { 0 };
	int rc;

	*out = NULL;
	if ((rc = nv_sigv4_canonical_request(&creq, &signed_headers, s)) ||
	    (rc = nv_sigv4_string_to_sign(&sts, s, creq)) ||
	    (rc = nv_sigv4_signature(sig, s, sts)))
		goto out;
	nv_sb_addf(&b, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request,SignedHeaders=%s,"
		   "Signature=%s", s->access_key, s->amz_date, s->region, s->service,
		   signed_headers, sig);
	if (!(*out = nv_sb_take(&b)))
		rc = nv_error_set(NV_ERR, "out of memory");
out:
	free(creq);
	free(signed_headers);
	free(sts);
	return rc;
}

void nv_sigv4_date(char out[17], time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm)) /* a clock past year 2^31: never print an unset tm */
		memset(&tm, 0, sizeof(tm));
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}
