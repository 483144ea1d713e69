/* sftp_request.c: what every request of the sftp driver shares, whatever its
 * transport: the one mapping of SFTP statuses and transport failures to
 * nv_err codes and messages, the teardown a failure causes (with the handles
 * the session owns), keeping a session up, paths and attributes. Called by the
 * other drivers/sftp*.c files; calls the transports through c->tp only. */
#include "sftp_int.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the one error mapping ---- */

int nv_sftp_code(int rc)
{
	if (rc <= 0)
		return rc;
	switch (rc) {
	case NV_SFTP_FX_NO_SUCH_FILE:
	case NV_SFTP_FX_NO_SUCH_PATH:
		return NV_ENOTFOUND;
	case NV_SFTP_FX_PERMISSION_DENIED:
	case NV_SFTP_FX_WRITE_PROTECT:
		return NV_EPERM;
	case NV_SFTP_FX_FILE_ALREADY_EXISTS:
		return NV_EEXISTS;
	case NV_SFTP_FX_NO_SPACE_ON_FILESYSTEM:
	case NV_SFTP_FX_QUOTA_EXCEEDED:
		return NV_ENOSPC;
	case NV_SFTP_FX_OP_UNSUPPORTED:
		return NV_ENOTSUP;
	case NV_SFTP_FX_NO_CONNECTION:
	case NV_SFTP_FX_CONNECTION_LOST:
		return NV_ERETRY;
	default:
		return NV_ERR;
	}
}

int nv_sftp_why(struct nv_conn *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return code;
}

int nv_sftp_fail(struct nv_conn *c, int rc, const char *fmt, ...)
{
	char ctx[768];
	int code = nv_sftp_code(rc);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	nv_error_set(code, "sftp %s: %s: %s", c->where, ctx,
		     rc > 0 ? nv_sftp_status_name((uint32_t)rc) : c->why);
	/* A refused credential leaves a libssh2 session usable for the next method;
	 * past any other failure of the transport its state is unknown: start afresh. */
	if (code == NV_ERETRY || (rc < 0 && code == NV_ERR))
		nv_sftp_teardown(c);
	return code;
}

/* ---- what a session owns, and its end ---- */

void nv_sftp_tmp_track(struct nv_conn *c, struct nv_sftp_tmp *t)
{
	t->next = c->tmps;
	c->tmps = t;
}

void nv_sftp_tmp_untrack(struct nv_conn *c, struct nv_sftp_tmp *t)
{
	struct nv_sftp_tmp **p;

	for (p = &c->tmps; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->next = NULL;
}

void nv_sftp_orphan(struct nv_conn *c, const char *path)
{
	char **n = realloc(c->orphans, (c->norphans + 1) * sizeof(*n));
	char *p = strdup(path);

	if (!n || !p) {
		free(p);
		if (n)
			c->orphans = n;
		return;
	}
	c->orphans = n;
	c->orphans[c->norphans++] = p;
}

void nv_sftp_read_forget(struct nv_conn *c)
{
	if (c->rh)
		c->tp->close(c->rh);
	c->rh = NULL;
	free(c->rkey);
	c->rkey = NULL;
}

/* Closes every handle the session holds; the temp files being written become
 * orphans, to remove once a session is up again. */
static void sftp_close_handles(struct nv_conn *c)
{
	nv_sftp_read_forget(c);
	if (c->dh)
		c->tp->close(c->dh);
	c->dh = NULL;
	while (c->tmps) {
		struct nv_sftp_tmp *t = c->tmps;

		c->tmps = t->next;
		t->next = NULL;
		if (t->h)
			c->tp->close(t->h);
		t->h = NULL;
		t->dropped = 1;
		nv_sftp_orphan(c, t->path);
	}
}

void nv_sftp_teardown(struct nv_conn *c)
{
	if (!c->t)
		return;
	c->tp->cut(c); /* first: every close below then fails at once */
	sftp_close_handles(c);
	c->tp->drop(c);
}

static void sftp_orphans_clean(struct nv_conn *c)
{
	size_t i;

	for (i = 0; i < c->norphans; i++) {
		if (c->t)
			c->tp->unlink(c, c->orphans[i]);
		free(c->orphans[i]);
	}
	free(c->orphans);
	c->orphans = NULL;
	c->norphans = 0;
}

/* No backoff here: the loop that calls this (NV_SFTP_RETRY, or the pool's
 * retry of an item) has slept in nv_retry_again() already. */
int nv_sftp_ensure(struct nv_conn *c)
{
	int rc;

	if (c->t) {
		if (c->tp->alive(c))
			return 0;
		nv_sftp_teardown(c);
	}
	nv_log(NV_LOG_DEBUG, "sftp %s: connecting (transport %s)", c->where, c->tp->name);
	if ((rc = c->tp->connect(c)))
		return rc;
	if (c->norphans)
		sftp_orphans_clean(c);
	return 0;
}

void nv_sftp_disconnect(struct nv_conn *c)
{
	if (c->t) {
		sftp_close_handles(c);
		c->tp->bye(c);
		c->tp->drop(c);
	}
	sftp_orphans_clean(c); /* what no session is left to remove */
}

/* ---- paths and attributes ---- */

char *nv_sftp_path(const struct nv_conn *c, const char *key)
{
	char *p;

	if (!*c->root)
		return strdup(*key ? key : ".");
	if (!*key)
		return strdup(c->root);
	if (asprintf(&p, "%s%s%s", c->root, strcmp(c->root, "/") ? "/" : "", key) < 0)
		return NULL;
	return p;
}

int nv_sftp_is_tmp(const char *key)
{
	const char *leaf = strrchr(key, '/');

	leaf = leaf ? leaf + 1 : key;
	return nv_tmp_reserved(leaf);
}

int nv_sftp_attrs_entry(nv_entry *e, const nv_sftp_attrs *a)
{
	memset(e, 0, sizeof(*e));
	if ((a->flags & NV_SFTP_ATTR_PERMISSIONS) && !S_ISREG(a->perm))
		return -1;
	e->size = (a->flags & NV_SFTP_ATTR_SIZE) ? a->size : 0;
	if (a->flags & NV_SFTP_ATTR_ACMODTIME) {
		e->mtime_sec = (int64_t)a->mtime;
		e->flags |= NV_ENTRY_HAS_MTIME;
	}
	if (a->flags & NV_SFTP_ATTR_PERMISSIONS) {
		e->mode = a->perm & 07777;
		e->flags |= NV_ENTRY_HAS_MODE;
	}
	return 0;
}
