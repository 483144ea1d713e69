/* sshkey_crypt.h: decrypts the private section of a passphrase-protected
 * openssh-key-v1 file (KDF "bcrypt"). Only sshkey.c includes it. */
#ifndef NV_SSHKEY_CRYPT_H
#define NV_SSHKEY_CRYPT_H

#include <stddef.h>

/* Most rounds a key file may ask of bcrypt_pbkdf (ssh-keygen's default is 16;
 * -a 100 is a common choice). More is refused rather than run for hours. */
#define NV_SSHKEY_MAX_ROUNDS 10000

/* The cipher named (cn bytes) in a key file: its block size (the private
 * section pads to it) and the length of the tag that follows the section
 * (0 for ctr and cbc). NV_ENOTSUP naming it when navette lacks it. */
int nv_keyv1_cipher(const unsigned char *cipher, size_t cn, size_t *block, size_t *authlen,
		    const char *name);

/* Decrypts data (len bytes, a multiple of the block size; tag authlen bytes
 * as nv_keyv1_cipher gave) in place with the key and IV bcrypt_pbkdf derives
 * from pass and the kdf options (string salt, u32 rounds). NV_EAUTH
 * "wrong passphrase" when a tag does not match; NV_EINVAL for a malformed
 * kdf or an empty passphrase; NV_ENOTSUP for a KDF other than bcrypt. name
 * appears in messages. Derived keys are wiped. */
int nv_keyv1_decrypt(unsigned char *data, size_t len, const unsigned char *tag,
		     const unsigned char *cipher, size_t cn, const unsigned char *kdf, size_t kn,
		     const unsigned char *kdfopt, size_t on, const char *pass, const char *name);

#endif
