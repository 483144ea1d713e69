/* sftp_exec_io.c: the ssh transport's reads and writes, each with many requests
 * in flight (as OpenSSH's sftp does), and the transport's table nv_sftp_ssh.
 * Reached through c->tp only; calls down into sftp_exec.c.
 *
 * Reads keep a ring of READ requests ahead of the reader, started small (one
 * request: a small file costs little) and widened by one with each answer, up
 * to the requests setting; an answer for a range inside the reader's buffer
 * lands there directly, one past it waits in its slot. Writes go out in chunks
 * straight from the caller's buffer, up to that many unacknowledged. */
#include "sftp_exec_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- reads ---- */

static int exec_ring(struct nv_sftp_fh *h)
{
	if (h->ring)
		return 0;
	h->nring = h->c->requests ? h->c->requests : 1;
	h->ring = calloc(h->nring, sizeof(*h->ring));
	if (!h->ring)
		return nv_sftp_exec_nomem(nv_sftp_exec(h->c));
	h->win = 1;
	return 0;
}

/* Nothing in flight or kept any more (their answers go nowhere); the next
 * request asks for off. */
static void exec_ra_restart(struct nv_sftp_fh *h, uint64_t off)
{
	nv_sftp_exec_forget(nv_sftp_exec(h->c), h);
	for (unsigned i = 0; i < h->nring; i++) {
		h->ring[i].state = 0;
		h->ring[i].dst = NULL;
	}
	h->head = h->inflight = 0;
	h->pos = h->next = off;
	h->eof = 0;
}

/* Sends READs until win are in flight. The reader's buffer holds [off, off+len). */
static int exec_ra_fill(struct nv_sftp_fh *h, uint64_t off, unsigned char *buf, size_t len)
{
	struct nv_sftp_exec *e = nv_sftp_exec(h->c);
	struct nv_sftp_exec_slot *s;
	unsigned idx;
	uint32_t id;
	int rc;

	while (!h->eof && h->inflight < h->win) {
		idx = (h->head + h->inflight) % h->nring;
		s = &h->ring[idx];
		s->off = h->next;
		s->len = e->chunk;
		s->got = s->used = s->status = 0;
		if (s->off >= off && s->off - off + s->len <= len) {
			s->dst = buf + (s->off - off);
		} else {
			if (!s->own && !(s->own = malloc(e->chunk)))
				return nv_sftp_exec_nomem(e);
			s->dst = s->own;
		}
		if ((rc = nv_sftp_exec_expect(e, &id, NV_SFTP_EXEC_READ, h, idx, NULL)))
			return rc;
		if (nv_sftp_enc_read(&e->out, id, h->handle, h->hlen, s->off, s->len))
			return nv_sftp_exec_nomem(e);
		s->state = 1;
		h->inflight++;
		h->next += s->len;
	}
	return nv_sftp_exec_send(e, NULL, 0);
}

/* The oldest slot's bytes to the reader; the slot freed once all given. A
 * short answer leaves a hole before the next slot's range: ask again from
 * there. */
static void exec_ra_take(struct nv_sftp_fh *h, struct nv_sftp_exec_slot *s, unsigned char *to,
			 size_t room, size_t *got)
{
	size_t n = s->got - s->used;
	int shorter;

	if (n > room)
		n = room;
	if (s->dst == s->own)
		memcpy(to, s->own + s->used, n);
	s->used += (uint32_t)n;
	*got += n;
	h->pos += n;
	if (s->used < s->got)
		return;
	shorter = s->got < s->len;
	s->state = 0;
	s->dst = NULL;
	h->head = (h->head + 1) % h->nring;
	h->inflight--;
	if (h->win < h->nring)
		h->win++;
	if (shorter)
		exec_ra_restart(h, h->pos);
}

static int exec_pread(struct nv_sftp_fh *h, uint64_t off, void *buf, size_t len, size_t *got)
{
	struct nv_sftp_exec *e = nv_sftp_exec(h->c);
	struct nv_sftp_exec_slot *s;
	int rc;

	*got = 0;
	if ((rc = exec_ring(h)))
		return rc;
	if (off != h->pos)
		exec_ra_restart(h, off);
	while (*got < len) {
		if ((rc = exec_ra_fill(h, off, buf, len)))
			return rc;
		if (!h->inflight)
			break; /* the end was reached */
		s = &h->ring[h->head];
		while (s->state == 1)
			if ((rc = nv_sftp_exec_step(e)))
				return rc;
		if (s->status == NV_SFTP_FX_EOF) {
			exec_ra_restart(h, h->pos);
			h->eof = 1;
			break;
		}
		if (s->status) { /* refused: the next read starts afresh */
			rc = (int)(s->status > 255 ? NV_SFTP_FX_FAILURE : s->status);
			exec_ra_restart(h, h->pos);
			*got = 0;
			return rc;
		}
		exec_ra_take(h, s, (unsigned char *)buf + *got, len - *got, got);
	}
	return 0;
}

/* ---- writes ---- */

