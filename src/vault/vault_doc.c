/* vault_doc.c: builds and strictly parses the vault's JSON documents with
 * jansson (sorted keys, compact, one record per line). Called by vault modules.
 * Long because: jansson stays in this one file, for every document. */
#include "vault_doc.h"
#include "driver/driver.h"
#include "util/error.h"
#include "util/times.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NV_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

void nv_time_format(char out[32], time_t t)
{
	nv_time_utc(out, (int64_t)t);
}

int nv_time_parse(time_t *out, const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return nv_error_set(NV_EINVAL, "bad time '%s'", s);
	*out = timegm(&tm);
	if (!nv_time_in_range((int64_t)*out)) /* year 0 */
		return nv_error_set(NV_EINVAL, "bad time '%s'", s);
	return 0;
}

/* Appends one compact JSON line for obj to a growing buffer. */
static int nv_json_line(char **buf, size_t *len, json_t *obj)
{
	char *s = json_dumps(obj, NV_JSON_FLAGS);
	size_t n;
	char *grown;

	json_decref(obj);
	if (!s)
		return nv_error_set(NV_ERR, "out of memory (JSON)");
	n = strlen(s);
	grown = realloc(*buf, *len + n + 2);
	if (!grown) {
		free(s);
		return nv_error_set(NV_ERR, "out of memory");
	}
	*buf = grown;
	memcpy(*buf + *len, s, n);
	(*buf)[*len + n] = '\n';
	*len += n + 1;
	(*buf)[*len] = '\0';
	free(s);
	return 0;
}

/* Parses one line as a JSON object; *next is set past its '\n'. */
static json_t *nv_json_take_line(const char **p, const char *end, const char *what)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	json_error_t err;
	json_t *j;

	if (!nl) {
		nv_error_set(NV_EMISMATCH, "%s: a line does not end with a newline", what);
		return NULL;
	}
	j = json_loadb(*p, (size_t)(nl - *p), JSON_REJECT_DUPLICATES, &err);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		nv_error_set(NV_EMISMATCH, "%s: bad JSON line: %s", what, j ? "not an object" :
			     err.text);
		return NULL;
	}
	*p = nl + 1;
	return j;
}

static const char *nv_jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int nv_juint(json_t *o, const char *k, uint64_t *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int nv_check_head(json_t *o, const char *type, const char *what,
			 char vault_id[NV_VAULT_ID_HEX], uint64_t *generation)
{
	const char *t = nv_jstr(o, "type"), *vid = nv_jstr(o, "vault_id");
	uint64_t version;

	if (!t || strcmp(t, type) != 0)
		return nv_error_set(NV_EMISMATCH, "%s: not a %s (type '%s')", what, type,
				    t ? t : "none");
	if (nv_juint(o, "version", &version) || version != 1)
		return nv_error_set(NV_EMISMATCH, "%s: unsupported version", what);
	if (!vid || !nv_hex_ok(vid, 32))
		return nv_error_set(NV_EMISMATCH, "%s: bad vault_id", what);
	memcpy(vault_id, vid, NV_VAULT_ID_HEX);
	if (generation && nv_juint(o, "generation", generation))
		return nv_error_set(NV_EMISMATCH, "%s: bad generation", what);
	return 0;
}

/* ---- descriptor ---- */

int nv_descriptor_format(char **out, size_t *len, const nv_descriptor *d)
{
	json_t *o = json_object(), *r = json_array();

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < d->n_recipients; i++)
		json_array_append_new(r, json_string(d->recipients[i]));
	json_object_set_new(o, "format", json_string("navette-vault"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "vault_id", json_string(d->vault_id));
	json_object_set_new(o, "created", json_string(d->created));
	json_object_set_new(o, "recipients", r);
	json_object_set_new(o, "signing_key", json_string(d->signing_key));
	json_object_set_new(o, "kid_age", json_string(d->kid_age));
	return nv_json_line(out, len, o);
}

int nv_pin_format(char **out, size_t *len, const nv_descriptor *d)
{
	json_t *o = json_object(), *r = json_array();

	for (size_t i = 0; i < d->n_recipients; i++)
		json_array_append_new(r, json_string(d->recipients[i]));
	json_object_set_new(o, "type", json_string("pin"));
	json_object_set_new(o, "vault_id", json_string(d->vault_id));
	json_object_set_new(o, "recipients", r);
	json_object_set_new(o, "signing_key", json_string(d->signing_key));
	*out = NULL;
	*len = 0;
	return nv_json_line(out, len, o);
}

static int nv_strcmp_p(const void *a, const void *b);

/* Copies a JSON array of strings into d->recipients, sorted; nonzero if malformed. */
static size_t nv_take_recipients(nv_descriptor *d, json_t *r)
{
	size_t i;

	d->n_recipients = json_array_size(r);
	d->recipients = calloc(d->n_recipients, sizeof(char *));
	if (!d->recipients)
		return 1;
	for (i = 0; i < d->n_recipients; i++) {
		const char *s = json_string_value(json_array_get(r, i));

		if (!s || !(d->recipients[i] = strdup(s)))
			return 1;
	}
	qsort(d->recipients, d->n_recipients, sizeof(char *), nv_strcmp_p);
	return 0;
}

int nv_pin_parse(nv_descriptor *out, const char *buf, size_t len)
{
	const char *p = buf, *vid, *sk;
	json_t *o = nv_json_take_line(&p, buf + len, "pin"), *r;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!o)
		return NV_EINVAL;
	vid = nv_jstr(o, "vault_id");
	sk = nv_jstr(o, "signing_key");
	r = json_object_get(o, "recipients");
	if (!vid || !nv_hex_ok(vid, 32) || !sk || !json_is_array(r) || !json_array_size(r)) {
		json_decref(o);
		return nv_error_set(NV_EINVAL, "malformed pin file");
	}
	memcpy(out->vault_id, vid, NV_VAULT_ID_HEX);
	out->signing_key = strdup(sk);
	i = nv_take_recipients(out, r);
	json_decref(o);
	if (!out->signing_key || i) {
		nv_descriptor_clear(out);
		return nv_error_set(NV_EINVAL, "malformed pin file");
	}
	return 0;
}

