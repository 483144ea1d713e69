/* catalog_read.c: the catalog's stored bytes spooled and checked, then
 * decrypted and parsed line by line (age_spool.h). Called through
 * catalog_read.h. */
#include "catalog_read.h"
#include "age_spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nv_cread {
	nv_agespool *sp;         /* the stored bytes, checked, decrypted as read */
	nv_catcheck check;       /* the entries handed out */
};

/* Fetches rec's stored bytes and checks them against the manifest before
 * anything is decrypted (FORMAT.md 3, rule 2). */
static int nv_cread_spool(nv_cread *r, nv_vault *v, const nv_obj_rec *rec)
{
	unsigned char sha[NV_SHA256_LEN];
	char what[NV_OBJECT_NAME_MAX + 20];
	uint64_t size = 0;
	int rc;

	snprintf(what, sizeof(what), "the catalog %s", rec->name);
	rc = nv_agespool_fetch(&r->sp, nv_vault_store(v), rec->name, rec->size, what, &size, sha);
	if (rc == NV_ENOTFOUND)
		return nv_error_set(NV_ENOTFOUND, "object %s is missing", rec->name);
	return rc ? rc : nv_vault_check_stored(rec, size, sha);
}

int nv_cread_open(nv_cread **out, nv_vault *v, const nv_obj_rec *rec, const char *type,
		  const nv_age_identity *id, uint64_t gen)
{
	nv_cread *r = calloc(1, sizeof(*r));
	nv_catalog head;
	const char *p, *end;
	int rc = 0;

	*out = NULL;
	if (!r)
		return nv_error_set(NV_ERR, "out of memory");
	if (!(rc = nv_cread_spool(r, v, rec)) && !(rc = nv_agespool_start(r->sp, id)) &&
	    nv_agespool_line(r->sp, &p, &end, &rc)) {
		rc = nv_catalog_parse_head(&head, &p, end, type);
		if (!rc && (strcmp(head.vault_id, nv_vault_descriptor(v)->vault_id) ||
			    head.generation != gen))
			rc = nv_error_set(NV_EMISMATCH, "the catalog belongs to another vault or "
					  "generation");
	} else if (!rc) {
		rc = nv_error_set(NV_EMISMATCH, "catalog: empty");
	}
	if (rc) {
		nv_cread_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int nv_cread_open_catalog(nv_cread **out, nv_vault *v, nv_mread *mr, const nv_manifest *head,
			  const nv_age_identity *id)
{
	nv_obj_rec rec;
	int rc;

	*out = NULL;
	if ((rc = nv_mread_rewind(mr)))
		return rc;
	while ((rc = nv_mread_next(mr, &rec)) == 0)
		if (strcmp(rec.name, head->catalog) == 0)
			return nv_cread_open(out, v, &rec, NV_CATALOG_TYPE, id, head->generation);
	/* nv_mread_next checked at the end that the catalog is listed */
	return rc == NV_EOF ? nv_error_set(NV_EMISMATCH, "catalog %s not in the manifest",
					   head->catalog) : rc;
}

/* A file/directory clash need not be adjacent ("a", "a-b", "a/c"): every
 * path between a file "a" and a path "a/..." starts with "a", so a stack of
 * the earlier paths that prefix the current one holds every candidate. */
static int nv_catcheck_clash(nv_catcheck *c, const char *path)
{
	while (c->depth && strncmp(c->stack[c->depth - 1], path,
				   strlen(c->stack[c->depth - 1])) != 0)
		free(c->stack[--c->depth]);
	if (c->depth) {
		const char *top = c->stack[c->depth - 1];

		if (path[strlen(top)] == '/')
			return nv_error_set(NV_EMISMATCH, "catalog: '%s' is a file and a "
					    "directory", top);
	}
	if (c->depth == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **g = realloc(c->stack, cap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		c->stack = g;
		c->cap = cap;
	}
	if (!(c->stack[c->depth] = strdup(path)))
		return nv_error_set(NV_ERR, "out of memory");
	c->depth++;
	return 0;
}

int nv_catcheck_entry(nv_catcheck *c, const char *p, const char *end, nv_cat_entry *out)
{
	nv_cat_entry e;
	int rc;

	if ((rc = nv_catalog_parse_entry(&p, end, &e, c->cur.path, (size_t)c->n + 1)))
		return rc;
	if ((rc = nv_catcheck_clash(c, e.path))) {
		free(e.path);
		free(e.object);
		return rc;
	}
	free(c->cur.path);
	free(c->cur.object);
	c->cur = e;
	c->n++;
	*out = e;
	return 0;
}

void nv_catcheck_clear(nv_catcheck *c)
{
	free(c->cur.path);
	free(c->cur.object);
	while (c->depth)
		free(c->stack[--c->depth]);
	free(c->stack);
	memset(c, 0, sizeof(*c));
}

int nv_cread_next(nv_cread *r, nv_cat_entry *out)
{
	const char *p, *end;
	int rc = 0;

	if (!nv_agespool_line(r->sp, &p, &end, &rc))
		return rc ? rc : NV_EOF;
	return nv_catcheck_entry(&r->check, p, end, out);
}

void nv_cread_close(nv_cread *r)
{
	if (!r)
		return;
	nv_agespool_free(r->sp);
	nv_catcheck_clear(&r->check);
	free(r);
}
