/* sftp_exec_req.c: the ssh transport's requests of one round trip (or none:
 * a CLOSE is not waited for): stat, open, directories, remove, mkdir, rename.
 * Called through the table of sftp_exec_io.c; calls down into sftp_exec.c. */
#include "sftp_exec_int.h"

#include <stdlib.h>
#include <string.h>

/* The id of a request whose reply the caller waits for. */
static int req_id(struct nv_sftp_exec *e, uint32_t *id)
{
	return nv_sftp_exec_expect(e, id, NV_SFTP_EXEC_WAIT, NULL, 0, NULL);
}

int nv_sftp_exec_stat(struct nv_conn *c, const char *path, int lstat, nv_sftp_attrs *a)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);
	nv_sftp_reply r;
	uint32_t id;
	int rc;

	uint8_t type = lstat ? NV_SFTP_FXP_LSTAT : NV_SFTP_FXP_STAT;

	if ((rc = req_id(e, &id)) ||
	    (rc = nv_sftp_exec_call(e, id, nv_sftp_enc_path(&e->out, type, id, path), &r)))
		return rc;
	if (r.type != NV_SFTP_FXP_ATTRS)
		return nv_sftp_exec_status(&r) ? nv_sftp_exec_status(&r) : NV_SFTP_FX_BAD_MESSAGE;
	*a = r.attrs;
	return 0;
}

/* A HANDLE reply as a handle of ours. */
static int exec_handle(struct nv_conn *c, const nv_sftp_reply *r, struct nv_sftp_fh **out)
{
	struct nv_sftp_fh *h;

	if (r->type != NV_SFTP_FXP_HANDLE)
		return nv_sftp_exec_status(r) ? nv_sftp_exec_status(r) : NV_SFTP_FX_BAD_MESSAGE;
	if (!(h = calloc(1, sizeof(*h))))
		return nv_sftp_exec_nomem(nv_sftp_exec(c));
	h->c = c;
	h->hlen = r->len;
	memcpy(h->handle, r->data, r->len);
	*out = h;
	return 0;
}

int nv_sftp_exec_open(struct nv_conn *c, const char *path, uint32_t pflags, uint32_t mode,
		      int64_t size_hint, struct nv_sftp_fh **out)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);
	nv_sftp_attrs a = { 0 };
	nv_sftp_reply r;
	uint32_t id;
	int rc;

	(void)size_hint; /* requests in flight need no buffer of ours */
	*out = NULL;
	if (pflags & NV_SFTP_FXF_CREAT) {
		a.flags = NV_SFTP_ATTR_PERMISSIONS;
		a.perm = mode;
	}
	if ((rc = req_id(e, &id)) ||
	    (rc = nv_sftp_exec_call(e, id, nv_sftp_enc_open(&e->out, id, path, pflags, &a), &r)))
		return rc;
	return exec_handle(c, &r, out);
}

int nv_sftp_exec_opendir(struct nv_conn *c, const char *path, struct nv_sftp_fh **out)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);
	nv_sftp_reply r;
	uint32_t id;
	int rc;

	*out = NULL;
	if ((rc = req_id(e, &id)) ||
	    (rc = nv_sftp_exec_call(e, id, nv_sftp_enc_path(&e->out, NV_SFTP_FXP_OPENDIR, id,
								path), &r)))
		return rc;
	return exec_handle(c, &r, out);
}

/* One READDIR: its NAME reply kept (copied: the receive buffer moves on). */
static int exec_readdir_more(struct nv_sftp_fh *h)
{
	struct nv_sftp_exec *e = nv_sftp_exec(h->c);
	nv_sftp_reply r;
	uint32_t id;
	int rc;

	if ((rc = req_id(e, &id)) ||
	    (rc = nv_sftp_exec_call(e, id, nv_sftp_enc_handle(&e->out, NV_SFTP_FXP_READDIR, id,
								  h->handle, h->hlen), &r)))
		return rc;
	if (r.type != NV_SFTP_FXP_NAME) {
		rc = nv_sftp_exec_status(&r);
		h->dir_end = rc == NV_SFTP_FX_EOF || rc == NV_SFTP_FX_OK;
		return h->dir_end ? 0 : rc;
	}
	if (!(h->names = malloc(r.len ? r.len : 1)))
		return nv_sftp_exec_nomem(e);
	memcpy(h->names, r.data, r.len);
	h->nr = r;
	h->nr.data = h->names;
	h->npos = 0;
	h->nidx = 0;
	return 0;
}

/* The next entry of the NAME reply kept: 1 with name and attributes, 0 after
 * its last, or an nv_err. */
