/* walk.c: the sorted depth-first directory walk (see walk.h): a stack of sorted
 * directory listings. Called by drivers/local_list.c and drivers/sftp_list.c only. */
#include "walk.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* One directory on the current path. Its names live in one arena, each record
 * "name" ['/' for a directory] NUL [padding, file data]: one allocation per
 * directory however many names, and strcmp on the records sorts a directory
 * "a" as "a/" (bytes compare as unsigned char: the order the contract wants). */
struct nv_walk_dir {
	const nv_walk_ops *ops;
	intptr_t handle;   /* the driver's, from ops->list */
	size_t keylen;     /* its key prefix is the walk's key[0..keylen) */
	char *arena;
	size_t used, cap;
	char **names;      /* the records, sorted; set once listed */
	size_t n, next;
};

struct nv_list {
	const nv_walk_ops *ops;
	void *ctx;
	struct nv_walk_dir *stack;
	size_t depth, cap;
	char *key;         /* the current key: the top directory's prefix, then a name */
	size_t keycap;
	char *start;       /* the prefix it started at (for ops->done) */
	int eof, failed;   /* reached its end; returned an error on the way */
};

#define NV_WALK_ALIGN alignof(max_align_t)

static size_t nv_walk_align(size_t n)
{
	return (n + NV_WALK_ALIGN - 1) & ~(NV_WALK_ALIGN - 1);
}

int nv_walk_add(nv_walk_dir *d, const char *name, enum nv_walk_kind kind, const void *data)
{
	size_t len = strlen(name), dlen = kind == NV_WALK_FILE ? d->ops->file_data : 0;
	size_t at = d->used + len + 2, need = dlen ? nv_walk_align(at) + dlen : at;

	if (!len || !strcmp(name, ".") || !strcmp(name, "..") || memchr(name, '/', len))
		return 0;
	if (need > d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 4096;
		char *grown;

		while (ncap < need)
			ncap *= 2;
		if (!(grown = realloc(d->arena, ncap)))
			return nv_error_set(NV_ERR, "out of memory");
		d->arena = grown;
		d->cap = ncap;
	}
	memcpy(d->arena + d->used, name, len);
	d->used += len;
	if (kind == NV_WALK_DIR)
		d->arena[d->used++] = '/';
	d->arena[d->used++] = '\0';
	if (dlen) {
		d->used = nv_walk_align(d->used);
		memcpy(d->arena + d->used, data, dlen);
		d->used += dlen;
	}
	d->n++;
	return 0;
}

