/* run_doc.c: the per-run key's document and a partial catalog's lines as JSON
 * (sorted keys, compact, ASCII), written and parsed with jansson (a file line
 * in the writer's own form by partial_line.c, without a tree). Called
 * through run_doc.h. */
#include "run_doc.h"
#include "driver/driver.h"
#include "partial_line.h"
#include "util/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NV_RD_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

/* o as one line with its newline (o released); NULL when o is NULL. */
static char *nv_rd_line(json_t *o, size_t *len)
{
	char *s = o ? json_dumps(o, NV_RD_FLAGS) : NULL, *line = NULL;
	size_t n = s ? strlen(s) : 0;

	json_decref(o);
	if (s && (line = malloc(n + 2))) {
		memcpy(line, s, n);
		memcpy(line + n, "\n", 2);
		if (len)
			*len = n + 1;
	}
	free(s);
	return line;
}

/* A JSON object of exactly one line (no newline inside); NULL, message set,
 * otherwise. */
static json_t *nv_rd_load(const char *line, size_t len, const char *what)
{
	json_error_t err;
	json_t *o = memchr(line, '\n', len) ? NULL : json_loadb(line, len, JSON_REJECT_DUPLICATES,
								  &err);

	if (!json_is_object(o)) {
		json_decref(o);
		nv_error_set(NV_EMISMATCH, "%s: not one JSON object on one line", what);
		return NULL;
	}
	return o;
}

/* Copies a string of at most cap - 1 bytes; nonzero when longer. */
static int nv_rd_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* ---- runs/<run>/run.json ---- */

int nv_run_doc_format(char **out, size_t *len, const nv_run_doc *d)
{
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "type", "run", "version", 1,
			      "vault_id", d->vault_id, "run", d->run, "recipient", d->recipient,
			      "time", d->time);

	*out = nv_rd_line(o, len);
	return *out ? 0 : nv_error_set(NV_ERR, "out of memory (JSON)");
}

int nv_run_doc_parse(nv_run_doc *out, const char *buf, size_t len)
{
	const char *type, *vid, *run, *rcp, *tm;
	nv_age_recipient r;
	json_int_t version;
	json_t *o;
	time_t t;
	int bad;

	memset(out, 0, sizeof(*out));
	if (!len || buf[len - 1] != '\n' || !(o = nv_rd_load(buf, len - 1, "run document")))
		return nv_error_set(NV_EMISMATCH, "run document: not one JSON line");
	bad = json_unpack(o, "{s:s, s:I, s:s, s:s, s:s, s:s !}", "type", &type, "version",
			  &version, "vault_id", &vid, "run", &run, "recipient", &rcp, "time",
			  &tm) != 0 ||
	      strcmp(type, "run") != 0 || version != 1 || !nv_hex_ok(vid, NV_VAULT_ID_HEX - 1) ||
	      nv_run_id_check(run) != 0 || nv_age_recipient_parse(&r, rcp) != 0 ||
	      nv_time_parse(&t, tm) != 0 ||
	      nv_rd_copy(out->recipient, sizeof(out->recipient), rcp) ||
	      nv_rd_copy(out->time, sizeof(out->time), tm);
	if (!bad) {
		memcpy(out->vault_id, vid, NV_VAULT_ID_HEX);
		memcpy(out->run, run, strlen(run) + 1);
	}
	json_decref(o);
	if (bad) {
		memset(out, 0, sizeof(*out));
		return nv_error_set(NV_EMISMATCH, "run document: missing or malformed fields");
	}
	return 0;
}

/* ---- partial catalogs ---- */

char *nv_partial_head_line(const nv_partial_head *h)
{
	return nv_rd_line(json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:I}", "type",
				    "partial-catalog", "version", 1, "vault_id", h->vault_id,
				    "run", h->run, "recipient", h->recipient, "shard",
				    (json_int_t)h->shard, "shards", (json_int_t)h->shards), NULL);
}

char *nv_partial_file_line(const nv_cat_entry *e, const nv_obj_rec *obj)
{
	char sha[NV_SHA256_HEX], ssha[NV_SHA256_HEX];

	nv_hex(sha, e->sha256, NV_SHA256_LEN);
	nv_hex(ssha, obj->sha256, NV_SHA256_LEN);
	/* json_pack refuses a string that is not UTF-8: no line without its path */
	return nv_rd_line(json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:I, s:s}", "path",
				    e->path, "size", (json_int_t)e->size, "sha256", sha, "mode",
				    (json_int_t)e->mode, "mtime", (json_int_t)e->mtime,
				    "mtime_ns", (json_int_t)e->mtime_ns, "object", e->object,
				    "stored_size", (json_int_t)obj->size, "stored_sha256", ssha),
			  NULL);
}

char *nv_partial_end_line(const unsigned char mac[NV_SHA256_LEN])
{
	char hex[NV_SHA256_HEX];

	nv_hex(hex, mac, NV_SHA256_LEN);
	return nv_rd_line(json_pack("{s:s, s:s}", "type", "end", "hmac", hex), NULL);
}