int nv_descriptor_matches_pin(const nv_descriptor *d, const nv_descriptor *pin)
{
	if (strcmp(d->vault_id, pin->vault_id) || strcmp(d->signing_key, pin->signing_key) ||
	    d->n_recipients != pin->n_recipients)
		return 0;
	for (size_t i = 0; i < d->n_recipients; i++)
		if (strcmp(d->recipients[i], pin->recipients[i]))
			return 0;
	return 1;
}

static int nv_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nv_descriptor_parse(nv_descriptor *out, const char *buf, size_t len)
{
	const char *p = buf, *f, *vid, *sk, *kid, *cr;
	json_t *o = nv_json_take_line(&p, buf + len, "descriptor"), *r;
	uint64_t version;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!o)
		return NV_EMISMATCH;
	f = nv_jstr(o, "format");
	vid = nv_jstr(o, "vault_id");
	sk = nv_jstr(o, "signing_key");
	kid = nv_jstr(o, "kid_age");
	cr = nv_jstr(o, "created");
	r = json_object_get(o, "recipients");
	if (p != buf + len || !f || strcmp(f, "navette-vault") != 0 ||
	    nv_juint(o, "version", &version) || version != 1 || !vid || !nv_hex_ok(vid, 32) ||
	    !sk || !kid || !cr || !json_is_array(r) || json_array_size(r) == 0 ||
	    json_array_size(r) > 64) {
		json_decref(o);
		return nv_error_set(NV_EMISMATCH, "vault descriptor: missing or malformed fields");
	}
	memcpy(out->vault_id, vid, NV_VAULT_ID_HEX);
	snprintf(out->created, sizeof(out->created), "%s", cr);
	out->signing_key = strdup(sk);
	out->kid_age = strdup(kid);
	i = nv_take_recipients(out, r);
	json_decref(o);
	if (!out->signing_key || !out->kid_age || i) {
		nv_descriptor_clear(out);
		return nv_error_set(NV_EMISMATCH, "vault descriptor: malformed recipients");
	}
	return 0;
}

void nv_descriptor_clear(nv_descriptor *d)
{
	if (d->recipients)
		for (size_t i = 0; i < d->n_recipients; i++)
			free(d->recipients[i]);
	free(d->recipients);
	free(d->signing_key);
	free(d->kid_age);
	memset(d, 0, sizeof(*d));
}

/* ---- manifest ---- */

static int nv_obj_cmp(const void *a, const void *b)
{
	return strcmp(((const nv_obj_rec *)a)->name, ((const nv_obj_rec *)b)->name);
}

