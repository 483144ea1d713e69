/* vault_many.h: many vaults under one prefix (one per dataset, each with its
 * own keys): finding them, and choosing each one's signing key from the pins
 * or a list of (vault id, key) lines. Called by replicate --all, verify --all. */
#ifndef NV_VAULT_MANY_H
#define NV_VAULT_MANY_H

#include <stddef.h>

#include "driver/driver.h"

/* Every vault under prefix: the relative folder of each navette-vault.json
 * ("" for one at the prefix itself), in byte order. *out malloc'd, each string
 * too (nv_vaults_free). */
int nv_vaults_find(const nv_location *prefix, char ***out, size_t *n);
void nv_vaults_free(char **v, size_t n);

/* The location text of rel under prefix_text ("s3://b/p" + "ds1" -> "s3://b/p/ds1"). */
int nv_vaults_join(char **out, const char *prefix_text, const char *rel);

/* The signing public key to open the vault at loc with: *key = NULL when a
 * pin of this host verifies its descriptor; else the key of the line of
 * keys_file ("<vault id> ssh-ed25519 AAAA...") whose key verifies the
 * descriptor and whose vault id is the one the descriptor then names.
 * NV_EAUTH when neither. *key malloc'd. */
int nv_vault_pick_key(const nv_location *loc, const char *keys_file, char **key);

#endif
