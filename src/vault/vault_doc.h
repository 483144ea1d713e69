/* vault_doc.h: the vault's JSON documents (docs/FORMAT.md section 2): the
 * descriptor, transport manifests, catalogs and the heartbeat, built and parsed
 * strictly. Called by the vault modules; jansson stays inside vault_doc.c. */
#ifndef NV_VAULT_DOC_H
#define NV_VAULT_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "format.h"
#include "util/hash.h"

typedef struct nv_descriptor {
	char vault_id[NV_VAULT_ID_HEX];
	char created[32];
	char **recipients;     /* "age1..." strings, sorted */
	size_t n_recipients;
	char *signing_key;     /* "ssh-ed25519 AAAA..." */
	char *kid_age;         /* base64 of the age-encrypted K_id */
} nv_descriptor;

int nv_descriptor_format(char **out, size_t *len, const nv_descriptor *d);
/* A pin (local state): vault id, recipients and signing key of a descriptor. */
int nv_pin_format(char **out, size_t *len, const nv_descriptor *d);
int nv_pin_parse(nv_descriptor *out, const char *buf, size_t len);
/* Same vault id, recipients and signing key. */
int nv_descriptor_matches_pin(const nv_descriptor *d, const nv_descriptor *pin);
int nv_descriptor_parse(nv_descriptor *out, const char *buf, size_t len);
void nv_descriptor_clear(nv_descriptor *d);

typedef struct nv_obj_rec {
	char *name;                        /* "objects/ab/<id>.<nonce>.age" */
	uint64_t size;                     /* stored bytes */
	unsigned char sha256[NV_SHA256_LEN]; /* of the stored bytes */
} nv_obj_rec;

typedef struct nv_manifest {
	char vault_id[NV_VAULT_ID_HEX];
	uint64_t generation;
	char time[32];
	char previous[NV_SHA256_HEX]; /* "" for generation 1 */
	char *catalog;
	char *canary;                 /* the canary catalog (section 2.8), or NULL */
	nv_obj_rec *objs;             /* sorted by name */
	size_t n;
	uint64_t bytes;
} nv_manifest;

/* Appends (to *out, growing; NULL and 0 to start) the header line of m, with
 * m->n and m->bytes as given, and one object line: a manifest of a million
 * objects is written line by line (push_publish.c). */
int nv_manifest_head_line(char **out, size_t *len, const nv_manifest *m);
int nv_manifest_obj_line(char **out, size_t *len, const nv_obj_rec *r);
/* Sorts m->objs by name (refusing duplicates) and writes the JSON Lines. */
int nv_manifest_format(char **out, size_t *len, nv_manifest *m);
/* Strict parse: header first, objects sorted and unique, counts and byte total
 * matching, the catalog (and the canary catalog, if named) among the objects.
 * Other header fields are ignored: that is how older readers read newer vaults. */
int nv_manifest_parse(nv_manifest *out, const char *buf, size_t len);
/* The same in pieces, for a manifest read as a stream (manifest_read.c):
 * the header line at *p (total: the manifest's length, which bounds the
 * count), leaving the header's object count and byte total in out->n and
 * out->bytes; then each object line, which must sort after `after` (NULL for
 * the first). *p moves past the line; r->name points to name. */
int nv_manifest_parse_head(nv_manifest *out, const char **p, const char *end, uint64_t total);
int nv_manifest_parse_obj(const char **p, const char *end, nv_obj_rec *r,
			  char name[NV_OBJECT_NAME_MAX], const char *after, size_t lineno);
void nv_manifest_clear(nv_manifest *m);
const nv_obj_rec *nv_manifest_find(const nv_manifest *m, const char *name);
/* An object whose name carries this id (64 hex), or NULL. */
const nv_obj_rec *nv_manifest_find_id(const nv_manifest *m, const char *id_hex);

typedef struct nv_cat_entry {
	char *path;
	uint64_t size;
	unsigned char sha256[NV_SHA256_LEN]; /* of the plaintext */
	uint32_t mode;
	int64_t mtime;
	int32_t mtime_ns;
	char *object;
} nv_cat_entry;

/* The header's type of the catalog and of the canary catalog (section 2.8). */
#define NV_CATALOG_TYPE "catalog"
#define NV_CANARY_CATALOG_TYPE "canary-catalog"

typedef struct nv_catalog {
	const char *type;  /* writing: NULL for NV_CATALOG_TYPE */
	char vault_id[NV_VAULT_ID_HEX];
	uint64_t generation;
	nv_cat_entry *e;   /* sorted by path */
	size_t n;
} nv_catalog;

/* One catalog line (with '\n'); the header line when e is NULL. malloc'd. */
char *nv_catalog_line(const nv_catalog *head, const nv_cat_entry *e);
/* Strict parse: header, paths valid keys, sorted, unique, no file that is also
 * a directory of another path. */
int nv_catalog_parse(nv_catalog *out, const char *buf, size_t len);
/* The same for a catalog whose header has this type. */
int nv_catalog_parse_type(nv_catalog *out, const char *buf, size_t len, const char *type);
/* The same in pieces, for a catalog read as a stream (catalog_read.c): the
 * header line at *p, then each entry line (path and object malloc'd), which
 * must sort after prev (NULL for the first; idx counts from 1 for messages).
 * The file/directory clash of non-adjacent paths is the stream's to check. */
int nv_catalog_parse_head(nv_catalog *out, const char **p, const char *end, const char *type);
int nv_catalog_parse_entry(const char **p, const char *end, nv_cat_entry *e, const char *prev,
			   size_t idx);
void nv_catalog_clear(nv_catalog *c);

typedef struct nv_heartbeat {
	char vault_id[NV_VAULT_ID_HEX];
	uint64_t generation;
	char manifest_sha256[NV_SHA256_HEX];
	char time[32];
} nv_heartbeat;

int nv_heartbeat_format(char **out, size_t *len, const nv_heartbeat *h);
int nv_heartbeat_parse(nv_heartbeat *out, const char *buf, size_t len);

/* RFC 3339 UTC with Z; and back (NV_EINVAL if malformed). */
void nv_time_format(char out[32], time_t t);
int nv_time_parse(time_t *out, const char *s);

#endif