static int nv_walk_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records of d, sorted. */
static int nv_walk_sort(struct nv_walk_dir *d)
{
	char *p = d->arena;

	if (d->n == 0)
		return 0;
	if (!(d->names = malloc(d->n * sizeof(*d->names))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < d->n; i++) {
		size_t rec = strlen(p) + 1;

		d->names[i] = p;
		if (p[rec - 2] != '/' && d->ops->file_data)
			rec = nv_walk_align((size_t)(p - d->arena) + rec) + d->ops->file_data -
			      (size_t)(p - d->arena);
		p += rec;
	}
	qsort(d->names, d->n, sizeof(*d->names), nv_walk_name_cmp);
	return 0;
}

static void nv_walk_dir_free(nv_walk *w, struct nv_walk_dir *d)
{
	if (w->ops->release)
		w->ops->release(w->ctx, d->handle);
	free(d->arena);
	free(d->names);
}

static int nv_walk_key_room(nv_walk *w, size_t need)
{
	char *grown;

	if (need <= w->keycap)
		return 0;
	if (!(grown = realloc(w->key, need * 2)))
		return nv_error_set(NV_ERR, "out of memory");
	w->key = grown;
	w->keycap = need * 2;
	return 0;
}

/* Lists the directory whose key prefix is w->key[0..keylen) and pushes it. */
static int nv_walk_push(nv_walk *w, size_t keylen, intptr_t parent, const char *name)
{
	struct nv_walk_dir *d;
	int rc;

	if (w->depth == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 8;
		struct nv_walk_dir *grown = realloc(w->stack, ncap * sizeof(*grown));

		if (!grown)
			return nv_error_set(NV_ERR, "out of memory");
		w->stack = grown;
		w->cap = ncap;
	}
	d = &w->stack[w->depth];
	memset(d, 0, sizeof(*d));
	d->ops = w->ops;
	d->keylen = keylen;
	w->key[keylen] = '\0';
	rc = w->ops->list(w->ctx, d, w->key, parent, name, &d->handle);
	if (rc) {
		free(d->arena);
		return rc;
	}
	if ((rc = nv_walk_sort(d))) {
		nv_walk_dir_free(w, d);
		return rc;
	}
	w->depth++;
	return 0;
}

void nv_walk_close(nv_walk *w)
{
	if (!w)
		return;
	if (w->ops && w->ops->done && w->start)
		w->ops->done(w->ctx, w->start, w->eof && !w->failed);
	free(w->start);
	while (w->depth > 0)
		nv_walk_dir_free(w, &w->stack[--w->depth]);
	free(w->stack);
	free(w->key);
	free(w);
}

int nv_walk_open(nv_walk **out, const nv_walk_ops *ops, void *ctx, const char *prefix)
{
	size_t plen = strlen(prefix);
	nv_walk *w;
	int rc;

	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))) || nv_walk_key_room(w, plen + 256)) {
		free(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	w->ops = ops;
	w->ctx = ctx;
	if (!(w->start = strdup(prefix))) {
		nv_walk_close(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	memcpy(w->key, prefix, plen + 1);
	if ((rc = nv_walk_push(w, plen, 0, NULL))) {
		nv_walk_close(w);
		return rc;
	}
	*out = w;
	return 0;
}

int nv_walk_empty(nv_walk **out)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

/* The file data kept after record name of d. */
static const void *nv_walk_data(const struct nv_walk_dir *d, const char *name, size_t nlen)
{
	if (!d->ops->file_data)
		return NULL;
	return d->arena + nv_walk_align((size_t)(name - d->arena) + nlen + 1);
}

int nv_walk_next(nv_walk *w, nv_entry *out)
{
	while (w->depth > 0) {
		struct nv_walk_dir *d = &w->stack[w->depth - 1];
		size_t keylen = d->keylen, nlen;
		char *name;
		int rc;

		if (d->next == d->n) {
			nv_walk_dir_free(w, d);
			w->depth--;
			continue;
		}
		name = d->names[d->next++];
		nlen = strlen(name);
		if ((rc = nv_walk_key_room(w, keylen + nlen + 1)))
			return w->failed = rc;
		memcpy(w->key + keylen, name, nlen + 1);
		if (name[nlen - 1] == '/') {
			name[nlen - 1] = '\0'; /* the driver gets the bare name */
			rc = nv_walk_push(w, keylen + nlen, d->handle, name);
			name[nlen - 1] = '/'; /* the arena outlives a move of the stack */
			if (rc == NV_ENOTFOUND)
				nv_error_clear(); /* gone since its parent was listed */
			else if (rc)
				return w->failed = rc;
			continue;
		}
		memset(out, 0, sizeof(*out));
		rc = w->ops->file(w->ctx, d->handle, name, w->key, nv_walk_data(d, name, nlen),
				  out);
		if (rc == 1)
			continue;
		if (rc)
			return w->failed = rc;
		out->key = w->key;
		return 0;
	}
	w->eof = 1;
	return NV_EOF;
}

/* ---- leftovers ---- */

struct nv_seen_file {
	char *name;
	uint64_t size;
	int64_t mtime;
};

struct nv_walk_seen {
	struct nv_seen_file *f;
	size_t nf, capf;
	char **nested, **covered; /* prefixes, each ending in '/' (covered: or "") */
	size_t nnested, ncovered;
};

static nv_walk_seen *nv_seen_get(nv_walk_seen **s)
{
	if (!*s)
		*s = calloc(1, sizeof(**s));
	return *s;
}

/* Appends a copy of prefix to *v (n of them), unless it is there already. */
static int nv_seen_prefix_add(char ***v, size_t *n, const char *prefix)
{
	char **g;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], prefix))
			return 0;
	if (!(g = realloc(*v, (*n + 1) * sizeof(*g))) || !(g[*n] = strdup(prefix))) {
		if (g)
			*v = g;
		return nv_error_set(NV_ERR, "out of memory");
	}
	*v = g;
	(*n)++;
	return 0;
}

