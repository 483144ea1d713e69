/* sshkey_crypt.c: the KDF and ciphers of passphrase-protected openssh-key-v1
 * files, as ssh-keygen -N writes them (PROTOCOL.key). Only sshkey.c calls. */
#include "sshkey_crypt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "bcrypt_pbkdf.h"
#include "sshbuf.h"
#include "util/error.h"

#define CHACHA_KEY 32
#define POLY_KEY 32
#define TAG_LEN 16
#define SALT_MAX 1024 /* ssh-keygen writes 16 bytes */

typedef struct {
	const char *name;
	size_t keylen, ivlen, block, authlen;
	const EVP_CIPHER *(*evp)(void); /* NULL: chacha20-poly1305@openssh.com */
} keyv1_cipher;

/* ssh-keygen's default (aes256-ctr) and every other cipher it accepts for -Z
 * that OpenSSL provides. */
static const keyv1_cipher keyv1_ciphers[] = {
	{ "aes256-ctr", 32, 16, 16, 0, EVP_aes_256_ctr },
	{ "aes192-ctr", 24, 16, 16, 0, EVP_aes_192_ctr },
	{ "aes128-ctr", 16, 16, 16, 0, EVP_aes_128_ctr },
	{ "aes256-cbc", 32, 16, 16, 0, EVP_aes_256_cbc },
	{ "aes192-cbc", 24, 16, 16, 0, EVP_aes_192_cbc },
	{ "aes128-cbc", 16, 16, 16, 0, EVP_aes_128_cbc },
	{ "aes256-gcm@openssh.com", 32, 12, 16, TAG_LEN, EVP_aes_256_gcm },
	{ "aes128-gcm@openssh.com", 16, 12, 16, TAG_LEN, EVP_aes_128_gcm },
	{ "chacha20-poly1305@openssh.com", 2 * CHACHA_KEY, 0, 8, TAG_LEN, NULL },
};

static const keyv1_cipher *keyv1_find(const unsigned char *cipher, size_t cn)
{
	for (size_t i = 0; i < sizeof(keyv1_ciphers) / sizeof(keyv1_ciphers[0]); i++)
		if (strlen(keyv1_ciphers[i].name) == cn && memcmp(keyv1_ciphers[i].name, cipher, cn) == 0)
			return &keyv1_ciphers[i];
	return NULL;
}

int nv_keyv1_cipher(const unsigned char *cipher, size_t cn, size_t *block, size_t *authlen,
		    const char *name)
{
	const keyv1_cipher *c = keyv1_find(cipher, cn);
	char shown[48];

	if (!c) {
		nv_sshbuf_printable(shown, sizeof(shown), cipher, cn);
		return nv_error_set(NV_ENOTSUP, "%s is encrypted with cipher %s, which navette "
				    "does not support (ssh-keygen's default aes256-ctr is)", name,
				    shown);
	}
	*block = c->block;
	*authlen = c->authlen;
	return 0;
}

/* AES in ctr, cbc (no padding: the section is whole blocks) or gcm. */
static int keyv1_evp(const keyv1_cipher *c, unsigned char *data, size_t len,
		     const unsigned char *tag, const unsigned char *key, const unsigned char *iv)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, ok, auth_ok = 1;

	ok = ctx && len <= (size_t)0x7fffffff &&
	     EVP_DecryptInit_ex(ctx, c->evp(), NULL, NULL, NULL) == 1 &&
	     (!c->authlen ||
	      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)c->ivlen, NULL) == 1) &&
	     EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) == 1 &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	     EVP_DecryptUpdate(ctx, data, &n, data, (int)len) == 1 &&
	     (!c->authlen ||
	      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)c->authlen, (void *)tag) == 1);
	if (ok) {
		unsigned char last[32];

		auth_ok = EVP_DecryptFinal_ex(ctx, last, &fin) == 1;
		ok = (size_t)n + (size_t)fin == len || !auth_ok;
	}
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return nv_error_set(NV_ERR, "%s decryption failed in OpenSSL", c->name);
	return auth_ok ? 0 : NV_EAUTH;
}

/* ChaCha20 with the original 64-bit nonce and counter, as OpenSSH's
 * chacha20-poly1305@openssh.com uses it: OpenSSL's 16-byte IV is a 32-bit
 * little-endian counter then 96 bits, so counter c and nonce 0 (the key file is
 * message number 0) are c's 4 bytes and 12 zeros. */
