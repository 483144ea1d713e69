/* age_keys.c: age X25519 keys: "age1..." recipients, "AGE-SECRET-KEY-1..."
 * identities, key files as age-keygen writes them (plain or passphrase-protected,
 * opened through age_buf.c). The module's top layer. Called through age.h. */
#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "age_crypto.h"
#include "age_int.h"
#include "bech32.h"
#include "util/config.h"
#include "util/error.h"
#include "util/times.h"

#define NV_AGE_HRP_PUBLIC "age"
#define NV_AGE_HRP_SECRET "AGE-SECRET-KEY-"

int nv_age_recipient_parse(nv_age_recipient *out, const char *text)
{
	unsigned char data[40];
	size_t n;
	size_t i;

	/* age writes recipients in lower case and refuses anything else. */
	for (i = 0; text[i]; i++)
		if (isupper((unsigned char)text[i]))
			break;
	if (text[i] || nv_bech32_decode(data, sizeof(data), &n, NV_AGE_HRP_PUBLIC, text) < 0 ||
	    n != 32)
		return nv_error_set(NV_EINVAL, "'%.80s' is not an age X25519 recipient (age1...)",
				    text);
	memcpy(out->pub, data, 32);
	return 0;
}

int nv_age_recipient_format(char *out, size_t cap, const nv_age_recipient *r)
{
	if (nv_bech32_encode(out, cap, NV_AGE_HRP_PUBLIC, r->pub, 32, 0) < 0)
		return nv_error_set(NV_EINVAL, "age: recipient buffer too small");
	return 0;
}

/* Next line of [*p, end): trimmed of blanks and '\r'; NULL at the end. */
static const char *nv_age_next_line(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *e, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	e = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*len = (size_t)(e - s);
	return s;
}

