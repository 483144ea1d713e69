/* s3_list.c: the s3 driver's listing: ListObjectsV2 pages fetched one at a time
 * with continuation tokens and parsed by the streaming XML reader. Called via s3.c's
 * table (and its open, for the probe); calls down into s3_request.c only. */
#include "s3_int.h"
#include "list_guard.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct s3_obj {
	char *key;      /* relative to the location root */
	uint64_t size;
	int64_t mtime_sec;
	int32_t mtime_nsec;
};

struct nv_list {
	struct nv_conn *c;
	char *prefix;         /* bucket-relative: root + the caller's prefix */
	char *token;          /* continuation token of the next page; NULL when none */
	int more;             /* another page is to be fetched */
	struct s3_obj *page;
	size_t n, cap, pos;
	unsigned max_keys;
	/* parse state of the page being read */
	struct s3_obj cur;
	int truncated;
	int err;
	char *last;           /* the last key handed out, to check the server's order */
	int sort;             /* list_sort: whole listing read, then sorted here */
	nv_list_guard guard;  /* stops a server that would page forever */
	char *what;           /* "s3: listing s3://bucket/prefix at host", for messages */
};

static void page_clear(struct nv_list *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->page[i].key);
	it->n = 0;
	it->pos = 0;
	free(it->cur.key);
	memset(&it->cur, 0, sizeof(it->cur));
}

/* Keeps the objects under the root, but directory markers ("dir/", empty: a
 * console's habit, not data). A key navette cannot hold ("..", control
 * characters, ...) is kept too: the engine's lister (engine/lister.c) is the
 * one place that refuses it, names it and counts it as failed, for every
 * driver alike. */
static int page_push(struct nv_list *it)
{
	size_t root_len = strlen(it->c->root);
	struct s3_obj o = it->cur;
	char *rel;

	memset(&it->cur, 0, sizeof(it->cur));
	if (!o.key || strncmp(o.key, it->c->root, root_len) != 0) {
		free(o.key);
		return 0;
	}
	{
		size_t kl = strlen(o.key);

		if (kl <= root_len || (o.key[kl - 1] == '/' && o.size == 0)) {
			free(o.key);
			return 0;
		}
	}
	rel = strdup(o.key + root_len);
	free(o.key);
	if (!rel)
		return nv_error_set(NV_ERR, "out of memory");
	o.key = rel;
	if (it->n == it->cap) {
		size_t cap = it->cap ? 2 * it->cap : 256;
		struct s3_obj *p = realloc(it->page, cap * sizeof(*p));

		if (!p) {
			free(rel);
			return nv_error_set(NV_ERR, "out of memory");
		}
		it->page = p;
		it->cap = cap;
	}
	it->page[it->n++] = o;
	return 0;
}

static int list_xml(void *ctx, const char *path, const char *text, size_t len)
{
	struct nv_list *it = ctx;

	if (strncmp(path, "ListBucketResult/", 17) != 0)
		return 0;
	path += 17;
	if (strcmp(path, "Contents/Key") == 0) {
		if (nv_list_guard_key(&it->guard, text, len))
			return NV_ERR;
		free(it->cur.key);
		if (!(it->cur.key = strndup(text, len)))
			return nv_error_set(NV_ERR, "out of memory");
	} else if (strcmp(path, "Contents/Size") == 0) {
		it->cur.size = strtoull(text, NULL, 10);
	} else if (strcmp(path, "Contents/LastModified") == 0) {
		if (nv_http_parse_time(text, &it->cur.mtime_sec, &it->cur.mtime_nsec))
			nv_error_clear(); /* a listing is still usable without dates */
	} else if (strcmp(path, "Contents") == 0) {
		return page_push(it);
	} else if (strcmp(path, "IsTruncated") == 0) {
		it->truncated = strcmp(text, "true") == 0;
	} else if (strcmp(path, "NextContinuationToken") == 0) {
		free(it->token);
		if (!(it->token = strndup(text, len)))
			return nv_error_set(NV_ERR, "out of memory");
	}
	return 0;
}

static int list_reset(void *ctx)
{
	(void)ctx;
	/* The page is parsed from the collected body, never streamed: nothing to undo. */
	return 0;
}

/* Parses one page's body into it->page, it->token and it->truncated: apart from
 * list_fetch so that it runs without a server (tests/fuzz/fuzz_s3_list.c). */
int nv_s3_list_parse(struct nv_list *it, const void *body, size_t len)
{
	return nv_xml_parse(body, len, list_xml, it);
}

