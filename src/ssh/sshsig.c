/* sshsig.c: SSHSIG signatures (OpenSSH PROTOCOL.sshsig) over Ed25519 keys.
 * Everyone may call (see sshsig.h). */
#include "sshsig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "sshbuf.h"

#define SSHSIG_MAGIC "SSHSIG" /* 6 bytes, no NUL on the wire */
#define SSHSIG_MAGIC_LEN 6
#define SSHSIG_VERSION 1
#define SSHSIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SSHSIG_END "-----END SSH SIGNATURE-----"
#define SSHSIG_WRAP 70
#define SSHSIG_ARMOR_MAX (64 * 1024) /* an Ed25519 signature is ~300 bytes */
#define SSHSIG_NS_MAX 256
#define SSHSIG_SIGN_HASH "sha512" /* what ssh-keygen uses by default */
#define ED25519_SIG_LEN 64

struct nv_sshsig_ctx {
	EVP_MD_CTX *md;
	const char *alg;               /* "sha256" or "sha512", static */
	/* verification only: */
	nv_sshkey *signer;             /* public copy of the expected key */
	char ns[SSHSIG_NS_MAX + 1];
	unsigned char sig[ED25519_SIG_LEN];
};

static int sshsig_check_ns(const char *ns)
{
	if (!ns || !*ns || strlen(ns) > SSHSIG_NS_MAX)
		return nv_error_set(NV_EINVAL, "a signature namespace must be 1 to %d bytes",
				    SSHSIG_NS_MAX);
	return 0;
}

void nv_sshsig_ctx_free(nv_sshsig_ctx *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->md);
	nv_sshkey_free(c->signer);
	free(c);
}

