/* sshsig.c: SSHSIG signatures (OpenSSH PROTOCOL.sshsig) over Ed25519 keys.
 * Everyone may call (see sshsig.h). */
#include "sshsig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sshbuf.h"

#define SSHSIG_MAGIC "SSHSIG" /* 6 bytes, no NUL on the wire */
#define SSHSIG_MAGIC_LEN 6
#define SSHSIG_VERSION 1
#define SSHSIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SSHSIG_END "-----END SSH SIGNATURE-----"
#define SSHSIG_WRAP 70
#define SSHSIG_ARMOR_MAX (64 * 1024) /* an Ed25519 signature is ~300 bytes */
#define SSHSIG_NS_MAX 256
#define ED25519_SIG_LEN 64

/* Hashes msg with "sha256" or "sha512" (the names SSHSIG uses). */
static int sshsig_hash(unsigned char *md, unsigned *mdlen, const char *alg, const void *msg,
		       size_t len)
{
	const EVP_MD *type = strcmp(alg, "sha512") == 0 ? EVP_sha512() :
			     strcmp(alg, "sha256") == 0 ? EVP_sha256() : NULL;

	if (!type)
		return nv_error_set(NV_EMISMATCH, "signature uses an unknown hash");
	if (EVP_Digest(msg, len, md, mdlen, type, NULL) != 1)
		return nv_error_set(NV_ERR, "hashing failed in OpenSSL");
	return 0;
}

/* The bytes the key actually signs: magic, namespace, reserved (always
 * empty), hash name, H(message). */
static int sshsig_signed_data(nv_sshbuf *b, const char *ns, const char *alg, const void *msg,
			      size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc;

	if ((rc = sshsig_hash(md, &mdlen, alg, msg, len)))
		return rc;
	if ((rc = nv_sshbuf_put(b, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) ||
	    (rc = nv_sshbuf_put_cstring(b, ns)) || (rc = nv_sshbuf_put_string(b, NULL, 0)) ||
	    (rc = nv_sshbuf_put_cstring(b, alg)) || (rc = nv_sshbuf_put_string(b, md, mdlen)))
		return rc;
	return 0;
}

static int sshsig_check_ns(const char *ns)
{
	if (!ns || !*ns || strlen(ns) > SSHSIG_NS_MAX)
		return nv_error_set(NV_EINVAL, "a signature namespace must be 1 to %d bytes",
				    SSHSIG_NS_MAX);
	return 0;
}

int nv_sshsig_sign(char **out_armored, const nv_sshkey *k, const char *ns, const void *msg,
		   size_t len)
{
	nv_sshbuf tosign, sigblob, blob;
	unsigned char sig[ED25519_SIG_LEN], *pub = NULL;
	size_t publen;
	int rc;

	*out_armored = NULL;
	if ((rc = sshsig_check_ns(ns)))
		return rc;
	nv_sshbuf_init(&tosign);
	nv_sshbuf_init(&sigblob);
	nv_sshbuf_init(&blob);
	if ((rc = sshsig_signed_data(&tosign, ns, "sha512", msg, len)) ||
	    (rc = nv_sshkey_sign_raw(sig, k, tosign.data, tosign.len)) ||
	    (rc = nv_sshkey_public_blob(&pub, &publen, k)) ||
	    (rc = nv_sshbuf_put_cstring(&sigblob, "ssh-ed25519")) ||
	    (rc = nv_sshbuf_put_string(&sigblob, sig, sizeof(sig))) ||
	    (rc = nv_sshbuf_put(&blob, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) ||
	    (rc = nv_sshbuf_put_u32(&blob, SSHSIG_VERSION)) ||
	    (rc = nv_sshbuf_put_string(&blob, pub, publen)) ||
	    (rc = nv_sshbuf_put_cstring(&blob, ns)) || (rc = nv_sshbuf_put_string(&blob, NULL, 0)) ||
	    (rc = nv_sshbuf_put_cstring(&blob, "sha512")) ||
	    (rc = nv_sshbuf_put_string(&blob, sigblob.data, sigblob.len)))
		goto out;
	rc = nv_ssh_armor(out_armored, blob.data, blob.len, SSHSIG_BEGIN, SSHSIG_END, SSHSIG_WRAP);
out:
	free(pub);
	nv_sshbuf_free(&tosign);
	nv_sshbuf_free(&sigblob);
	nv_sshbuf_free(&blob);
	return rc;
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
	nv_sshkey_fingerprint(fp_want, sizeof(fp_want), signer);
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

static int sshsig_check_sig(const struct sshsig_parts *s, const nv_sshkey *signer,
			    const char *ns, const void *msg, size_t len)
{
	char alg[16];
	const unsigned char *sig;
	size_t siglen;
	nv_sshbuf signed_data;
	nv_sshrd r;
	int rc;

	if (s->alglen >= sizeof(alg) || memchr(s->alg, '\0', s->alglen))
		return nv_error_set(NV_EMISMATCH, "signature uses an unknown hash");
	memcpy(alg, s->alg, s->alglen);
	alg[s->alglen] = '\0';
	nv_sshrd_init(&r, s->sigblob, s->sigbloblen);
	if (nv_sshrd_expect_cstring(&r, "ssh-ed25519") || nv_sshrd_string(&r, &sig, &siglen) ||
	    siglen != ED25519_SIG_LEN || nv_sshrd_left(&r))
		return nv_error_set(NV_EMISMATCH, "malformed ssh-ed25519 signature");
	nv_sshbuf_init(&signed_data);
	if ((rc = sshsig_signed_data(&signed_data, ns, alg, msg, len)) == 0 &&
	    nv_sshkey_verify_raw(signer, sig, signed_data.data, signed_data.len) != 0)
		rc = nv_error_set(NV_EMISMATCH, "bad signature: the data or the signature was "
				  "altered");
	nv_sshbuf_free(&signed_data);
	return rc;
}

int nv_sshsig_verify(const char *armored, size_t armored_len, const nv_sshkey *signer,
		     const char *ns, const void *msg, size_t len)
{
	struct sshsig_parts s;
	unsigned char *blob = NULL;
	size_t blen = 0;
	char shown[64];
	int rc;

	if ((rc = sshsig_check_ns(ns)))
		return rc;
	if (armored_len > SSHSIG_ARMOR_MAX)
		return nv_error_set(NV_EMISMATCH, "signature is larger than %d bytes: not an "
				    "SSHSIG signature", SSHSIG_ARMOR_MAX);
	if (nv_ssh_dearmor(&blob, &blen, armored, armored_len, SSHSIG_BEGIN, SSHSIG_END))
		return nv_error_wrap(NV_EMISMATCH, "malformed signature armor");
	if ((rc = sshsig_parse(&s, blob, blen)) || (rc = sshsig_check_key(&s, signer)))
		goto out;
	if (s.nslen != strlen(ns) || memcmp(s.ns, ns, s.nslen) != 0) {
		nv_sshbuf_printable(shown, sizeof(shown), s.ns, s.nslen);
		rc = nv_error_set(NV_EMISMATCH, "signature is for namespace \"%s\", not \"%s\"",
				  shown, ns);
		goto out;
	}
	rc = sshsig_check_sig(&s, signer, ns, msg, len);
out:
	free(blob);
	return rc == 0 ? 0 : NV_EMISMATCH;
}
