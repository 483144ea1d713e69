/* azure_list.c: the azure driver's listing: List Blobs one page at a time, parsed
 * as it streams (expat), checked to be in byte order. Called via azure.c's table;
 * calls down into azure_request.c only. */
#include "azure_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "list_guard.h"
#include "util/log.h"

struct az_item {
	size_t name; /* offset in names */
	uint64_t size;
	nv_entry e;
};

struct nv_list {
	struct nv_conn *c;
	char *prefix;        /* full blob-name prefix */
	char *marker;        /* NextMarker of the last page; NULL before the first */
	int done;            /* no page left to fetch */
	nv_xml *xml;
	/* the page being parsed or served */
	struct az_item *items;
	size_t n, cap, pos;
	nv_sb names;
	/* the blob being parsed */
	char *cur_name, *cur_mtime, *cur_mode, *cur_lm;
	uint64_t cur_size;
	int cur_skip;
	char *next_marker;
	char *last;          /* last key returned, for the order check */
	int err;
	nv_list_guard guard; /* stops a server that would page forever */
	char *what;          /* "azure: listing CONTAINER/PREFIX at ENDPOINT" */
};

static void az_list_cur_clear(struct nv_list *it)
{
	free(it->cur_name);
	free(it->cur_mtime);
	free(it->cur_mode);
	free(it->cur_lm);
	it->cur_name = it->cur_mtime = it->cur_mode = it->cur_lm = NULL;
	it->cur_size = 0;
	it->cur_skip = 0;
}

static int az_set_str(char **slot, const char *text, size_t len)
{
	free(*slot);
	*slot = strndup(text, len);
	return *slot ? 0 : nv_error_set(NV_ERR, "out of memory");
}

/* Ends one <Blob>: keeps it when it is under the root and not a folder marker. */
static int az_list_push(struct nv_list *it)
{
	const char *name = it->cur_name;
	size_t pl = strlen(it->c->prefix);
	struct az_item *item;

	if (!name || it->cur_skip)
		return 0;
	if (strncmp(name, it->c->prefix, pl) != 0)
		return 0;
	name += pl;
	/* Folder markers ("dir/") are no data. A name navette cannot hold as a
	 * key is kept: the engine's lister refuses it, names it and counts it
	 * as failed, for every driver alike. */
	if (!name[0] || name[strlen(name) - 1] == '/')
		return 0;
	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 256;
		struct az_item *ni = realloc(it->items, cap * sizeof(*ni));

		if (!ni)
			return nv_error_set(NV_ERR, "out of memory");
		it->items = ni;
		it->cap = cap;
	}
	item = &it->items[it->n++];
	memset(item, 0, sizeof(*item));
	item->name = it->names.len;
	nv_sb_addn(&it->names, name, strlen(name) + 1);
	item->e.size = it->cur_size;
	nv_az_entry_times(&item->e, it->cur_mtime, it->cur_mode, it->cur_lm);
	return nv_sb_ok(&it->names);
}

static int az_list_xml(void *ctx, const char *path, const char *text, size_t len)
{
	struct nv_list *it = ctx;
	static const char blob[] = "EnumerationResults/Blobs/Blob";
	const size_t bl = sizeof(blob) - 1;
	const char *sub;
	int rc = 0;

	if (strcmp(path, "EnumerationResults/NextMarker") == 0)
		return az_set_str(&it->next_marker, text, len);
	if (strncmp(path, blob, bl) != 0)
		return 0;
	sub = path + bl;
	if (!*sub) {
		rc = az_list_push(it);
		az_list_cur_clear(it);
	} else if (strcmp(sub, "/Name") == 0) {
		if (!(rc = nv_list_guard_key(&it->guard, text, len)))
			rc = az_set_str(&it->cur_name, text, len);
	} else if (strcmp(sub, "/Properties/Content-Length") == 0) {
		it->cur_size = strtoull(text, NULL, 10);
	} else if (strcmp(sub, "/Properties/Last-Modified") == 0) {
		rc = az_set_str(&it->cur_lm, text, len);
	} else if (strcmp(sub, "/Properties/ResourceType") == 0) {
		it->cur_skip |= strcmp(text, "directory") == 0; /* hierarchical namespace */
	} else if (strcasecmp(sub, "/Metadata/mtime") == 0) {
		/* Metadata names keep the writer's case: rclone's Go client sends
		 * X-Ms-Meta-Mtime, listed back as <Mtime>. */
		rc = az_set_str(&it->cur_mtime, text, len);
	} else if (strcasecmp(sub, "/Metadata/mode") == 0) {
		rc = az_set_str(&it->cur_mode, text, len);
	} else if (strcasecmp(sub, "/Metadata/hdi_isfolder") == 0) {
		it->cur_skip |= strcmp(text, "true") == 0;
	}
	return rc;
}