/* alg must be a static "sha256" or "sha512". */
static int sshsig_ctx_new(nv_sshsig_ctx **out, const char *alg)
{
	nv_sshsig_ctx *c = calloc(1, sizeof(*c));
	const EVP_MD *type = strcmp(alg, "sha512") == 0 ? EVP_sha512() : EVP_sha256();

	*out = NULL;
	if (!c)
		return nv_error_set(NV_ERR, "out of memory");
	c->alg = alg;
	if (!(c->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(c->md, type, NULL) != 1) {
		nv_sshsig_ctx_free(c);
		return nv_error_set(NV_ERR, "OpenSSL cannot start a hash");
	}
	*out = c;
	return 0;
}

int nv_sshsig_update(nv_sshsig_ctx *c, const void *p, size_t len)
{
	if (EVP_DigestUpdate(c->md, p, len) != 1)
		return nv_error_set(NV_ERR, "hashing failed in OpenSSL");
	return 0;
}

/* The bytes the key actually signs: magic, namespace, reserved (always
 * empty), hash name, H(message). Finishes c's hash. */
static int sshsig_signed_data(nv_sshbuf *b, nv_sshsig_ctx *c, const char *ns)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc;

	if (EVP_DigestFinal_ex(c->md, md, &mdlen) != 1)
		return nv_error_set(NV_ERR, "hashing failed in OpenSSL");
	if ((rc = nv_sshbuf_put(b, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) ||
	    (rc = nv_sshbuf_put_cstring(b, ns)) || (rc = nv_sshbuf_put_string(b, NULL, 0)) ||
	    (rc = nv_sshbuf_put_cstring(b, c->alg)) || (rc = nv_sshbuf_put_string(b, md, mdlen)))
		return rc;
	return 0;
}

int nv_sshsig_sign_begin(nv_sshsig_ctx **out)
{
	return sshsig_ctx_new(out, SSHSIG_SIGN_HASH);
}

int nv_sshsig_sign_end(char **out_armored, nv_sshsig_ctx *c, const nv_sshkey *k, const char *ns)
{
	nv_sshbuf tosign, sigblob, blob;
	unsigned char sig[ED25519_SIG_LEN], *pub = NULL;
	size_t publen;
	int rc;

	*out_armored = NULL;
	if ((rc = sshsig_check_ns(ns))) {
		nv_sshsig_ctx_free(c);
		return rc;
	}
	nv_sshbuf_init(&tosign);
	nv_sshbuf_init(&sigblob);
	nv_sshbuf_init(&blob);
	if ((rc = sshsig_signed_data(&tosign, c, ns)) ||
	    (rc = nv_sshkey_sign_raw(sig, k, tosign.data, tosign.len)) ||
	    (rc = nv_sshkey_public_blob(&pub, &publen, k)) ||
	    (rc = nv_sshbuf_put_cstring(&sigblob, "ssh-ed25519")) ||
	    (rc = nv_sshbuf_put_string(&sigblob, sig, sizeof(sig))) ||
	    (rc = nv_sshbuf_put(&blob, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) ||
	    (rc = nv_sshbuf_put_u32(&blob, SSHSIG_VERSION)) ||
	    (rc = nv_sshbuf_put_string(&blob, pub, publen)) ||
	    (rc = nv_sshbuf_put_cstring(&blob, ns)) || (rc = nv_sshbuf_put_string(&blob, NULL, 0)) ||
	    (rc = nv_sshbuf_put_cstring(&blob, c->alg)) ||
	    (rc = nv_sshbuf_put_string(&blob, sigblob.data, sigblob.len)))
		goto out;
	rc = nv_ssh_armor(out_armored, blob.data, blob.len, SSHSIG_BEGIN, SSHSIG_END, SSHSIG_WRAP);
out:
	free(pub);
	nv_sshbuf_free(&tosign);
	nv_sshbuf_free(&sigblob);
	nv_sshbuf_free(&blob);
	nv_sshsig_ctx_free(c);
	return rc;
}

int nv_sshsig_sign(char **out_armored, const nv_sshkey *k, const char *ns, const void *msg,
		   size_t len)
{
	nv_sshsig_ctx *c;
	int rc;

	*out_armored = NULL;
	if ((rc = nv_sshsig_sign_begin(&c)))
		return rc;
	if ((rc = nv_sshsig_update(c, msg, len))) {
		nv_sshsig_ctx_free(c);
		return rc;
	}
	return nv_sshsig_sign_end(out_armored, c, k, ns);
}

/* A parsed signature blob; pointers into the decoded bytes. */
struct sshsig_parts {
	const unsigned char *pub, *ns, *reserved, *alg, *sigblob;
	size_t publen, nslen, reslen, alglen, sigbloblen;
};

static int sshsig_parse(struct sshsig_parts *s, const unsigned char *blob, size_t len)
{
	const unsigned char *magic;
	uint32_t version;
	nv_sshrd r;

	nv_sshrd_init(&r, blob, len);
	if (nv_sshrd_bytes(&r, &magic, SSHSIG_MAGIC_LEN) ||
	    memcmp(magic, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) != 0)
		return nv_error_set(NV_EMISMATCH, "not an SSHSIG signature");
	if (nv_sshrd_u32(&r, &version) || version != SSHSIG_VERSION)
		return nv_error_set(NV_EMISMATCH, "unsupported SSHSIG version");
	if (nv_sshrd_string(&r, &s->pub, &s->publen) || nv_sshrd_string(&r, &s->ns, &s->nslen) ||
	    nv_sshrd_string(&r, &s->reserved, &s->reslen) ||
	    nv_sshrd_string(&r, &s->alg, &s->alglen) ||
	    nv_sshrd_string(&r, &s->sigblob, &s->sigbloblen))
		return nv_error_set(NV_EMISMATCH, "truncated SSHSIG signature");
	if (nv_sshrd_left(&r))
		return nv_error_set(NV_EMISMATCH, "trailing bytes after the SSHSIG signature");
	/* Nobody writes the reserved field, and it is not covered by the
	 * signature, so a non-empty one can only be tampering. */
	if (s->reslen)
		return nv_error_set(NV_EMISMATCH, "SSHSIG reserved field is not empty");
	return 0;
}

/* Checks the signer's key first so that "wrong key" is told apart from
 * "bad signature"; fingerprints are public, so they may be shown. */
static int sshsig_check_key(const struct sshsig_parts *s, const nv_sshkey *signer)
{
	unsigned char *want;
	size_t wantlen;
	nv_sshkey *got = NULL;
	char fp_got[NV_SSHKEY_FP_MAX], fp_want[NV_SSHKEY_FP_MAX];
	int rc, same;

	if ((rc = nv_sshkey_public_blob(&want, &wantlen, signer)))
		return rc;
	same = wantlen == s->publen && memcmp(want, s->pub, wantlen) == 0;
	free(want);
	if (same)
		return 0;
	if ((rc = nv_sshkey_fingerprint(fp_want, sizeof(fp_want), signer)))
		return rc;
	if (nv_sshkey_from_blob(&got, s->pub, s->publen) == 0 &&
	    nv_sshkey_fingerprint(fp_got, sizeof(fp_got), got) == 0) {
		nv_sshkey_free(got);
		return nv_error_set(NV_EMISMATCH, "signature was made by another key (%s), not "
				    "by %s", fp_got, fp_want);
	}
	nv_sshkey_free(got);
	return nv_error_set(NV_EMISMATCH, "signature was made by another kind of key, not by "
			    "the ssh-ed25519 key %s", fp_want);
}

/* Maps the signature's hash name to a static string, refusing others. */
static const char *sshsig_known_hash(const unsigned char *alg, size_t n)
{
	if (n == 6 && memcmp(alg, "sha512", 6) == 0)
		return "sha512";
	if (n == 6 && memcmp(alg, "sha256", 6) == 0)
		return "sha256";
	return NULL;
}

/* Every check that needs no message, in the order a reader wants to hear
 * about failures: damage, key, namespace, hash, signature encoding. */
static int sshsig_prepare(nv_sshsig_ctx **out, const unsigned char *blob, size_t blen,
			  const nv_sshkey *signer, const char *ns)
{
	struct sshsig_parts s;
	const unsigned char *sig;
	size_t siglen;
	unsigned char *pub = NULL;
	size_t publen;
	const char *alg;
	char shown[64];
	nv_sshsig_ctx *c;
	nv_sshrd r;
	int rc;

	if ((rc = sshsig_parse(&s, blob, blen)) || (rc = sshsig_check_key(&s, signer)))
		return rc;
	if (s.nslen != strlen(ns) || memcmp(s.ns, ns, s.nslen) != 0) {
		nv_sshbuf_printable(shown, sizeof(shown), s.ns, s.nslen);
		return nv_error_set(NV_EMISMATCH, "signature is for namespace \"%s\", not \"%s\"",
				    shown, ns);
	}
	if (!(alg = sshsig_known_hash(s.alg, s.alglen))) {
		nv_sshbuf_printable(shown, sizeof(shown), s.alg, s.alglen);
		return nv_error_set(NV_EMISMATCH, "signature uses unknown hash \"%s\"", shown);
	}
	nv_sshrd_init(&r, s.sigblob, s.sigbloblen);
	if (nv_sshrd_expect_cstring(&r, "ssh-ed25519") || nv_sshrd_string(&r, &sig, &siglen) ||
	    siglen != ED25519_SIG_LEN || nv_sshrd_left(&r))
		return nv_error_set(NV_EMISMATCH, "malformed ssh-ed25519 signature");
	if ((rc = sshsig_ctx_new(&c, alg)))
		return rc;
	memcpy(c->sig, sig, ED25519_SIG_LEN);
	memcpy(c->ns, ns, strlen(ns) + 1);
	if ((rc = nv_sshkey_public_blob(&pub, &publen, signer)) == 0)
		rc = nv_sshkey_from_blob(&c->signer, pub, publen);
	free(pub);
	if (rc) {
		nv_sshsig_ctx_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int nv_sshsig_verify_begin(nv_sshsig_ctx **out, const char *armored, size_t armored_len,
			   const nv_sshkey *signer, const char *ns)
{
	unsigned char *blob = NULL;
	size_t blen = 0;
	int rc;

	*out = NULL;
	if ((rc = sshsig_check_ns(ns)))
		return rc;
	if (armored_len > SSHSIG_ARMOR_MAX)
		return nv_error_set(NV_EMISMATCH, "signature is larger than %d bytes: not an "
				    "SSHSIG signature", SSHSIG_ARMOR_MAX);
	if (nv_ssh_dearmor(&blob, &blen, armored, armored_len, SSHSIG_BEGIN, SSHSIG_END))
		return nv_error_wrap(NV_EMISMATCH, "malformed signature armor");
	rc = sshsig_prepare(out, blob, blen, signer, ns);
	free(blob);
	return rc;
}

int nv_sshsig_verify_end(nv_sshsig_ctx *c)
{
	nv_sshbuf signed_data;
	int rc;

	nv_sshbuf_init(&signed_data);
	if ((rc = sshsig_signed_data(&signed_data, c, c->ns)) == 0 &&
	    nv_sshkey_verify_raw(c->signer, c->sig, signed_data.data, signed_data.len) != 0)
		rc = nv_error_set(NV_EMISMATCH, "bad signature: the data or the signature was "
				  "altered");
	nv_sshbuf_free(&signed_data);
	nv_sshsig_ctx_free(c);
	return rc;
}

int nv_sshsig_verify(const char *armored, size_t armored_len, const nv_sshkey *signer,
		     const char *ns, const void *msg, size_t len)
{
	nv_sshsig_ctx *c;
	int rc;

	if ((rc = nv_sshsig_verify_begin(&c, armored, armored_len, signer, ns)))
		return rc;
	if ((rc = nv_sshsig_update(c, msg, len))) {
		nv_sshsig_ctx_free(c);
		return rc;
	}
	return nv_sshsig_verify_end(c);
}
