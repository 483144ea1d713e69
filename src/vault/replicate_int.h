/* replicate_int.h: what the replication's files share: the verified source
 * (documents kept as their exact bytes), the object plan, the copier.
 * Only src/vault/replicate*.c include it. */
#ifndef NV_REPLICATE_INT_H
#define NV_REPLICATE_INT_H

#include "vault.h"
#include "util/exit.h"

struct nv_replicate_opts;  /* replicate.h: not included, so that replicate.c */
struct nv_replicate_stats; /* and this header do not include each other */

/* A signed document exactly as stored: body and signature bytes. */
typedef struct nv_rdoc {
	unsigned char *body, *sig;
	size_t body_len, sig_len;
} nv_rdoc;

/* One generation of the source, verified. */
typedef struct nv_rgen {
	uint64_t gen;
	nv_rdoc doc;
	unsigned char sha[NV_SHA256_LEN];
	nv_manifest m;
	int at_dst;      /* the destination holds byte-identical manifest bytes */
} nv_rgen;

typedef enum nv_robj_act {
	NV_ROBJ_COPY,    /* absent at the destination */
	NV_ROBJ_CHECK,   /* present with the right size: hash it (--verify hash) */
	NV_ROBJ_REPAIR,  /* present with another size: remove, then copy */
} nv_robj_act;

typedef struct nv_robj {
	const nv_obj_rec *rec;   /* points into a source manifest */
	nv_robj_act act;
} nv_robj;

/* Fetches key and key.sig from s and verifies the signature with signer in
 * namespace ns. NV_ENOTFOUND when key is absent; NV_EMISMATCH for a missing or
 * bad signature. */
int nv_rdoc_fetch(nv_store *s, const nv_sshkey *signer, const char *key, const char *ns,
		  size_t max, nv_rdoc *out);
void nv_rdoc_clear(nv_rdoc *d);
/* Writes d at key: the signature first, then the body (exclusive when asked:
 * an existing body must then be byte-equal, else NV_EMISMATCH). */
int nv_rdoc_publish(nv_store *s, const char *key, const nv_rdoc *d, int exclusive);

/* Copies objs[0..n) from src to dst on the pool; adds to st. */
int nv_replicate_objects(const nv_location *src, const nv_location *dst, nv_robj *objs,
			 size_t n, const struct nv_replicate_opts *o,
			 struct nv_replicate_stats *st, nv_outcome *out);

#endif
