/* sftp_exec.c: the ssh transport's session: `ssh -s HOST sftp` started
 * (sftp_ssh.c builds its command line, sftp_pipe.c runs it), SFTP version 3
 * spoken over its stdin and stdout (sftp_proto.c), every reply matched by its id
 * to whoever waits for it. Called through the table of sftp_exec_io.c, and by
 * sftp_exec_req.c and sftp_exec_io.c for sending and waiting.
 *
 * One thread per connection, as for every driver: nothing here locks. Replies
 * are read whenever anything waits (a reply, an acknowledgement, room to send),
 * so ssh never blocks writing to us while we block writing to it. */
#include "sftp_exec_int.h"
#include "sftp_ssh.h"
#include "util/config.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <openssl/crypto.h>

/* Received bytes: room for a whole largest packet after any partial one. */
#define NV_SFTP_EXEC_IN (2 * (NV_SFTP_MAX_PACKET + 4))
/* Encoded bytes the socket did not take yet, at most: past this, wait. */
#define NV_SFTP_EXEC_OUT_MAX (1024u * 1024u)

/* ---- failures ---- */

int nv_sftp_exec_broken(struct nv_sftp_exec *e, int code, const char *what)
{
	e->dead = 1;
	return nv_sftp_why(e->c, code, "%s", what);
}

int nv_sftp_exec_nomem(struct nv_sftp_exec *e)
{
	return nv_sftp_exec_broken(e, NV_ERR, "out of memory");
}

/* ssh closed the stream or is gone: what it said, once it has said it all. */
static int exec_gone(struct nv_sftp_exec *e)
{
	char why[sizeof(e->c->why)];
	int status = -1, code;

	e->dead = 1;
	if (!nv_sftp_pipe_exited(e->pipe, e->up ? 500 : 5000, &status))
		status = -1;
	code = nv_sftp_ssh_failure(nv_sftp_pipe_stderr(e->pipe), status, e->up, why, sizeof(why));
	return nv_sftp_why(e->c, code, "%s", why);
}

/* ---- replies ---- */

static int exec_version(struct nv_sftp_exec *e, const nv_sftp_reply *r)
{
	const unsigned char *data;
	const char *name;
	size_t pos = 0, nlen, dlen;
	int k;

	if (e->version || r->count < 3)
		return nv_sftp_exec_broken(e, NV_ERR, "the server does not speak SFTP version 3");
	while ((k = nv_sftp_ext_next(r, &pos, &name, &nlen, &data, &dlen)) == 1) {
		if (nlen == 24 && memcmp(name, "posix-rename@openssh.com", 24) == 0)
			e->ext |= NV_SFTP_EXT_POSIX_RENAME;
		else if (nlen == 17 && memcmp(name, "fsync@openssh.com", 17) == 0)
			e->ext |= NV_SFTP_EXT_FSYNC;
		else if (nlen == 18 && memcmp(name, "limits@openssh.com", 18) == 0)
			e->ext |= NV_SFTP_EXT_LIMITS;
	}
	if (k < 0)
		return nv_sftp_exec_broken(e, NV_ERR, "the server sent a malformed VERSION");
	e->version = 1;
	return 0;
}

/* A read-ahead slot's answer: its bytes land where the slot says. */
static int exec_slot_reply(struct nv_sftp_exec *e, const struct nv_sftp_exec_pending *p,
			   const nv_sftp_reply *r)
{
	struct nv_sftp_exec_slot *s = &p->h->ring[p->n];

	if (r->type == NV_SFTP_FXP_DATA) {
		if (r->len > s->len)
			return nv_sftp_exec_broken(e, NV_ERR, "the server sent more than asked");
		if (r->len)
			memcpy(s->dst, r->data, r->len);
		s->got = (uint32_t)r->len;
		s->status = r->len ? NV_SFTP_FX_OK : NV_SFTP_FX_EOF;
	} else if (r->type == NV_SFTP_FXP_STATUS) {
		s->got = 0;
		s->status = r->status == NV_SFTP_FX_OK ? NV_SFTP_FX_EOF : r->status;
	} else {
		return nv_sftp_exec_broken(e, NV_ERR, "the server answered a READ with no data");
	}
	s->state = 2;
	return 0;
}

static void exec_ack_reply(const struct nv_sftp_exec_pending *p, const nv_sftp_reply *r)
{
	struct nv_sftp_fh *h = p->h;

	h->acks--;
	if (r->type == NV_SFTP_FXP_STATUS && r->status == NV_SFTP_FX_OK) {
		h->acked += p->n;
		return;
	}
	if (!h->werr) {
		h->werr = r->type == NV_SFTP_FXP_STATUS ? r->status : NV_SFTP_FX_BAD_MESSAGE;
		if (!h->werr)
			h->werr = NV_SFTP_FX_FAILURE;
		h->werr_step = p->step;
	}
}

