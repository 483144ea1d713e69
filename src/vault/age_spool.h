/* age_spool.h: an age file read line by line without being held: its stored
 * bytes spooled to an anonymous file (util/runs.h) as they are fetched, so
 * that they are checked before anything is decrypted, then decrypted a chunk
 * at a time and handed out as lines, in as many passes as asked. Called by
 * catalog_read.c and partial.c. */
#ifndef NV_AGE_SPOOL_H
#define NV_AGE_SPOOL_H

#include "age/age.h"
#include "driver/driver.h"
#include "util/hash.h"

typedef struct nv_agespool nv_agespool;

/* Fetches key through s into a new spool, reading at most one byte past max
 * (so *size > max says the object is bigger); *size and sha: what the store
 * gave. what names the file in messages ("the catalog objects/..."). */
int nv_agespool_fetch(nv_agespool **out, nv_store *s, const char *key, uint64_t max,
		      const char *what, uint64_t *size, unsigned char sha[NV_SHA256_LEN]);
/* Starts a pass: decrypts with id from the spool's first byte. */
int nv_agespool_start(nv_agespool *r, const nv_age_identity *id);
/* The next line with its '\n', in [*line, *end): 1, valid until the next
 * call; 0 at the end of the plaintext, with *rc 0, or *rc an error (a
 * decryption failure, NV_EMISMATCH for a last line without its newline). */
int nv_agespool_line(nv_agespool *r, const char **line, const char **end, int *rc);
/* 1 when the error of the pass was the plaintext's failure to decrypt (a
 * wrong identity, bytes altered), not a missing newline or a spool's. */
int nv_agespool_undecryptable(const nv_agespool *r);
/* Wipes what was decrypted. Accepts NULL. */
void nv_agespool_free(nv_agespool *r);

#endif
