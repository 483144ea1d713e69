/* s3_delete.c: the s3 driver's removals: one DELETE, and the batched DeleteObjects
 * (POST ?delete), up to 1000 keys a request, per-key errors read from the answer.
 * Called via s3.c's table; calls down into s3_request.c only. */
#include "s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the request ---- */

/* Length of the UTF-8 sequence at s, 0 when it is not one XML can carry. */
static size_t utf8_char(const unsigned char *s)
{
	unsigned cp;
	size_t n, i;

	if (s[0] < 0x80)
		return (s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

int nv_s3_xml_name_ok(const char *key)
{
	const unsigned char *p = (const unsigned char *)key;
	size_t n;

	while (*p) {
		if (!(n = utf8_char(p)))
			return 0;
		p += n;
	}
	return 1;
}

static void add_escaped(nv_sb *b, const char *s)
{
	for (; *s; s++) {
		size_t run = strcspn(s, "&<>\"'");

		nv_sb_addn(b, s, run);
		s += run;
		switch (*s) {
		case '&': nv_sb_add(b, "&amp;"); break;
		case '<': nv_sb_add(b, "&lt;"); break;
		case '>': nv_sb_add(b, "&gt;"); break;
		case '"': nv_sb_add(b, "&quot;"); break;
		case '\'': nv_sb_add(b, "&apos;"); break;
		default: return; /* the end */
		}
	}
}

void nv_s3_delete_body(nv_sb *out, const char *root, const char *const *keys, size_t n,
		       const unsigned char *use)
{
	/* Quiet: the answer lists only failures, not 1000 <Deleted> entries. */
	nv_sb_add(out, "<Delete><Quiet>true</Quiet>");
	for (size_t i = 0; i < n; i++) {
		if (use && !use[i])
			continue;
		nv_sb_add(out, "<Object><Key>");
		add_escaped(out, root);
		add_escaped(out, keys[i]);
		nv_sb_add(out, "</Key></Object>");
	}
	nv_sb_add(out, "</Delete>");
}

/* ---- the answer ---- */

struct parse_ctx {
	struct s3_delete_result *r;
	struct s3_delete_error cur;
	int root_seen;
};

static int push_ptr(void **arr, size_t *n, size_t size, const void *item)
{
	/* Grows by doubling at powers of two: n alone says the capacity. */
	if ((*n & (*n - 1)) == 0) {
		void *p = realloc(*arr, (*n ? 2 * *n : 1) * size);

		if (!p)
			return nv_error_set(NV_ERR, "out of memory");
		*arr = p;
	}
	memcpy((char *)*arr + *n * size, item, size);
	(*n)++;
	return 0;
}

static int delete_xml(void *ctx, const char *path, const char *text, size_t len)
{
	struct parse_ctx *p = ctx;
	char *key;

	if (strcmp(path, "DeleteResult") == 0) {
		p->root_seen = 1;
	} else if (strcmp(path, "DeleteResult/Deleted/Key") == 0) {
		if (!(key = strndup(text, len)))
			return nv_error_set(NV_ERR, "out of memory");
		if (push_ptr((void **)&p->r->deleted, &p->r->ndeleted, sizeof(key), &key)) {
			free(key);
			return NV_ERR;
		}
	} else if (strcmp(path, "DeleteResult/Error/Key") == 0) {
		free(p->cur.key);
		if (!(p->cur.key = strndup(text, len)))
			return nv_error_set(NV_ERR, "out of memory");
	} else if (strcmp(path, "DeleteResult/Error/Code") == 0) {
		snprintf(p->cur.e.code, sizeof(p->cur.e.code), "%s", text);
	} else if (strcmp(path, "DeleteResult/Error/Message") == 0) {
		snprintf(p->cur.e.message, sizeof(p->cur.e.message), "%s", text);
	} else if (strcmp(path, "DeleteResult/Error") == 0) {
		if (push_ptr((void **)&p->r->errors, &p->r->nerrors, sizeof(p->cur), &p->cur))
			return NV_ERR;
		memset(&p->cur, 0, sizeof(p->cur));
	}
	return 0;
}

void nv_s3_delete_result_free(struct s3_delete_result *r)
{
	for (size_t i = 0; i < r->nerrors; i++)
		free(r->errors[i].key);
	for (size_t i = 0; i < r->ndeleted; i++)
		free(r->deleted[i]);
	free(r->errors);
	free(r->deleted);
	memset(r, 0, sizeof(*r));
}

int nv_s3_delete_parse(struct s3_delete_result *out, const char *body, size_t len)
{
	struct parse_ctx p = { .r = out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = nv_xml_parse(body ? body : "", len, delete_xml, &p);
	free(p.cur.key);
	if (!rc && !p.root_seen)
		rc = nv_error_set(NV_ERR, "s3: the DeleteObjects answer is not a DeleteResult");
	if (rc)
		nv_s3_delete_result_free(out);
	return rc;
}

/* ---- the slots ---- */

int nv_s3_remove(struct nv_conn *c, const char *key)
{
	struct s3_call call = { .method = "DELETE", .key = key };
	nv_http_resp r;
	int rc = nv_s3_call(c, c->http, &call, &r);

	if (!rc && !nv_s3_ok(&r) && r.status != 404)
		rc = nv_s3_error(c, &r, "DELETE", key);
	nv_http_resp_clear(&r);
	return rc;
}

/* Index of the key the answer names (bucket-relative), or n when it was not
 * sent. Answers come in request order: searching on from the last hit is linear. */
static size_t find_key(const struct nv_conn *c, const char *const *keys, size_t n,
		       const unsigned char *use, const char *name, size_t *from)
{
	size_t rl = strlen(c->root);

	if (strncmp(name, c->root, rl) != 0)
		return n;
	for (size_t k = 0; k < n; k++) {
		size_t i = (*from + k) % n;

		if (use[i] && strcmp(keys[i], name + rl) == 0) {
			*from = i + 1;
			return i;
		}
	}
	return n;
}

/* The answer's keys must be keys we sent: anything else means the server and
 * we disagree about names (an escaping bug), and no result can be trusted. */
static int check_answer(const struct nv_conn *c, const char *const *keys, size_t n,
			const unsigned char *use, const struct s3_delete_result *res)
{
	size_t from = 0;

	for (size_t i = 0; i < res->ndeleted; i++)
		if (find_key(c, keys, n, use, res->deleted[i], &from) == n)
			return nv_error_set(NV_ERR, "s3: DeleteObjects on s3://%s: the answer names "
					    "'%s' as deleted, a key that was not sent",
					    c->bucket, res->deleted[i]);
	for (size_t i = 0; i < res->nerrors; i++) {
		const struct s3_delete_error *e = &res->errors[i];

		if (!e->key)
			return nv_s3_error_of(c, 0, &e->e, NULL, "POST (delete)", NULL);
		if (find_key(c, keys, n, use, e->key, &from) == n)
			return nv_error_set(NV_ERR, "s3: DeleteObjects on s3://%s: the answer names "
					    "'%s' (%s), a key that was not sent", c->bucket,
					    e->key, e->e.code);
	}
	return 0;
}

static void note_failure(int *results, char **msgs, size_t i, int rc)
{
	results[i] = rc;
	msgs[i] = strdup(nv_error_msg());
}

/* Sends one DeleteObjects for the keys marked in use; fills their results. */
static int delete_request(struct nv_conn *c, const char *const *keys, size_t n,
			  const unsigned char *use, int *results, char **msgs)
{
	const char *q[] = { "delete", NULL };
	struct s3_call call = { .method = "POST", .query = q, .nquery = 1,
				.max_body = 16u << 20 };
	struct s3_delete_result res = { 0 };
	nv_http_headers h = { 0 };
	nv_sb body = { 0 };
	nv_http_resp r = { 0 };
	nv_xml_error e;
	char md5[25];
	size_t from = 0;
	int rc;

	nv_s3_delete_body(&body, c->root, keys, n, use);
	if ((rc = nv_sb_ok(&body)))
		goto out;
	/* S3 requires Content-MD5 (or a checksum header) on DeleteObjects; the
	 * payload hash is signed too (nv_s3_call computes it from the body). */
	nv_md5_base64(md5, body.s, body.len);
	if ((rc = nv_http_header_add(&h, "Content-MD5", "%s", md5)))
		goto out;
	call.extra = &h;
	call.body = body.s;
	call.body_len = body.len;
	if ((rc = nv_s3_call(c, c->http, &call, &r)))
		goto out;
	if (!nv_s3_ok(&r)) {
		rc = nv_s3_error(c, &r, "POST (delete)", NULL);
		goto out;
	}
	/* An <Error> document is a failure of the whole request, also in a 200
	 * (InternalError there means: send it again). */
	rc = nv_s3_delete_parse(&res, r.body, r.body_len);
	if (rc && nv_xml_error_parse(&e, r.body, r.body_len))
		rc = nv_s3_error(c, &r, "POST (delete)", NULL);
	else if (rc)
		nv_error_wrap(rc, "s3: DeleteObjects on s3://%s at %s: its answer is refused",
			      c->bucket, c->host);
	if (rc || (rc = check_answer(c, keys, n, use, &res)))
		goto out;
	for (size_t i = 0; i < res.nerrors; i++) {
		const struct s3_delete_error *d = &res.errors[i];
		size_t k = find_key(c, keys, n, use, d->key, &from);

		if (strcmp(d->e.code, "NoSuchKey") == 0)
			continue; /* absent is removed */
		note_failure(results, msgs, k,
			     nv_s3_error_of(c, 0, &d->e, NULL, "POST (delete)", keys[k]));
	}
out:
	nv_s3_delete_result_free(&res);
	nv_http_resp_clear(&r);
	nv_http_headers_clear(&h);
	nv_sb_free(&body);
	return rc;
}

int nv_s3_remove_many(struct nv_conn *c, const char *const *keys, size_t n, int *results,
		      char **msgs)
{
	unsigned char *use;
	size_t sent = 0;
	int rc = 0, root_ok = nv_s3_xml_name_ok(c->root);

	if (n > NV_S3_DELETE_MAX)
		return nv_error_set(NV_EINVAL, "s3: %zu keys in one DeleteObjects (at most %d)", n,
				    NV_S3_DELETE_MAX);
	if (!(use = calloc(n ? n : 1, 1)))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		results[i] = 0;
		use[i] = root_ok && nv_s3_xml_name_ok(keys[i]);
		sent += use[i];
	}
	if (sent)
		rc = delete_request(c, keys, n, use, results, msgs);
	/* A name XML cannot carry (not UTF-8: S3 itself refuses those, other
	 * servers may not) goes alone, through DELETE. */
	for (size_t i = 0; i < n && !rc; i++) {
		if (use[i])
			continue;
		if ((results[i] = nv_s3_remove(c, keys[i])))
			msgs[i] = strdup(nv_error_msg());
	}
	if (rc) {
		for (size_t i = 0; i < n; i++) {
			free(msgs[i]);
			msgs[i] = NULL;
		}
	}
	free(use);
	return rc;
}