/* 1 when key lies under one of v's prefixes. */
static int nv_seen_under(char *const *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(key, v[i], strlen(v[i])))
			return 1;
	return 0;
}

static int nv_seen_has(const nv_walk_seen *s, const char *name)
{
	for (size_t i = 0; s && i < s->nf; i++)
		if (!strcmp(s->f[i].name, name))
			return 1;
	return 0;
}

int nv_walk_seen_file(nv_walk_seen **sp, const char *prefix, const char *name, uint64_t size,
		      int64_t mtime)
{
	nv_walk_seen *s = nv_seen_get(sp);
	char *full;

	if (!s || !(full = malloc(strlen(prefix) + strlen(name) + 1)))
		return nv_error_set(NV_ERR, "out of memory");
	strcpy(full, prefix);
	strcat(full, name);
	if (nv_seen_has(s, full)) {
		free(full);
		return 0;
	}
	if (s->nf == s->capf) {
		size_t cap = s->capf ? 2 * s->capf : 8;
		struct nv_seen_file *g = realloc(s->f, cap * sizeof(*g));

		if (!g) {
			free(full);
			return nv_error_set(NV_ERR, "out of memory");
		}
		s->f = g;
		s->capf = cap;
	}
	s->f[s->nf++] = (struct nv_seen_file){ full, size, mtime };
	return 0;
}

int nv_walk_seen_nested(nv_walk_seen **sp, const char *prefix)
{
	nv_walk_seen *s = nv_seen_get(sp);

	if (!s)
		return nv_error_set(NV_ERR, "out of memory");
	return nv_seen_prefix_add(&s->nested, &s->nnested, prefix);
}

void nv_walk_seen_done(nv_walk_seen **sp, const char *prefix, int clean)
{
	nv_walk_seen *s;

	/* Best effort: without the note the clean-up walks that prefix again. */
	if (clean && (s = nv_seen_get(sp)) &&
	    nv_seen_prefix_add(&s->covered, &s->ncovered, prefix))
		nv_error_clear();
}

int nv_walk_seen_covers(const nv_walk_seen *s, const char *prefix)
{
	return s && nv_seen_under(s->covered, s->ncovered, prefix);
}

void nv_walk_seen_free(nv_walk_seen *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nf; i++)
		free(s->f[i].name);
	for (size_t i = 0; i < s->nnested; i++)
		free(s->nested[i]);
	for (size_t i = 0; i < s->ncovered; i++)
		free(s->covered[i]);
	free(s->f);
	free(s->nested);
	free(s->covered);
	free(s);
}

struct nv_leftovers {
	const nv_walk_seen *seen;
	size_t next;  /* the next of seen's files to give */
	nv_walk *w;   /* then the walk's */
};

int nv_walk_leftovers_wrap(struct nv_leftovers **out, nv_walk *w, const nv_walk_seen *seen)
{
	if (!(*out = calloc(1, sizeof(**out)))) {
		nv_walk_close(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	(*out)->w = w;
	(*out)->seen = seen;
	return 0;
}

int nv_walk_leftovers_next(struct nv_leftovers *it, nv_leftover *out)
{
	const nv_walk_seen *s = it->seen;
	nv_entry e;
	int rc;

	while (s && it->next < s->nf) {
		const struct nv_seen_file *f = &s->f[it->next++];

		if (nv_seen_under(s->nested, s->nnested, f->name))
			continue; /* another location's root: its business */
		out->name = f->name;
		out->size = f->size;
		out->time_sec = f->mtime;
		return 0;
	}
	do {
		if (!it->w)
			return NV_EOF;
		if ((rc = nv_walk_next(it->w, &e)))
			return rc;
	} while (nv_seen_has(s, e.key)); /* given already */
	out->name = e.key;
	out->size = e.size;
	out->time_sec = e.mtime_sec;
	return 0;
}

void nv_walk_leftovers_close(struct nv_leftovers *it)
{
	if (!it)
		return;
	nv_walk_close(it->w);
	free(it);
}
