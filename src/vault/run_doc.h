/* run_doc.h: the documents of a sharded push (docs/FORMAT.md 2.9): the per-run
 * key's runs/<run>/run.json and the lines of a partial catalog, built and
 * parsed strictly (jansson stays inside run_doc.c). Called by run_key.c,
 * partial.c and their tests. */
#ifndef NV_RUN_DOC_H
#define NV_RUN_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "age/age.h"
#include "vault_doc.h"

/* runs/<run>/run.json: one JSON line, signed in namespace navette-run. */
typedef struct nv_run_doc {
	char vault_id[NV_VAULT_ID_HEX];
	char run[NV_RUN_ID_MAX + 1];
	char recipient[NV_AGE_RECIPIENT_MAX]; /* "age1...": the per-run key */
	char time[32];                        /* when it was written */
} nv_run_doc;

/* One line with its newline; *out malloc'd. */
int nv_run_doc_format(char **out, size_t *len, const nv_run_doc *d);
/* Strict parse of exactly one line: type "run", version 1, a vault id, a run
 * id (nv_run_id_check), an age recipient, a time. NV_EMISMATCH otherwise. */
int nv_run_doc_parse(nv_run_doc *out, const char *buf, size_t len);

/* A partial catalog's header line: which vault, run, run key and shard. */
typedef struct nv_partial_head {
	char vault_id[NV_VAULT_ID_HEX];
	char run[NV_RUN_ID_MAX + 1];
	char recipient[NV_AGE_RECIPIENT_MAX];
	unsigned shard, shards;               /* shard K of N */
} nv_partial_head;

/* Each builder returns one line ending in '\n' (malloc'd), NULL when out of
 * memory or, for a file, a name that is not UTF-8. */
char *nv_partial_head_line(const nv_partial_head *h);
/* A file: its catalog line's fields (section 2.3) and, as stored_size and
 * stored_sha256, the size and SHA-256 of its object's stored bytes. */
char *nv_partial_file_line(const nv_cat_entry *e, const nv_obj_rec *obj);
/* The last line: the MAC of every byte before it. */
char *nv_partial_end_line(const unsigned char mac[NV_SHA256_LEN]);

/* Parsers of one line (len bytes, without its newline), NV_EMISMATCH naming
 * what is wrong. A file line's path must be a safe key and its object a
 * well-formed object name: e->path and obj->name are malloc'd, e->object
 * points at obj->name. */
int nv_partial_head_parse(nv_partial_head *out, const char *line, size_t len);
int nv_partial_file_parse(nv_cat_entry *e, nv_obj_rec *obj, const char *line, size_t len);
int nv_partial_end_parse(unsigned char mac[NV_SHA256_LEN], const char *line, size_t len);

#endif