static int exec_send_write(struct nv_sftp_fh *h, const void *data, size_t n)
{
	struct nv_sftp_exec *e = nv_sftp_exec(h->c);
	uint32_t id;
	int rc;

	while (h->acks >= h->c->requests)
		if ((rc = nv_sftp_exec_step(e)))
			return rc;
	if (h->werr)
		return (int)(h->werr > 255 ? NV_SFTP_FX_FAILURE : h->werr);
	if ((rc = nv_sftp_exec_expect(e, &id, NV_SFTP_EXEC_ACK, h, (uint32_t)n, "writing")))
		return rc;
	if (nv_sftp_enc_write_head(&e->out, id, h->handle, h->hlen, h->wpos, (uint32_t)n))
		return nv_sftp_exec_nomem(e);
	h->acks++;
	h->wpos += n;
	return nv_sftp_exec_send(e, data, n);
}

static int exec_write(struct nv_sftp_fh *h, const void *buf, size_t len)
{
	struct nv_sftp_exec *e = nv_sftp_exec(h->c);
	const unsigned char *p = buf;
	size_t n;
	int rc;

	while (len) {
		if (!h->tail_len && len >= e->chunk) { /* a whole chunk: sent from buf */
			if ((rc = exec_send_write(h, p, e->chunk)))
				return rc;
			p += e->chunk;
			len -= e->chunk;
			continue;
		}
		if (!h->tail && !(h->tail = malloc(e->chunk)))
			return nv_sftp_exec_nomem(e);
		n = e->chunk - h->tail_len < len ? e->chunk - h->tail_len : len;
		memcpy(h->tail + h->tail_len, p, n);
		h->tail_len += n;
		p += n;
		len -= n;
		if (h->tail_len == e->chunk) {
			h->tail_len = 0;
			if ((rc = exec_send_write(h, h->tail, e->chunk)))
				return rc;
		}
	}
	return 0;
}

/* The last bytes, fsync and the attributes, all in flight at once (one handle:
 * the server takes them in order). A status > 0 for what cannot be asked. */
static int exec_finish_send(struct nv_sftp_fh *h, const nv_sftp_attrs *a, int fsync,
			    const char **step)
{
	struct nv_sftp_exec *e = nv_sftp_exec(h->c);
	uint32_t id;
	int rc;

	if (h->tail_len) {
		*step = "writing";
		if ((rc = exec_send_write(h, h->tail, h->tail_len)))
			return rc;
		h->tail_len = 0;
	}
	if (fsync) {
		*step = "fsync of";
		if (!(e->ext & NV_SFTP_EXT_FSYNC))
			return NV_SFTP_FX_OP_UNSUPPORTED;
		if ((rc = nv_sftp_exec_expect(e, &id, NV_SFTP_EXEC_ACK, h, 0, *step)))
			return rc;
		if (nv_sftp_enc_fsync(&e->out, id, h->handle, h->hlen))
			return nv_sftp_exec_nomem(e);
		h->acks++;
	}
	if (a->flags) {
		*step = "setting mode and mtime of";
		if ((rc = nv_sftp_exec_expect(e, &id, NV_SFTP_EXEC_ACK, h, 0, *step)))
			return rc;
		if (nv_sftp_enc_fsetstat(&e->out, id, h->handle, h->hlen, a))
			return nv_sftp_exec_nomem(e);
		h->acks++;
	}
	return 0;
}

/* CLOSE, then every acknowledgement waited for. */
static int exec_close_wait(struct nv_sftp_fh *h)
{
	struct nv_sftp_exec *e = nv_sftp_exec(h->c);
	uint32_t id;
	int rc;

	if ((rc = nv_sftp_exec_expect(e, &id, NV_SFTP_EXEC_ACK, h, 0, "closing")))
		return rc;
	if (nv_sftp_enc_handle(&e->out, NV_SFTP_FXP_CLOSE, id, h->handle, h->hlen))
		return nv_sftp_exec_nomem(e);
	h->acks++;
	if ((rc = nv_sftp_exec_send(e, NULL, 0)))
		return rc;
	while (h->acks)
		if ((rc = nv_sftp_exec_step(e)))
			return rc;
	return 0;
}

static int exec_finish(struct nv_sftp_fh *h, const nv_sftp_attrs *a, int fsync,
		       uint64_t *written, const char **step)
{
	int rc = 0, rc2;

	*step = "writing";
	if (!h->werr)
		rc = exec_finish_send(h, a, fsync, step);
	/* closed whatever the server refused before, while the connection lasts */
	if (rc >= 0 && (rc2 = exec_close_wait(h)) < 0) {
		rc = rc2;
		*step = h->acked < h->wpos ? "writing" : "closing";
	}
	*written = h->acked;
	if (rc == 0 && h->werr) {
		rc = (int)(h->werr > 255 ? NV_SFTP_FX_FAILURE : h->werr);
		*step = h->werr_step;
	}
	nv_sftp_exec_fh_free(h);
	return rc;
}

const nv_sftp_transport nv_sftp_ssh = {
	.name = "ssh",
	.connect = nv_sftp_exec_connect,
	.alive = nv_sftp_exec_alive,
	.cut = nv_sftp_exec_cut,
	.bye = nv_sftp_exec_bye,
	.drop = nv_sftp_exec_drop,
	.stat = nv_sftp_exec_stat,
	.open = nv_sftp_exec_open,
	.opendir = nv_sftp_exec_opendir,
	.readdir = nv_sftp_exec_readdir,
	.pread = exec_pread,
	.write = exec_write,
	.finish = exec_finish,
	.close = nv_sftp_exec_close,
	.unlink = nv_sftp_exec_unlink,
	.mkdir = nv_sftp_exec_mkdir,
	.rmdir = nv_sftp_exec_rmdir,
	.rename = nv_sftp_exec_rename,
};
