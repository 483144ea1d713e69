/* sftp_exec_int.h: the ssh transport's session, shared by its two files:
 * sftp_exec.c (the session: ssh started, requests sent, replies matched to
 * who waits for them and delivered), above it sftp_exec_req.c (the requests of
 * one round trip), and sftp_exec_io.c (reads and writes with many requests in
 * flight, and the transport's table). Private to those three files. */
#ifndef NV_SFTP_EXEC_INT_H
#define NV_SFTP_EXEC_INT_H

#include "sftp_int.h"
#include "sftp_pipe.h"

/* Bytes per READ or WRITE request: what every SFTP server takes (draft-02:
 * packets of 34000 bytes at least) and what OpenSSH's sftp sends. */
#define NV_SFTP_EXEC_CHUNK (32u * 1024u)

/* Who waits for a reply. */
enum nv_sftp_exec_kind {
	NV_SFTP_EXEC_WAIT,  /* the caller of nv_sftp_exec_call: one at a time */
	NV_SFTP_EXEC_READ,  /* a read-ahead slot of a handle */
	NV_SFTP_EXEC_ACK,   /* a write, fsync, setstat or close of a handle being written */
	NV_SFTP_EXEC_DROP,  /* nobody any more: the reply is read and dropped */
};

struct nv_sftp_exec_pending {
	uint32_t id;
	uint8_t kind;
	struct nv_sftp_fh *h;  /* READ, ACK */
	uint32_t n;            /* READ: the slot; ACK: the bytes written (0: no write) */
	const char *step;      /* ACK: what failed, for the message */
};

/* The session (c->t while up). */
struct nv_sftp_exec {
	struct nv_conn *c;
	struct nv_sftp_pipe *pipe;
	int up;                 /* VERSION received */
	int dead;               /* cut, or the stream failed: no more I/O */
	int polite;             /* bye: ssh gets time to end the session itself */
	int version;            /* the server's VERSION came */
	uint32_t next_id;
	nv_sftp_out out;        /* requests encoded; [out_off, out.len) not sent yet */
	size_t out_off;
	unsigned char *in;      /* bytes received: [in_start, in_len) not parsed yet */
	size_t in_start, in_len, in_cap;
	struct nv_sftp_exec_pending *pend;
	size_t npend, pend_cap;
	uint32_t want;          /* the id nv_sftp_exec_call waits for */
	int got_want;
	nv_sftp_reply wanted;   /* its reply: points into in until the next step */
	unsigned ext;           /* NV_SFTP_EXT_*: what the server's VERSION offered */
	uint32_t chunk;         /* bytes per READ or WRITE */
};

enum {
	NV_SFTP_EXT_POSIX_RENAME = 1,
	NV_SFTP_EXT_FSYNC = 2,
	NV_SFTP_EXT_LIMITS = 4,
};

/* A read-ahead slot: one READ in flight, or its reply kept for the reader. */
struct nv_sftp_exec_slot {
	int state;              /* 0 free, 1 sent, 2 answered */
	uint64_t off;
	uint32_t len;           /* asked */
	uint32_t got;           /* received */
	uint32_t used;          /* of got, given to the reader */
	uint32_t status;        /* answered without data: EOF or the error */
	unsigned char *dst;     /* where the data goes: the reader's buffer, own, NULL */
	unsigned char *own;     /* e->chunk bytes, allocated on first use */
};

struct nv_sftp_fh {
	struct nv_conn *c;
	unsigned char handle[NV_SFTP_MAX_HANDLE];
	size_t hlen;
	/* reading: a ring of c->requests slots, the oldest at head */
	struct nv_sftp_exec_slot *ring;
	unsigned nring, head, inflight;
	unsigned win;           /* slots allowed in flight now: grows as replies come */
	uint64_t pos;           /* the offset the reader gets next */
	uint64_t next;          /* the offset of the next READ to send */
	int eof;                /* the end was reached: nothing sent past it */
	/* writing */
	unsigned acks;          /* requests not acknowledged yet */
	uint64_t wpos, acked;
	uint32_t werr;          /* the first refusal (a status), 0 while none */
	const char *werr_step;
	unsigned char *tail;    /* less than a chunk, waiting for more */
	size_t tail_len;
	/* a directory: the last NAME reply, copied, and where its walk is */
	unsigned char *names;
	nv_sftp_reply nr;
	size_t npos;
	uint32_t nidx;
	int dir_end;
};

