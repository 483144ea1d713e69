/* canary_push.h: a push's canary files (docs/FORMAT.md 2.8): when the vault's
 * drill document names drill recipients, a few small files encrypted to the
 * owner's recipients and the drill recipients, under object ids of their own
 * domain, listed by a canary catalog the manifest names. Called by
 * vault_push.c and publish.c (prepare, free) and push_publish.c (files,
 * catalog). */
#ifndef NV_CANARY_PUSH_H
#define NV_CANARY_PUSH_H

#include "objindex.h"
#include "push_state.h"
#include "vault.h"

/* The generated canaries' sizes: under one age chunk, exactly one, several
 * with a partial last one. */
#define NV_CANARY_SIZES { 1024, 65536, 204801 }
/* A canary named in the config is read whole: at most this many bytes. */
#define NV_CANARY_MAX (16u << 20)

typedef struct nv_canary_set nv_canary_set;

/* Reads the drill document (canary.h). Without one, or with no drill
 * recipient, *out is NULL and the push goes on as before (a pinned document
 * that is missing is logged). A document that does not verify or is rolled
 * back is an error (NV_EMISMATCH): nothing is pushed. Otherwise takes the
 * canary files (canary = p1, p2 in the vault location's settings: paths
 * relative to the pushed directory src; else, or when src is NULL (publish),
 * the generated ones, kept in this host's state) and stores each object not already in prev or landed,
 * through s (this thread's connection to the vault). A dry run stores none
 * and writes no generated canary into the state: it counts the objects it
 * would store (nv_canary_uploaded) and names them NV_PUSH_DRY_NAME. */
int nv_canary_prepare(nv_canary_set **out, nv_vault *v, nv_push_state *ps, nv_store *s,
		      const nv_location *src, const nv_objindex *prev, int dry_run);
/* The canary files with their catalog lines and objects, sorted by path. */
nv_push_file *const *nv_canary_files(const nv_canary_set *c, size_t *n);
/* Stores a canary catalog's plaintext as an object of the canary domain,
 * encrypted to the owner's and the drill recipients. */
int nv_canary_put_catalog(const nv_canary_set *c, const void *plain, size_t len,
			  nv_obj_rec *out);
/* How many canary objects this push uploaded (a dry run: would upload). */
uint64_t nv_canary_uploaded(const nv_canary_set *c);
/* Accepts NULL. */
void nv_canary_free(nv_canary_set *c);

#endif
