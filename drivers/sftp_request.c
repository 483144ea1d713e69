/* sftp_request.c: what every request of the sftp driver shares: the one
 * mapping of libssh2 and SFTP errors to nv_err codes, the teardown a failure
 * causes (with the handles the session owns), paths and attributes. Called by
 * the other drivers/sftp*.c files; calls none of them. */
#include "sftp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* ---- the one error mapping ---- */

static int sftp_status_code(unsigned long st, const char **name)
{
	switch (st) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
		*name = "no such file";
		return NV_ENOTFOUND;
	case LIBSSH2_FX_PERMISSION_DENIED:
	case LIBSSH2_FX_WRITE_PROTECT:
		*name = "permission denied";
		return NV_EPERM;
	case LIBSSH2_FX_FILE_ALREADY_EXISTS:
		*name = "file exists";
		return NV_EEXISTS;
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
	case LIBSSH2_FX_QUOTA_EXCEEDED:
		*name = "no space left";
		return NV_ENOSPC;
	case LIBSSH2_FX_OP_UNSUPPORTED:
		*name = "operation not supported by the server";
		return NV_ENOTSUP;
	case LIBSSH2_FX_NO_CONNECTION:
	case LIBSSH2_FX_CONNECTION_LOST:
		*name = "connection lost";
		return NV_ERETRY;
	default:
		*name = "failure";
		return NV_ERR;
	}
}

static int sftp_session_code(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
	case LIBSSH2_ERROR_PASSWORD_EXPIRED:
	case LIBSSH2_ERROR_KEYFILE_AUTH_FAILED:
	case LIBSSH2_ERROR_FILE:
	case LIBSSH2_ERROR_METHOD_NONE:
		return NV_EAUTH;
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_BAD_SOCKET:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_INVALID_MAC:
		return NV_ERETRY;
	case LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
		return NV_ENOTSUP;
	default:
		return NV_ERR;
	}
}

int nv_sftp_fail(struct nv_conn *c, int rc, const char *fmt, ...)
{
	char ctx[768];
	const char *why = "unknown error";
	char *msg = NULL;
	int code;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && c->sftp) {
		code = sftp_status_code(libssh2_sftp_last_error(c->sftp), &why);
	} else {
		code = sftp_session_code(rc);
		if (c->ssh && libssh2_session_last_error(c->ssh, &msg, NULL, 0) && msg && *msg)
			why = msg;
	}
	nv_error_set(code, "sftp %s: %s: %s", c->where, ctx, why);
	/* A refused credential leaves the session usable for the next method; past
	 * any other session-level error libssh2's state is unknown: start afresh. */
	if (code == NV_ERETRY || (rc != LIBSSH2_ERROR_SFTP_PROTOCOL && code == NV_ERR))
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
		libssh2_sftp_close_handle(c->rh);
	c->rh = NULL;
	free(c->rkey);
	c->rkey = NULL;
}

void nv_sftp_teardown(struct nv_conn *c)
{
	if (!c->ssh)
		return;
	/* Shutting the socket down first makes every call below fail at once
	 * instead of waiting out the timeout against a dead server. */
	if (c->sock >= 0)
		shutdown(c->sock, SHUT_RDWR);
	nv_sftp_read_forget(c);
	if (c->dh)
		libssh2_sftp_close_handle(c->dh);
	c->dh = NULL;
	while (c->tmps) {
		struct nv_sftp_tmp *t = c->tmps;

		c->tmps = t->next;
		t->next = NULL;
		if (t->h)
			libssh2_sftp_close_handle(t->h);
		t->h = NULL;
		t->dropped = 1;
		nv_sftp_orphan(c, t->path);
	}
	if (c->sftp)
		libssh2_sftp_shutdown(c->sftp);
	libssh2_session_free(c->ssh);
	c->sftp = NULL;
	c->ssh = NULL;
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
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

int nv_sftp_attrs_entry(nv_entry *e, const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	memset(e, 0, sizeof(*e));
	if ((a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && !S_ISREG(a->permissions))
		return -1;
	e->size = (a->flags & LIBSSH2_SFTP_ATTR_SIZE) ? a->filesize : 0;
	if (a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME) {
		e->mtime_sec = (int64_t)a->mtime;
		e->flags |= NV_ENTRY_HAS_MTIME;
	}
	if (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
		e->mode = (uint32_t)(a->permissions & 07777);
		e->flags |= NV_ENTRY_HAS_MODE;
	}
	return 0;
}