static int exec_name_next(struct nv_sftp_fh *h, char *name, size_t size, nv_sftp_attrs *a)
{
	nv_sftp_name n;
	int k = nv_sftp_name_next(&h->nr, &h->npos, &h->nidx, &n);

	if (k < 0)
		return nv_sftp_exec_broken(nv_sftp_exec(h->c), NV_ERR,
					   "the server sent a malformed directory entry");
	if (k == 0)
		return 0;
	if (n.name_len >= size || memchr(n.name, '\0', n.name_len))
		return nv_sftp_why(h->c, NV_ERR, "the server sent a name of %zu bytes, or holding "
				   "a NUL", n.name_len);
	memcpy(name, n.name, n.name_len);
	name[n.name_len] = '\0';
	*a = n.attrs;
	return 1;
}

int nv_sftp_exec_readdir(struct nv_sftp_fh *h, char *name, size_t size, nv_sftp_attrs *a,
			 int *end)
{
	int rc;

	*end = 0;
	for (;;) {
		if (h->names) {
			if ((rc = exec_name_next(h, name, size, a)))
				return rc < 0 ? rc : 0;
			free(h->names);
			h->names = NULL;
		}
		if (h->dir_end) {
			*end = 1;
			return 0;
		}
		if ((rc = exec_readdir_more(h)))
			return rc;
	}
}

void nv_sftp_exec_fh_free(struct nv_sftp_fh *h)
{
	nv_sftp_exec_forget(nv_sftp_exec(h->c), h);
	if (h->ring)
		for (unsigned i = 0; i < h->nring; i++)
			free(h->ring[i].own);
	free(h->ring);
	free(h->tail);
	free(h->names);
	free(h);
}

/* No wait for the answer: requests are served in order, so what comes next
 * on this connection (an unlink of the same file) finds it closed. */
int nv_sftp_exec_close(struct nv_sftp_fh *h)
{
	struct nv_sftp_exec *e = nv_sftp_exec(h->c);
	uint32_t id;
	int rc = 0;

	nv_sftp_exec_forget(e, h);
	if (!e->dead &&
	    !(rc = nv_sftp_exec_expect(e, &id, NV_SFTP_EXEC_DROP, NULL, 0, NULL))) {
		if (nv_sftp_enc_handle(&e->out, NV_SFTP_FXP_CLOSE, id, h->handle, h->hlen))
			rc = nv_sftp_exec_nomem(e);
		else
			rc = nv_sftp_exec_send(e, NULL, 0);
	}
	nv_sftp_exec_fh_free(h);
	return rc;
}

/* REMOVE, RMDIR: one path, a status. */
static int exec_path_status(struct nv_conn *c, uint8_t type, const char *path)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);
	nv_sftp_reply r;
	uint32_t id;
	int rc;

	if ((rc = req_id(e, &id)) ||
	    (rc = nv_sftp_exec_call(e, id, nv_sftp_enc_path(&e->out, type, id, path), &r)))
		return rc;
	return nv_sftp_exec_status(&r);
}

int nv_sftp_exec_unlink(struct nv_conn *c, const char *path)
{
	return exec_path_status(c, NV_SFTP_FXP_REMOVE, path);
}

int nv_sftp_exec_rmdir(struct nv_conn *c, const char *path)
{
	return exec_path_status(c, NV_SFTP_FXP_RMDIR, path);
}

int nv_sftp_exec_mkdir(struct nv_conn *c, const char *path, uint32_t mode)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);
	nv_sftp_attrs a = { .flags = NV_SFTP_ATTR_PERMISSIONS, .perm = mode };
	nv_sftp_reply r;
	uint32_t id;
	int rc;

	if ((rc = req_id(e, &id)) ||
	    (rc = nv_sftp_exec_call(e, id, nv_sftp_enc_mkdir(&e->out, id, path, &a), &r)))
		return rc;
	return nv_sftp_exec_status(&r);
}

int nv_sftp_exec_rename(struct nv_conn *c, const char *from, const char *to, int replace)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);
	nv_sftp_reply r;
	uint32_t id;
	int rc, enc;

	if ((rc = req_id(e, &id)))
		return rc;
	enc = replace && (e->ext & NV_SFTP_EXT_POSIX_RENAME)
		? nv_sftp_enc_posix_rename(&e->out, id, from, to)
		: nv_sftp_enc_rename(&e->out, id, from, to);
	if ((rc = nv_sftp_exec_call(e, id, enc, &r)))
		return rc;
	return nv_sftp_exec_status(&r);
}
