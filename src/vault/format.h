/* format.h: the vault's names, each defined here once (docs/FORMAT.md sections 2
 * and 4): object ids and object names, generation numbers, manifest, signature,
 * heartbeat and descriptor names, and this host's state files. Called by the
 * vault modules and their tests; nothing here touches a store. */
#ifndef NV_VAULT_FORMAT_H
#define NV_VAULT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"

/* Keys at the vault's root. A signature is stored beside what it signs, under
 * the signed key + NV_VAULT_SIG_SUFFIX (nv_signature_name), in the namespace
 * NV_SSHSIG_NS_VAULT for the descriptor, NV_SSHSIG_NS_MANIFEST for everything
 * a push signs (ssh/sshsig.h). */
#define NV_VAULT_DESCRIPTOR "navette-vault.json"
#define NV_VAULT_HEARTBEAT "heartbeat.json"
/* The drill document (section 2.8), signed in NV_SSHSIG_NS_DRILL. */
#define NV_VAULT_DRILL "navette-drill.json"
#define NV_VAULT_SIG_SUFFIX ".sig"
#define NV_VAULT_OBJECTS "objects/"     /* listing prefix of every object */
#define NV_VAULT_MANIFESTS "manifests/" /* listing prefix of the manifests */
/* A sharded push's run folders (section 2.9): runs/<run>/run.json (the per-run
 * key, signed in NV_SSHSIG_NS_RUN) and runs/<run>/shard-<K>-of-<N>.age (the
 * partial catalogs), until publish removes them. */
#define NV_VAULT_RUNS "runs/"

#define NV_VAULT_ID_HEX 33      /* vault id: 32 lower-case hex digits + NUL */
#define NV_KID_LEN 32           /* K_id, the vault's object id key */
#define NV_OBJECT_ID_HEX NV_SHA256_HEX     /* 64 hex digits + NUL */
#define NV_OBJECT_NONCE_HEX 17  /* 16 hex digits + NUL */
#define NV_OBJECT_PREFIX_MAX 77 /* "objects/ab/<id>." + NUL */
#define NV_OBJECT_NAME_MAX 97   /* "objects/ab/<id>.<nonce>.age" + NUL */
/* The key a new object's write is opened under when its id (the hash of its
 * plaintext) is known only after its last byte: the write is retargeted to
 * its name before commit (driver.h, write_retarget), so nothing is ever
 * stored under this key; only the temp file lives in its directory. */
#define NV_OBJECT_UNNAMED "objects/unnamed"
#define NV_GENERATION_DIGITS 20
#define NV_GENERATION_MAX 21    /* 20 digits + NUL */
#define NV_MANIFEST_NAME_MAX 36 /* "manifests/<20 digits>.json" + NUL */
#define NV_SIGNED_NAME_MAX 96   /* any key nv_signature_name is given, + ".sig" */
#define NV_RUN_ID_MAX 64        /* bytes of a run id (engine/shard.h's NV_SHARD_RUN_MAX) */
#define NV_RUN_NAME_MAX 96      /* "runs/<run>/shard-<K>-of-<N>.age" + NUL, and run.json */

/* Is s exactly n lower-case hex digits (and nothing after them)? */
int nv_hex_ok(const char *s, size_t n);

/* ---- objects: objects/<id[0:2]>/<id>.<nonce>.age (section 2.2) ---- */

/* The object id of a plaintext: hex HMAC-SHA256(K_id, SHA-256(plaintext)). A
 * catalog is an object like any other: its name comes from here too. */
void nv_object_id(char id[NV_OBJECT_ID_HEX], const unsigned char kid[NV_KID_LEN],
		  const unsigned char sha[NV_SHA256_LEN]);
/* The same ids, many under one K_id: the key is set up once (nv_object_id
 * sets it up for every id: 1.2 us against 0.35 us, which publish pays once
 * per file it checks). One thread at a time per nv_object_ids. */
typedef struct nv_object_ids nv_object_ids;
int nv_object_ids_new(nv_object_ids **out, const unsigned char kid[NV_KID_LEN]);
int nv_object_ids_make(nv_object_ids *x, char id[NV_OBJECT_ID_HEX],
		       const unsigned char sha[NV_SHA256_LEN]);
void nv_object_ids_free(nv_object_ids *x);
/* The key of the canary domain (section 2.8): HMAC-SHA256(K_id, "navette-canary-v1\n"
 * then each drill recipient and "\n", in the drill document's order). Canary ids are
 * nv_object_id under it: never equal to a real file's id, unlinkable to one without
 * K_id, and new whenever the drill recipients change. */
void nv_canary_key(unsigned char out[NV_KID_LEN], const unsigned char kid[NV_KID_LEN],
		   const char *const *recipients, size_t n);
/* "objects/ab/<id>.": what every object holding id's contents starts with
 * (names sort by it, so a sorted manifest finds an id by this prefix).
 * NV_EINVAL when id is not 64 lower-case hex digits. */
int nv_object_prefix(char out[NV_OBJECT_PREFIX_MAX], const char *id);
/* The object name for id and nonce (16 lower-case hex digits); NV_EINVAL if
 * either is malformed. */
int nv_object_name(char out[NV_OBJECT_NAME_MAX], const char *id, const char *nonce);
/* A name for a new object holding id: a fresh random nonce, so that every
 * name holds one byte string for ever (write-once names). */
