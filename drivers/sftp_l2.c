/* sftp_l2.c: the libssh2 transport of the sftp driver (nv_sftp_libssh2): each
 * request as a libssh2 call, its result in the transports' convention
 * (sftp_l2_err.c). Reached through c->tp only; the session comes up in
 * sftp_connect.c. libssh2 1.10 offers AES-CTR/CBC with a separate
 * HMAC only: the ssh transport (sftp_exec.c) is the faster one where it can run. */
#include "sftp_l2_int.h"
#include "util/membudget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nv_sftp_fh {
	struct nv_conn *c;
	LIBSSH2_SFTP_HANDLE *h;
	uint64_t pos;        /* reading: the offset libssh2's next read gives */
	/* writing: [start, end) of buf holds bytes sent but not acked, then
	 * unsent ones; libssh2 1.10 wants the unacked bytes passed again */
	unsigned char *buf;
	size_t cap, start, end;
	size_t win;          /* push once this many bytes wait (<= cap) */
	int64_t size_hint;
	uint64_t acked;
};

/* The error of a call that returned NULL or a negative count. */
static int sftp_l2_last(struct nv_conn *c)
{
	struct nv_sftp_l2 *l2 = nv_sftp_l2(c);

	return nv_sftp_l2_rc(c, l2 && l2->ssh ? libssh2_session_last_errno(l2->ssh)
					      : LIBSSH2_ERROR_SOCKET_DISCONNECT);
}

/* ---- session ---- */

static int sftp_l2_alive(struct nv_conn *c)
{
	int next;

	return libssh2_keepalive_send(nv_sftp_l2(c)->ssh, &next) == 0;
}

/* Shutting the socket down makes every call after it fail at once instead of
 * waiting out the timeout against a dead server. */
static void sftp_l2_cut(struct nv_conn *c)
{
	struct nv_sftp_l2 *l2 = nv_sftp_l2(c);

	if (l2->sock >= 0)
		shutdown(l2->sock, SHUT_RDWR);
}

static void sftp_l2_bye(struct nv_conn *c)
{
	struct nv_sftp_l2 *l2 = nv_sftp_l2(c);

	if (l2->sftp)
		libssh2_sftp_shutdown(l2->sftp);
	l2->sftp = NULL;
	if (l2->ssh)
		libssh2_session_disconnect(l2->ssh, "navette done");
}

static void sftp_l2_drop(struct nv_conn *c)
{
	struct nv_sftp_l2 *l2 = nv_sftp_l2(c);

	if (l2->sftp)
		libssh2_sftp_shutdown(l2->sftp);
	if (l2->ssh)
		libssh2_session_free(l2->ssh);
	if (l2->sock >= 0)
		close(l2->sock);
	free(l2);
	c->t = NULL;
}

/* ---- requests ---- */

static void sftp_l2_attrs(nv_sftp_attrs *out, const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	memset(out, 0, sizeof(*out));
	out->flags = (uint32_t)a->flags;
	out->size = a->filesize;
	out->uid = (uint32_t)a->uid;
	out->gid = (uint32_t)a->gid;
	out->perm = (uint32_t)a->permissions;
	out->atime = (uint32_t)a->atime;
	out->mtime = (uint32_t)a->mtime;
}

static int sftp_l2_stat(struct nv_conn *c, const char *path, int lstat, nv_sftp_attrs *out)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	int rc = libssh2_sftp_stat_ex(nv_sftp_l2(c)->sftp, path, (unsigned)strlen(path),
				      lstat ? LIBSSH2_SFTP_LSTAT : LIBSSH2_SFTP_STAT, &a);

	if (rc)
		return nv_sftp_l2_rc(c, rc);
	sftp_l2_attrs(out, &a);
	return 0;
}

static int sftp_l2_open_as(struct nv_conn *c, const char *path, uint32_t pflags, uint32_t mode,
			   int type, int64_t size_hint, struct nv_sftp_fh **out)
{
	struct nv_sftp_fh *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return nv_sftp_why(c, NV_ERR, "out of memory");
	h->c = c;
	h->size_hint = size_hint;
	h->h = libssh2_sftp_open_ex(nv_sftp_l2(c)->sftp, path, (unsigned)strlen(path), pflags,
				    (long)mode, type);
	if (!h->h) {
		free(h);
		return sftp_l2_last(c);
	}
	*out = h;
	return 0;
}

