/* age_scrypt.c: the scrypt (passphrase) stanza: "-> scrypt <salt> <log2 N>", as
 * `age -p` writes it, for passphrase-protected identity files. Calls age_crypto.c
 * and age_header.c. Called by src/age/ only (age_stanza.h). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "age_crypto.h"
#include "age_header.h"
#include "age_int.h"
#include "age_stanza.h"
#include "util/b64.h"
#include "util/error.h"

static int nv_age_scrypt_key(unsigned char key[32], const char *pass,
			     const unsigned char salt[NV_AGE_SCRYPT_SALT], int log2n)
{
	unsigned char full[sizeof(NV_AGE_SCRYPT_LABEL) - 1 + NV_AGE_SCRYPT_SALT];

	memcpy(full, NV_AGE_SCRYPT_LABEL, sizeof(NV_AGE_SCRYPT_LABEL) - 1);
	memcpy(full + sizeof(NV_AGE_SCRYPT_LABEL) - 1, salt, NV_AGE_SCRYPT_SALT);
	return nv_age_scrypt(key, pass, full, sizeof(full), log2n);
}

/* A decimal work factor without sign or leading zero, 1..99. */
static int nv_age_scrypt_log2n(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 2 || s[0] < '1' || s[0] > '9' || (n == 2 && (s[1] < '0' || s[1] > '9')))
		return -1;
	return n == 1 ? s[0] - '0' : (s[0] - '0') * 10 + s[1] - '0';
}

int nv_age_scrypt_unwrap(unsigned char file_key[16], const struct nv_age_header *h,
			 const char *passphrase, int max_log2n)
{
	const struct nv_age_stanza *s = &h->st[0];
	unsigned char salt[NV_AGE_SCRYPT_SALT + 2], key[32];
	int log2n, rc;

	if (h->n != 1 || strcmp(s->type, "scrypt") != 0)
		return nv_error_set(NV_EAUTH, "not passphrase-encrypted (no scrypt stanza)");
	if (s->nargs != 3 || strlen(s->args[1]) != 22 ||
	    nv_b64_raw_decode(salt, s->args[1], 22) != NV_AGE_SCRYPT_SALT ||
	    (log2n = nv_age_scrypt_log2n(s->args[2])) < 0 || s->bodylen != NV_AGE_FILE_KEY + NV_AGE_TAG)
		return nv_error_set(NV_EMISMATCH, "age header: malformed scrypt stanza");
	if (log2n > max_log2n)
		return nv_error_set(NV_EMISMATCH, "age header: scrypt work factor %d exceeds the limit %d",
				    log2n, max_log2n);
	if ((rc = nv_age_scrypt_key(key, passphrase, salt, log2n)) == 0 &&
	    (rc = nv_age_unwrap(file_key, key, s->body, s->bodylen)) == 1)
		rc = nv_error_set(NV_EAUTH, "wrong passphrase");
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int nv_age_scrypt_wrap(char *out, size_t *len, const unsigned char file_key[16],
		       const char *passphrase, int log2n)
{
	unsigned char salt[NV_AGE_SCRYPT_SALT], key[32], body[NV_AGE_FILE_KEY + NV_AGE_TAG];
	char salt64[23], work[4];
	const char *args[3] = {"scrypt", salt64, work};
	int rc;

	if ((rc = nv_age_random(salt, sizeof(salt))) == 0 &&
	    (rc = nv_age_scrypt_key(key, passphrase, salt, log2n)) == 0 &&
	    (rc = nv_age_wrap(body, key, file_key, NV_AGE_FILE_KEY)) == 0) {
		nv_b64_raw_encode(salt64, salt, sizeof(salt));
		snprintf(work, sizeof(work), "%d", log2n);
		*len = nv_age_stanza_write(out, args, 3, body, sizeof(body));
	}
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
