/* objindex.h: the objects of one generation by id, for a push's
 * deduplication against the generation it chains from: 8 bytes of memory per
 * object (the first 64 bits of its id, sorted), the records themselves in an
 * anonymous file (util/runs.h) read back by pread. Called by vault_push.c,
 * canary_push.c and pull_paged.c (which finds each file's object by name). */
#ifndef NV_OBJINDEX_H
#define NV_OBJINDEX_H

#include "manifest_read.h"

typedef struct nv_objindex nv_objindex;

/* Every object line of r (read from its first), which come sorted by name,
 * so by id. An empty index when r is NULL (an empty vault). */
int nv_objindex_build(nv_objindex **out, nv_mread *r);
/* 1 with *out (its name written to name) for the first object whose name
 * carries this id, as nv_manifest_find_id; 0 when none. Thread-safe. */
int nv_objindex_find_id(const nv_objindex *x, const char *id_hex, nv_obj_rec *out,
			char name[NV_OBJECT_NAME_MAX]);
/* The same for one exact object name (nv_manifest_find). */
int nv_objindex_find_name(const nv_objindex *x, const char *obj, nv_obj_rec *out,
			  char name[NV_OBJECT_NAME_MAX]);
/* Accepts NULL. */
void nv_objindex_free(nv_objindex *x);

#endif