int nv_partial_head_parse(nv_partial_head *out, const char *line, size_t len)
{
	const char *type, *vid, *run, *rcp;
	json_int_t version, k, n;
	nv_age_recipient r;
	json_t *o = nv_rd_load(line, len, "partial catalog header");
	int bad;

	memset(out, 0, sizeof(*out));
	if (!o)
		return NV_EMISMATCH;
	bad = json_unpack(o, "{s:s, s:I, s:s, s:s, s:s, s:I, s:I !}", "type", &type, "version",
			  &version, "vault_id", &vid, "run", &run, "recipient", &rcp, "shard", &k,
			  "shards", &n) != 0 ||
	      strcmp(type, "partial-catalog") != 0 || version != 1 ||
	      !nv_hex_ok(vid, NV_VAULT_ID_HEX - 1) || nv_run_id_check(run) != 0 ||
	      nv_age_recipient_parse(&r, rcp) != 0 || n < 1 || n > 1000000 || k < 0 || k >= n ||
	      nv_rd_copy(out->recipient, sizeof(out->recipient), rcp);
	if (!bad) {
		memcpy(out->vault_id, vid, NV_VAULT_ID_HEX);
		memcpy(out->run, run, strlen(run) + 1);
		out->shard = (unsigned)k;
		out->shards = (unsigned)n;
	}
	json_decref(o);
	return bad ? nv_error_set(NV_EMISMATCH, "partial catalog: a malformed header") : 0;
}

/* A file line's fields by jansson, for a line not in the writer's form
 * (partial_line.h): *o holds the strings f points at. */
static int nv_partial_file_json(nv_pline *f, json_t **o, const char *line, size_t len)
{
	json_int_t size, mode, mtime, ns, ssize;

	if (!(*o = nv_rd_load(line, len, "partial catalog line")))
		return NV_EMISMATCH;
	if (json_unpack(*o, "{s:s%, s:I, s:s%, s:I, s:I, s:I, s:s%, s:I, s:s% !}", "path",
			&f->path.s, &f->path.len, "size", &size, "sha256", &f->sha256.s,
			&f->sha256.len, "mode", &mode, "mtime", &mtime, "mtime_ns", &ns, "object",
			&f->object.s, &f->object.len, "stored_size", &ssize, "stored_sha256",
			&f->stored_sha256.s, &f->stored_sha256.len) != 0)
		return nv_error_set(NV_EMISMATCH, "partial catalog: a malformed line");
	f->size = size;
	f->mode = mode;
	f->mtime = mtime;
	f->mtime_ns = ns;
	f->stored_size = ssize;
	return 0;
}

/* A SHA-256 field: 64 hex digits. */
static int nv_partial_sha(unsigned char out[NV_SHA256_LEN], nv_pline_str s)
{
	char hex[NV_SHA256_HEX];

	if (s.len != NV_SHA256_HEX - 1)
		return -1;
	memcpy(hex, s.s, s.len);
	hex[s.len] = '\0';
	return nv_unhex(out, NV_SHA256_LEN, hex);
}

int nv_partial_file_parse(nv_cat_entry *e, nv_obj_rec *obj, const char *line, size_t len)
{
	nv_pline f;
	json_t *o = NULL;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	memset(obj, 0, sizeof(*obj));
	/* the writer's form without a tree (nine tenths of the cost), any other by jansson */
	if (nv_pline_fast(&f, line, len) != 0 && (rc = nv_partial_file_json(&f, &o, line, len)))
		goto out;
	if (f.size < 0 || f.mode < 0 || f.mode > 07777 || f.mtime_ns < 0 ||
	    f.mtime_ns >= 1000000000 || f.stored_size < 0 || nv_partial_sha(e->sha256, f.sha256) ||
	    nv_partial_sha(obj->sha256, f.stored_sha256)) {
		rc = nv_error_set(NV_EMISMATCH, "partial catalog: a malformed line");
		goto out;
	}
	e->size = (uint64_t)f.size;
	e->mode = (uint32_t)f.mode;
	e->mtime = f.mtime;
	e->mtime_ns = (int32_t)f.mtime_ns;
	obj->size = (uint64_t)f.stored_size;
	e->path = strndup(f.path.s, f.path.len);
	e->object = obj->name = strndup(f.object.s, f.object.len);
	if (!e->path || !obj->name)
		rc = nv_error_set(NV_ERR, "out of memory");
	else if (nv_key_check(e->path) != 0 || nv_object_name_parse(obj->name, NULL, NULL) != 0)
		rc = nv_error_wrap(NV_EMISMATCH, "partial catalog: a line refused");
	if (rc) {
		free(e->path);
		free(obj->name);
		e->path = e->object = obj->name = NULL;
	}
out:
	json_decref(o);
	return rc;
}

int nv_partial_end_parse(unsigned char mac[NV_SHA256_LEN], const char *line, size_t len)
{
	const char *type, *hex;
	json_t *o = nv_rd_load(line, len, "partial catalog end");
	int bad;

	if (!o)
		return NV_EMISMATCH;
	bad = json_unpack(o, "{s:s, s:s !}", "type", &type, "hmac", &hex) != 0 ||
	      strcmp(type, "end") != 0 || nv_unhex(mac, NV_SHA256_LEN, hex);
	json_decref(o);
	return bad ? nv_error_set(NV_EMISMATCH, "partial catalog: a malformed end line") : 0;
}
