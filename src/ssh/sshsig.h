/* sshsig.h: SSHSIG detached signatures (the format of `ssh-keygen -Y sign`)
 * with Ed25519 keys. Everyone may call; the vault signs manifests with it. */
#ifndef NV_SSHSIG_H
#define NV_SSHSIG_H

#include <stddef.h>

#include "sshkey.h"

/* Namespaces navette signs in (ssh-keygen -n). */
#define NV_SSHSIG_NS_MANIFEST "navette-manifest"
#define NV_SSHSIG_NS_VAULT "navette-vault"
#define NV_SSHSIG_NS_DRILL "navette-drill"     /* the vault's drill document */
#define NV_SSHSIG_NS_REPORT "navette-report" /* check --report's FILE.sig */
#define NV_SSHSIG_NS_RUN "navette-run"       /* a sharded push's per-run key */

/* Signs msg in namespace ns (1 to 256 bytes) with k's private part, hashing
 * with SHA-512 as ssh-keygen does. *out_armored is the malloc'd,
 * NUL-terminated "-----BEGIN SSH SIGNATURE-----" text, byte for byte what
 * `ssh-keygen -Y sign -f KEY -n NS` writes to FILE.sig (70-column lines,
 * final newline), which `ssh-keygen -Y verify -n NS` accepts. NV_EINVAL for a
 * key without private part or a bad namespace. */
int nv_sshsig_sign(char **out_armored, const nv_sshkey *k, const char *ns, const void *msg,
		   size_t len);

/* Checks an armored SSHSIG signature over msg: 0 when it is valid, made by
 * exactly signer's public key, in exactly namespace ns; SHA-256 and SHA-512
 * are accepted. Otherwise NV_EMISMATCH with a message saying which check
 * failed: malformed armor or blob, another key, another namespace, an
 * unknown hash or key type, bad signature. (NV_EINVAL: ns itself is empty or
 * too long; NV_ERR: out of memory or OpenSSL failed.) armored need not be
 * NUL-terminated; more than 64 KiB of it is refused unread. */
int nv_sshsig_verify(const char *armored, size_t armored_len, const nv_sshkey *signer,
		     const char *ns, const void *msg, size_t len);

/* The same in pieces, for messages too large to hold in memory (SSHSIG signs
 * a hash of the message, so the message streams through). A context is made
 * by a *_begin, fed by nv_sshsig_update, and freed by its *_end (whatever the
 * outcome) or by nv_sshsig_ctx_free when abandoned. */
typedef struct nv_sshsig_ctx nv_sshsig_ctx;

/* Starts a signature (SHA-512). */
int nv_sshsig_sign_begin(nv_sshsig_ctx **out);
/* Feeds the next len bytes of the message. */
int nv_sshsig_update(nv_sshsig_ctx *c, const void *p, size_t len);
/* Signs what was fed, as nv_sshsig_sign would have; frees c. */
int nv_sshsig_sign_end(char **out_armored, nv_sshsig_ctx *c, const nv_sshkey *k, const char *ns);

/* Parses and checks everything but the signature itself (armor, key,
 * namespace, hash), so a wrong signer or namespace is reported before the
 * message is read; same return codes as nv_sshsig_verify. The context keeps
 * copies: signer and armored may be freed after. */
int nv_sshsig_verify_begin(nv_sshsig_ctx **out, const char *armored, size_t armored_len,
			   const nv_sshkey *signer, const char *ns);
/* 0 when the signature is valid over all that was fed, else NV_EMISMATCH
 * ("bad signature"); frees c. */
int nv_sshsig_verify_end(nv_sshsig_ctx *c);

/* Frees an unfinished context. NULL is a no-op. */
void nv_sshsig_ctx_free(nv_sshsig_ctx *c);

#endif