static inline struct nv_sftp_exec *nv_sftp_exec(const struct nv_conn *c)
{
	return (struct nv_sftp_exec *)c->t;
}

/* ---- sftp_exec.c, for sftp_exec_io.c ---- */

/* A request id, and who waits for its reply. 0, or an nv_err (out of memory). */
int nv_sftp_exec_expect(struct nv_sftp_exec *e, uint32_t *id, int kind, struct nv_sftp_fh *h,
			uint32_t n, const char *step);
/* Sends what out holds, and data (n bytes, never copied: while the socket is
 * full this waits, replies read meanwhile, until the last byte of data went). */
int nv_sftp_exec_send(struct nv_sftp_exec *e, const void *data, size_t n);
/* Waits until something was sent or received (replies dispatched), at most
 * the connection's timeout: 0, or an nv_err (the connection is lost). */
int nv_sftp_exec_step(struct nv_sftp_exec *e);
/* Replies still coming for h go nowhere: h is about to be freed. */
void nv_sftp_exec_forget(struct nv_sftp_exec *e, struct nv_sftp_fh *h);
/* The rc of an encoder that failed. */
int nv_sftp_exec_nomem(struct nv_sftp_exec *e);
/* The stream is broken (what: why): nothing more goes through it. */
int nv_sftp_exec_broken(struct nv_sftp_exec *e, int code, const char *what);
/* The request just encoded under id (an id of kind NV_SFTP_EXEC_WAIT; enc: the
 * encoder's result) sent, its reply waited for: *r points into the receive
 * buffer until the next step. */
int nv_sftp_exec_call(struct nv_sftp_exec *e, uint32_t id, int enc, nv_sftp_reply *r);
/* A STATUS reply as the transports return it: 0, or the status. */
int nv_sftp_exec_status(const nv_sftp_reply *r);


/* The transport's slots of sftp_exec.c (the session) and sftp_exec_req.c
 * (one round trip): sftp_exec_io.c puts them in the table nv_sftp_ssh. */
int nv_sftp_exec_connect(struct nv_conn *c);
int nv_sftp_exec_alive(struct nv_conn *c);
void nv_sftp_exec_cut(struct nv_conn *c);
void nv_sftp_exec_bye(struct nv_conn *c);
void nv_sftp_exec_drop(struct nv_conn *c);
int nv_sftp_exec_stat(struct nv_conn *c, const char *path, int lstat, nv_sftp_attrs *a);
int nv_sftp_exec_open(struct nv_conn *c, const char *path, uint32_t pflags, uint32_t mode,
		      int64_t size_hint, struct nv_sftp_fh **out);
int nv_sftp_exec_opendir(struct nv_conn *c, const char *path, struct nv_sftp_fh **out);
int nv_sftp_exec_readdir(struct nv_sftp_fh *h, char *name, size_t size, nv_sftp_attrs *a,
			 int *end);
int nv_sftp_exec_close(struct nv_sftp_fh *h);
/* Frees h without a word to the server: what is still coming for it goes nowhere. */
void nv_sftp_exec_fh_free(struct nv_sftp_fh *h);
int nv_sftp_exec_unlink(struct nv_conn *c, const char *path);
int nv_sftp_exec_mkdir(struct nv_conn *c, const char *path, uint32_t mode);
int nv_sftp_exec_rmdir(struct nv_conn *c, const char *path);
int nv_sftp_exec_rename(struct nv_conn *c, const char *from, const char *to, int replace);

#endif
