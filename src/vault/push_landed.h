/* push_landed.h: push/<vault_id>/landed.tsv, the objects that reached the
 * store but no published manifest yet, indexed by id with 16 bytes of memory
 * per object (the records stay in the file, read back by pread). Called by
 * push_state.c only (push_state.h says who uses it). */
#ifndef NV_PUSH_LANDED_H
#define NV_PUSH_LANDED_H

#include "vault_doc.h"

typedef struct nv_landed nv_landed;

/* Reads path (each valid line indexed; a file others may access is ignored)
 * and opens it for appending; readonly (a dry run): path is only read, and
 * what is added goes to an anonymous file (util/runs.h) instead. */
int nv_landed_open(nv_landed **out, const char *path, int readonly);
/* 1 with *out (its name copied to name) when id landed, else 0 (also when
 * its line cannot be read back: the object is then uploaded again). */
int nv_landed_find(const nv_landed *l, const char *id, nv_obj_rec *out,
		   char name[NV_OBJECT_NAME_MAX]);
/* Appends rec (flushed: a killed push loses none) and indexes it; the latest
 * record of an id replaces an earlier one. */
int nv_landed_add(nv_landed *l, const char *id, const nv_obj_rec *rec);
/* Calls fn on each record in the order they landed (an id landed twice comes
 * twice), read back by pread; the first error fn returns stops it. */
int nv_landed_each(const nv_landed *l, int (*fn)(void *ctx, const char *id, const nv_obj_rec *r),
		   void *ctx);
/* Rewrites the file without the records whose id drop says (1) are now named
 * by a published manifest; nothing when none is. */
int nv_landed_drop(nv_landed *l, int (*drop)(void *ctx, const char *id), void *ctx);
/* A manifest naming them was published: the file starts over. */
void nv_landed_reset(nv_landed *l);
void nv_landed_close(nv_landed *l);

#endif
