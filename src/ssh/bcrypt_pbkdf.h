/* bcrypt_pbkdf.h: OpenBSD's bcrypt_pbkdf, the KDF of passphrase-protected
 * OpenSSH private keys ("bcrypt" in openssh-key-v1). Callers: src/ssh/ only. */
#ifndef NV_BCRYPT_PBKDF_H
#define NV_BCRYPT_PBKDF_H

#include <stddef.h>
#include <stdint.h>

/* Most output bcrypt_pbkdf can give: 32 blocks of 32 bytes. */
#define NV_BCRYPT_PBKDF_MAX_OUT 1024

/* Derives keylen bytes into key from pass and salt with rounds rounds, as
 * OpenBSD's bcrypt_pbkdf(3) and ssh-keygen do. NV_EINVAL for what that
 * function refuses too (an empty pass or salt, no rounds, keylen 0 or above
 * NV_BCRYPT_PBKDF_MAX_OUT, a salt over 1 MiB). Every intermediate is wiped. */
int nv_bcrypt_pbkdf(unsigned char *key, size_t keylen, const void *pass, size_t passlen,
		    const void *salt, size_t saltlen, uint32_t rounds);

#endif
