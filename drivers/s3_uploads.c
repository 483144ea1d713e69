/* s3_uploads.c: the s3 driver's leftovers: incomplete multipart uploads under
 * the root, listed page by page (ListMultipartUploads) and aborted
 * (AbortMultipartUpload) on the caller's proof that their writer is dead: an
 * upload carries nothing of ours that would tell. Uploads below a prefix that
 * holds a navette-lease/ of its own (another location's root) are left out.
 * Servers without these calls
 * (s3rver answers 501 and 405) give NV_ENOTSUP. Called via s3.c's table; calls
 * down into s3_request.c only. */
#include "s3_int.h"
#include "driver/tmpname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one page (no I/O: s3.h, unit-tested) ---- */

struct s3_uploads_parse {
	struct s3_uploads_page *p;
	struct s3_upload cur;
};

static void upload_clear(struct s3_upload *u)
{
	free(u->key);
	free(u->id);
	memset(u, 0, sizeof(*u));
}

static int uploads_push(struct s3_uploads_parse *x)
{
	struct s3_uploads_page *p = x->p;

	if (!x->cur.key || !x->cur.id) { /* not one we could name or abort */
		upload_clear(&x->cur);
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct s3_upload *g = realloc(p->u, cap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		p->u = g;
		p->cap = cap;
	}
	p->u[p->n++] = x->cur;
	memset(&x->cur, 0, sizeof(x->cur));
	return 0;
}

static int strndup_into(char **dst, const char *text, size_t len)
{
	free(*dst);
	if (!(*dst = strndup(text, len)))
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

static int uploads_xml(void *ctx, const char *path, const char *text, size_t len)
{
	struct s3_uploads_parse *x = ctx;
	int32_t nsec;

	if (strncmp(path, "ListMultipartUploadsResult/", 27) != 0)
		return 0;
	path += 27;
	if (strcmp(path, "Upload/Key") == 0)
		return strndup_into(&x->cur.key, text, len);
	if (strcmp(path, "Upload/UploadId") == 0)
		return strndup_into(&x->cur.id, text, len);
	if (strcmp(path, "Upload/Initiated") == 0) {
		if (nv_http_parse_time(text, &x->cur.initiated, &nsec))
			nv_error_clear(); /* unknown: it never gets old enough */
		return 0;
	}
	if (strcmp(path, "Upload") == 0)
		return uploads_push(x);
	if (strcmp(path, "IsTruncated") == 0)
		x->p->truncated = strcmp(text, "true") == 0;
	else if (strcmp(path, "NextKeyMarker") == 0)
		return strndup_into(&x->p->next_key, text, len);
	else if (strcmp(path, "NextUploadIdMarker") == 0)
		return strndup_into(&x->p->next_id, text, len);
	return 0;
}

int nv_s3_uploads_parse(struct s3_uploads_page *out, const char *body, size_t len)
{
	struct s3_uploads_parse x = { .p = out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = nv_xml_parse(body, len, uploads_xml, &x);
	upload_clear(&x.cur);
	if (rc)
		nv_s3_uploads_page_free(out);
	return rc;
}

void nv_s3_uploads_page_free(struct s3_uploads_page *p)
{
	for (size_t i = 0; i < p->n; i++)
		upload_clear(&p->u[i]);
	free(p->u);
	free(p->next_key);
	free(p->next_id);
	memset(p, 0, sizeof(*p));
}

/* ---- the slots ---- */

/* A prefix below the root, and whether it is another location's root. */
struct s3_nested {
	char *prefix;   /* root-relative, ending in '/' */
	int nested;
};

struct nv_leftovers {
	struct nv_conn *c;
	struct s3_uploads_page page;
	size_t pos;
	char *key_marker, *id_marker; /* where the next page starts; NULL: the first */
	int more;
	struct s3_nested *seen;       /* prefixes probed so far */
	size_t nseen;
};

static int any_key_xml(void *ctx, const char *path, const char *text, size_t len)
{
	(void)text;
	(void)len;
	if (strcmp(path, "ListBucketResult/Contents/Key") == 0)
		*(int *)ctx = 1;
	return 0;
}

/* 1 when root + prefix holds a navette-lease/ of its own (one small listing,
 * remembered): another location's root, whose leftovers are its business. */
static int uploads_nested(struct nv_leftovers *it, const char *prefix, size_t len, int *out)
{
	struct nv_conn *c = it->c;
	char *p = NULL;
	const char *q[] = { "list-type", "2", "prefix", NULL, "max-keys", "1" };
	struct s3_call call = { .method = "GET", .query = q, .nquery = 3, .max_body = 1u << 20 };
	struct s3_nested *g;
	nv_http_resp r;
	int rc, found = 0;

	for (size_t i = 0; i < it->nseen; i++)
		if (strlen(it->seen[i].prefix) == len && !strncmp(it->seen[i].prefix, prefix, len)) {
			*out = it->seen[i].nested;
			return 0;
		}
	if (asprintf(&p, "%s%.*s" NV_LEASE_DIRNAME "/", c->root, (int)len, prefix) < 0)
		return nv_error_set(NV_ERR, "out of memory");
	q[3] = p;
	rc = nv_s3_call(c, c->http, &call, &r);
	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(c, &r, "GET (list)", NULL);
	if (!rc)
		rc = nv_xml_parse(r.body ? r.body : "", r.body_len, any_key_xml, &found);
	nv_http_resp_clear(&r);
	free(p);
	if (rc)
		return rc;
	if (!(g = realloc(it->seen, (it->nseen + 1) * sizeof(*g))) ||
	    !(g[it->nseen].prefix = strndup(prefix, len))) {
		if (g)
			it->seen = g;
		return nv_error_set(NV_ERR, "out of memory");
	}
	it->seen = g;
	g[it->nseen++].nested = found;
	*out = found;
	return 0;
}

/* 1 when key (root-relative) lies below another location's root. */
static int uploads_under_nested(struct nv_leftovers *it, const char *key, int *out)
{
	int rc;

	*out = 0;
	for (const char *slash = strchr(key, '/'); slash && !*out; slash = strchr(slash + 1, '/'))
		if ((rc = uploads_nested(it, key, (size_t)(slash - key + 1), out)))
			return rc;
	return 0;
}

/* Fetches the page after the markers. A truncated page must move the markers
 * on, or a server could keep this loop going forever. */
static int uploads_fetch(struct nv_leftovers *it)
{
	struct nv_conn *c = it->c;
	const char *q[8] = { "uploads", NULL, "prefix", c->root };
	struct s3_call call = { .method = "GET", .query = q, .nquery = 2, .max_body = 16u << 20 };
	nv_http_resp r;
	int rc;

	if (it->key_marker) {
		q[4] = "key-marker";
		q[5] = it->key_marker;
		q[6] = "upload-id-marker";
		q[7] = it->id_marker ? it->id_marker : "";
		call.nquery = 4;
	}
	nv_s3_uploads_page_free(&it->page);
	it->pos = 0;
	rc = nv_s3_call(c, c->http, &call, &r);
	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(c, &r, "GET (list multipart uploads)", NULL);
	if (!rc)
		rc = nv_s3_uploads_parse(&it->page, r.body ? r.body : "", r.body_len);
	nv_http_resp_clear(&r);
	if (rc)
		return rc;
	it->more = it->page.truncated;
	if (it->more && (!it->page.next_key ||
			 (it->key_marker && !strcmp(it->page.next_key, it->key_marker) &&
			  !strcmp(it->page.next_id ? it->page.next_id : "",
				  it->id_marker ? it->id_marker : ""))))
		return nv_error_set(NV_ERR, "s3: the list of multipart uploads under s3://%s/%s "
				    "is truncated but its next page does not move on",
				    c->bucket, c->root);
	free(it->key_marker);
	free(it->id_marker);
	it->key_marker = it->page.next_key;
	it->id_marker = it->page.next_id;
	it->page.next_key = it->page.next_id = NULL;
	return 0;
}

int nv_s3_leftovers_open(struct nv_leftovers **out, struct nv_conn *c)
{
	struct nv_leftovers *it = calloc(1, sizeof(*it));
	int rc;

	*out = NULL;
	if (!it)
		return nv_error_set(NV_ERR, "out of memory");
	it->c = c;
	if ((rc = uploads_fetch(it))) {
		nv_s3_leftovers_close(it);
		return rc;
	}
	*out = it;
	return 0;
}

int nv_s3_leftovers_next(struct nv_leftovers *it, nv_leftover *out)
{
	size_t rl = strlen(it->c->root);
	int rc, nested;

	for (;;) {
		struct s3_upload *u;

		if (it->pos == it->page.n) {
			if (!it->more)
				return NV_EOF;
			if ((rc = uploads_fetch(it)))
				return rc;
			continue;
		}
		u = &it->page.u[it->pos++];
		/* Only what this location can name: under the root, a valid key. */
		if (strncmp(u->key, it->c->root, rl) != 0 || nv_key_check(u->key + rl)) {
			nv_error_clear();
			continue;
		}
		if ((rc = uploads_under_nested(it, u->key + rl, &nested)))
			return rc;
		if (nested)
			continue;
		out->name = u->key + rl;
		out->upload = u->id;
		out->time_sec = u->initiated;
		return 0;
	}
}

void nv_s3_leftovers_close(struct nv_leftovers *it)
{
	if (!it)
		return;
	nv_s3_uploads_page_free(&it->page);
	free(it->key_marker);
	free(it->id_marker);
	for (size_t i = 0; i < it->nseen; i++)
		free(it->seen[i].prefix);
	free(it->seen);
	free(it);
}

int nv_s3_leftover_remove(struct nv_conn *c, const nv_leftover *lo, int proven)
{
	const char *q[] = { "uploadId", lo->upload };
	struct s3_call call = { .method = "DELETE", .key = lo->name, .query = q, .nquery = 1 };
	nv_http_resp r;
	int rc;

	if (!lo->upload)
		return nv_error_set(NV_EINVAL, "s3: %s is not a multipart upload", lo->name);
	if (!proven)
		return nv_error_set(NV_ENOTSUP, "s3: the upload of %s carries nothing that tells "
				    "whether its writer is alive", lo->name);
	rc = nv_s3_call(c, c->http, &call, &r);
	/* NoSuchUpload (404): completed or aborted since, NV_ENOTFOUND */
	if (!rc && !nv_s3_ok(&r))
		rc = nv_s3_error(c, &r, "DELETE (abort multipart upload)", lo->name);
	nv_http_resp_clear(&r);
	return rc;
}
