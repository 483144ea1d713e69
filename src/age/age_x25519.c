/* age_x25519.c: X25519 recipient stanzas ("-> X25519 <share>" + wrapped file key).
 * Calls age_crypto.c and age_header.c. Called by src/age/ only (age_stanza.h). */
#include <openssl/crypto.h>
#include <string.h>

#include "age_crypto.h"
#include "age_header.h"
#include "age_int.h"
#include "age_stanza.h"
#include "util/b64.h"
#include "util/error.h"

/* wrap key = HKDF-SHA256(ikm = shared secret, salt = share || recipient, label) */
static int nv_age_x25519_key(unsigned char key[32], const unsigned char shared[32],
			     const unsigned char share[32], const unsigned char pub[32])
{
	unsigned char salt[64];

	memcpy(salt, share, 32);
	memcpy(salt + 32, pub, 32);
	return nv_age_hkdf(key, 32, shared, 32, salt, 64, NV_AGE_X25519_LABEL);
}

int nv_age_x25519_wrap(char *out, const nv_age_recipient *r, const unsigned char file_key[16])
{
	unsigned char eph[32], share[32], shared[32], key[32], body[NV_AGE_FILE_KEY + NV_AGE_TAG];
	char share64[44];
	const char *args[2] = {"X25519", share64};
	int rc;

	if ((rc = nv_age_random(eph, 32)) < 0)
		goto out_wipe;
	if ((rc = nv_age_x25519(shared, eph, r->pub, share)) == NV_EMISMATCH) {
		rc = nv_error_set(NV_EINVAL, "age: recipient key is a low-order point");
		goto out_wipe;
	}
	if (rc < 0 || (rc = nv_age_x25519_key(key, shared, share, r->pub)) < 0 ||
	    (rc = nv_age_wrap(body, key, file_key, NV_AGE_FILE_KEY)) < 0)
		goto out_wipe;
	nv_b64_raw_encode(share64, share, 32);
	nv_age_stanza_write(out, args, 2, body, sizeof(body));
out_wipe:
	OPENSSL_cleanse(eph, sizeof(eph));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int nv_age_x25519_unwrap(unsigned char file_key[16], const struct nv_age_stanza *s,
			 const nv_age_identity *id)
{
	unsigned char share[33], shared[32], key[32];
	size_t i;
	int rc = 1;

	if (strcmp(s->type, "X25519") != 0)
		return 1;
	if (s->nargs != 2 || s->bodylen != NV_AGE_FILE_KEY + NV_AGE_TAG)
		return nv_error_set(NV_EMISMATCH, "age header: malformed X25519 stanza");
	if (strlen(s->args[1]) != 43 || nv_b64_raw_decode(share, s->args[1], 43) != 32)
		return nv_error_set(NV_EMISMATCH,
				    "age header: X25519 share is not 32 bytes of canonical base64");
	for (i = 0; i < id->n && rc == 1; i++) {
		if ((rc = nv_age_xkey_derive(shared, id->xk[i], share)) < 0 ||
		    (rc = nv_age_x25519_key(key, shared, share, id->pk[i])) < 0)
			break;
		rc = nv_age_unwrap(file_key, key, s->body, s->bodylen);
	}
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