static int nv_age_read_all(char **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	if (!f)
		return nv_error_errno(errno, "cannot open recipients file %s", path);
	do {
		if (n + 4096 + 1 > cap) {
			if (cap > (1u << 24) || !(nb = realloc(buf, cap = cap * 2 + 8192))) {
				free(buf);
				fclose(f);
				return nv_error_set(NV_EINVAL, "recipients file %s too large", path);
			}
			buf = nb;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return nv_error_set(NV_EIO, "cannot read recipients file %s", path);
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int nv_age_recipients_load(nv_age_recipient **out, size_t *n, const char *path)
{
	nv_age_recipient *r = NULL, *nr;
	const char *p, *line;
	char *text = NULL, tmp[128];
	size_t total = 0, len, cnt = 0;
	unsigned lineno = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nv_age_read_all(&text, &total, path)) < 0)
		return rc;
	p = text;
	while ((line = nv_age_next_line(&p, text + total, &len)) != NULL) {
		lineno++;
		if (len == 0 || line[0] == '#')
			continue;
		if (len >= sizeof(tmp)) {
			rc = nv_error_set(NV_EINVAL, "%s line %u: not an age recipient", path, lineno);
			break;
		}
		memcpy(tmp, line, len);
		tmp[len] = '\0';
		if (!(nr = realloc(r, (cnt + 1) * sizeof(*r)))) {
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
		r = nr;
		if ((rc = nv_age_recipient_parse(&r[cnt], tmp)) < 0) {
			nv_error_wrap(rc, "%s line %u", path, lineno);
			break;
		}
		cnt++;
	}
	free(text);
	if (rc == 0 && cnt == 0)
		rc = nv_error_set(NV_EINVAL, "%s holds no age recipient", path);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*out = r;
	*n = cnt;
	return 0;
}

/* "2006-01-02T15:04:05Z07:00" as Go's time.RFC3339 writes local time. */
static void nv_age_rfc3339(char *out, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	long off;
	size_t n;

	if (!localtime_r(&now, &tm)) { /* no zone for it: UTC, never an unset tm */
		char utc[NV_TIME_LEN];

		nv_time_utc(utc, (int64_t)now);
		snprintf(out, cap, "%s", utc);
		return;
	}
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	if (off == 0)
		snprintf(out + n, cap - n, "Z");
	else
		snprintf(out + n, cap - n, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 60,
			 labs(off) % 60);
}

int nv_age_keygen(char **out_file_text, char *out_recipient, size_t cap)
{
	unsigned char sk[32];
	nv_age_recipient r;
	char secret[NV_AGE_IDENTITY_MAX], pub[NV_AGE_RECIPIENT_MAX], when[64], *text;
	size_t size = 256;
	int rc;

	*out_file_text = NULL;
	if ((rc = nv_age_random(sk, 32)) < 0 || (rc = nv_age_x25519_public(r.pub, sk)) < 0)
		goto out_wipe;
	if (nv_bech32_encode(secret, sizeof(secret), NV_AGE_HRP_SECRET, sk, 32, 1) < 0 ||
	    nv_age_recipient_format(pub, sizeof(pub), &r) < 0 || strlen(pub) >= cap) {
		rc = nv_error_set(NV_EINVAL, "age: key buffer too small");
		goto out_wipe;
	}
	if (!(text = malloc(size))) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out_wipe;
	}
	nv_age_rfc3339(when, sizeof(when));
	snprintf(text, size, "# created: %s\n# public key: %s\n%s\n", when, pub, secret);
	memcpy(out_recipient, pub, strlen(pub) + 1);
	*out_file_text = text;
out_wipe:
	OPENSSL_cleanse(sk, sizeof(sk));
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

static int nv_age_identity_add(nv_age_identity *id, const char *line, size_t len)
{
	char tmp[NV_AGE_IDENTITY_MAX];
	unsigned char data[40];
	void *sk, *pk, *xk;
	size_t n = 0;
	int bad;

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, line, len);
	tmp[len] = '\0';
	/* age-keygen writes identities in upper case; a lower-case one is refused too. */
	bad = strncmp(tmp, NV_AGE_HRP_SECRET, strlen(NV_AGE_HRP_SECRET)) != 0 ||
	      nv_bech32_decode(data, sizeof(data), &n, NV_AGE_HRP_SECRET, tmp) < 0 || n != 32;
	OPENSSL_cleanse(tmp, sizeof(tmp));
	if (bad) {
		OPENSSL_cleanse(data, sizeof(data));
		return -1;
	}
	/* Grown by hand, not realloc: the old block of secrets is wiped before free. */
	sk = malloc((id->n + 1) * 32);
	pk = sk ? realloc(id->pk, (id->n + 1) * 32) : NULL;
	if (pk)
		id->pk = pk;
	xk = pk ? realloc(id->xk, (id->n + 1) * sizeof(*id->xk)) : NULL;
	if (xk)
		id->xk = xk;
	if (!sk || !pk || !xk) {
		free(sk);
		OPENSSL_cleanse(data, sizeof(data));
		return nv_error_set(NV_ERR, "out of memory");
	}
	if (id->n)
		memcpy(sk, id->sk, id->n * 32);
	nv_age_wipe_free(id->sk, id->n * 32);
	id->sk = sk;
	memcpy(id->sk[id->n], data, 32);
	OPENSSL_cleanse(data, sizeof(data));
	id->xk[id->n] = NULL;
	id->n++;
	return nv_age_xkey_new(&id->xk[id->n - 1], id->sk[id->n - 1], id->pk[id->n - 1]);
}

int nv_age_identity_parse(nv_age_identity **out, const char *text, size_t len)
{
	nv_age_identity *id = calloc(1, sizeof(*id));
	const char *p = text, *line;
	unsigned lineno = 0;
	size_t n;
	int rc = 0;

	*out = NULL;
	if (!id)
		return nv_error_set(NV_ERR, "out of memory");
	while ((line = nv_age_next_line(&p, text + len, &n)) != NULL) {
		lineno++;
		if (n == 0 || line[0] == '#')
			continue;
		/* Never quote the line: it may be a mistyped secret key. */
		if ((rc = nv_age_identity_add(id, line, n)) == -1)
			rc = nv_error_set(NV_EINVAL, "identity line %u is not an AGE-SECRET-KEY-1... key",
					  lineno);
		if (rc < 0)
			break;
	}
	if (rc == 0 && id->n == 0)
		rc = nv_error_set(NV_EINVAL, "no AGE-SECRET-KEY-1... identity found");
	if (rc < 0) {
		nv_age_identity_free(id);
		return rc;
	}
	*out = id;
	return 0;
}

/* A binary age file starts with its version line; an armored one may follow blanks. */
static int nv_age_is_encrypted(const void *data, size_t len)
{
	static const char armor[] = "-----BEGIN AGE ENCRYPTED FILE-----";
	const char *s = data;

	if (len >= strlen(NV_AGE_VERSION_PREFIX) &&
	    memcmp(s, NV_AGE_VERSION_PREFIX, strlen(NV_AGE_VERSION_PREFIX)) == 0)
		return 1;
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	return len >= strlen(armor) && memcmp(s, armor, strlen(armor)) == 0;
}

int nv_age_identity_from_bytes(nv_age_identity **out, const void *data, size_t len,
			       const char *passphrase)
{
	unsigned char *plain;
	size_t plen;
	int rc;

	*out = NULL;
	if (!nv_age_is_encrypted(data, len))
		return nv_age_identity_parse(out, data, len);
	if (!passphrase)
		return nv_error_set(NV_EAUTH, "identity is passphrase-protected; a passphrase is needed");
	if ((rc = nv_age_decrypt_passphrase_buf(&plain, &plen, data, len, passphrase,
						 NV_AGE_SCRYPT_MAX_LOGN)) < 0)
		return rc;
	rc = nv_age_identity_parse(out, (const char *)plain, plen);
	nv_age_wipe_free(plain, plen);
	return rc;
}

int nv_age_identity_load(nv_age_identity **out, const char *path, const char *passphrase)
{
	char *data;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = nv_read_private_file(path, &data, &len)) < 0)
		return rc;
	if ((rc = nv_age_identity_from_bytes(out, data, len, passphrase)) < 0)
		nv_error_wrap(rc, "identity file %s", path);
	nv_age_wipe_free(data, len);
	return rc;
}

int nv_age_identity_recipient(const nv_age_identity *id, nv_age_recipient *out)
{
	if (!id || id->n == 0)
		return nv_error_set(NV_EINVAL, "age: empty identity");
	memcpy(out->pub, id->pk[0], 32);
	return 0;
}

size_t nv_age_identity_count(const nv_age_identity *id)
{
	return id ? id->n : 0;
}

void nv_age_identity_free(nv_age_identity *id)
{
	if (!id)
		return;
	for (size_t i = 0; i < id->n; i++)
		nv_age_xkey_free(id->xk[i]);
	free(id->xk);
	nv_age_wipe_free(id->sk, id->n * 32);
	free(id->pk);
	free(id);
}