/* Fetches and parses the next page into it->page. */
static int list_fetch(struct nv_list *it)
{
	char max_keys[16], *token = it->token;
	const char *q[8] = { "list-type", "2", "prefix", it->prefix, "max-keys", max_keys };
	struct s3_call call = { .method = "GET", .query = q, .nquery = 3,
				.max_body = 16u << 20, .reset = list_reset };
	nv_http_resp r;
	int rc;

	snprintf(max_keys, sizeof(max_keys), "%u", it->max_keys);
	if (token) {
		q[6] = "continuation-token";
		q[7] = token;
		call.nquery = 4;
	}
	it->token = NULL;
	page_clear(it);
	it->truncated = 0;
	rc = nv_s3_call(it->c, it->c->http, &call, &r);
	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(it->c, &r, "GET (list)", NULL);
	if (!rc && (rc = nv_s3_list_parse(it, r.body ? r.body : "", r.body_len)))
		nv_error_wrap(rc, "%s: its answer is refused", it->what);
	if (!rc && it->truncated && !it->token)
		rc = nv_error_set(NV_ERR, "%s: a page is truncated but has no continuation token",
				  it->what);
	if (!rc)
		rc = nv_list_guard_page(&it->guard, it->truncated, it->token, it->what);
	it->more = !rc && it->truncated;
	free(token);
	nv_http_resp_clear(&r);
	return rc;
}

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct s3_obj *)a)->key, ((const struct s3_obj *)b)->key);
}

/* list_sort: every page into one array, sorted in byte order. For servers that
 * list in another order (s3rver walks its directories); memory grows with the
 * listing, so it is never the default. */
static int list_all_sorted(struct nv_list *it)
{
	struct s3_obj *all = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	while (it->more && !rc) {
		if ((rc = list_fetch(it)))
			break;
		if (n + it->n > cap) {
			size_t nc = (n + it->n) * 2;
			struct s3_obj *p = realloc(all, nc * sizeof(*p));

			if (!p) {
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			all = p;
			cap = nc;
		}
		if (it->n)
			memcpy(all + n, it->page, it->n * sizeof(*all));
		n += it->n;
		it->n = 0; /* the keys now belong to all */
	}
	page_clear(it);
	free(it->page);
	it->page = all;
	it->n = n;
	it->cap = cap;
	it->pos = 0;
	it->more = 0;
	if (!rc && n)
		qsort(all, n, sizeof(*all), obj_cmp);
	return rc;
}

int nv_s3_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	struct nv_list *it = calloc(1, sizeof(*it));
	size_t rl = strlen(c->root);

	*out = NULL;
	if (!it || !(it->prefix = malloc(rl + strlen(prefix) + 1))) {
		free(it);
		return nv_error_set(NV_ERR, "out of memory");
	}
	memcpy(it->prefix, c->root, rl);
	strcpy(it->prefix + rl, prefix);
	it->c = c;
	it->max_keys = (unsigned)c->page_size;
	it->more = 1;
	it->sort = c->list_sort;
	nv_list_guard_init(&it->guard, !it->sort);
	if (asprintf(&it->what, "s3: listing s3://%s/%s at %s", c->bucket, it->prefix,
		     c->host) < 0) {
		it->what = NULL;
		nv_s3_list_close(it);
		return nv_error_set(NV_ERR, "out of memory");
	}
	if (it->sort) {
		int rc;

		/* Biggest pages: s3rver's tokens skip keys at page ends when its
		 * order differs from byte order. */
		it->max_keys = 1000;
		if ((rc = list_all_sorted(it))) {
			nv_s3_list_close(it);
			return rc;
		}
	}
	*out = it;
	return 0;
}

int nv_s3_list_next(struct nv_list *it, nv_entry *out)
{
	struct s3_obj *o;
	int rc;

	/* Pages can hold nothing usable (markers only): keep fetching. */
	while (it->pos >= it->n) {
		if (it->err)
			return it->err;
		if (!it->more)
			return NV_EOF;
		if ((rc = list_fetch(it)))
			return it->err = rc;
	}
	o = &it->page[it->pos++];
	/* The engine merge-joins sorted streams: a server that breaks S3's byte
	 * order must stop the listing here, not corrupt a sync later. */
	if (it->last && strcmp(it->last, o->key) >= 0)
		return it->err = nv_error_set(NV_ERR, "%s: '%s' comes after '%s', not in byte "
					      "order as S3 lists (for such a server set "
					      "list_sort = true)", it->what, o->key, it->last);
	free(it->last);
	if (!(it->last = strdup(o->key)))
		return it->err = nv_error_set(NV_ERR, "out of memory");
	memset(out, 0, sizeof(*out));
	out->key = o->key;
	out->size = o->size;
	out->mtime_sec = o->mtime_sec;
	out->mtime_nsec = o->mtime_nsec;
	return 0;
}

void nv_s3_list_close(struct nv_list *it)
{
	if (!it)
		return;
	page_clear(it);
	free(it->page);
	free(it->token);
	free(it->prefix);
	free(it->last);
	free(it->what);
	nv_list_guard_free(&it->guard);
	free(it);
}

int nv_s3_list_probe(struct nv_conn *c)
{
	const char *q[] = { "list-type", "2", "prefix", c->root, "max-keys", "1" };
	struct s3_call call = { .method = "GET", .query = q, .nquery = 3, .max_body = 1u << 20 };
	nv_http_resp r;
	int rc = nv_s3_call(c, c->http, &call, &r);

	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(c, &r, "GET (list)", NULL);
	nv_http_resp_clear(&r);
	/* Write-only credentials (a pushing host's policy may allow PutObject and
	 * nothing else) are refused a listing: that is no reason to refuse them
	 * the connection. Bad signatures and missing buckets still fail here. */
	if (rc == NV_EPERM) {
		nv_error_clear();
		rc = 0;
	}
	return rc;
}