static void az_list_page_reset(void *ctx)
{
	struct nv_list *it = ctx;

	nv_xml_free(it->xml);
	it->xml = NULL;
	it->err = nv_xml_new(&it->xml, az_list_xml, it);
	az_list_cur_clear(it);
	nv_list_guard_restart(&it->guard);
	it->n = it->pos = 0;
	it->names.len = 0;
	free(it->next_marker);
	it->next_marker = NULL;
}

static int az_list_sink(void *ctx, const void *data, size_t len)
{
	struct nv_list *it = ctx;

	if (!it->err)
		it->err = nv_xml_feed(it->xml, data, len, 0);
	return it->err;
}

/* One page's body through az_list_fetch's parser, without a server (for
 * tests/fuzz/fuzz_azure_list.c): the same reset, sink and end of page. */
int nv_az_list_parse(struct nv_list *it, const void *body, size_t len)
{
	int rc;

	az_list_page_reset(it);
	rc = az_list_sink(it, body, len);
	return rc ? rc : it->err ? it->err : nv_xml_feed(it->xml, NULL, 0, 1);
}

static int az_list_fetch(struct nv_list *it)
{
	struct nv_conn *c = it->c;
	nv_http_resp resp = { 0 };
	nv_sb q = { 0 };
	int rc;

	nv_sb_addf(&q, "restype=container&comp=list&include=metadata&maxresults=%u",
		   c->page_size);
	if (it->prefix[0]) {
		nv_sb_add(&q, "&prefix=");
		nv_sb_add_urlenc(&q, it->prefix, strlen(it->prefix), 0);
	}
	if (it->marker) {
		nv_sb_add(&q, "&marker=");
		nv_sb_add_urlenc(&q, it->marker, strlen(it->marker), 0);
	}
	rc = nv_sb_ok(&q);
	if (rc == 0)
		rc = nv_az_send(c, c->http, "GET", NULL, q.s, NULL, 0, NULL, 0, az_list_sink, it,
				az_list_page_reset, &resp);
	if (rc == 0 && resp.status / 100 != 2)
		rc = nv_az_error(c, &resp, "list", it->prefix);
	else if (rc == 0 && !(rc = it->err))
		rc = it->err = nv_xml_feed(it->xml, NULL, 0, 1);
	if (rc < 0 && rc == it->err) /* the parse stopped, as the answer came or at its end */
		nv_error_wrap(rc, "%s: its answer is refused", it->what);
	else if (rc < 0 && rc != NV_ENOTFOUND)
		nv_error_wrap(rc, "listing %s/%s", c->container, it->prefix);
	else if (rc == 0)
		rc = nv_list_guard_page(&it->guard, it->next_marker && it->next_marker[0],
					it->next_marker, it->what);
	nv_http_resp_clear(&resp);
	nv_sb_free(&q);
	if (rc < 0)
		return rc;
	free(it->marker);
	it->marker = it->next_marker && it->next_marker[0] ? it->next_marker : NULL;
	if (!it->marker)
		free(it->next_marker);
	it->next_marker = NULL;
	it->done = it->marker == NULL;
	return 0;
}

void nv_az_list_close(struct nv_list *it)
{
	if (!it)
		return;
	nv_xml_free(it->xml);
	az_list_cur_clear(it);
	free(it->items);
	nv_sb_free(&it->names);
	free(it->prefix);
	free(it->marker);
	free(it->next_marker);
	free(it->last);
	free(it->what);
	nv_list_guard_free(&it->guard);
	free(it);
}

int nv_az_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	struct nv_list *it = calloc(1, sizeof(*it));

	*out = NULL;
	nv_az_readahead_drop(c);
	if (!it || !(it->prefix = nv_az_blob_name(c, prefix))) {
		free(it);
		return nv_error_set(NV_ERR, "out of memory");
	}
	it->c = c;
	nv_list_guard_init(&it->guard, 1);
	if (asprintf(&it->what, "azure: listing %s/%s at %s", c->container, it->prefix,
		     c->endpoint) < 0) {
		it->what = NULL;
		nv_az_list_close(it);
		return nv_error_set(NV_ERR, "out of memory");
	}
	*out = it;
	return 0;
}

int nv_az_list_next(struct nv_list *it, nv_entry *out)
{
	struct az_item *item;
	const char *key;
	int rc;

	while (it->pos == it->n) {
		if (it->done && it->xml)
			return NV_EOF;
		rc = az_list_fetch(it);
		if (rc < 0)
			return rc;
	}
	item = &it->items[it->pos++];
	key = it->names.s + item->name;
	/* The service lists in byte order of names; the engine relies on it. */
	if (it->last && strcmp(it->last, key) >= 0)
		return nv_error_set(NV_ERR, "%s: out of order ('%s' after '%s')", it->what, key,
				    it->last);
	if (az_set_str(&it->last, key, strlen(key)) < 0)
		return NV_ERR;
	*out = item->e;
	out->key = it->last;
	return 0;
}