int nv_manifest_head_line(char **out, size_t *len, const nv_manifest *m)
{
	json_t *h = json_object();

	json_object_set_new(h, "type", json_string("manifest"));
	json_object_set_new(h, "version", json_integer(1));
	json_object_set_new(h, "vault_id", json_string(m->vault_id));
	json_object_set_new(h, "generation", json_integer((json_int_t)m->generation));
	json_object_set_new(h, "time", json_string(m->time));
	json_object_set_new(h, "previous", m->previous[0] ? json_string(m->previous) : json_null());
	json_object_set_new(h, "catalog", json_string(m->catalog));
	if (m->canary)
		json_object_set_new(h, "canary", json_string(m->canary));
	json_object_set_new(h, "objects", json_integer((json_int_t)m->n));
	json_object_set_new(h, "bytes", json_integer((json_int_t)m->bytes));
	return nv_json_line(out, len, h);
}

int nv_manifest_obj_line(char **out, size_t *len, const nv_obj_rec *r)
{
	char hex[NV_SHA256_HEX];
	json_t *o = json_object();

	nv_hex(hex, r->sha256, NV_SHA256_LEN);
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "size", json_integer((json_int_t)r->size));
	json_object_set_new(o, "sha256", json_string(hex));
	return nv_json_line(out, len, o);
}

int nv_manifest_format(char **out, size_t *len, nv_manifest *m)
{
	int rc;

	*out = NULL;
	*len = 0;
	qsort(m->objs, m->n, sizeof(*m->objs), nv_obj_cmp);
	m->bytes = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (i && strcmp(m->objs[i].name, m->objs[i - 1].name) == 0)
			return nv_error_set(NV_EINVAL, "object %s listed twice", m->objs[i].name);
		m->bytes += m->objs[i].size;
	}
	rc = nv_manifest_head_line(out, len, m);
	for (size_t i = 0; !rc && i < m->n; i++)
		rc = nv_manifest_obj_line(out, len, &m->objs[i]);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* The object lines of a manifest, as nv_manifest_format writes them (sorted
 * keys, compact): {"name":"N","sha256":"H","size":S}. Such a line is read here
 * without jansson (a manifest of 10,000 objects parsed in a fraction of the
 * time); any other line, even valid JSON, goes through jansson as before. 1
 * when the line had that exact form, 0 otherwise (nothing consumed). */
#define NV_FAST_NAME_MAX 256 /* longer names take the jansson path */

static int nv_object_line_fast(const char **p, const char *end, const char **name,
			       size_t *name_len, const char **sha, uint64_t *size)
{
	static const char k1[] = "{\"name\":\"", k2[] = "\",\"sha256\":\"",
			  k3[] = "\",\"size\":";
	const char *q = *p, *n;
	uint64_t v = 0;
	size_t digits = 0;

	if ((size_t)(end - q) < sizeof(k1) - 1 || memcmp(q, k1, sizeof(k1) - 1))
		return 0;
	n = q += sizeof(k1) - 1;
	while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20 && *q != '\n')
		q++;
	if (q >= end || *q != '"' || (size_t)(q - n) >= NV_FAST_NAME_MAX ||
	    (size_t)(end - q) < sizeof(k2) - 1 + 64 + sizeof(k3) - 1 ||
	    memcmp(q, k2, sizeof(k2) - 1))
		return 0;
	*name = n;
	*name_len = (size_t)(q - n);
	q += sizeof(k2) - 1;
	*sha = q;
	q += 64;
	if (memcmp(q, k3, sizeof(k3) - 1))
		return 0;
	q += sizeof(k3) - 1;
	while (q < end && *q >= '0' && *q <= '9' && digits < 19) {
		v = v * 10 + (uint64_t)(*q - '0');
		q++;
		digits++;
	}
	/* JSON integers as jansson takes them: no leading zero, within int64 */
	if (!digits || (digits > 1 && (*p)[q - *p - digits] == '0') || v > INT64_MAX ||
	    end - q < 2 || q[0] != '}' || q[1] != '\n')
		return 0;
	*size = v;
	*p = q + 2;
	return 1;
}

