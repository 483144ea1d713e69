/* canary_push.c: the canary files of a push: which (named in the config, or
 * generated once in this host's state), to whom (owner and drill recipients),
 * under which ids (the canary domain of K_id), each object stored once.
 * Called through canary_push.h. */
#include "canary_push.h"
#include "canary.h"
#include "util/log.h"
#include "util/state.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct nv_canary_set {
	nv_push_state *ps;
	nv_store *s;                 /* the vault's store (the caller's connection) */
	const nv_objindex *prev;     /* the generation the push chains from */
	unsigned char key[NV_KID_LEN]; /* K_canary */
	nv_age_recipient *recips;    /* the owner's, then the drill recipients */
	size_t n_recips;
	nv_push_file **f;            /* sorted by path */
	size_t n, cap;               /* cap: as many as the setting names, at most */
	uint64_t uploaded;
	int dry_run;                 /* store nothing, write no state */
};

void nv_canary_free(nv_canary_set *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->f[i]->path);
		free(c->f[i]->obj.name);
		free(c->f[i]);
	}
	free(c->f);
	free(c->recips);
	OPENSSL_cleanse(c->key, sizeof(c->key));
	free(c);
}

nv_push_file *const *nv_canary_files(const nv_canary_set *c, size_t *n)
{
	*n = c->n;
	return c->f;
}

uint64_t nv_canary_uploaded(const nv_canary_set *c)
{
	return c->uploaded;
}

/* The object holding plain: one already stored (by the generation chained
 * from, or landed by this host), else a new one. */
static int nv_canary_object(nv_canary_set *c, const unsigned char *plain, size_t len,
			    const unsigned char sha[NV_SHA256_LEN], nv_obj_rec *out)
{
	char id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	const nv_obj_rec *r;
	nv_obj_rec landed;
	nv_entry e;
	int rc;

	nv_object_id(id, c->key, sha);
	r = nv_objindex_find_id(c->prev, id, &landed, name) ? &landed : NULL;
	if (!r && nv_push_landed_find(c->ps, id, &landed, name)) {
		r = &landed;
		if (strcmp(r->name, NV_PUSH_DRY_NAME) &&
		    (nv_drv_stat(c->s, r->name, &e) != 0 || e.size != r->size)) {
			nv_error_clear();
			r = NULL;
		}
	}
	if (r) {
		*out = *r;
		return (out->name = strdup(r->name)) ? 0 : nv_error_set(NV_ERR, "out of memory");
	}
	if (c->dry_run) { /* counted, with the size the object would have */
		memset(out, 0, sizeof(*out));
		out->size = nv_age_ciphertext_size(len, c->n_recips);
		if (!(out->name = strdup(NV_PUSH_DRY_NAME)))
			return nv_error_set(NV_ERR, "out of memory");
	} else if ((rc = nv_vault_put_object(c->s, id, plain, len, c->recips, c->n_recips,
					     out))) {
		return nv_error_wrap(rc, "storing a canary object");
	}
	c->uploaded++;
	return nv_push_landed_add(c->ps, id, out); /* a dry run's: in memory only */
}

/* One canary file: its catalog line and its object. */
static int nv_canary_add(nv_canary_set *c, const char *path, const unsigned char *data,
			 size_t len, uint32_t mode, int64_t mtime, int32_t mtime_ns)
{
	nv_push_file *f;
	int rc;

	if (c->n == c->cap) /* sized by nv_canary_setup: cannot happen */
		return nv_error_set(NV_ERR, "too many canary files");
	if (!(f = calloc(1, sizeof(*f))) || !(f->path = strdup(path))) {
		free(f);
		return nv_error_set(NV_ERR, "out of memory");
	}
	c->f[c->n++] = f;
	f->cat.path = f->path;
	f->cat.size = len;
	f->cat.mode = mode & 0777;
	f->cat.mtime = mtime;
	f->cat.mtime_ns = mtime_ns;
	nv_sha256_buf(f->cat.sha256, data, len);
	if ((rc = nv_canary_object(c, data, len, f->cat.sha256, &f->obj)))
		return rc;
	f->cat.object = f->obj.name;
	return 0;
}

