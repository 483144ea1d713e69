/* list_guard.h: the check a paged listing (S3 ListObjectsV2, Azure List Blobs)
 * makes of every page, so that a server paging forever stops the listing with
 * an error instead of looping. Only drivers/ include it.
 *
 * A listing stops (NV_ERR, a message naming what was listed and the server) when
 * - a page hands back a continuation token (marker) that an earlier page gave;
 * - NV_LIST_IDLE_MAX truncated pages in a row hold no key (a few empty pages are
 *   legal: Azure may answer a page with no blob and a NextMarker);
 * - a page's keys do not advance: with ordered keys (byte order across pages,
 *   as S3 and Azure list), a page whose last key is not past the previous page's
 *   last key; unordered (list_sort), a page holding no key listed before it.
 * None of this costs a request; the memory is 8 bytes per page (and per key when
 * unordered, where every key is held anyway). */
#ifndef NV_DRIVERS_LIST_GUARD_H
#define NV_DRIVERS_LIST_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define NV_LIST_IDLE_MAX 100u

/* A set of 64-bit hashes (open addressing). */
typedef struct nv_hash_set {
	uint64_t *v;
	size_t n, cap;
} nv_hash_set;

typedef struct nv_list_guard {
	int ordered;          /* keys come in byte order across pages */
	nv_hash_set tokens;   /* hashes of the tokens handed out so far */
	nv_hash_set keys;     /* unordered: hashes of the keys listed so far */
	nv_sb prev_last;      /* ordered: the previous page's last key */
	nv_sb page_last;      /* ordered: this page's last key so far (reused: no
	                       * allocation per key) */
	size_t page_keys;     /* keys in this page */
	size_t page_new;      /* of which never listed before (unordered) */
	unsigned idle;        /* truncated pages in a row without a key */
	unsigned pages;
	unsigned pages_with_keys;
} nv_list_guard;

/* Zeroes g; ordered as above. */
void nv_list_guard_init(nv_list_guard *g, int ordered);
/* Every key of the page, as listed (before any filtering), in order. 0 or NV_ERR
 * (out of memory, message set). */
int nv_list_guard_key(nv_list_guard *g, const char *key, size_t len);
/* The page is being fetched again (a retry after part of it was read): forgets
 * its keys so far. Ordered listings only (unordered ones read a page whole
 * before looking at its keys). */
void nv_list_guard_restart(nv_list_guard *g);
/* After the page: truncated as the server said, token the next page's token or
 * marker (NULL or "" when none). 0 when the listing may go on; else NV_ERR with
 * the message "<what>: <why> (the server would page forever)". */
int nv_list_guard_page(nv_list_guard *g, int truncated, const char *token, const char *what);
void nv_list_guard_free(nv_list_guard *g);

#endif