int nv_manifest_parse_head(nv_manifest *out, const char **p, const char *end, uint64_t total)
{
	const char *prev, *cat, *tm, *can;
	json_t *h = nv_json_take_line(p, end, "manifest");
	uint64_t count = 0, bytes = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!h)
		return NV_EMISMATCH;
	rc = nv_check_head(h, "manifest", "manifest", out->vault_id, &out->generation);
	prev = json_is_null(json_object_get(h, "previous")) ? "" : nv_jstr(h, "previous");
	cat = nv_jstr(h, "catalog");
	can = nv_jstr(h, "canary");
	tm = nv_jstr(h, "time");
	if (!rc && (!prev || (*prev && !nv_hex_ok(prev, 64)) || !cat || !tm ||
		    (json_object_get(h, "canary") && (!can || strcmp(can, cat) == 0)) ||
		    nv_juint(h, "objects", &count) || nv_juint(h, "bytes", &bytes) ||
		    (out->generation == 1) != (*prev == '\0') || out->generation == 0 ||
		    count > total / 40))
		rc = nv_error_set(NV_EMISMATCH, "manifest: missing or malformed header fields");
	if (!rc) {
		memcpy(out->previous, prev, strlen(prev) + 1);
		snprintf(out->time, sizeof(out->time), "%s", tm);
		out->catalog = strdup(cat);
		out->canary = can ? strdup(can) : NULL;
		out->n = (size_t)count;
		out->bytes = bytes;
		if (!out->catalog || (can && !out->canary))
			rc = nv_error_set(NV_ERR, "out of memory");
	}
	json_decref(h);
	if (rc)
		nv_manifest_clear(out);
	return rc;
}

int nv_manifest_parse_obj(const char **p, const char *end, nv_obj_rec *r,
			  char name[NV_OBJECT_NAME_MAX], const char *after, size_t lineno)
{
	json_t *o = NULL;
	const char *nm = NULL, *sha = NULL, *fname, *fsha;
	char nbuf[NV_FAST_NAME_MAX], sbuf[65];
	size_t flen;
	uint64_t fsize;
	int bad, rc = 0;

	if (nv_object_line_fast(p, end, &fname, &flen, &fsha, &fsize)) {
		memcpy(nbuf, fname, flen);
		nbuf[flen] = '\0';
		memcpy(sbuf, fsha, 64);
		sbuf[64] = '\0';
		nm = nbuf;
		sha = sbuf;
		r->size = fsize;
		bad = 0;
	} else if (!(o = nv_json_take_line(p, end, "manifest"))) {
		return NV_EMISMATCH;
	} else {
		nm = nv_jstr(o, "name");
		sha = nv_jstr(o, "sha256");
		bad = nv_juint(o, "size", &r->size);
	}
	if (bad || !nm || !sha || nv_object_name_parse(nm, NULL, NULL) ||
	    strlen(nm) >= NV_OBJECT_NAME_MAX || nv_unhex(r->sha256, 32, sha) ||
	    (after && strcmp(after, nm) >= 0))
		rc = nv_error_set(NV_EMISMATCH, "manifest: object line %zu is malformed, "
				  "out of order or beyond the count", lineno);
	else
		memcpy(name, nm, strlen(nm) + 1);
	r->name = name;
	json_decref(o);
	return rc;
}

int nv_manifest_parse(nv_manifest *out, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	char name[NV_OBJECT_NAME_MAX];
	uint64_t count, bytes, sum = 0;
	int rc = nv_manifest_parse_head(out, &p, end, len);

	if (rc)
		return rc;
	count = out->n;
	bytes = out->bytes;
	out->n = 0;
	if (!(out->objs = calloc(count ? (size_t)count : 1, sizeof(*out->objs))))
		rc = nv_error_set(NV_ERR, "out of memory");
	while (!rc && p < end) {
		nv_obj_rec r;

		if (out->n >= count)
			rc = nv_error_set(NV_EMISMATCH, "manifest: object line %zu is malformed, "
					  "out of order or beyond the count", out->n + 1);
		else if (!(rc = nv_manifest_parse_obj(&p, end, &r, name,
						      out->n ? out->objs[out->n - 1].name : NULL,
						      out->n + 1)) &&
			 !(out->objs[out->n].name = strdup(name)))
			rc = nv_error_set(NV_ERR, "out of memory");
		if (!rc) {
			out->objs[out->n].size = r.size;
			memcpy(out->objs[out->n].sha256, r.sha256, NV_SHA256_LEN);
			sum += r.size;
			out->n++;
		}
	}
	if (!rc && (out->n != count || sum != bytes))
		rc = nv_error_set(NV_EMISMATCH, "manifest: %zu objects and %llu bytes listed, "
				  "header says %llu and %llu", out->n, (unsigned long long)sum,
				  (unsigned long long)count, (unsigned long long)bytes);
	if (!rc && (!nv_manifest_find(out, out->catalog) ||
		    (out->canary && !nv_manifest_find(out, out->canary))))
		rc = nv_error_set(NV_EMISMATCH, "manifest: its catalog is not among its objects");
	out->bytes = sum;
	if (rc)
		nv_manifest_clear(out);
	return rc;
}

