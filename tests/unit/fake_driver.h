/* fake_driver.h: in-memory stores behind the driver interface, counting every
 * call that reaches them, for unit tests of the engine and the vault without a
 * server (libgit2's fake backend). Faults come from the one fault layer
 * (driver/fault.h), not from here. Called by the unit tests only.
 *
 * What a store keeps: a key -> bytes map listed in byte order (one page),
 * mtime and mode per key, exclusive writes (NV_EEXISTS), remove and, when a
 * batch size is set, remove_many; a write may be retargeted to another key
 * before its commit (the call is not counted). It leaves out: ctime and inode, partial
 * visibility (a commit is atomic and durable), credentials. One mutex guards
 * every store: the pool's workers call it at once. */
#ifndef NV_FAKE_DRIVER_H
#define NV_FAKE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "driver/driver.h"

typedef struct nv_fake nv_fake;

typedef enum nv_fake_slot {
	NV_FAKE_OPEN,
	NV_FAKE_LIST,        /* one per list_open (its key: the prefix) */
	NV_FAKE_STAT,
	NV_FAKE_READ,
	NV_FAKE_WRITE_OPEN,
	NV_FAKE_WRITE,
	NV_FAKE_COMMIT,      /* commits that reached the store, refused ones included */
	NV_FAKE_ABORT,       /* also a commit the fault layer failed before the store */
	NV_FAKE_REMOVE,
	NV_FAKE_REMOVE_MANY, /* one per request (its key: the batch's first) */
	NV_FAKE_FLUSH,
	NV_FAKE_SLOTS
} nv_fake_slot;

/* A new empty store; name (unique among live stores) is its location's path,
 * so nv_fake_location() and any nv_location naming it reach it. */
nv_fake *nv_fake_new(const char *name);
/* Frees the store; its connections must be closed. Accepts NULL. */
void nv_fake_free(nv_fake *f);
/* The location of the store (driver "fake", text "fake:NAME"), owned by it. */
const nv_location *nv_fake_location(const nv_fake *f);

/* Sets key to len bytes (mode 0644, the given mtime), as a store of another
 * writer would hold them: no call is counted. */
void nv_fake_put(nv_fake *f, const char *key, const void *buf, size_t len, int64_t mtime);
/* nv_fake_put of a NUL-terminated string with mtime 1000. */
void nv_fake_put_str(nv_fake *f, const char *key, const char *text);
/* A malloc'd copy of the bytes under key (NUL-terminated beyond *len), NULL if absent. */
unsigned char *nv_fake_get(nv_fake *f, const char *key, size_t *len);
/* Inverts the byte at offset of key (a tampered store); -1 if there is none. */
int nv_fake_flip(nv_fake *f, const char *key, size_t offset);
/* How many keys start with prefix ("" for all). */
size_t nv_fake_keys(nv_fake *f, const char *prefix);
/* The i-th key (byte order) starting with prefix, malloc'd; NULL past the end. */
char *nv_fake_key_at(nv_fake *f, const char *prefix, size_t i);

/* Calls of slot that reached the store since the last reset, on keys
 * starting with prefix ("" for every call). */
unsigned nv_fake_calls(nv_fake *f, nv_fake_slot slot, const char *prefix);
/* The same for exactly one key. */
unsigned nv_fake_key_calls(nv_fake *f, nv_fake_slot slot, const char *key);
void nv_fake_reset_calls(nv_fake *f);
/* Reads of exactly key at offset 0 since the last reset: each pass over an
 * object starts there (an HTTP GET of it from its start). */
unsigned nv_fake_read_starts(nv_fake *f, const char *key);
/* Bytes the reads of exactly key were served since the last reset. */
uint64_t nv_fake_read_bytes(nv_fake *f, const char *key);
/* From its nth read on (n from 1; with at_start, counting only reads at offset
 * 0), key holds len bytes of buf instead: a store that serves other bytes to
 * a later request for the same object. One replacement is pending at a time;
 * a new one replaces it. */
void nv_fake_replace_at_read(nv_fake *f, const char *key, const void *buf, size_t len,
			     unsigned nth, int at_start);

/* remove_many takes up to n keys a request; 0 (the default) removes it from
 * the table: one remove per key. Set it before opening connections. */
void nv_fake_set_batch(nv_fake *f, size_t n);
/* Disorder mode: listings return these keys in this order (repeats allowed;
 * those absent from the map are left out), as a store breaking its contract
 * would. NULL: byte order again. */
void nv_fake_disorder(nv_fake *f, const char *const *keys);
/* Every read sleeps ms first (0: none), as a slow store would: a run then
 * lasts long enough for something to happen meanwhile (a lease renewal). */
void nv_fake_slow_reads(nv_fake *f, unsigned ms);
/* Commits of keys starting with prefix fail with NV_EPERM from now on, as a
 * store that stopped accepting them would (NULL: accept again). */
void nv_fake_refuse_writes(nv_fake *f, const char *prefix);

#endif
