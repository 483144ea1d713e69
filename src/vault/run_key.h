/* run_key.h: the per-run key of a sharded push (docs/FORMAT.md 2.9): an age
 * X25519 key made by `publish --prepare` on the publishing host, which keeps
 * the identity in its state (push/<vault_id>/runs/<run>.key, 0600), and whose
 * public half the vault holds in runs/<run>/run.json, signed with the vault's
 * signing key so that the shards can trust it. Called by vault_push.c (a
 * shard reads it), publish.c and the publish command. */
#ifndef NV_RUN_KEY_H
#define NV_RUN_KEY_H

#include "run_doc.h"
#include "ssh/sshkey.h"
#include "vault.h"

/* publish --prepare: makes the run's identity, keeps it in this host's state,
 * then writes run.json's signature and run.json (signed with sk, the vault's
 * signing key, else NV_EINVAL). A run this host prepared already (its
 * document verifies and names the key this host holds) is left as it is:
 * *again = 1. A run prepared with another key (another host's, or one this
 * host forgot) is NV_EEXISTS: its shards may have written for that key. out
 * gets the document. */
int nv_run_prepare(nv_vault *v, const nv_sshkey *sk, const char *run, nv_run_doc *out,
		   int *again);

/* The run's document: fetched, its signature verified (namespace navette-run,
 * the vault's pinned key) before it is parsed, naming this vault and run; r
 * gets its recipient. NV_EINVAL when the vault holds none (not prepared, or
 * published already), NV_EMISMATCH when it does not verify. */
int nv_run_load(nv_vault *v, const char *run, nv_run_doc *out, nv_age_recipient *r);

/* publish: the run's document and the identity this host keeps for it, which
 * must be the document's key (NV_EMISMATCH otherwise: the document was
 * replaced). NV_EINVAL when this host holds no key for the run. *id to
 * nv_age_identity_free. */
int nv_run_identity(nv_vault *v, const char *run, nv_run_doc *doc, nv_age_identity **id);

/* After publication: removes the run's files at the vault through s (keys
 * [0..n), the partial catalogs, then run.json and its signature), then the
 * identity from this host's state. Every removal is tried; the first error is
 * returned (the generation is published either way). */
int nv_run_forget(nv_vault *v, nv_store *s, const char *run, char *const *keys, size_t n);

#endif
