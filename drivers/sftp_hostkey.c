/* sftp_hostkey.c: known_hosts as OpenSSH reads it (hashed names, [host]:port,
 * * and ? patterns, negation, @revoked), the host-key check and accept-new.
 * Called by sftp_connect.c (the libssh2 transport) only. */
#include "sftp_l2_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

struct nv_sftp_key {
	unsigned char *blob;
	size_t len;
	int revoked;
};

struct nv_sftp_known {
	char name[300]; /* "host" or "[host]:port", lower case */
	struct nv_sftp_key *keys;
	size_t n;
	char prefs[256];
};

static pthread_mutex_t sftp_known_lock = PTHREAD_MUTEX_INITIALIZER;

static int sftp_b64_decode(unsigned char **out, size_t *len, const char *s, size_t n)
{
	int got;

	*out = NULL;
	if (n == 0 || n % 4 || n > 16384)
		return -1;
	*out = malloc(n / 4 * 3 + 1);
	if (!*out)
		return -1;
	got = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)n);
	if (got < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = (size_t)got - (s[n - 1] == '=') - (s[n - 2] == '=');
	return 0;
}

/* OpenSSH patterns: '*' and '?' only ('[' is literal, as in "[host]:port"). */
static int sftp_glob(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			for (;; s++) {
				if (sftp_glob(p + 1, s))
					return 1;
				if (!*s)
					return 0;
			}
		}
		if (!*s || (*p != '?' && tolower((unsigned char)*p) != *s))
			return 0;
	}
	return !*s;
}

/* "|1|base64(salt)|base64(HMAC-SHA1(salt, name))" */
static int sftp_hashed_match(const char *field, size_t n, const char *name)
{
	const char *bar = memchr(field + 3, '|', n - 3);
	unsigned char *salt = NULL, *want = NULL, mac[EVP_MAX_MD_SIZE];
	size_t slen, wlen;
	unsigned mlen = 0;
	int ok = 0;

	if (!bar || sftp_b64_decode(&salt, &slen, field + 3, (size_t)(bar - field - 3)) ||
	    sftp_b64_decode(&want, &wlen, bar + 1, n - (size_t)(bar + 1 - field)))
		goto out;
	if (HMAC(EVP_sha1(), salt, (int)slen, (const unsigned char *)name, strlen(name), mac,
		 &mlen) && mlen == wlen && memcmp(mac, want, wlen) == 0)
		ok = 1;
out:
	free(salt);
	free(want);
	return ok;
}

static int sftp_hosts_match(char *field, const char *name)
{
	char *save = NULL, *pat;
	int hit = 0;

	if (strncmp(field, "|1|", 3) == 0)
		return sftp_hashed_match(field, strlen(field), name);
	for (pat = strtok_r(field, ",", &save); pat; pat = strtok_r(NULL, ",", &save)) {
		if (*pat == '!') {
			if (sftp_glob(pat + 1, name))
				return 0; /* a negated match excludes the line */
		} else if (sftp_glob(pat, name)) {
			hit = 1;
		}
	}
	return hit;
}

static void sftp_prefs_add(struct nv_sftp_known *k, const char *type)
{
	const char *add = strcmp(type, "ssh-rsa") == 0 ? "rsa-sha2-512,rsa-sha2-256,ssh-rsa"
						       : type;
	size_t have = strlen(k->prefs);

	if (strstr(k->prefs, type) || have + strlen(add) + 2 > sizeof(k->prefs))
		return;
	snprintf(k->prefs + have, sizeof(k->prefs) - have, "%s%s", have ? "," : "", add);
}

/* One known_hosts line: [marker] hosts keytype base64 [comment] */
static int sftp_known_line(struct nv_sftp_known *k, char *line)
{
	char *save = NULL, *tok[4];
	struct nv_sftp_key *keys;
	int revoked = 0, i;

	for (i = 0; i < 4; i++)
		tok[i] = strtok_r(i ? NULL : line, " \t\r\n", &save);
	if (!tok[0] || *tok[0] == '#')
		return 0;
	if (*tok[0] == '@') {
		if (strcmp(tok[0], "@revoked") != 0)
			return 0; /* @cert-authority: host certificates are not used */
		revoked = 1;
		memmove(tok, tok + 1, 3 * sizeof(tok[0]));
	}
	if (!tok[0] || !tok[1] || !tok[2] || !sftp_hosts_match(tok[0], k->name))
		return 0;
	keys = realloc(k->keys, (k->n + 1) * sizeof(*keys));
	if (!keys)
		return -1;
	k->keys = keys;
	if (sftp_b64_decode(&keys[k->n].blob, &keys[k->n].len, tok[2], strlen(tok[2])))
		return 0; /* a damaged line is skipped, as ssh does */
	keys[k->n++].revoked = revoked;
	if (!revoked)
		sftp_prefs_add(k, tok[1]);
	return 0;
}

