/* http_xml.c: a small streaming XML reader over expat that reports each element's
 * path and text (listings, error bodies). Only drivers/ call it (see http.h). */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#define XML_MAX_PATH 1024
#define XML_MAX_TEXT (64 * 1024)

struct nv_xml {
	XML_Parser p;
	nv_xml_cb cb;
	void *ctx;
	char path[XML_MAX_PATH];
	size_t path_len;
	size_t marks[64];  /* path_len before each open element */
	unsigned depth;    /* open elements */
	unsigned skipped;  /* elements deeper than marks[] can hold */
	nv_sb text;        /* character data of the innermost open element */
	int err;           /* first error: stops the parse */
};

static const char *local_name(const char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

static void stop(struct nv_xml *x, int err)
{
	if (!x->err)
		x->err = err;
	XML_StopParser(x->p, XML_FALSE);
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct nv_xml *x = ud;
	const char *ln = local_name(name);
	size_t n = strlen(ln);

	(void)attrs;
	if (x->err)
		return;
	if (x->depth >= sizeof(x->marks) / sizeof(x->marks[0]) ||
	    x->path_len + n + 2 > sizeof(x->path)) {
		stop(x, nv_error_set(NV_ERR, "XML nested too deeply"));
		return;
	}
	x->marks[x->depth++] = x->path_len;
	if (x->path_len)
		x->path[x->path_len++] = '/';
	memcpy(x->path + x->path_len, ln, n + 1);
	x->path_len += n;
	x->text.len = 0;
	if (x->text.s)
		x->text.s[0] = '\0';
}

static void on_end(void *ud, const XML_Char *name)
{
	struct nv_xml *x = ud;
	int rc;

	(void)name;
	if (x->err || !x->depth)
		return;
	rc = x->cb(x->ctx, x->path, x->text.s ? x->text.s : "", x->text.len);
	if (rc) {
		stop(x, rc);
		return;
	}
	/* Text after a child's end belongs to the parent; listings never use
	 * mixed content, so the parent simply starts with an empty text. */
	x->text.len = 0;
	if (x->text.s)
		x->text.s[0] = '\0';
	x->path_len = x->marks[--x->depth];
	x->path[x->path_len] = '\0';
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	struct nv_xml *x = ud;

	if (x->err)
		return;
	if (x->text.len + (size_t)len > XML_MAX_TEXT) {
		stop(x, nv_error_set(NV_ERR, "XML element text too long"));
		return;
	}
	nv_sb_addn(&x->text, s, (size_t)len);
	if (x->text.failed)
		stop(x, nv_error_set(NV_ERR, "out of memory"));
}

/* Servers have no reason to send a DTD; refusing them rules out entity tricks. */
static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
		       const XML_Char *pubid, int has_internal)
{
	struct nv_xml *x = ud;

	(void)name; (void)sysid; (void)pubid; (void)has_internal;
	stop(x, nv_error_set(NV_ERR, "XML with a DTD refused"));
}

int nv_xml_new(nv_xml **out, nv_xml_cb cb, void *ctx)
{
	struct nv_xml *x = calloc(1, sizeof(*x));

	*out = NULL;
	if (!x)
		return nv_error_set(NV_ERR, "out of memory");
	x->p = XML_ParserCreate("UTF-8");
	if (!x->p) {
		free(x);
		return nv_error_set(NV_ERR, "out of memory");
	}
	x->cb = cb;
	x->ctx = ctx;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	*out = x;
	return 0;
}

int nv_xml_feed(nv_xml *x, const void *data, size_t len, int final)
{
	if (x->err)
		return x->err;
	while (len > 0 || final) {
		int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
		int last = final && (size_t)chunk == len;

		if (XML_Parse(x->p, data, chunk, last) == XML_STATUS_ERROR) {
			if (x->err)
				return x->err;
			return x->err = nv_error_set(NV_ERR, "malformed XML at line %lu: %s",
						     (unsigned long)XML_GetCurrentLineNumber(x->p),
						     XML_ErrorString(XML_GetErrorCode(x->p)));
		}
		if (x->err)
			return x->err;
		/* before the pointer moves: the final call has data NULL, and NULL + 0
		 * is undefined (clang's UBSan stops there) */
		if (last)
			break;
		data = (const char *)data + chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

void nv_xml_free(nv_xml *x)
{
	if (!x)
		return;
	XML_ParserFree(x->p);
	nv_sb_free(&x->text);
	free(x);
}

int nv_xml_parse(const void *data, size_t len, nv_xml_cb cb, void *ctx)
{
	nv_xml *x;
	int rc = nv_xml_new(&x, cb, ctx);

	if (rc)
		return rc;
	rc = nv_xml_feed(x, data, len, 1);
	nv_xml_free(x);
	return rc;
}

int nv_xml_sink(void *ctx, const void *data, size_t len)
{
	return nv_xml_feed(ctx, data, len, 0);
}

struct err_ctx {
	nv_xml_error *e;
	int is_error;
};

static void copy_field(char *dst, size_t cap, const char *text, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, text, len);
	dst[len] = '\0';
}

static int err_cb(void *ctx, const char *path, const char *text, size_t len)
{
	struct err_ctx *c = ctx;

	if (strcmp(path, "Error") == 0)
		c->is_error = 1;
	else if (strcmp(path, "Error/Code") == 0)
		copy_field(c->e->code, sizeof(c->e->code), text, len);
	else if (strcmp(path, "Error/Message") == 0)
		copy_field(c->e->message, sizeof(c->e->message), text, len);
	else if (strcmp(path, "Error/RequestId") == 0)
		copy_field(c->e->request_id, sizeof(c->e->request_id), text, len);
	return 0;
}

int nv_xml_error_parse(nv_xml_error *out, const void *body, size_t len)
{
	struct err_ctx c = { out, 0 };
	int saved_code = nv_error_code();
	char saved[256];

	memset(out, 0, sizeof(*out));
	if (!body || !len)
		return 0;
	/* A non-XML error body is normal (proxies, HEAD): keep the caller's message. */
	snprintf(saved, sizeof(saved), "%s", nv_error_msg());
	if (nv_xml_parse(body, len, err_cb, &c) != 0) {
		nv_error_set(saved_code, "%s", saved);
		return c.is_error;
	}
	return c.is_error;
}
