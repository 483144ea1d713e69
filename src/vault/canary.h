/* canary.h: the vault's drill document as this host trusts it (docs/FORMAT.md
 * 2.8): verified with the vault's signing key before it is parsed, pinned like
 * the descriptor (serial and SHA-256 in pins/<vault_id>.drill), and written by the
 * holder of the signing key. Called by canary_push.c, canary_drill.c,
 * replicate.c and the drill-key command. */
#ifndef NV_CANARY_H
#define NV_CANARY_H

#include "canary_doc.h"
#include "ssh/sshkey.h"
#include "vault.h"

/* Fetches navette-drill.json and its signature, verifies it (namespace
 * navette-drill, the vault's pinned signing key) before parsing, checks it
 * names this vault, then holds it against this host's pin: a serial below the
 * pinned one is a rollback and the pinned serial with other bytes a forgery
 * (both NV_EMISMATCH); a newer serial is pinned. NV_ENOTFOUND when the store
 * has no drill document (the message says whether this host pinned one). */
int nv_drill_load(nv_vault *v, nv_drill_doc *out);
/* The same for the bytes of a drill document whose signature the caller
 * verified (replicate keeps the exact bytes it copies). */
int nv_drill_trust(nv_vault *v, const void *buf, size_t len, nv_drill_doc *out);
/* The serial this host pinned for vault_id (0: none). */
uint64_t nv_drill_pinned(const char *vault_id);

/* Writes a new drill document naming recipients[0..n) (age1..., any order,
 * duplicates dropped; none allowed: pushes then add no canary), with the next
 * serial after both the store's and this host's pin, signed with sk (the
 * vault's signing key, else NV_EINVAL): the signature first, then the
 * document; then pins it. A stored document that does not verify is replaced
 * (with a warning). out gets what was written. */
int nv_drill_write(nv_vault *v, const nv_sshkey *sk, const char *const *recipients,
		   size_t n, nv_drill_doc *out);

#endif