int nv_object_name_new(char out[NV_OBJECT_NAME_MAX], const char *id);
/* Parses an object name; id and nonce may be NULL. NV_EMISMATCH, saying
 * what is wrong, for anything but the exact grammar. */
int nv_object_name_parse(const char *name, char id[NV_OBJECT_ID_HEX],
			 char nonce[NV_OBJECT_NONCE_HEX]);

/* ---- generations and manifests (section 2.4) ---- */

/* A generation as 20 digits, zero-padded, so that names sort in generation order. */
void nv_generation_format(char out[NV_GENERATION_MAX], uint64_t gen);
/* Exactly 20 decimal digits (s need not end after them) that fit 64 bits. */
int nv_generation_parse(uint64_t *gen, const char *s);
/* "manifests/<generation>.json" */
void nv_manifest_name(char out[NV_MANIFEST_NAME_MAX], uint64_t gen);
/* The generation a manifest's key names; NV_EMISMATCH for any other key
 * (a signature, a stray file, 19 or 21 digits). */
int nv_manifest_name_parse(uint64_t *gen, const char *name);
/* name + ".sig": where the signature of name is stored. */
int nv_signature_name(char out[NV_SIGNED_NAME_MAX], const char *name);

/* ---- a sharded push's run (section 2.9) ---- */

/* A run id usable as a folder of the vault: 1 to NV_RUN_ID_MAX letters,
 * digits, '.', '_' or '-', and neither "." nor "..". NV_EINVAL saying why. */
int nv_run_id_check(const char *run);
/* "runs/<run>/run.json": the per-run key's document. */
int nv_run_doc_name(char out[NV_RUN_NAME_MAX], const char *run);
/* "runs/<run>/shard-<k>-of-<n>.age": shard k's partial catalog. */
int nv_partial_name(char out[NV_RUN_NAME_MAX], const char *run, unsigned k, unsigned n);
/* The shard a key of run's folder names as a partial catalog, exactly the
 * form above (decimal numbers without leading zeros, k < n); NV_EMISMATCH for
 * any other key. */
int nv_partial_name_parse(const char *key, const char *run, unsigned *k, unsigned *n);
/* The key that authenticates partial catalogs: HMAC-SHA256(K_id,
 * "navette-partial-v1\n"). Its MAC of a catalog's body is HMAC-SHA256 under it. */
void nv_partial_key(unsigned char out[NV_KID_LEN], const unsigned char kid[NV_KID_LEN]);
/* HMAC-SHA256(key, buf): the partial catalog's MAC under nv_partial_key. */
void nv_partial_mac(unsigned char out[NV_SHA256_LEN], const unsigned char key[NV_KID_LEN],
		    const void *buf, size_t len);
/* The same MAC over bytes given in pieces (a partial catalog written or read
 * as a stream): begin, update, then end (which frees it and wipes the key).
 * NULL from begin when out of memory. */
typedef struct nv_partial_hmac nv_partial_hmac;
nv_partial_hmac *nv_partial_mac_begin(const unsigned char key[NV_KID_LEN]);
void nv_partial_mac_update(nv_partial_hmac *h, const void *buf, size_t len);
void nv_partial_mac_end(nv_partial_hmac *h, unsigned char out[NV_SHA256_LEN]);

/* ---- this host's state (section 4), relative to the state root ---- */

typedef enum nv_vstate {
	NV_VSTATE_PINS,    /* pins              the directory of pins (arg unused) */
	NV_VSTATE_PIN,     /* pins/<vault_id>.json */
	NV_VSTATE_SEEN,    /* seen/<vault_id>   highest generation seen */
	NV_VSTATE_BOUND,   /* bound/<64 hex>    arg: SHA-256 (hex) of a location */
	NV_VSTATE_KID,     /* push/<vault_id>/kid */
	NV_VSTATE_CACHE,   /* push/<vault_id>/cache.tsv */
	NV_VSTATE_LANDED,  /* push/<vault_id>/landed.tsv */
	NV_VSTATE_PENDING, /* push/<vault_id>/pending    the manifest being published */
	NV_VSTATE_LAST,    /* push/<vault_id>/last       the last catalog body published */
	NV_VSTATE_LOCK,    /* push/<vault_id>/lock */
	NV_VSTATE_CANARY,  /* push/<vault_id>/canary     the canary files push made */
	NV_VSTATE_DRILL,   /* pins/<vault_id>.drill  the drill document pinned: serial, SHA-256 */
	NV_VSTATE_RUNS,    /* push/<vault_id>/runs       the per-run identities publish keeps */
} nv_vstate;

/* The state file's name relative to the state root. NV_EINVAL when arg is not
 * a vault id (32 hex digits), or for BOUND 64 hex digits: a name from a
 * store never reaches outside its directory. */
int nv_vstate_name(char *out, size_t cap, nv_vstate which, const char *arg);
/* The same under the state root, its parent directories created (0700). What
 * one push keeps to itself (cache, landed objects, pending, last, the push
 * lock) is under a shard's own folder when one is set (util/state.h): the
 * shards of one run never share it; K_id, the canaries and the per-run
 * identities stay at the root. */
int nv_vstate_path(char *out, size_t cap, nv_vstate which, const char *arg);
/* The vault id a file name in the pins directory names ("<vault_id>.json");
 * NV_EMISMATCH for any other name. */
int nv_vstate_pin_parse(char vault_id[NV_VAULT_ID_HEX], const char *filename);

#endif
