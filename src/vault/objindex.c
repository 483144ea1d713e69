/* objindex.c: a sorted array of id prefixes in memory over fixed-size records
 * in an anonymous file. Called through objindex.h. */
#include "objindex.h"
#include "util/runs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One object as kept in the file. */
typedef struct nv_objrec_disk {
	unsigned char id[NV_SHA256_LEN];
	char nonce[NV_OBJECT_NONCE_HEX - 1];
	uint64_t size;
	unsigned char sha[NV_SHA256_LEN];
} nv_objrec_disk;

struct nv_objindex {
	FILE *f;
	uint64_t *key;   /* the first 64 bits of each id, in file order (ascending) */
	size_t n, cap;
};

static uint64_t nv_key_of(const unsigned char id[NV_SHA256_LEN])
{
	uint64_t k = 0;

	for (int i = 0; i < 8; i++)
		k = k << 8 | id[i];
	return k;
}

static int nv_objindex_add(nv_objindex *x, const nv_obj_rec *r)
{
	char id[NV_OBJECT_ID_HEX], nonce[NV_OBJECT_NONCE_HEX];
	nv_objrec_disk d;

	if (nv_object_name_parse(r->name, id, nonce) != 0)
		return nv_error_set(NV_EMISMATCH, "manifest: %s is not an object name", r->name);
	memset(&d, 0, sizeof(d));
	if (nv_unhex(d.id, sizeof(d.id), id))
		return nv_error_set(NV_EMISMATCH, "manifest: %s is not an object name", r->name);
	memcpy(d.nonce, nonce, sizeof(d.nonce));
	d.size = r->size;
	memcpy(d.sha, r->sha256, NV_SHA256_LEN);
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1024;
		uint64_t *g = realloc(x->key, cap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		x->key = g;
		x->cap = cap;
	}
	x->key[x->n] = nv_key_of(d.id);
	if (x->n && x->key[x->n] < x->key[x->n - 1])
		return nv_error_set(NV_EMISMATCH, "manifest: objects out of order");
	x->n++;
	if (fwrite(&d, sizeof(d), 1, x->f) != 1)
		return nv_error_errno(errno, "writing the index of the previous generation");
	return 0;
}

int nv_objindex_build(nv_objindex **out, nv_mread *r)
{
	nv_objindex *x = calloc(1, sizeof(*x));
	nv_obj_rec rec;
	int rc, fd = -1;

	*out = NULL;
	if (!x)
		return nv_error_set(NV_ERR, "out of memory");
	if (!(rc = nv_runs_tmpfile(&fd)) && !(x->f = fdopen(fd, "w+"))) {
		rc = nv_error_errno(errno, "opening the index of the previous generation");
		close(fd);
	}
	if (!rc && r && !(rc = nv_mread_rewind(r))) {
		while ((rc = nv_mread_next(r, &rec)) == 0)
			if ((rc = nv_objindex_add(x, &rec)))
				break;
		if (rc == NV_EOF)
			rc = 0;
	}
	if (!rc && fflush(x->f) != 0)
		rc = nv_error_errno(errno, "writing the index of the previous generation");
	if (rc) {
		nv_objindex_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

/* The first object of this id (and this nonce, unless NULL). */
static int nv_objindex_find(const nv_objindex *x, const char *id_hex, const char *want_nonce,
			    nv_obj_rec *out, char name[NV_OBJECT_NAME_MAX])
{
	unsigned char id[NV_SHA256_LEN];
	size_t lo = 0, hi = x->n;
	uint64_t k;

	if (strlen(id_hex) != NV_OBJECT_ID_HEX - 1 || nv_unhex(id, sizeof(id), id_hex))
		return 0;
	k = nv_key_of(id);
	while (lo < hi) { /* the first key >= k */
		size_t mid = lo + (hi - lo) / 2;

		if (x->key[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < x->n && x->key[lo] == k; lo++) {
		char nonce[NV_OBJECT_NONCE_HEX];
		nv_objrec_disk d;

		if (pread(fileno(x->f), &d, sizeof(d), (off_t)(lo * sizeof(d))) != (ssize_t)sizeof(d))
			return 0; /* unreadable: the object is stored again, never wrongly reused */
		if (memcmp(d.id, id, sizeof(id)) != 0)
			continue;
		memcpy(nonce, d.nonce, sizeof(d.nonce));
		nonce[sizeof(d.nonce)] = '\0';
		if (want_nonce && strcmp(nonce, want_nonce) != 0)
			continue;
		if (nv_object_name(name, id_hex, nonce) != 0)
			return 0;
		out->name = name;
		out->size = d.size;
		memcpy(out->sha256, d.sha, NV_SHA256_LEN);
		return 1;
	}
	return 0;
}

int nv_objindex_find_id(const nv_objindex *x, const char *id_hex, nv_obj_rec *out,
			char name[NV_OBJECT_NAME_MAX])
{
	return nv_objindex_find(x, id_hex, NULL, out, name);
}

int nv_objindex_find_name(const nv_objindex *x, const char *obj, nv_obj_rec *out,
			  char name[NV_OBJECT_NAME_MAX])
{
	char id[NV_OBJECT_ID_HEX], nonce[NV_OBJECT_NONCE_HEX];

	if (nv_object_name_parse(obj, id, nonce) != 0) {
		nv_error_clear();
		return 0;
	}
	return nv_objindex_find(x, id, nonce, out, name);
}

void nv_objindex_free(nv_objindex *x)
{
	if (!x)
		return;
	if (x->f)
		fclose(x->f);
	free(x->key);
	free(x);
}