/* The generated canaries: random bytes of NV_CANARY_SIZES, made once under
 * push/<vault_id>/canary/ and kept, so that an unchanged tree still publishes
 * nothing. A dry run makes the missing ones in memory only, dated now. */
static int nv_canary_generated(nv_canary_set *c, const char *vault_id)
{
	static const unsigned sizes[] = NV_CANARY_SIZES;
	char dir[256], rel[300], path[4400], name[64];
	int rc;

	if ((rc = nv_vstate_name(dir, sizeof(dir), NV_VSTATE_CANARY, vault_id)))
		return rc;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		unsigned char *buf = NULL;
		size_t len = 0;
		struct stat st;
		int fresh = 0;

		snprintf(name, sizeof(name), "canary-%u.bin", sizes[i]);
		snprintf(rel, sizeof(rel), "%s/%s", dir, name);
		if ((rc = nv_state_path(path, sizeof(path), rel)))
			return rc;
		if (nv_state_read(path, (char **)&buf, &len) || len != sizes[i]) {
			free(buf);
			nv_error_clear();
			if (!(buf = malloc(sizes[i])))
				return nv_error_set(NV_ERR, "out of memory");
			len = sizes[i];
			fresh = 1;
			if (RAND_bytes(buf, (int)len) != 1)
				rc = nv_error_set(NV_ERR, "no randomness");
			else if (!c->dry_run)
				rc = nv_state_write(path, buf, len);
		}
		if (!rc && fresh && c->dry_run)
			clock_gettime(CLOCK_REALTIME, &st.st_mtim);
		else if (!rc && stat(path, &st) != 0)
			rc = nv_error_errno(errno, "%s", path);
		if (!rc)
			rc = nv_canary_add(c, name, buf, len, 0600, (int64_t)st.st_mtim.tv_sec,
					   (int32_t)st.st_mtim.tv_nsec);
		free(buf);
		if (rc)
			return rc;
	}
	return 0;
}

/* One canary named in the config, read from the pushed directory. */
static int nv_canary_named_one(nv_canary_set *c, nv_store *src, const char *path)
{
	unsigned char *buf;
	size_t len;
	nv_entry e;
	int rc;

	if (nv_key_check(path) != 0)
		return nv_error_set(NV_EINVAL, "canary = '%s': not a path relative to the pushed "
				    "directory", path);
	rc = nv_drv_stat(src, path, &e);
	if (rc == NV_ENOTFOUND)
		return nv_error_set(NV_EINVAL, "canary = '%s': no such file in the pushed "
				    "directory", path);
	if (rc)
		return rc;
	if (e.size > NV_CANARY_MAX)
		return nv_error_set(NV_EINVAL, "canary = '%s': larger than %u bytes (canary files "
				    "are small)", path, NV_CANARY_MAX);
	if ((rc = nv_drv_get_buf(src, path, NV_CANARY_MAX, &buf, &len)))
		return rc;
	rc = nv_canary_add(c, path, buf, len, e.mode, e.mtime_sec, e.mtime_nsec);
	OPENSSL_cleanse(buf, len); /* an owner's own file, shown to the drill key only */
	free(buf);
	return rc;
}

/* canary = p1, p2: paths relative to the pushed directory, comma-separated. */
static int nv_canary_named(nv_canary_set *c, const nv_location *src, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	nv_store *s = NULL;
	int rc = copy ? nv_drv_open(&s, src) : nv_error_set(NV_ERR, "out of memory");

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; !rc && tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end = tok + strlen(tok);

		while (*tok == ' ' || *tok == '\t')
			tok++;
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok)
			rc = nv_canary_named_one(c, s, tok);
	}
	if (!rc && !c->n)
		rc = nv_error_set(NV_EINVAL, "canary = '%s' names no file", list);
	nv_drv_close(s);
	free(copy);
	return rc;
}

static int nv_canary_path_cmp(const void *a, const void *b)
{
	return strcmp((*(nv_push_file *const *)a)->path, (*(nv_push_file *const *)b)->path);
}

/* The owner's recipients (the descriptor's), then each drill recipient that
 * is not one of them. */