static int sftp_l2_open(struct nv_conn *c, const char *path, uint32_t pflags, uint32_t mode,
			int64_t size_hint, struct nv_sftp_fh **out)
{
	return sftp_l2_open_as(c, path, pflags, mode, LIBSSH2_SFTP_OPENFILE, size_hint, out);
}

static int sftp_l2_opendir(struct nv_conn *c, const char *path, struct nv_sftp_fh **out)
{
	return sftp_l2_open_as(c, path, 0, 0, LIBSSH2_SFTP_OPENDIR, -1, out);
}

static int sftp_l2_readdir(struct nv_sftp_fh *h, char *name, size_t size, nv_sftp_attrs *a,
			   int *end)
{
	LIBSSH2_SFTP_ATTRIBUTES la;
	ssize_t n = libssh2_sftp_readdir_ex(h->h, name, size, NULL, 0, &la);

	*end = n == 0;
	if (n < 0)
		return nv_sftp_l2_rc(h->c, (int)n);
	if (n > 0)
		sftp_l2_attrs(a, &la);
	return 0;
}

/* libssh2 reads ahead four times what it is asked for: a read at offset 0 asks
 * for little, so a small file costs a few requests, and later calls ask for more. */
static int sftp_l2_pread(struct nv_sftp_fh *h, uint64_t off, void *buf, size_t len,
			 size_t *got)
{
	size_t window = (size_t)h->c->requests * NV_SFTP_REQ_BYTES, ask;
	ssize_t n;

	*got = 0;
	if (h->pos != off) {
		libssh2_sftp_seek64(h->h, off);
		h->pos = off;
	}
	while (*got < len) {
		ask = len - *got;
		if (h->pos == 0 && ask > NV_SFTP_REQ_BYTES)
			ask = NV_SFTP_REQ_BYTES;
		else if (ask > window / 4)
			ask = window / 4;
		n = libssh2_sftp_read(h->h, (char *)buf + *got, ask);
		if (n == 0)
			break;
		if (n < 0) {
			*got = 0;
			return nv_sftp_l2_rc(h->c, (int)n);
		}
		*got += (size_t)n;
		h->pos += (uint64_t)n;
	}
	return 0;
}

/* Writes keep a quarter of the read window in flight: with 64 requests of
 * 30000 bytes libssh2 fills sshd's 2 MiB channel window and stalls (uploads
 * measured twice slower than with 16). A small file needs no big buffer. */
static int sftp_l2_wbuf(struct nv_sftp_fh *h)
{
	size_t win = (size_t)h->c->requests * NV_SFTP_REQ_BYTES / 4;

	if (win < NV_SFTP_REQ_BYTES)
		win = NV_SFTP_REQ_BYTES;
	h->cap = 2 * win;
	if (h->size_hint >= 0 && (uint64_t)h->size_hint < win)
		h->cap = h->size_hint > 0 ? (size_t)h->size_hint : 1;
	h->win = h->cap < win ? h->cap : win;
	h->buf = nv_mem_alloc(h->cap); /* from the writer thread's seat (util/membudget.h) */
	return h->buf ? 0 : nv_sftp_why(h->c, NV_ERR, "out of memory");
}

/* One libssh2 call: sends what is not sent yet, returns what got acked. */
static int sftp_l2_push(struct nv_sftp_fh *h)
{
	ssize_t n = libssh2_sftp_write(h->h, (const char *)h->buf + h->start, h->end - h->start);

	if (n < 0)
		return nv_sftp_l2_rc(h->c, (int)n);
	h->start += (size_t)n;
	h->acked += (uint64_t)n;
	return 0;
}

