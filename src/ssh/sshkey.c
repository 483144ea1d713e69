/* sshkey.c: OpenSSH Ed25519 keys on OpenSSL 3: openssh-key-v1 private files,
 * .pub lines, fingerprints, raw sign/verify. Everyone may call (see sshkey.h). */
#include "sshkey.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/config.h"
#include "util/error.h"
#include "sshbuf.h"
#include "sshkey_crypt.h"

#define ED25519_KEY_TYPE "ssh-ed25519"
#define ED25519_LEN 32
#define KEYV1_MAGIC "openssh-key-v1" /* followed by a NUL on the wire */
#define KEYV1_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define KEYV1_END "-----END OPENSSH PRIVATE KEY-----"
#define KEYV1_BLOCK 8   /* cipher "none" pads the private section to 8 bytes */
#define KEY_WRAP 70     /* ssh-keygen's base64 line width */
#define KEY_FILE_MAX (64 * 1024) /* an Ed25519 key file is ~400 bytes */

struct nv_sshkey {
	int has_private;
	unsigned char pk[ED25519_LEN];
	unsigned char seed[ED25519_LEN]; /* private: the RFC 8032 secret */
};

static nv_sshkey *sshkey_new(void)
{
	nv_sshkey *k = calloc(1, sizeof(*k));

	if (!k)
		nv_error_set(NV_ERR, "out of memory");
	return k;
}

void nv_sshkey_free(nv_sshkey *k)
{
	if (!k)
		return;
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

int nv_sshkey_has_private(const nv_sshkey *k)
{
	return k && k->has_private;
}

void nv_sshkey_public_raw(unsigned char out[32], const nv_sshkey *k)
{
	memcpy(out, k->pk, ED25519_LEN);
}

int nv_sshkey_public_equal(const nv_sshkey *a, const nv_sshkey *b)
{
	return a && b && memcmp(a->pk, b->pk, ED25519_LEN) == 0;
}

/* The public half follows from the seed; computing it lets a loaded key's
 * stored public half be checked rather than trusted. */
static int ed25519_public_from_seed(unsigned char pk[ED25519_LEN],
				    const unsigned char seed[ED25519_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, ED25519_LEN);
	size_t n = ED25519_LEN;
	int ok;

	if (!pkey)
		return nv_error_set(NV_ERR, "OpenSSL cannot make an Ed25519 key");
	ok = EVP_PKEY_get_raw_public_key(pkey, pk, &n) == 1 && n == ED25519_LEN;
	EVP_PKEY_free(pkey);
	return ok ? 0 : nv_error_set(NV_ERR, "OpenSSL cannot derive an Ed25519 public key");
}

int nv_sshkey_generate(nv_sshkey **out)
{
	nv_sshkey *k = sshkey_new();
	int rc;

	*out = NULL;
	if (!k)
		return NV_ERR;
	if (RAND_priv_bytes(k->seed, ED25519_LEN) != 1) {
		nv_sshkey_free(k);
		return nv_error_set(NV_ERR, "no random bytes for a new key");
	}
	if ((rc = ed25519_public_from_seed(k->pk, k->seed))) {
		nv_sshkey_free(k);
		return rc;
	}
	k->has_private = 1;
	*out = k;
	return 0;
}

int nv_sshkey_sign_raw(unsigned char sig[64], const nv_sshkey *k, const void *msg, size_t len)
{
	EVP_PKEY *pkey;
	EVP_MD_CTX *ctx;
	size_t n = 64;
	int ok;

	if (!nv_sshkey_has_private(k))
		return nv_error_set(NV_EINVAL, "this key has no private part: cannot sign");
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->seed, ED25519_LEN);
	ctx = EVP_MD_CTX_new();
	ok = pkey && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &n, msg, len) == 1 && n == 64;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok ? 0 : nv_error_set(NV_ERR, "Ed25519 signing failed in OpenSSL");
}

int nv_sshkey_verify_raw(const nv_sshkey *k, const unsigned char sig[64], const void *msg,
			 size_t len)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->pk, ED25519_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok, setup;

	setup = pkey && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1;
	ok = setup && EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	if (!setup)
		return nv_error_set(NV_ERR, "OpenSSL cannot check an Ed25519 signature");
	return ok ? 0 : nv_error_set(NV_EMISMATCH, "bad Ed25519 signature");
}

