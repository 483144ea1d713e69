/* sftp_proto.h: the SFTP protocol, version 3 (draft-ietf-secsh-filexfer-02, what
 * OpenSSH's sftp-server speaks): requests encoded into a buffer, replies decoded
 * from one. No I/O and no state: called by the ssh transport (sftp_exec*.c), the
 * unit test and the fuzz target. Strings in a decoded reply point into its packet. */
#ifndef NV_SFTP_PROTO_H
#define NV_SFTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Packet types */
enum {
	NV_SFTP_FXP_INIT = 1,
	NV_SFTP_FXP_VERSION = 2,
	NV_SFTP_FXP_OPEN = 3,
	NV_SFTP_FXP_CLOSE = 4,
	NV_SFTP_FXP_READ = 5,
	NV_SFTP_FXP_WRITE = 6,
	NV_SFTP_FXP_LSTAT = 7,
	NV_SFTP_FXP_FSTAT = 8,
	NV_SFTP_FXP_SETSTAT = 9,
	NV_SFTP_FXP_FSETSTAT = 10,
	NV_SFTP_FXP_OPENDIR = 11,
	NV_SFTP_FXP_READDIR = 12,
	NV_SFTP_FXP_REMOVE = 13,
	NV_SFTP_FXP_MKDIR = 14,
	NV_SFTP_FXP_RMDIR = 15,
	NV_SFTP_FXP_REALPATH = 16,
	NV_SFTP_FXP_STAT = 17,
	NV_SFTP_FXP_RENAME = 18,
	NV_SFTP_FXP_STATUS = 101,
	NV_SFTP_FXP_HANDLE = 102,
	NV_SFTP_FXP_DATA = 103,
	NV_SFTP_FXP_NAME = 104,
	NV_SFTP_FXP_ATTRS = 105,
	NV_SFTP_FXP_EXTENDED = 200,
	NV_SFTP_FXP_EXTENDED_REPLY = 201,
};

/* Status codes of version 3 (a server may send others: they mean failure) */
enum {
	NV_SFTP_FX_OK = 0,
	NV_SFTP_FX_EOF = 1,
	NV_SFTP_FX_NO_SUCH_FILE = 2,
	NV_SFTP_FX_PERMISSION_DENIED = 3,
	NV_SFTP_FX_FAILURE = 4,
	NV_SFTP_FX_BAD_MESSAGE = 5,
	NV_SFTP_FX_NO_CONNECTION = 6,
	NV_SFTP_FX_CONNECTION_LOST = 7,
	NV_SFTP_FX_OP_UNSUPPORTED = 8,
	/* later versions; libssh2 reports them, a v3 server never sends them */
	NV_SFTP_FX_FILE_ALREADY_EXISTS = 11,
	NV_SFTP_FX_WRITE_PROTECT = 12,
	NV_SFTP_FX_NO_SPACE_ON_FILESYSTEM = 14,
	NV_SFTP_FX_QUOTA_EXCEEDED = 15,
	NV_SFTP_FX_NO_SUCH_PATH = 10,
};

/* Open flags */
enum {
	NV_SFTP_FXF_READ = 0x01,
	NV_SFTP_FXF_WRITE = 0x02,
	NV_SFTP_FXF_APPEND = 0x04,
	NV_SFTP_FXF_CREAT = 0x08,
	NV_SFTP_FXF_TRUNC = 0x10,
	NV_SFTP_FXF_EXCL = 0x20,
};

/* Attribute flags */
enum {
	NV_SFTP_ATTR_SIZE = 0x01,
	NV_SFTP_ATTR_UIDGID = 0x02,
	NV_SFTP_ATTR_PERMISSIONS = 0x04,
	NV_SFTP_ATTR_ACMODTIME = 0x08,
	NV_SFTP_ATTR_EXTENDED = 0x80000000u,
};

/* Largest packet either side sends or takes: OpenSSH's SFTP_MAX_MSG_LENGTH. */
#define NV_SFTP_MAX_PACKET (256u * 1024u)
/* Longest handle a server may give (draft-02: 256 bytes). */
#define NV_SFTP_MAX_HANDLE 256u

typedef struct nv_sftp_attrs {
	uint32_t flags; /* NV_SFTP_ATTR_*: which fields hold a value */
	uint64_t size;
	uint32_t uid, gid;
	uint32_t perm;  /* st_mode, type bits included */
	uint32_t atime, mtime;
} nv_sftp_attrs;

/* ---- encoding ---- */

/* Where requests are encoded, packet after packet. Zero-initialise for a
 * growing buffer; nv_sftp_out_fixed() for a caller's fixed one (a header on the
 * stack). An append that cannot fit sets failed and is dropped, as is every
 * later one: encoders check once, at the end. */
typedef struct nv_sftp_out {
	unsigned char *p;
	size_t len, cap;
	int fixed;  /* p is the caller's: never grown, never freed */
	int failed;
} nv_sftp_out;