static int exec_dispatch(struct nv_sftp_exec *e, const unsigned char *p, size_t n)
{
	struct nv_sftp_exec_pending pend;
	nv_sftp_reply r;
	size_t i;

	if (nv_sftp_reply_parse(&r, p, n))
		return nv_sftp_exec_broken(e, NV_ERR, "the server sent a malformed reply");
	if (r.type == NV_SFTP_FXP_VERSION)
		return exec_version(e, &r);
	for (i = 0; i < e->npend && e->pend[i].id != r.id; i++)
		;
	if (i == e->npend)
		return nv_sftp_exec_broken(e, NV_ERR, "the server answered a request never sent");
	pend = e->pend[i];
	e->pend[i] = e->pend[--e->npend];
	switch (pend.kind) {
	case NV_SFTP_EXEC_WAIT:
		if (pend.id == e->want) {
			e->wanted = r;
			e->got_want = 1;
		}
		return 0;
	case NV_SFTP_EXEC_READ:
		return exec_slot_reply(e, &pend, &r);
	case NV_SFTP_EXEC_ACK:
		exec_ack_reply(&pend, &r);
		return 0;
	default:
		return 0;
	}
}

/* Reads what the socket holds and delivers every whole reply. *got: bytes came. */
static int exec_recv(struct nv_sftp_exec *e, int *got)
{
	size_t total;
	ssize_t n;
	int f, rc;

	*got = 0;
	if (e->in_start == e->in_len) {
		e->in_start = e->in_len = 0;
	} else if (e->in_cap - e->in_len < NV_SFTP_MAX_PACKET + 4) {
		memmove(e->in, e->in + e->in_start, e->in_len - e->in_start);
		e->in_len -= e->in_start;
		e->in_start = 0;
	}
	n = nv_sftp_pipe_recv(e->pipe, e->in + e->in_len, e->in_cap - e->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return exec_gone(e);
	*got = 1;
	e->in_len += (size_t)n;
	while ((f = nv_sftp_frame(e->in + e->in_start, e->in_len - e->in_start, &total)) == 1) {
		rc = exec_dispatch(e, e->in + e->in_start, total);
		e->in_start += total;
		if (rc)
			return rc;
	}
	if (f < 0)
		return nv_sftp_exec_broken(e, NV_ERR, "the server sent a packet of a bad length");
	return 0;
}

/* ---- sending and waiting ---- */

int nv_sftp_exec_expect(struct nv_sftp_exec *e, uint32_t *id, int kind, struct nv_sftp_fh *h,
			uint32_t n, const char *step)
{
	struct nv_sftp_exec_pending *p;

	if (e->dead)
		return nv_sftp_why(e->c, NV_ERETRY, "connection lost");
	if (e->npend == e->pend_cap) {
		size_t cap = e->pend_cap ? 2 * e->pend_cap : 64;

		if (!(p = realloc(e->pend, cap * sizeof(*p))))
			return nv_sftp_exec_nomem(e);
		e->pend = p;
		e->pend_cap = cap;
	}
	*id = e->next_id++;
	e->pend[e->npend++] = (struct nv_sftp_exec_pending){ *id, (uint8_t)kind, h, n, step };
	return 0;
}

/* Unsent bytes move to the front once half the buffer is behind them. */
static void exec_out_sent(struct nv_sftp_exec *e, size_t n)
{
	e->out_off += n;
	if (e->out_off == e->out.len) {
		e->out.len = e->out_off = 0;
	} else if (e->out_off > e->out.len / 2 && e->out_off > 65536) {
		nv_sftp_out_consume(&e->out, e->out_off);
		e->out_off = 0;
	}
}

/* Waits up to the connection's timeout for the stream to be readable or, with
 * want_out, writable: the NV_SFTP_PIPE_* bits that are, or an nv_err (lost). */
static int exec_wait(struct nv_sftp_exec *e, int want_out)
{
	int ready = nv_sftp_pipe_wait(e->pipe, want_out, e->c->timeout_ms);
	char why[96];

	if (ready < 0)
		return nv_sftp_exec_broken(e, NV_ERETRY, strerror(errno));
	if (ready > 0)
		return ready;
	snprintf(why, sizeof(why), "timed out after %ld s waiting for the server",
		 e->c->timeout_ms / 1000);
	return nv_sftp_exec_broken(e, NV_ERETRY, why);
}

/* out's unsent bytes, then data: data is sent from the caller's buffer, never
 * copied. While the socket is full this waits, reading replies meanwhile (ssh
 * may be blocked writing them to us); out's bytes alone may stay for later. */
int nv_sftp_exec_send(struct nv_sftp_exec *e, const void *data, size_t n)
{
	const unsigned char *d = data;
	struct iovec v[2];
	size_t pending;
	ssize_t sent;
	int got, rc;

	for (;;) {
		if (e->dead)
			return nv_sftp_why(e->c, NV_ERETRY, "connection lost");
		if (e->out.failed)
			return nv_sftp_exec_nomem(e);
		pending = e->out.len - e->out_off;
		v[0] = (struct iovec){ e->out.p + e->out_off, pending };
		v[1] = (struct iovec){ (void *)d, n };
		sent = pending + n ? nv_sftp_pipe_send(e->pipe, pending ? v : v + 1,
						       pending ? 2 : 1) : 0;
		if (sent < 0)
			return exec_gone(e);
		if ((size_t)sent < pending) {
			exec_out_sent(e, (size_t)sent);
		} else {
			exec_out_sent(e, pending);
			d += (size_t)sent - pending;
			n -= (size_t)sent - pending;
		}
		if (!n)
			break;
		if ((rc = exec_wait(e, 1)) < 0)
			return rc;
		if ((rc & NV_SFTP_PIPE_IN) && (rc = exec_recv(e, &got)))
			return rc;
	}
	while (e->out.len - e->out_off > NV_SFTP_EXEC_OUT_MAX)
		if ((rc = nv_sftp_exec_step(e)))
			return rc;
	return 0;
}

int nv_sftp_exec_step(struct nv_sftp_exec *e)
{
	struct iovec v;
	ssize_t sent;
	int got, rc;

	for (;;) {
		if (e->dead)
			return nv_sftp_why(e->c, NV_ERETRY, "connection lost");
		sent = 0;
		if (e->out_off < e->out.len) {
			v.iov_base = e->out.p + e->out_off;
			v.iov_len = e->out.len - e->out_off;
			if ((sent = nv_sftp_pipe_send(e->pipe, &v, 1)) < 0)
				return exec_gone(e);
			exec_out_sent(e, (size_t)sent);
		}
		if ((rc = exec_recv(e, &got)))
			return rc;
		if (got || sent > 0)
			return 0;
		if ((rc = exec_wait(e, e->out_off < e->out.len)) < 0)
			return rc;
	}
}

void nv_sftp_exec_forget(struct nv_sftp_exec *e, struct nv_sftp_fh *h)
{
	for (size_t i = 0; e && i < e->npend; i++) {
		if (e->pend[i].h == h) {
			e->pend[i].kind = NV_SFTP_EXEC_DROP;
			e->pend[i].h = NULL;
		}
	}
}

/* The request just encoded under id, sent; its reply waited for. */
int nv_sftp_exec_call(struct nv_sftp_exec *e, uint32_t id, int enc, nv_sftp_reply *r)
{
	int rc;

	if (enc)
		return nv_sftp_exec_nomem(e);
	e->want = id;
	e->got_want = 0;
	if ((rc = nv_sftp_exec_send(e, NULL, 0)))
		return rc;
	while (!e->got_want)
		if ((rc = nv_sftp_exec_step(e)))
			return rc;
	*r = e->wanted;
	return 0;
}

int nv_sftp_exec_status(const nv_sftp_reply *r)
{
	if (r->type != NV_SFTP_FXP_STATUS)
		return NV_SFTP_FX_BAD_MESSAGE;
	return (int)(r->status > 255 ? NV_SFTP_FX_FAILURE : r->status);
}

/* ---- the session ---- */

/* What libssh2 refuses, ssh must refuse alike: a key file that is missing or
 * that others may read is a configuration error (ssh alone would warn and go
 * on to other keys). accept-new records into a known_hosts made private. */
static int exec_check_files(struct nv_conn *c)
{
	char *key, *dir, *slash;
	size_t len;
	int rc, fd;

	if (c->key_file) {
		rc = nv_read_private_file(c->key_file, &key, &len);
		if (rc)
			return nv_error_wrap(rc == NV_ERR ? rc : NV_EINVAL, "sftp %s: key_file",
					     c->where);
		OPENSSL_cleanse(key, len);
		free(key);
	}
	if (!c->accept_new || !c->known_hosts_set || access(c->known_hosts, F_OK) == 0)
		return 0;
	if ((dir = strdup(c->known_hosts)) && (slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700); /* ~/.ssh may not exist yet */
	}
	free(dir);
	fd = open(c->known_hosts, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return nv_error_errno(errno, "sftp: cannot create %s", c->known_hosts);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* INIT, VERSION, and the server's limits when it tells them. */
static int exec_hello(struct nv_sftp_exec *e)
{
	nv_sftp_limits lim;
	nv_sftp_reply r;
	uint32_t id;
	int rc;

	if (nv_sftp_enc_init(&e->out, 3))
		return nv_sftp_exec_nomem(e);
	if ((rc = nv_sftp_exec_send(e, NULL, 0)))
		return rc;
	while (!e->version)
		if ((rc = nv_sftp_exec_step(e)))
			return rc;
	if (!(e->ext & NV_SFTP_EXT_LIMITS))
		return 0;
	if ((rc = nv_sftp_exec_expect(e, &id, NV_SFTP_EXEC_WAIT, NULL, 0, NULL)) ||
	    (rc = nv_sftp_exec_call(e, id, nv_sftp_enc_limits(&e->out, id), &r)))
		return rc;
	/* a server that asks for smaller requests gets them */
	if (nv_sftp_limits_parse(&r, &lim) == 0) {
		if (lim.read && lim.read < e->chunk)
			e->chunk = (uint32_t)(lim.read < 1024 ? 1024 : lim.read);
		if (lim.write && lim.write < e->chunk)
			e->chunk = (uint32_t)(lim.write < 1024 ? 1024 : lim.write);
	}
	return 0;
}

static void exec_log_argv(const struct nv_conn *c, char **argv)
{
	char line[2048];
	size_t o = 0;

	for (char **a = argv; *a && o < sizeof(line) - 1; a++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s", o ? " " : "", *a);
	nv_log(NV_LOG_DEBUG, "sftp %s: transport ssh: %s", c->where, line);
}

int nv_sftp_exec_connect(struct nv_conn *c)
{
	nv_sftp_ssh_args a = {
		.command = c->ssh_command,
		.config = c->ssh_config,
		.host = c->host,
		.user = c->user_set ? c->user : NULL,
		.port = c->port_set ? c->port : 0,
		.key_file = c->key_file,
		.known_hosts = c->known_hosts_set ? c->known_hosts : NULL,
		.accept_new = c->accept_new,
		.timeout_sec = (unsigned)(c->timeout_ms / 1000),
		.keepalive_sec = c->keepalive_sec,
	};
	struct nv_sftp_exec *e;
	char **argv = NULL;
	int rc, err;

	if ((rc = exec_check_files(c)) || (rc = nv_sftp_ssh_argv(&argv, &a)))
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->in = malloc(NV_SFTP_EXEC_IN))) {
		if (e)
			free(e);
		nv_sftp_ssh_argv_free(argv);
		return nv_error_set(NV_ERR, "out of memory");
	}
	e->c = c;
	e->in_cap = NV_SFTP_EXEC_IN;
	e->next_id = 1;
	e->chunk = NV_SFTP_EXEC_CHUNK;
	c->t = e; /* a failure below tears it down (nv_sftp_teardown) */
	exec_log_argv(c, argv);
	if (nv_sftp_pipe_start(&e->pipe, argv) < 0) {
		/* no such program: configuration; no process to spare: try again later */
		err = errno;
		rc = err == ENOENT || err == EACCES || err == ENOEXEC || err == ENOTDIR ? NV_EINVAL
		     : err == EAGAIN || err == ENOMEM || err == EMFILE ? NV_ERETRY : NV_ERR;
		rc = nv_error_set(rc, "sftp %s: cannot run ssh_command '%s': %s", c->where,
				  c->ssh_command, strerror(err));
	} else if ((rc = exec_hello(e))) {
		nv_error_set(rc, "sftp %s: %s", c->where, c->why);
	}
	nv_sftp_ssh_argv_free(argv);
	if (rc) {
		nv_sftp_teardown(c);
		return rc;
	}
	e->up = 1;
	return 0;
}

int nv_sftp_exec_alive(struct nv_conn *c)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);

	return !e->dead && !nv_sftp_pipe_exited(e->pipe, 0, NULL);
}

void nv_sftp_exec_cut(struct nv_conn *c)
{
	nv_sftp_exec(c)->dead = 1;
}

/* What is still to send goes (the closes of read handles), then ssh ends the
 * session itself once its stdin ends. */
void nv_sftp_exec_bye(struct nv_conn *c)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);

	if (!e->dead && e->out_off < e->out.len)
		nv_sftp_exec_send(e, NULL, 0);
	e->polite = 1;
}

void nv_sftp_exec_drop(struct nv_conn *c)
{
	struct nv_sftp_exec *e = nv_sftp_exec(c);

	if (e->pipe)
		nv_sftp_pipe_end(e->pipe, e->polite && !e->dead ? 2000 : 0, NULL);
	nv_sftp_out_free(&e->out);
	free(e->in);
	free(e->pend);
	free(e);
	c->t = NULL;
}