/* ---- public key blobs, lines and fingerprints ---- */

int nv_sshkey_public_blob(unsigned char **out, size_t *out_len, const nv_sshkey *k)
{
	nv_sshbuf b;
	int rc;

	nv_sshbuf_init(&b);
	if ((rc = nv_sshbuf_put_cstring(&b, ED25519_KEY_TYPE)) ||
	    (rc = nv_sshbuf_put_string(&b, k->pk, ED25519_LEN))) {
		nv_sshbuf_free(&b);
		return rc;
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}

/* Reads a key type name; anything but ssh-ed25519 is named in the refusal. */
static int sshkey_read_type(nv_sshrd *r)
{
	const unsigned char *t;
	size_t n;
	char shown[48];
	int rc;

	if ((rc = nv_sshrd_string(r, &t, &n)))
		return nv_error_set(NV_EINVAL, "truncated key data");
	if (n == strlen(ED25519_KEY_TYPE) && memcmp(t, ED25519_KEY_TYPE, n) == 0)
		return 0;
	nv_sshbuf_printable(shown, sizeof(shown), t, n);
	return nv_error_set(NV_ENOTSUP, "only ssh-ed25519 keys are supported, not \"%s\"", shown);
}

/* Reads string "ssh-ed25519", string key[32] into pk. */
static int sshkey_read_public(nv_sshrd *r, unsigned char pk[ED25519_LEN])
{
	const unsigned char *p;
	size_t n;
	int rc;

	if ((rc = sshkey_read_type(r)))
		return rc;
	if (nv_sshrd_string(r, &p, &n) || n != ED25519_LEN)
		return nv_error_set(NV_EINVAL, "malformed ssh-ed25519 public key");
	memcpy(pk, p, ED25519_LEN);
	return 0;
}

int nv_sshkey_from_blob(nv_sshkey **out, const void *blob, size_t len)
{
	nv_sshrd r;
	nv_sshkey *k;
	int rc;

	*out = NULL;
	nv_sshrd_init(&r, blob, len);
	if (!(k = sshkey_new()))
		return NV_ERR;
	if ((rc = sshkey_read_public(&r, k->pk)) == 0 && nv_sshrd_left(&r))
		rc = nv_error_set(NV_EINVAL, "trailing bytes after an ssh-ed25519 public key");
	if (rc) {
		nv_sshkey_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int nv_sshkey_parse_public(nv_sshkey **out, const char *line)
{
	const char *p = line, *w1, *w2 = NULL;
	size_t n1, n2 = 0;
	unsigned char *blob = NULL;
	size_t blen;
	char shown[48];
	int rc;

	*out = NULL;
	while (is_space(*p))
		p++;
	w1 = p;
	while (*p && !is_space(*p))
		p++;
	n1 = (size_t)(p - w1);
	while (is_space(*p))
		p++;
	if (*p) {
		w2 = p;
		while (*p && !is_space(*p))
			p++;
		n2 = (size_t)(p - w2);
	}
	if (n1 == 0)
		return nv_error_set(NV_EINVAL, "empty public key line");
	if (!w2 || (n1 >= 4 && memcmp(w1, "AAAA", 4) == 0)) {
		/* A bare blob, maybe with a comment: a blob opens with a string
		 * length below 2^24, so its base64 starts "AAAA", which no key
		 * type name does. */
		w2 = w1;
		n2 = n1;
	} else if (n1 != strlen(ED25519_KEY_TYPE) || memcmp(w1, ED25519_KEY_TYPE, n1) != 0) {
		nv_sshbuf_printable(shown, sizeof(shown), (const unsigned char *)w1, n1);
		return nv_error_set(NV_ENOTSUP, "only ssh-ed25519 keys are supported, not \"%s\"",
				    shown);
	}
	if (nv_base64_decode(&blob, &blen, w2, n2))
		return nv_error_set(NV_EINVAL, "public key is not valid base64");
	rc = nv_sshkey_from_blob(out, blob, blen);
	free(blob);
	return rc;
}

/* A comment ends up on a line of a .pub file: a line break would split it. */
static int sshkey_check_comment(const char *comment)
{
	if (comment && strpbrk(comment, "\r\n"))
		return nv_error_set(NV_EINVAL, "a key comment cannot hold a line break");
	if (comment && strlen(comment) > 1024)
		return nv_error_set(NV_EINVAL, "a key comment is limited to 1024 bytes");
	return 0;
}

int nv_sshkey_format_public(char **out_line, const nv_sshkey *k, const char *comment)
{
	unsigned char *blob;
	size_t blen, need;
	char *b64, *line;
	int rc;

	*out_line = NULL;
	if ((rc = sshkey_check_comment(comment)))
		return rc;
	if ((rc = nv_sshkey_public_blob(&blob, &blen, k)))
		return rc;
	rc = nv_base64_encode(&b64, blob, blen);
	free(blob);
	if (rc)
		return rc;
	need = strlen(ED25519_KEY_TYPE) + 1 + strlen(b64) + 1 + (comment ? strlen(comment) : 0) + 1;
	if (!(line = malloc(need))) {
		free(b64);
		return nv_error_set(NV_ERR, "out of memory");
	}
	snprintf(line, need, "%s %s%s%s", ED25519_KEY_TYPE, b64,
		 comment && *comment ? " " : "", comment ? comment : "");
	free(b64);
	*out_line = line;
	return 0;
}

int nv_sshkey_fingerprint(char *out, size_t cap, const nv_sshkey *k)
{
	unsigned char *blob, md[32];
	size_t blen, n;
	char *b64;
	int rc;

	if ((rc = nv_sshkey_public_blob(&blob, &blen, k)))
		return rc;
	rc = EVP_Digest(blob, blen, md, NULL, EVP_sha256(), NULL) == 1 ? 0 : NV_ERR;
	free(blob);
	if (rc)
		return nv_error_set(NV_ERR, "SHA-256 failed in OpenSSL");
	if ((rc = nv_base64_encode(&b64, md, sizeof(md))))
		return rc;
	n = strlen(b64);
	while (n && b64[n - 1] == '=') /* ssh-keygen prints it unpadded */
		b64[--n] = '\0';
	if (cap < sizeof("SHA256:") + n) {
		free(b64);
		return nv_error_set(NV_EINVAL, "fingerprint buffer too small");
	}
	snprintf(out, cap, "SHA256:%s", b64);
	free(b64);
	return 0;
}

/* ---- files ---- */

/* Reads a whole small public file (private ones go through
 * nv_read_private_file, which also checks the mode). */
static int sshkey_read_public_file(char **out, size_t *len, const char *path)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nv_error_errno(errno, "cannot open %s", path);
	if (fstat(fd, &st) != 0) {
		rc = nv_error_errno(errno, "cannot stat %s", path);
	} else if (!S_ISREG(st.st_mode)) {
		rc = nv_error_set(NV_EINVAL, "%s is not a regular file", path);
	} else if (st.st_size > KEY_FILE_MAX) {
		rc = nv_error_set(NV_EINVAL, "%s is too large for a key file", path);
	}
	if (rc) {
		close(fd);
		return rc;
	}
	if (!(buf = malloc(KEY_FILE_MAX + 1))) {
		close(fd);
		return nv_error_set(NV_ERR, "out of memory");
	}
	for (;;) {
		ssize_t r = read(fd, buf + got, KEY_FILE_MAX + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = nv_error_errno(errno, "cannot read %s", path);
			break;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > KEY_FILE_MAX) {
			rc = nv_error_set(NV_EINVAL, "%s is too large for a key file", path);
			break;
		}
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int nv_sshkey_load_public(nv_sshkey **out, const char *path)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = sshkey_read_public_file(&text, &len, path)))
		return rc;
	if (strlen(text) != len) {
		free(text);
		return nv_error_set(NV_EINVAL, "%s: not a public key file (NUL byte)", path);
	}
	rc = nv_error_set(NV_EINVAL, "%s: no public key in the file", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *p = line;

		while (is_space(*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		rc = nv_sshkey_parse_public(out, p);
		if (rc)
			nv_error_wrap(rc, "%s", path);
		break;
	}
	free(text);
	return rc;
}

/* ---- openssh-key-v1 private keys ---- */

/* Names the common wrong files before decoding the armor; *blob is secret. */
static int keyv1_dearmor(unsigned char **blob, size_t *blen, const char *text, size_t len,
			 const char *name)
{
	const char *p = text, *end = text + len;
	size_t bl = strlen(KEYV1_BEGIN);

	while (p < end && is_space(*p))
		p++;
	if ((size_t)(end - p) < bl || memcmp(p, KEYV1_BEGIN, bl) != 0) {
		if ((size_t)(end - p) > 11 && memcmp(p, "-----BEGIN ", 11) == 0)
			return nv_error_set(NV_ENOTSUP, "%s: not an OpenSSH private key (an older PEM "
					    "format); only ssh-ed25519 keys as `ssh-keygen -t "
					    "ed25519` writes them are supported", name);
		if ((size_t)(end - p) > 4 && memcmp(p, "ssh-", 4) == 0)
			return nv_error_set(NV_EINVAL, "%s is a public key, not a private key", name);
		return nv_error_set(NV_EINVAL, "%s: not an OpenSSH private key file", name);
	}
	if (nv_ssh_dearmor(blob, blen, text, len, KEYV1_BEGIN, KEYV1_END))
		return nv_error_wrap(NV_EINVAL, "%s: damaged private key", name);
	return 0;
}

/* The private section: check integers, key, comment, 1,2,3... padding to the
 * cipher's block. Once decrypted, check integers that differ are what a wrong
 * passphrase gives (the cipher has no tag to say so). */
static int keyv1_read_private(nv_sshkey *k, const unsigned char *p, size_t n, size_t block,
			      int encrypted, const char *name)
{
	const unsigned char *pk, *sk, *comment, *pad;
	size_t pkl, skl, cl, i, left;
	uint32_t c1, c2;
	unsigned char derived[ED25519_LEN];
	nv_sshrd r;
	int rc;

	nv_sshrd_init(&r, p, n);
	if (n % block)
		return nv_error_set(NV_EINVAL, "%s: private section is not padded", name);
	if (nv_sshrd_u32(&r, &c1) || nv_sshrd_u32(&r, &c2))
		return nv_error_set(NV_EINVAL, "%s: private section is truncated", name);
	if (c1 != c2 && encrypted)
		return nv_error_set(NV_EAUTH, "%s: wrong passphrase", name);
	if (c1 != c2)
		return nv_error_set(NV_EINVAL, "%s: private key check integers differ (damaged "
				    "file)", name);
	if ((rc = sshkey_read_type(&r)))
		return nv_error_wrap(rc, "%s", name);
	if (nv_sshrd_string(&r, &pk, &pkl) || nv_sshrd_string(&r, &sk, &skl) ||
	    nv_sshrd_string(&r, &comment, &cl))
		return nv_error_set(NV_EINVAL, "%s: private section is truncated", name);
	if (pkl != ED25519_LEN || skl != 2 * ED25519_LEN)
		return nv_error_set(NV_EINVAL, "%s: malformed ssh-ed25519 private key", name);
	left = nv_sshrd_left(&r);
	if (left >= block || nv_sshrd_bytes(&r, &pad, left))
		return nv_error_set(NV_EINVAL, "%s: bad private section padding", name);
	for (i = 0; i < left; i++)
		if (pad[i] != (unsigned char)(i + 1))
			return nv_error_set(NV_EINVAL, "%s: bad private section padding", name);
	/* OpenSSH stores seed || public; all three copies of the public half
	 * must agree with the one the seed gives. */
	if ((rc = ed25519_public_from_seed(derived, sk)))
		return rc;
	if (memcmp(pk, k->pk, ED25519_LEN) || memcmp(sk + ED25519_LEN, k->pk, ED25519_LEN) ||
	    memcmp(derived, k->pk, ED25519_LEN))
		return nv_error_set(NV_EINVAL, "%s: private and public halves of the key disagree",
				    name);
	memcpy(k->seed, sk, ED25519_LEN);
	k->has_private = 1;
	return 0;
}

/* Decrypts a copy of the private section (secret, wiped) and reads it. */
static int keyv1_decrypt_private(nv_sshkey *k, const unsigned char *priv, size_t privn,
				 const unsigned char *tag, const unsigned char *hdr[3],
				 const size_t hdrn[3], size_t block, const char *pass,
				 const char *name)
{
	unsigned char *plain = malloc(privn ? privn : 1);
	int rc;

	if (!plain)
		return nv_error_set(NV_ERR, "out of memory");
	memcpy(plain, priv, privn);
	rc = nv_keyv1_decrypt(plain, privn, tag, hdr[0], hdrn[0], hdr[1], hdrn[1], hdr[2],
			      hdrn[2], pass, name);
	if (!rc)
		rc = keyv1_read_private(k, plain, privn, block, 1, name);
	OPENSSL_cleanse(plain, privn);
	free(plain);
	return rc;
}

/* hdr: cipher, kdf, kdf options. Sets *block and *authlen for the cipher;
 * an encrypted key without a passphrase is NV_EAUTH. */
static int keyv1_check_cipher(const unsigned char *hdr[3], const size_t hdrn[3], size_t *block,
			      size_t *authlen, const char *pass, const char *name)
{
	int rc;

	*block = KEYV1_BLOCK;
	*authlen = 0;
	if (hdrn[0] == 4 && memcmp(hdr[0], "none", 4) == 0) {
		if (hdrn[1] != 4 || memcmp(hdr[1], "none", 4) != 0 || hdrn[2] != 0)
			return nv_error_set(NV_EINVAL, "%s: unencrypted key with a KDF set", name);
		return 0;
	}
	if ((rc = nv_keyv1_cipher(hdr[0], hdrn[0], block, authlen, name)))
		return rc;
	if (!pass)
		return nv_error_set(NV_EAUTH, "%s is passphrase-protected: a passphrase is needed",
				    name);
	return 0;
}

static int keyv1_parse(nv_sshkey *k, const unsigned char *blob, size_t blen, const char *name,
		       const char *pass)
{
	const unsigned char *magic, *hdr[3], *pub, *priv, *tag;
	size_t hdrn[3], pubn, privn, block, authlen;
	uint32_t nkeys;
	nv_sshrd r, rp;
	int rc;

	nv_sshrd_init(&r, blob, blen);
	if (nv_sshrd_bytes(&r, &magic, sizeof(KEYV1_MAGIC)) ||
	    memcmp(magic, KEYV1_MAGIC, sizeof(KEYV1_MAGIC)) != 0)
		return nv_error_set(NV_EINVAL, "%s: not an openssh-key-v1 private key", name);
	if (nv_sshrd_string(&r, &hdr[0], &hdrn[0]) || nv_sshrd_string(&r, &hdr[1], &hdrn[1]) ||
	    nv_sshrd_string(&r, &hdr[2], &hdrn[2]) || nv_sshrd_u32(&r, &nkeys))
		return nv_error_set(NV_EINVAL, "%s: private key header is truncated", name);
	if ((rc = keyv1_check_cipher(hdr, hdrn, &block, &authlen, pass, name)))
		return rc;
	if (nkeys != 1)
		return nv_error_set(NV_ENOTSUP, "%s holds %u keys; exactly one is supported", name,
				    (unsigned)nkeys);
	if (nv_sshrd_string(&r, &pub, &pubn) || nv_sshrd_string(&r, &priv, &privn) ||
	    nv_sshrd_bytes(&r, &tag, authlen)) /* an AEAD cipher's tag follows */
		return nv_error_set(NV_EINVAL, "%s: private key is truncated", name);
	if (nv_sshrd_left(&r))
		return nv_error_set(NV_EINVAL, "%s: data after the private key", name);
	nv_sshrd_init(&rp, pub, pubn);
	if ((rc = sshkey_read_public(&rp, k->pk)))
		return nv_error_wrap(rc, "%s", name);
	if (nv_sshrd_left(&rp))
		return nv_error_set(NV_EINVAL, "%s: malformed public key", name);
	if (hdrn[0] == 4 && memcmp(hdr[0], "none", 4) == 0)
		return keyv1_read_private(k, priv, privn, block, 0, name);
	return keyv1_decrypt_private(k, priv, privn, tag, hdr, hdrn, block, pass, name);
}

int nv_sshkey_parse_private(nv_sshkey **out, const char *text, size_t len, const char *name)
{
	return nv_sshkey_parse_private_pass(out, text, len, name, NULL);
}

int nv_sshkey_parse_private_pass(nv_sshkey **out, const char *text, size_t len,
				 const char *name, const char *pass)
{
	unsigned char *blob;
	size_t blen;
	nv_sshkey *k;
	int rc;

	*out = NULL;
	if ((rc = keyv1_dearmor(&blob, &blen, text, len, name)))
		return rc;
	if (!(k = sshkey_new())) {
		rc = NV_ERR;
	} else if ((rc = keyv1_parse(k, blob, blen, name, pass))) {
		nv_sshkey_free(k);
	} else {
		*out = k;
	}
	OPENSSL_cleanse(blob, blen);
	free(blob);
	return rc;
}

int nv_sshkey_load_private(nv_sshkey **out, const char *path)
{
	return nv_sshkey_load_private_pass(out, path, NULL);
}

int nv_sshkey_load_private_pass(nv_sshkey **out, const char *path, const char *pass)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = nv_read_private_file(path, &text, &len)))
		return rc;
	rc = nv_sshkey_parse_private_pass(out, text, len, path, pass);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

static int keyv1_build(nv_sshbuf *b, const nv_sshkey *k, const char *comment)
{
	nv_sshbuf priv;
	unsigned char *pub = NULL;
	size_t publen;
	uint32_t check;
	uint8_t pad;
	int rc;

	nv_sshbuf_init(&priv);
	if (RAND_bytes((unsigned char *)&check, sizeof(check)) != 1)
		return nv_error_set(NV_ERR, "no random bytes");
	if ((rc = nv_sshkey_public_blob(&pub, &publen, k)) ||
	    (rc = nv_sshbuf_put_u32(&priv, check)) || (rc = nv_sshbuf_put_u32(&priv, check)) ||
	    (rc = nv_sshbuf_put_cstring(&priv, ED25519_KEY_TYPE)) ||
	    (rc = nv_sshbuf_put_string(&priv, k->pk, ED25519_LEN)) ||
	    (rc = nv_sshbuf_put_u32(&priv, 2 * ED25519_LEN)) ||
	    (rc = nv_sshbuf_put(&priv, k->seed, ED25519_LEN)) ||
	    (rc = nv_sshbuf_put(&priv, k->pk, ED25519_LEN)) ||
	    (rc = nv_sshbuf_put_cstring(&priv, comment ? comment : "")))
		goto out;
	for (pad = 1; priv.len % KEYV1_BLOCK; pad++)
		if ((rc = nv_sshbuf_put(&priv, &pad, 1)))
			goto out;
	if ((rc = nv_sshbuf_put(b, KEYV1_MAGIC, sizeof(KEYV1_MAGIC))) ||
	    (rc = nv_sshbuf_put_cstring(b, "none")) || (rc = nv_sshbuf_put_cstring(b, "none")) ||
	    (rc = nv_sshbuf_put_string(b, NULL, 0)) || (rc = nv_sshbuf_put_u32(b, 1)) ||
	    (rc = nv_sshbuf_put_string(b, pub, publen)) ||
	    (rc = nv_sshbuf_put_string(b, priv.data, priv.len)))
		goto out;
out:
	free(pub);
	nv_sshbuf_free(&priv);
	return rc;
}

int nv_sshkey_format_private(char **out_text, const nv_sshkey *k, const char *comment)
{
	nv_sshbuf b;
	int rc;

	*out_text = NULL;
	if (!nv_sshkey_has_private(k))
		return nv_error_set(NV_EINVAL, "this key has no private part to write");
	if ((rc = sshkey_check_comment(comment)))
		return rc;
	nv_sshbuf_init(&b);
	if ((rc = keyv1_build(&b, k, comment)) == 0)
		rc = nv_ssh_armor(out_text, b.data, b.len, KEYV1_BEGIN, KEYV1_END, KEY_WRAP);
	nv_sshbuf_free(&b);
	return rc;
}