void nv_sftp_out_fixed(nv_sftp_out *o, unsigned char *buf, size_t cap);
void nv_sftp_out_free(nv_sftp_out *o);
/* Drops the first n bytes (sent). */
void nv_sftp_out_consume(nv_sftp_out *o, size_t n);
void nv_sftp_out_bytes(nv_sftp_out *o, const void *p, size_t n);

/* Each encoder appends one whole packet and returns 0, or -1 when it did not fit
 * (out of memory, or a string over NV_SFTP_MAX_PACKET). id is the request id. */
int nv_sftp_enc_init(nv_sftp_out *o, uint32_t version);
/* OPENDIR, STAT, LSTAT, REMOVE, RMDIR, REALPATH: one path. */
int nv_sftp_enc_path(nv_sftp_out *o, uint8_t type, uint32_t id, const char *path);
/* CLOSE, READDIR, FSTAT: one handle. */
int nv_sftp_enc_handle(nv_sftp_out *o, uint8_t type, uint32_t id, const unsigned char *h,
		       size_t hlen);
int nv_sftp_enc_open(nv_sftp_out *o, uint32_t id, const char *path, uint32_t pflags,
		     const nv_sftp_attrs *a);
int nv_sftp_enc_mkdir(nv_sftp_out *o, uint32_t id, const char *path, const nv_sftp_attrs *a);
int nv_sftp_enc_fsetstat(nv_sftp_out *o, uint32_t id, const unsigned char *h, size_t hlen,
			 const nv_sftp_attrs *a);
int nv_sftp_enc_read(nv_sftp_out *o, uint32_t id, const unsigned char *h, size_t hlen,
		     uint64_t offset, uint32_t len);
/* WRITE without its data: the packet's length counts dlen more bytes, which
 * the caller sends right after (from its own buffer: no copy). */
int nv_sftp_enc_write_head(nv_sftp_out *o, uint32_t id, const unsigned char *h, size_t hlen,
			   uint64_t offset, uint32_t dlen);
/* RENAME (version 3: never replaces an existing target). */
int nv_sftp_enc_rename(nv_sftp_out *o, uint32_t id, const char *from, const char *to);
/* EXTENDED "posix-rename@openssh.com": replaces the target atomically. */
int nv_sftp_enc_posix_rename(nv_sftp_out *o, uint32_t id, const char *from, const char *to);
/* EXTENDED "fsync@openssh.com" of a handle. */
int nv_sftp_enc_fsync(nv_sftp_out *o, uint32_t id, const unsigned char *h, size_t hlen);
/* EXTENDED "limits@openssh.com". */
int nv_sftp_enc_limits(nv_sftp_out *o, uint32_t id);

/* ---- decoding ---- */

/* n bytes received so far at p: 1 when a whole packet is there (*total: its
 * bytes, length field included), 0 when more must come, -1 when its length
 * is impossible (0, or over NV_SFTP_MAX_PACKET): the stream is broken. */
int nv_sftp_frame(const unsigned char *p, size_t n, size_t *total);

/* A reply, its fields pointing into the packet it was decoded from. */
typedef struct nv_sftp_reply {
	uint8_t type;
	uint32_t id;                 /* every type but VERSION */
	uint32_t status;             /* STATUS */
	const char *msg;             /* STATUS: error message (not NUL-terminated) */
	size_t msg_len;
	const unsigned char *data;   /* HANDLE: the handle; DATA: the bytes; NAME: the
	                              * entries; VERSION: the extension pairs;
	                              * EXTENDED_REPLY: what follows the id */
	size_t len;
	uint32_t count;              /* NAME: entries; VERSION: the version */
	nv_sftp_attrs attrs;         /* ATTRS */
} nv_sftp_reply;

/* Decodes one packet (its length field included, as nv_sftp_frame found it).
 * 0, or -1 when the packet is malformed or of a type no server sends. */
int nv_sftp_reply_parse(nv_sftp_reply *r, const unsigned char *p, size_t n);

/* One entry of a NAME reply. */
typedef struct nv_sftp_name {
	const char *name;  /* not NUL-terminated */
	size_t name_len;
	nv_sftp_attrs attrs;
} nv_sftp_name;

/* Walks a NAME reply's entries: start with *pos = 0. 1 with *out filled, 0
 * after the last of r->count, -1 when malformed. */
int nv_sftp_name_next(const nv_sftp_reply *r, size_t *pos, uint32_t *index, nv_sftp_name *out);

/* Walks a VERSION reply's extension pairs: start with *pos = 0. 1 with name and
 * data filled, 0 at the end, -1 when malformed. */
int nv_sftp_ext_next(const nv_sftp_reply *r, size_t *pos, const char **name, size_t *name_len,
		     const unsigned char **data, size_t *data_len);

/* The reply to limits@openssh.com: 0, or -1 when malformed. */
typedef struct nv_sftp_limits {
	uint64_t packet, read, write, handles; /* 0: no limit told */
} nv_sftp_limits;
int nv_sftp_limits_parse(const nv_sftp_reply *r, nv_sftp_limits *out);

/* "no such file", "permission denied", ... for a status code. */
const char *nv_sftp_status_name(uint32_t status);

#endif
