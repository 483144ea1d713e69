/* vault.h: a session with one encrypted vault: the pinned descriptor, signed
 * manifests, the hash-checked catalog, and publication. Readers and the pusher
 * both start here (docs/FORMAT.md). Called by the vault commands. */
#ifndef NV_VAULT_H
#define NV_VAULT_H

#include "age/age.h"
#include "driver/driver.h"
#include "ssh/sshkey.h"
#include "ssh/sshsig.h"
#include "vault_doc.h"

#define NV_VAULT_DOC_MAX (1u << 20)       /* descriptor, heartbeat, signatures */
#define NV_VAULT_MANIFEST_MAX (1u << 30)

typedef struct nv_vault nv_vault;

/* Opens the vault at loc: fetches the descriptor and its signature, finds the
 * pinned signing key that verifies it (or, on first contact, the one given as
 * signing_pubkey: a key line or a .pub file, which is then pinned), parses it
 * and checks it against the pin. NV_EAUTH when no pin verifies it,
 * NV_EMISMATCH when it disagrees with the pin. */
int nv_vault_open(nv_vault **out, const nv_location *loc, const char *signing_pubkey);
void nv_vault_close(nv_vault *v);
const nv_descriptor *nv_vault_descriptor(const nv_vault *v);
const nv_sshkey *nv_vault_signer(const nv_vault *v);
nv_store *nv_vault_store(nv_vault *v);
const nv_location *nv_vault_location(const nv_vault *v);
/* The recipients, parsed from the (verified) descriptor. */
int nv_vault_recipients(const nv_vault *v, const nv_age_recipient **out, size_t *n);

/* Generation numbers that have a manifest, ascending. *out malloc'd. */
int nv_vault_generations(nv_vault *v, uint64_t **out, size_t *n);
/* Fetches manifest gen and its signature, verifies, parses, checks that it
 * names this vault and this generation. sha gets the SHA-256 of its bytes.
 * An absent or bad signature is NV_EMISMATCH ("... not signed"). */
int nv_vault_manifest(nv_vault *v, uint64_t gen, nv_manifest *out,
		      unsigned char sha[NV_SHA256_LEN]);
/* The newest generation (or, with want > 0, generation want). Whatever is
 * asked, a store whose newest manifest is below the highest generation this
 * host has seen for the vault is refused (it withholds or rolled back); want
 * only reads an older generation while the newer ones are still there. Records
 * the new high-water mark. *gen = 0 and NV_OK for an empty vault. */
int nv_vault_current(nv_vault *v, long long want, nv_manifest *out,
		     unsigned char sha[NV_SHA256_LEN], uint64_t *gen);
/* The pieces of nv_vault_current, for a reader of the manifest as a stream
 * (manifest_read.h): the generation to read (0: an empty vault) and the
 * newest, the rollback rule applied; then, with the outcome rc of reading
 * it, the same error wrapping and the high-water mark recorded. */
int nv_vault_pick(nv_vault *v, long long want, uint64_t *gen, uint64_t *newest);
int nv_vault_picked(nv_vault *v, int rc, long long want, uint64_t gen, uint64_t newest);
/* The manifest's header names this vault and generation gen (key: its name). */
int nv_vault_manifest_check_head(const nv_vault *v, const char *key, const nv_manifest *m,
				 uint64_t gen);
/* Compares what was read of an object (size, SHA-256 of the stored bytes)
 * with its manifest record; NV_EMISMATCH naming the object otherwise. */
int nv_vault_check_stored(const nv_obj_rec *rec, uint64_t size,
			  const unsigned char sha[NV_SHA256_LEN]);
/* Reads one small object named by a verified manifest and checks its stored
 * size and SHA-256 before returning it. */
int nv_vault_fetch_object(nv_vault *v, const nv_obj_rec *rec, unsigned char **out,
			  size_t *len);
/* Fetches, checks, decrypts and parses the catalog of manifest m. */
int nv_vault_catalog(nv_vault *v, const nv_manifest *m, const nv_age_identity *id,
		     nv_catalog *out);
/* The same for the catalog object name of m whose header has this type (the
 * canary catalog: m->canary, NV_CANARY_CATALOG_TYPE). */
int nv_vault_catalog_named(nv_vault *v, const nv_manifest *m, const char *name,
			   const char *type, const nv_age_identity *id, nv_catalog *out);
/* Encrypts a small plaintext to r[0..n) into a new write-once object of s named
 * after id (create-if-absent); out gets its name (malloc'd), size and SHA-256. */
int nv_vault_put_object(nv_store *s, const char *id, const void *plain, size_t plen,
			const nv_age_recipient *r, size_t n, nv_obj_rec *out);
/* Verifies the signed heartbeat; NV_ENOTFOUND when there is none. */
int nv_vault_heartbeat(nv_vault *v, nv_heartbeat *out);

/* The highest generation this host has seen for vault_id (0 if none). */
uint64_t nv_vault_seen(const char *vault_id);
int nv_vault_set_seen(const char *vault_id, uint64_t gen);

/* Creates a vault at loc: vault id, K_id, the signed descriptor (refused where
 * one exists), and pins it and keeps K_id in this host's state. */
int nv_vault_init(const nv_location *loc, const nv_age_recipient *r, size_t n,
		  const nv_sshkey *signing_key, char vault_id_out[NV_VAULT_ID_HEX]);

/* NV_EINVAL (naming the vault's key) unless sk is the vault's signing key: a
 * reader would refuse whatever another key signs. */
int nv_vault_check_signing_key(const nv_vault *v, const nv_sshkey *sk);
/* Signs buf (namespace ns) and stores it under key + ".sig". */
int nv_vault_put_signature(nv_vault *v, const nv_sshkey *k, const char *key, const char *ns,
			   const void *buf, size_t len);
/* The same for a message read as a stream: fetches key + ".sig" and checks
 * everything but the signature (*ctx then takes the message through
 * nv_sshsig_update); _end checks the signature and frees ctx. */
int nv_vault_signature_begin(nv_vault *v, const char *key, const char *ns,
			     nv_sshsig_ctx **ctx);
int nv_vault_signature_end(const char *key, nv_sshsig_ctx *ctx);
/* Fetches key + ".sig" and verifies it over buf with the vault's signer. */
int nv_vault_check_signature(nv_vault *v, const char *key, const char *ns, const void *buf,
			     size_t len);

#endif