static int nv_canary_recipients(nv_canary_set *c, nv_vault *v, const nv_drill_doc *d)
{
	const nv_descriptor *desc = nv_vault_descriptor(v);
	const nv_age_recipient *own;
	size_t n_own;

	nv_vault_recipients(v, &own, &n_own);
	if (!(c->recips = calloc(n_own + d->n_recipients, sizeof(*c->recips))))
		return nv_error_set(NV_ERR, "out of memory");
	memcpy(c->recips, own, n_own * sizeof(*own));
	c->n_recips = n_own;
	for (size_t i = 0; i < d->n_recipients; i++) {
		int owner = 0;

		for (size_t k = 0; k < desc->n_recipients; k++)
			owner |= strcmp(desc->recipients[k], d->recipients[i]) == 0;
		if (!owner && nv_age_recipient_parse(&c->recips[c->n_recips++], d->recipients[i]))
			return nv_error_wrap(NV_EMISMATCH, "drill recipient %zu", i + 1);
	}
	return 0;
}

static int nv_canary_setup(nv_canary_set *c, nv_vault *v, const nv_location *src,
			   const nv_drill_doc *d)
{
	static const unsigned char zero[NV_KID_LEN];
	static const unsigned sizes[] = NV_CANARY_SIZES;
	const char *vid = nv_vault_descriptor(v)->vault_id;
	const char *list = nv_settings_get(nv_vault_location(v)->settings, "canary", NULL);
	int rc;

	if (list && *list && !src) {
		/* publish of a sharded push (FORMAT.md 2.9) has no pushed directory */
		nv_log(NV_LOG_WARN, "canary = %s names files of the pushed directory, which "
		       "publish does not have: this generation's canary files are the generated "
		       "ones", list);
		list = NULL;
	}
	c->cap = sizeof(sizes) / sizeof(*sizes);
	if (list && *list)
		for (const char *p = list, *comma; (comma = strchr(p, ',')); p = comma + 1)
			c->cap++;
	if (!(c->f = calloc(c->cap + 1, sizeof(*c->f))))
		return nv_error_set(NV_ERR, "out of memory");

	nv_canary_key(c->key, nv_push_kid(c->ps), (const char *const *)d->recipients,
		      d->n_recipients);
	if (memcmp(c->key, zero, sizeof(zero)) == 0)
		return nv_error_set(NV_ERR, "out of memory (canary key)");
	if ((rc = nv_canary_recipients(c, v, d)) ||
	    (rc = list && *list ? nv_canary_named(c, src, list) : nv_canary_generated(c, vid)))
		return rc;
	qsort(c->f, c->n, sizeof(*c->f), nv_canary_path_cmp);
	for (size_t i = 1; i < c->n; i++)
		if (strcmp(c->f[i - 1]->path, c->f[i]->path) == 0)
			return nv_error_set(NV_EINVAL, "canary = '%s' names %s twice", list,
					    c->f[i]->path);
	return 0;
}

int nv_canary_prepare(nv_canary_set **out, nv_vault *v, nv_push_state *ps, nv_store *s,
		      const nv_location *src, const nv_objindex *prev, int dry_run)
{
	nv_canary_set *c;
	nv_drill_doc d;
	int rc;

	*out = NULL;
	rc = nv_drill_load(v, &d);
	if (rc == NV_ENOTFOUND) {
		/* a store can withhold it; the drills then find no canary and fail */
		if (nv_drill_pinned(nv_vault_descriptor(v)->vault_id))
			nv_log(NV_LOG_WARN, "pushing without canary files: %s", nv_error_msg());
		nv_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	if (!d.n_recipients) {
		nv_drill_doc_clear(&d);
		return 0;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		nv_drill_doc_clear(&d);
		return nv_error_set(NV_ERR, "out of memory");
	}
	c->ps = ps;
	c->s = s;
	c->prev = prev;
	c->dry_run = dry_run;
	rc = nv_canary_setup(c, v, src, &d);
	nv_drill_doc_clear(&d);
	if (rc) {
		nv_canary_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int nv_canary_put_catalog(const nv_canary_set *c, const void *plain, size_t len,
			  nv_obj_rec *out)
{
	unsigned char sha[NV_SHA256_LEN];
	char id[NV_OBJECT_ID_HEX];

	nv_sha256_buf(sha, plain, len);
	nv_object_id(id, c->key, sha);
	return nv_vault_put_object(c->s, id, plain, len, c->recips, c->n_recips, out);
}
