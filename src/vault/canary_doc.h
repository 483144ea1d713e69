/* canary_doc.h: the drill document navette-drill.json (docs/FORMAT.md 2.8): who,
 * besides the owner, may decrypt a vault's canary files. Built and parsed strictly
 * here (jansson stays inside canary_doc.c). Called by canary.c and its tests. */
#ifndef NV_CANARY_DOC_H
#define NV_CANARY_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

#define NV_DRILL_RECIPIENTS_MAX 64

typedef struct nv_drill_doc {
	char vault_id[NV_VAULT_ID_HEX];
	uint64_t serial;       /* 1 for the first document, +1 for each change */
	char time[32];         /* when it was written (RFC 3339 UTC) */
	char **recipients;     /* "age1..." strings, sorted, unique; may be none */
	size_t n_recipients;
} nv_drill_doc;

/* One JSON line with sorted keys and its newline; *out malloc'd. The
 * recipients must already be sorted and unique. */
int nv_drill_doc_format(char **out, size_t *len, const nv_drill_doc *d);
/* Strict parse of exactly one line: type "drill", version 1, a vault id, a
 * serial from 1, a time, at most NV_DRILL_RECIPIENTS_MAX recipients in strictly
 * increasing byte order. NV_EMISMATCH naming what is wrong. */
int nv_drill_doc_parse(nv_drill_doc *out, const char *buf, size_t len);
void nv_drill_doc_clear(nv_drill_doc *d);

#endif
