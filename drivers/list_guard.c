/* list_guard.c: stops a paged listing whose server would page forever (a token
 * given twice, empty truncated pages without end, keys that do not advance).
 * Only drivers/ call it (s3_list.c, azure_list.c); see list_guard.h. */
#include "list_guard.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* FNV-1a: a loop needs telling apart from progress, not an adversary's
 * collisions (a hostile server can stop a listing by simpler means). */
static uint64_t hash64(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h ? h : 1; /* 0 marks an empty slot */
}

static void set_put(uint64_t *v, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (v[i] && v[i] != h)
		i = (i + 1) & (cap - 1);
	v[i] = h;
}

/* 1 when h was new (now added), 0 when it was there, NV_ERR out of memory. */
static int set_add(nv_hash_set *s, uint64_t h)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		uint64_t *v = calloc(cap, sizeof(*v));

		if (!v)
			return nv_error_set(NV_ERR, "out of memory");
		for (i = 0; i < s->cap; i++)
			if (s->v[i])
				set_put(v, cap, s->v[i]);
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	for (i = (size_t)h & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == h)
			return 0;
	s->v[i] = h;
	s->n++;
	return 1;
}

void nv_list_guard_init(nv_list_guard *g, int ordered)
{
	memset(g, 0, sizeof(*g));
	g->ordered = ordered;
}

int nv_list_guard_key(nv_list_guard *g, const char *key, size_t len)
{
	int rc;

	g->page_keys++;
	if (g->ordered) {
		g->page_last.len = 0;
		nv_sb_addn(&g->page_last, key, len);
		return nv_sb_ok(&g->page_last);
	}
	if ((rc = set_add(&g->keys, hash64(key, len))) < 0)
		return rc;
	g->page_new += (size_t)rc;
	return 0;
}

void nv_list_guard_restart(nv_list_guard *g)
{
	g->page_keys = g->page_new = 0;
	g->page_last.len = 0;
}

/* Did the page's keys move the listing on? Ends the page's key state. */
static int page_advanced(nv_list_guard *g)
{
	nv_sb t;
	int ok;

	if (!g->ordered)
		return g->page_new > 0;
	/* Keys hold no NUL (they come from XML text): strcmp is byte order. */
	ok = !g->pages_with_keys || strcmp(nv_sb_str(&g->page_last), nv_sb_str(&g->prev_last)) > 0;
	t = g->prev_last;
	g->prev_last = g->page_last;
	g->page_last = t;
	g->pages_with_keys++;
	return ok;
}

int nv_list_guard_page(nv_list_guard *g, int truncated, const char *token, const char *what)
{
	size_t keys = g->page_keys;
	int rc, advanced = !keys || page_advanced(g);

	g->pages++;
	g->page_keys = g->page_new = 0;
	if (!advanced)
		return nv_error_set(NV_ERR, "%s: page %u lists no key past the previous pages' "
				    "(the server would page forever)", what, g->pages);
	if (!truncated)
		return 0;
	g->idle = keys ? 0 : g->idle + 1;
	if (g->idle >= NV_LIST_IDLE_MAX)
		return nv_error_set(NV_ERR, "%s: %u pages in a row hold no key yet say more is to "
				    "come (the server would page forever)", what, g->idle);
	if (!token || !token[0])
		return 0;
	if ((rc = set_add(&g->tokens, hash64(token, strlen(token)))) < 0)
		return rc;
	if (rc == 0)
		return nv_error_set(NV_ERR, "%s: page %u hands back the continuation token "
				    "'%.80s' an earlier page gave (the server would page forever)",
				    what, g->pages, token);
	return 0;
}

void nv_list_guard_free(nv_list_guard *g)
{
	free(g->tokens.v);
	free(g->keys.v);
	nv_sb_free(&g->prev_last);
	nv_sb_free(&g->page_last);
	memset(g, 0, sizeof(*g));
}