int nv_sftp_known_load(struct nv_sftp_known **out, const struct nv_conn *c)
{
	struct nv_sftp_known *k = calloc(1, sizeof(*k));
	char *line = NULL, *p;
	size_t cap = 0;
	FILE *f;
	int rc = 0;

	*out = NULL;
	if (!k)
		return nv_error_set(NV_ERR, "out of memory");
	if (c->port == 22)
		snprintf(k->name, sizeof(k->name), "%s", c->host);
	else
		snprintf(k->name, sizeof(k->name), "[%s]:%u", c->host, c->port);
	for (p = k->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	f = fopen(c->known_hosts, "re");
	if (!f && errno != ENOENT) {
		free(k);
		return nv_error_errno(errno, "sftp: known_hosts %s", c->known_hosts);
	}
	while (f && !rc && getline(&line, &cap, f) >= 0)
		rc = sftp_known_line(k, line);
	free(line);
	if (f)
		fclose(f);
	if (rc) {
		nv_sftp_known_free(k);
		return nv_error_set(NV_ERR, "out of memory");
	}
	*out = k;
	return 0;
}

void nv_sftp_known_free(struct nv_sftp_known *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++)
		free(k->keys[i].blob);
	free(k->keys);
	free(k);
}

const char *nv_sftp_known_prefs(const struct nv_sftp_known *k)
{
	return k->prefs;
}

/* "SHA256:<unpadded base64>", as ssh-keygen -l prints it. */
static void sftp_fingerprint(char out[64], const unsigned char *blob, size_t len)
{
	unsigned char md[32];
	unsigned mdlen = 0;
	char *eq;

	memcpy(out, "SHA256:", 7);
	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)out + 7, md, (int)mdlen);
	eq = strchr(out, '=');
	if (eq)
		*eq = '\0';
}

/* The key's type is the blob's first SSH string. */
static void sftp_key_type(char out[64], const unsigned char *blob, size_t len)
{
	uint32_t n = len >= 4 ? (uint32_t)blob[0] << 24 | blob[1] << 16 | blob[2] << 8 | blob[3]
			      : 0;

	if (n == 0 || n > 63 || n > len - 4)
		n = 0;
	memcpy(out, blob + 4, n);
	out[n] = '\0';
}

static int sftp_known_find(const struct nv_sftp_known *k, const unsigned char *blob,
			   size_t len, int *known)
{
	size_t i;
	int found = 0;

	*known = 0;
	for (i = 0; i < k->n; i++) {
		int same = k->keys[i].len == len && memcmp(k->keys[i].blob, blob, len) == 0;

		if (same && k->keys[i].revoked)
			return -1;
		found |= same;
		*known |= !k->keys[i].revoked;
	}
	return found;
}

/* Appends "name type base64"; the file gets a final newline first if it lacks one. */
static int sftp_known_append(const struct nv_conn *c, const char *name, const char *type,
			     const unsigned char *blob, size_t len)
{
	char *b64 = malloc(len / 3 * 4 + 8), *dir = strdup(c->known_hosts), *slash;
	char last = '\n';
	int fd, rc = 0;
	struct stat st;
	FILE *f;

	if (!b64 || !dir) {
		free(b64);
		free(dir);
		return nv_error_set(NV_ERR, "out of memory");
	}
	EVP_EncodeBlock((unsigned char *)b64, blob, (int)len);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700); /* ~/.ssh may not exist yet */
	}
	free(dir);
	fd = open(c->known_hosts, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "a+") : NULL;
	if (!f) {
		rc = nv_error_errno(errno, "sftp: cannot add the host key to %s", c->known_hosts);
		if (fd >= 0)
			close(fd);
		free(b64);
		return rc;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	fprintf(f, "%s%s %s %s\n", last == '\n' ? "" : "\n", name, type, b64);
	if (fclose(f) != 0)
		rc = nv_error_errno(errno, "sftp: writing %s", c->known_hosts);
	free(b64);
	return rc;
}

/* accept-new: under a lock, with a fresh read, so parallel connections to a
 * new host record its key once. */
static int sftp_accept_new(const struct nv_conn *c, const char *type,
			   const unsigned char *blob, size_t len)
{
	struct nv_sftp_known *again;
	int rc, known, found;

	pthread_mutex_lock(&sftp_known_lock);
	rc = nv_sftp_known_load(&again, c);
	if (!rc) {
		found = sftp_known_find(again, blob, len, &known);
		if (found < 0 || (!found && known))
			rc = nv_error_set(NV_EAUTH, "sftp %s: the host key changed while "
					  "connecting", c->where);
		else if (!found)
			rc = sftp_known_append(c, again->name, type, blob, len);
		nv_sftp_known_free(again);
	}
	pthread_mutex_unlock(&sftp_known_lock);
	return rc;
}

int nv_sftp_known_check(const struct nv_sftp_known *k, const struct nv_conn *c,
			const unsigned char *blob, size_t len)
{
	char fp[64], type[64];
	int known, found = sftp_known_find(k, blob, len, &known);

	if (found > 0)
		return 0;
	sftp_fingerprint(fp, blob, len);
	sftp_key_type(type, blob, len);
	if (found < 0)
		return nv_error_set(NV_EAUTH, "sftp %s: the host key %s %s is marked @revoked in "
				    "%s", c->where, type, fp, c->known_hosts);
	if (known)
		return nv_error_set(NV_EAUTH, "sftp %s: HOST KEY CHANGED: the server offers %s %s, "
				    "which %s does not list for %s; refusing (someone may be "
				    "intercepting the connection; if the change is expected, "
				    "remove the old entry)", c->where, type, fp, c->known_hosts,
				    k->name);
	if (!c->accept_new)
		return nv_error_set(NV_EAUTH, "sftp %s: unknown host key %s %s for %s (not in %s); "
				    "check the fingerprint, then add it to known_hosts or set "
				    "host_key_checking = accept-new", c->where, type, fp, k->name,
				    c->known_hosts);
	return sftp_accept_new(c, type, blob, len);
}