void nv_manifest_clear(nv_manifest *m)
{
	for (size_t i = 0; m->objs && i < m->n; i++)
		free(m->objs[i].name);
	free(m->objs);
	free(m->catalog);
	free(m->canary);
	memset(m, 0, sizeof(*m));
}

const nv_obj_rec *nv_manifest_find(const nv_manifest *m, const char *name)
{
	nv_obj_rec key = { .name = (char *)name };

	return m->n ? bsearch(&key, m->objs, m->n, sizeof(*m->objs), nv_obj_cmp) : NULL;
}

const nv_obj_rec *nv_manifest_find_id(const nv_manifest *m, const char *id_hex)
{
	char prefix[NV_OBJECT_PREFIX_MAX];
	size_t lo = 0, hi = m->n, n;

	if (nv_object_prefix(prefix, id_hex))
		return NULL;
	n = strlen(prefix);
	while (lo < hi) { /* first name >= prefix */
		size_t mid = (lo + hi) / 2;

		if (strcmp(m->objs[mid].name, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->n && strncmp(m->objs[lo].name, prefix, n) == 0)
		return &m->objs[lo];
	return NULL;
}

/* ---- catalog ---- */

char *nv_catalog_line(const nv_catalog *head, const nv_cat_entry *e)
{
	char hex[NV_SHA256_HEX], *buf = NULL;
	size_t len = 0;
	json_t *o = json_object();

	if (!e) {
		json_object_set_new(o, "type", json_string(head->type ? head->type :
							   NV_CATALOG_TYPE));
		json_object_set_new(o, "version", json_integer(1));
		json_object_set_new(o, "vault_id", json_string(head->vault_id));
		json_object_set_new(o, "generation", json_integer((json_int_t)head->generation));
	} else {
		nv_hex(hex, e->sha256, NV_SHA256_LEN);
		if (json_object_set_new(o, "path", json_string(e->path))) {
			json_decref(o); /* not UTF-8: never a catalog line without its path */
			return NULL;
		}
		json_object_set_new(o, "size", json_integer((json_int_t)e->size));
		json_object_set_new(o, "sha256", json_string(hex));
		json_object_set_new(o, "mode", json_integer(e->mode));
		json_object_set_new(o, "mtime", json_integer(e->mtime));
		json_object_set_new(o, "mtime_ns", json_integer(e->mtime_ns));
		json_object_set_new(o, "object", json_string(e->object));
	}
	if (nv_json_line(&buf, &len, o))
		return NULL;
	return buf;
}

/* Is a a directory of b ("x" and "x/y")? a < b in byte order when it is. */
static int nv_is_parent(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && b[n] == '/';
}

int nv_catalog_parse(nv_catalog *out, const char *buf, size_t len)
{
	return nv_catalog_parse_type(out, buf, len, NV_CATALOG_TYPE);
}

int nv_catalog_parse_head(nv_catalog *out, const char **p, const char *end, const char *type)
{
	json_t *h = nv_json_take_line(p, end, "catalog");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!h)
		return NV_EMISMATCH;
	rc = nv_check_head(h, type, "catalog", out->vault_id, &out->generation);
	json_decref(h);
	return rc;
}

int nv_catalog_parse_entry(const char **p, const char *end, nv_cat_entry *e, const char *prev,
			   size_t idx)
{
	json_t *o = nv_json_take_line(p, end, "catalog"), *mt;
	const char *path, *sha, *obj;
	uint64_t mode, mtime_ns;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	if (!o)
		return NV_EMISMATCH;
	path = nv_jstr(o, "path");
	sha = nv_jstr(o, "sha256");
	obj = nv_jstr(o, "object");
	mt = json_object_get(o, "mtime");
	if (!path || !sha || !obj || !json_is_integer(mt) || nv_juint(o, "size", &e->size) ||
	    nv_juint(o, "mode", &mode) || nv_juint(o, "mtime_ns", &mtime_ns) ||
	    mtime_ns >= 1000000000 || nv_unhex(e->sha256, 32, sha) ||
	    nv_object_name_parse(obj, NULL, NULL)) {
		rc = nv_error_set(NV_EMISMATCH, "catalog: entry %zu is malformed", idx);
	} else if (nv_key_check(path) != 0) {
		rc = nv_error_wrap(NV_EMISMATCH, "catalog: unsafe path refused");
	} else if (prev && strcmp(prev, path) >= 0) {
		rc = nv_error_set(NV_EMISMATCH, "catalog: path '%s' %s", path,
				  strcmp(prev, path) == 0 ? "appears twice" : "is out of order");
	} else if (prev && nv_is_parent(prev, path)) {
		rc = nv_error_set(NV_EMISMATCH, "catalog: '%s' is a file and a directory", prev);
	} else {
		e->path = strdup(path);
		e->object = strdup(obj);
		e->mode = (uint32_t)mode;
		e->mtime = json_integer_value(mt);
		e->mtime_ns = (int32_t)mtime_ns;
		if (!e->path || !e->object)
			rc = nv_error_set(NV_ERR, "out of memory");
	}
	json_decref(o);
	if (rc) {
		free(e->path);
		free(e->object);
		e->path = e->object = NULL;
	}
	return rc;
}

int nv_catalog_parse_type(nv_catalog *out, const char *buf, size_t len, const char *type)
{
	const char *p = buf, *end = buf + len;
	size_t cap = 0;
	int rc = nv_catalog_parse_head(out, &p, end, type);

	while (!rc && p < end) {
		if (out->n == cap) {
			nv_cat_entry *g = realloc(out->e, (cap = cap ? cap * 2 : 64) * sizeof(*g));

			if (!g) {
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			out->e = g;
		}
		rc = nv_catalog_parse_entry(&p, end, &out->e[out->n],
					    out->n ? out->e[out->n - 1].path : NULL, out->n + 1);
		if (!rc)
			out->n++;
	}
	/* A file/directory clash need not be adjacent ("a", "a-b", "a/c"): check
	 * each path against every earlier path that is a prefix of it. */
	for (size_t i = 1; !rc && i < out->n; i++) {
		const char *s = out->e[i].path;

		for (const char *sl = strchr(s, '/'); sl && !rc; sl = strchr(sl + 1, '/')) {
			size_t lo = 0, hi = i, n = (size_t)(sl - s);

			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				int c = strncmp(out->e[mid].path, s, n);

				if (c == 0)
					c = out->e[mid].path[n] == '\0' ? 0 :
					    (unsigned char)out->e[mid].path[n];
				if (c < 0)
					lo = mid + 1;
				else if (c > 0)
					hi = mid;
				else {
					rc = nv_error_set(NV_EMISMATCH, "catalog: '%.*s' is a file "
							  "and a directory", (int)n, s);
					break;
				}
			}
		}
	}
	if (rc)
		nv_catalog_clear(out);
	return rc;
}

void nv_catalog_clear(nv_catalog *c)
{
	for (size_t i = 0; c->e && i < c->n; i++) {
		free(c->e[i].path);
		free(c->e[i].object);
	}
	free(c->e);
	memset(c, 0, sizeof(*c));
}

/* ---- heartbeat ---- */

int nv_heartbeat_format(char **out, size_t *len, const nv_heartbeat *h)
{
	json_t *o = json_object();

	*out = NULL;
	*len = 0;
	json_object_set_new(o, "type", json_string("heartbeat"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "vault_id", json_string(h->vault_id));
	json_object_set_new(o, "generation", json_integer((json_int_t)h->generation));
	json_object_set_new(o, "manifest_sha256", json_string(h->manifest_sha256));
	json_object_set_new(o, "time", json_string(h->time));
	return nv_json_line(out, len, o);
}

int nv_heartbeat_parse(nv_heartbeat *out, const char *buf, size_t len)
{
	const char *p = buf, *ms, *tm;
	json_t *o = nv_json_take_line(&p, buf + len, "heartbeat");
	time_t t;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o)
		return NV_EMISMATCH;
	rc = nv_check_head(o, "heartbeat", "heartbeat", out->vault_id, &out->generation);
	ms = nv_jstr(o, "manifest_sha256");
	tm = nv_jstr(o, "time");
	if (!rc && (p != buf + len || !ms || !nv_hex_ok(ms, 64) || !tm || nv_time_parse(&t, tm)))
		rc = nv_error_set(NV_EMISMATCH, "heartbeat: missing or malformed fields");
	if (!rc) {
		memcpy(out->manifest_sha256, ms, NV_SHA256_HEX);
		snprintf(out->time, sizeof(out->time), "%s", tm);
	}
	json_decref(o);
	return rc;
}