static int chacha_xor(unsigned char *out, const unsigned char *in, size_t len,
		      const unsigned char key[CHACHA_KEY], unsigned char counter)
{
	unsigned char iv[16] = { counter };
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = ctx && len <= (size_t)0x7fffffff &&
	     EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, key, iv) == 1 &&
	     EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1 && (size_t)n == len;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : nv_error_set(NV_ERR, "ChaCha20 failed in OpenSSL");
}

static int poly1305(unsigned char out[TAG_LEN], const unsigned char key[POLY_KEY],
		    const unsigned char *data, size_t len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t n = 0;
	int ok = ctx && EVP_MAC_init(ctx, key, POLY_KEY, NULL) == 1 &&
		 EVP_MAC_update(ctx, data, len) == 1 &&
		 EVP_MAC_final(ctx, out, &n, TAG_LEN) == 1 && n == TAG_LEN;

	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : nv_error_set(NV_ERR, "Poly1305 failed in OpenSSL");
}

/* The Poly1305 key is the first 32 bytes of the ChaCha20 keystream (block 0);
 * the tag covers the ciphertext; the data is block 1 onwards. The second half
 * of the derived key encrypts packet lengths in SSH and is unused here. */
static int keyv1_chachapoly(unsigned char *data, size_t len, const unsigned char *tag,
			    const unsigned char *key)
{
	static const unsigned char zeros[POLY_KEY];
	unsigned char pkey[POLY_KEY], want[TAG_LEN];
	int rc;

	if ((rc = chacha_xor(pkey, zeros, POLY_KEY, key, 0)) == 0 &&
	    (rc = poly1305(want, pkey, data, len)) == 0) {
		if (CRYPTO_memcmp(want, tag, TAG_LEN) != 0)
			rc = NV_EAUTH;
		else
			rc = chacha_xor(data, data, len, key, 1);
	}
	OPENSSL_cleanse(pkey, sizeof(pkey));
	return rc;
}

/* kdfoptions: string salt, u32 rounds, nothing after. */
static int keyv1_kdf_options(const unsigned char **salt, size_t *saltlen, uint32_t *rounds,
			     const unsigned char *kdfopt, size_t on, const char *name)
{
	nv_sshrd r;

	nv_sshrd_init(&r, kdfopt, on);
	if (nv_sshrd_string(&r, salt, saltlen) || nv_sshrd_u32(&r, rounds) || nv_sshrd_left(&r) ||
	    *saltlen == 0 || *saltlen > SALT_MAX || *rounds == 0)
		return nv_error_set(NV_EINVAL, "%s: malformed bcrypt KDF options", name);
	if (*rounds > NV_SSHKEY_MAX_ROUNDS)
		return nv_error_set(NV_EINVAL, "%s asks for %u bcrypt rounds; at most %d are "
				    "accepted (re-encrypt it: ssh-keygen -p -a 100 -f FILE)", name,
				    (unsigned)*rounds, NV_SSHKEY_MAX_ROUNDS);
	return 0;
}

int nv_keyv1_decrypt(unsigned char *data, size_t len, const unsigned char *tag,
		     const unsigned char *cipher, size_t cn, const unsigned char *kdf, size_t kn,
		     const unsigned char *kdfopt, size_t on, const char *pass, const char *name)
{
	const keyv1_cipher *c = keyv1_find(cipher, cn);
	unsigned char keyiv[2 * CHACHA_KEY + 16];
	const unsigned char *salt;
	size_t saltlen;
	uint32_t rounds;
	int rc;

	if (!c)
		return nv_keyv1_cipher(cipher, cn, &saltlen, &saltlen, name);
	if (kn != 6 || memcmp(kdf, "bcrypt", 6) != 0)
		return nv_error_set(NV_ENOTSUP, "%s: only the bcrypt KDF is supported", name);
	if ((rc = keyv1_kdf_options(&salt, &saltlen, &rounds, kdfopt, on, name)))
		return rc;
	if (!*pass)
		return nv_error_set(NV_EAUTH, "%s: wrong passphrase (it is empty)", name);
	if (len % c->block)
		return nv_error_set(NV_EINVAL, "%s: encrypted section is not whole blocks", name);
	if ((rc = nv_bcrypt_pbkdf(keyiv, c->keylen + c->ivlen, pass, strlen(pass), salt, saltlen,
				  rounds)))
		return rc;
	rc = c->evp ? keyv1_evp(c, data, len, tag, keyiv, keyiv + c->keylen)
		    : keyv1_chachapoly(data, len, tag, keyiv);
	OPENSSL_cleanse(keyiv, sizeof(keyiv));
	if (rc == NV_EAUTH)
		return nv_error_set(NV_EAUTH, "%s: wrong passphrase", name);
	return rc;
}
