/* sshsig.h: SSHSIG detached signatures (the format of `ssh-keygen -Y sign`)
 * with Ed25519 keys. Everyone may call; the vault signs manifests with it. */
#ifndef NV_SSHSIG_H
#define NV_SSHSIG_H

#include <stddef.h>

#include "sshkey.h"

/* Namespaces navette signs in (ssh-keygen -n). */
#define NV_SSHSIG_NS_MANIFEST "navette-manifest"
#define NV_SSHSIG_NS_VAULT "navette-vault"

/* Signs msg in namespace ns (non-empty) with k's private part, hashing with
 * SHA-512 as ssh-keygen does. *out_armored is the malloc'd, NUL-terminated
 * "-----BEGIN SSH SIGNATURE-----" text, byte for byte what
 * `ssh-keygen -Y sign -f KEY -n NS` writes to FILE.sig (70-column lines,
 * final newline), which `ssh-keygen -Y verify -n NS` accepts. */
int nv_sshsig_sign(char **out_armored, const nv_sshkey *k, const char *ns, const void *msg,
		   size_t len);

/* Checks an armored SSHSIG signature over msg: 0 when it is valid, made by
 * exactly signer's public key, in exactly namespace ns; SHA-256 and SHA-512
 * are accepted. Otherwise NV_EMISMATCH, always, with a message saying which
 * check failed: malformed armor or blob, another key, another namespace, an
 * unknown hash or key type, bad signature. armored need not be
 * NUL-terminated; more than 64 KiB of it is refused unread. */
int nv_sshsig_verify(const char *armored, size_t armored_len, const nv_sshkey *signer,
		     const char *ns, const void *msg, size_t len);

#endif