static int sftp_l2_write(struct nv_sftp_fh *h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t n;
	int rc;

	if (!h->buf && (rc = sftp_l2_wbuf(h)))
		return rc;
	while (len) {
		if (h->end == h->cap) {
			memmove(h->buf, h->buf + h->start, h->end - h->start);
			h->end -= h->start;
			h->start = 0;
		}
		n = h->cap - h->end < len ? h->cap - h->end : len;
		memcpy(h->buf + h->end, p, n);
		h->end += n;
		p += n;
		len -= n;
		while (h->end - h->start >= h->win)
			if ((rc = sftp_l2_push(h)))
				return rc;
	}
	return 0;
}

static void sftp_l2_free(struct nv_sftp_fh *h)
{
	nv_mem_free(h->buf, h->cap);
	free(h);
}

static int sftp_l2_close(struct nv_sftp_fh *h)
{
	int rc = libssh2_sftp_close_handle(h->h);

	rc = rc ? nv_sftp_l2_rc(h->c, rc) : 0;
	sftp_l2_free(h);
	return rc;
}

static int sftp_l2_finish(struct nv_sftp_fh *h, const nv_sftp_attrs *a, int fsync,
			  uint64_t *written, const char **step)
{
	LIBSSH2_SFTP_ATTRIBUTES la = { 0 };
	int rc = 0;

	*step = "writing";
	while (!rc && h->start < h->end)
		rc = sftp_l2_push(h);
	*written = h->acked;
	if (!rc && fsync) {
		*step = "fsync of";
		if ((rc = libssh2_sftp_fsync(h->h)))
			rc = nv_sftp_l2_rc(h->c, rc);
	}
	if (!rc && a->flags) {
		*step = "setting mode and mtime of";
		la.flags = a->flags;
		la.permissions = a->perm;
		la.atime = a->atime;
		la.mtime = a->mtime;
		if ((rc = libssh2_sftp_fsetstat(h->h, &la)))
			rc = nv_sftp_l2_rc(h->c, rc);
	}
	if (rc) { /* the handle is closed all the same; the caller removes the file */
		if (rc < 0) /* the session failed: its teardown follows, no more waiting on it */
			sftp_l2_cut(h->c);
		libssh2_sftp_close_handle(h->h);
		sftp_l2_free(h);
		return rc;
	}
	*step = "closing";
	return sftp_l2_close(h);
}

static int sftp_l2_unlink(struct nv_conn *c, const char *path)
{
	return nv_sftp_l2_rc(c, libssh2_sftp_unlink_ex(nv_sftp_l2(c)->sftp, path,
						       (unsigned)strlen(path)));
}

static int sftp_l2_mkdir(struct nv_conn *c, const char *path, uint32_t mode)
{
	return nv_sftp_l2_rc(c, libssh2_sftp_mkdir_ex(nv_sftp_l2(c)->sftp, path,
						      (unsigned)strlen(path), (long)mode));
}

static int sftp_l2_rmdir(struct nv_conn *c, const char *path)
{
	return nv_sftp_l2_rc(c, libssh2_sftp_rmdir_ex(nv_sftp_l2(c)->sftp, path,
						      (unsigned)strlen(path)));
}

/* libssh2 1.10 has no posix-rename: replace is left to the caller's
 * remove-then-rename. */
static int sftp_l2_rename(struct nv_conn *c, const char *from, const char *to, int replace)
{
	(void)replace;
	return nv_sftp_l2_rc(c, libssh2_sftp_rename_ex(nv_sftp_l2(c)->sftp, from,
						       (unsigned)strlen(from), to,
						       (unsigned)strlen(to), 0));
}

const nv_sftp_transport nv_sftp_libssh2 = {
	.name = "libssh2",
	.connect = nv_sftp_l2_connect,
	.alive = sftp_l2_alive,
	.cut = sftp_l2_cut,
	.bye = sftp_l2_bye,
	.drop = sftp_l2_drop,
	.stat = sftp_l2_stat,
	.open = sftp_l2_open,
	.opendir = sftp_l2_opendir,
	.readdir = sftp_l2_readdir,
	.pread = sftp_l2_pread,
	.write = sftp_l2_write,
	.finish = sftp_l2_finish,
	.close = sftp_l2_close,
	.unlink = sftp_l2_unlink,
	.mkdir = sftp_l2_mkdir,
	.rmdir = sftp_l2_rmdir,
	.rename = sftp_l2_rename,
};
