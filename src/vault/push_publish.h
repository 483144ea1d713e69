/* push_publish.h: the end of a push (docs/FORMAT.md 2.6): the catalog object,
 * the manifest that claims the generation, its signature and the heartbeat;
 * and the completion of a generation a killed push left unsigned.
 * Called by vault_push.c and publish.c (a sharded push's one generation);
 * calls push_state.c, canary_push.c and vault.c, never either caller. */
#ifndef NV_PUSH_PUBLISH_H
#define NV_PUSH_PUBLISH_H

#include "canary_push.h"
#include "push_catalog.h"
#include "push_state.h"
#include "ssh/sshkey.h"
#include "vault.h"

typedef struct nv_publisher {
	nv_vault *v;
	nv_store *s;          /* the vault's store, this thread's connection */
	const nv_sshkey *sk;  /* the vault's signing key */
	nv_push_state *ps;
	const nv_canary_set *canary; /* NULL: no canary files (no drill recipient) */
	int check_catalog;    /* parse the catalog as a reader would before storing it:
			       * files merged from several hosts (publish) could name
			       * one path as a file and a directory */
	int no_cache;         /* publish: the files are the shards', not this host's:
			       * its cache is left as it is */
} nv_publisher;

/* If the newest manifest is the one this host recorded as pending but is
 * unsigned (a push killed between the manifest and its signature), signs it
 * and refreshes the heartbeat. Otherwise only forgets the record. */
int nv_push_complete_pending(const nv_publisher *pb);

/* Publishes the files of recs (sorted: nv_push_recs_sort; none failed) as
 * generation prev_gen + 1, chained to the manifest of prev_gen whose SHA-256
 * is prev_sha; with pb->canary, also the canary files and their catalog
 * (FORMAT.md 2.8). The catalog and the manifest are written as streams from
 * recs, and (unless pb->no_cache) the next cache beside them, committed when
 * this returns 0. A
 * tree equal to the last one published only refreshes the heartbeat:
 * *published is then 0 and *gen prev_gen. NV_EEXISTS when another pusher
 * claimed the generation meanwhile. */
int nv_push_publish(const nv_publisher *pb, nv_push_recs *recs, uint64_t prev_gen,
		    const unsigned char prev_sha[NV_SHA256_LEN], uint64_t *gen, int *published);

/* A dry run's question: would nv_push_publish publish recs as a new
 * generation (1 in *publish), or only refresh the heartbeat (0)? Every file
 * must name its object already (none would be uploaded). Writes nothing. */
int nv_push_would_publish(const nv_publisher *pb, nv_push_recs *recs, uint64_t prev_gen,
			  int *publish);

#endif
