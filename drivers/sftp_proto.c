/* sftp_proto.c: SFTP version 3 packets, encoded and decoded (sftp_proto.h).
 * Called by the ssh transport (sftp_exec*.c), tests/unit/test_sftp_proto.c and
 * tests/fuzz/fuzz_sftp_reply.c. Every read of a reply is bounds-checked: the
 * packets come from a server. */
#include "sftp_proto.h"

#include <stdlib.h>
#include <string.h>

/* ---- encoding ---- */

void nv_sftp_out_fixed(nv_sftp_out *o, unsigned char *buf, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->p = buf;
	o->cap = cap;
	o->fixed = 1;
}

void nv_sftp_out_free(nv_sftp_out *o)
{
	if (!o->fixed)
		free(o->p);
	memset(o, 0, sizeof(*o));
}

void nv_sftp_out_consume(nv_sftp_out *o, size_t n)
{
	if (n >= o->len) {
		o->len = 0;
		return;
	}
	memmove(o->p, o->p + n, o->len - n);
	o->len -= n;
}

static int sftp_out_room(nv_sftp_out *o, size_t n)
{
	unsigned char *p;
	size_t cap;

	if (o->failed)
		return -1;
	if (o->cap - o->len >= n)
		return 0;
	if (o->fixed || n > SIZE_MAX / 4 - o->len) {
		o->failed = 1;
		return -1;
	}
	cap = o->cap ? o->cap : 4096;
	while (cap - o->len < n)
		cap *= 2;
	p = realloc(o->p, cap);
	if (!p) {
		o->failed = 1;
		return -1;
	}
	o->p = p;
	o->cap = cap;
	return 0;
}

void nv_sftp_out_bytes(nv_sftp_out *o, const void *p, size_t n)
{
	if (n && sftp_out_room(o, n) == 0) {
		memcpy(o->p + o->len, p, n);
		o->len += n;
	}
}

static void sftp_put_u32(nv_sftp_out *o, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };

	nv_sftp_out_bytes(o, b, 4);
}

static void sftp_put_u64(nv_sftp_out *o, uint64_t v)
{
	sftp_put_u32(o, (uint32_t)(v >> 32));
	sftp_put_u32(o, (uint32_t)v);
}

static void sftp_put_str(nv_sftp_out *o, const void *s, size_t n)
{
	if (n > NV_SFTP_MAX_PACKET) {
		o->failed = 1;
		return;
	}
	sftp_put_u32(o, (uint32_t)n);
	nv_sftp_out_bytes(o, s, n);
}

static void sftp_put_cstr(nv_sftp_out *o, const char *s)
{
	sftp_put_str(o, s, strlen(s));
}

static void sftp_put_attrs(nv_sftp_out *o, const nv_sftp_attrs *a)
{
	/* never extended attributes: navette has none to send */
	uint32_t flags = a ? a->flags & ~NV_SFTP_ATTR_EXTENDED : 0;

	sftp_put_u32(o, flags);
	if (flags & NV_SFTP_ATTR_SIZE)
		sftp_put_u64(o, a->size);
	if (flags & NV_SFTP_ATTR_UIDGID) {
		sftp_put_u32(o, a->uid);
		sftp_put_u32(o, a->gid);
	}
	if (flags & NV_SFTP_ATTR_PERMISSIONS)
		sftp_put_u32(o, a->perm);
	if (flags & NV_SFTP_ATTR_ACMODTIME) {
		sftp_put_u32(o, a->atime);
		sftp_put_u32(o, a->mtime);
	}
}

/* A packet starts with its length, filled in by sftp_end once the rest is in. */
static size_t sftp_begin(nv_sftp_out *o, uint8_t type)
{
	size_t start = o->len;

	sftp_put_u32(o, 0);
	nv_sftp_out_bytes(o, &type, 1);
	return start;
}

static int sftp_end(nv_sftp_out *o, size_t start, size_t extra)
{
	size_t n;

	if (o->failed)
		return -1;
	n = o->len - start - 4 + extra;
	if (n > NV_SFTP_MAX_PACKET) {
		o->len = start; /* nothing of it stays */
		return -1;
	}
	o->p[start] = (unsigned char)(n >> 24);
	o->p[start + 1] = (unsigned char)(n >> 16);
	o->p[start + 2] = (unsigned char)(n >> 8);
	o->p[start + 3] = (unsigned char)n;
	return 0;
}

/* Requests go on with their id; extended ones with their name too. */
static size_t sftp_begin_id(nv_sftp_out *o, uint8_t type, uint32_t id)
{
	size_t start = sftp_begin(o, type);

	sftp_put_u32(o, id);
	return start;
}

static size_t sftp_begin_ext(nv_sftp_out *o, uint32_t id, const char *name)
{
	size_t start = sftp_begin_id(o, NV_SFTP_FXP_EXTENDED, id);

	sftp_put_cstr(o, name);
	return start;
}

/* A handle, then (with a path) a path, then (with a) attributes. */
static int sftp_enc_hpa(nv_sftp_out *o, size_t start, const unsigned char *h, size_t hlen,
			const char *path, const nv_sftp_attrs *a)
{
	if (h)
		sftp_put_str(o, h, hlen);
	if (path)
		sftp_put_cstr(o, path);
	if (a)
		sftp_put_attrs(o, a);
	return sftp_end(o, start, 0);
}

int nv_sftp_enc_init(nv_sftp_out *o, uint32_t version)
{
	size_t s = sftp_begin(o, NV_SFTP_FXP_INIT);

	sftp_put_u32(o, version);
	return sftp_end(o, s, 0);
}

int nv_sftp_enc_path(nv_sftp_out *o, uint8_t type, uint32_t id, const char *path)
{
	return sftp_enc_hpa(o, sftp_begin_id(o, type, id), NULL, 0, path, NULL);
}

int nv_sftp_enc_handle(nv_sftp_out *o, uint8_t type, uint32_t id, const unsigned char *h,
		       size_t hlen)
{
	return sftp_enc_hpa(o, sftp_begin_id(o, type, id), h, hlen, NULL, NULL);
}

int nv_sftp_enc_open(nv_sftp_out *o, uint32_t id, const char *path, uint32_t pflags,
		     const nv_sftp_attrs *a)
{
	size_t s = sftp_begin_id(o, NV_SFTP_FXP_OPEN, id);

	sftp_put_cstr(o, path);
	sftp_put_u32(o, pflags);
	return sftp_enc_hpa(o, s, NULL, 0, NULL, a);
}

int nv_sftp_enc_mkdir(nv_sftp_out *o, uint32_t id, const char *path, const nv_sftp_attrs *a)
{
	return sftp_enc_hpa(o, sftp_begin_id(o, NV_SFTP_FXP_MKDIR, id), NULL, 0, path, a);
}

int nv_sftp_enc_fsetstat(nv_sftp_out *o, uint32_t id, const unsigned char *h, size_t hlen,
			 const nv_sftp_attrs *a)
{
	return sftp_enc_hpa(o, sftp_begin_id(o, NV_SFTP_FXP_FSETSTAT, id), h, hlen, NULL, a);
}

/* READ and WRITE: a handle, an offset, a length (WRITE: of the data that follows). */
static int sftp_enc_io(nv_sftp_out *o, uint8_t type, uint32_t id, const unsigned char *h,
		       size_t hlen, uint64_t offset, uint32_t len, size_t extra)
{
	size_t s = sftp_begin_id(o, type, id);

	sftp_put_str(o, h, hlen);
	sftp_put_u64(o, offset);
	sftp_put_u32(o, len);
	return sftp_end(o, s, extra);
}

int nv_sftp_enc_read(nv_sftp_out *o, uint32_t id, const unsigned char *h, size_t hlen,
		     uint64_t offset, uint32_t len)
{
	return sftp_enc_io(o, NV_SFTP_FXP_READ, id, h, hlen, offset, len, 0);
}

int nv_sftp_enc_write_head(nv_sftp_out *o, uint32_t id, const unsigned char *h, size_t hlen,
			   uint64_t offset, uint32_t dlen)
{
	return sftp_enc_io(o, NV_SFTP_FXP_WRITE, id, h, hlen, offset, dlen, dlen);
}

int nv_sftp_enc_rename(nv_sftp_out *o, uint32_t id, const char *from, const char *to)
{
	size_t s = sftp_begin_id(o, NV_SFTP_FXP_RENAME, id);

	sftp_put_cstr(o, from);
	return sftp_enc_hpa(o, s, NULL, 0, to, NULL);
}

int nv_sftp_enc_posix_rename(nv_sftp_out *o, uint32_t id, const char *from, const char *to)
{
	size_t s = sftp_begin_ext(o, id, "posix-rename@openssh.com");

	sftp_put_cstr(o, from);
	return sftp_enc_hpa(o, s, NULL, 0, to, NULL);
}

int nv_sftp_enc_fsync(nv_sftp_out *o, uint32_t id, const unsigned char *h, size_t hlen)
{
	return sftp_enc_hpa(o, sftp_begin_ext(o, id, "fsync@openssh.com"), h, hlen, NULL, NULL);
}

int nv_sftp_enc_limits(nv_sftp_out *o, uint32_t id)
{
	return sftp_end(o, sftp_begin_ext(o, id, "limits@openssh.com"), 0);
}

/* ---- decoding ---- */

/* A cursor over received bytes: every get fails once past the end. */
struct sftp_in {
	const unsigned char *p;
	size_t n, pos;
	int bad;
};

static uint32_t sftp_get_u32(struct sftp_in *in)
{
	const unsigned char *b;

	if (in->bad || in->n - in->pos < 4) {
		in->bad = 1;
		return 0;
	}
	b = in->p + in->pos;
	in->pos += 4;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t sftp_get_u64(struct sftp_in *in)
{
	uint64_t hi = sftp_get_u32(in);

	return hi << 32 | sftp_get_u32(in);
}

static const unsigned char *sftp_get_str(struct sftp_in *in, size_t *len)
{
	uint32_t n = sftp_get_u32(in);
	const unsigned char *s;

	if (in->bad || n > in->n - in->pos) {
		in->bad = 1;
		*len = 0;
		return NULL;
	}
	s = in->p + in->pos;
	in->pos += n;
	*len = n;
	return s;
}

static void sftp_get_attrs(struct sftp_in *in, nv_sftp_attrs *a)
{
	uint32_t i, n;
	size_t len;

	memset(a, 0, sizeof(*a));
	a->flags = sftp_get_u32(in);
	if (a->flags & NV_SFTP_ATTR_SIZE)
		a->size = sftp_get_u64(in);
	if (a->flags & NV_SFTP_ATTR_UIDGID) {
		a->uid = sftp_get_u32(in);
		a->gid = sftp_get_u32(in);
	}
	if (a->flags & NV_SFTP_ATTR_PERMISSIONS)
		a->perm = sftp_get_u32(in);
	if (a->flags & NV_SFTP_ATTR_ACMODTIME) {
		a->atime = sftp_get_u32(in);
		a->mtime = sftp_get_u32(in);
	}
	if (a->flags & NV_SFTP_ATTR_EXTENDED) {
		/* each pair takes 8 bytes at least: a huge count ends at the packet's end */
		n = sftp_get_u32(in);
		for (i = 0; i < n && !in->bad; i++) {
			sftp_get_str(in, &len);
			sftp_get_str(in, &len);
		}
	}
}

int nv_sftp_frame(const unsigned char *p, size_t n, size_t *total)
{
	uint32_t len;

	if (n < 4)
		return 0;
	len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (len == 0 || len > NV_SFTP_MAX_PACKET)
		return -1;
	if (n - 4 < len)
		return 0;
	*total = 4 + (size_t)len;
	return 1;
}

/* What follows the id of each reply type. */
static void sftp_reply_body(nv_sftp_reply *r, struct sftp_in *in)
{
	switch (r->type) {
	case NV_SFTP_FXP_STATUS:
		r->status = sftp_get_u32(in);
		/* the message and language tag are optional for some old servers */
		if (in->pos < in->n)
			r->msg = (const char *)sftp_get_str(in, &r->msg_len);
		break;
	case NV_SFTP_FXP_HANDLE:
		r->data = sftp_get_str(in, &r->len);
		if (!in->bad && (r->len == 0 || r->len > NV_SFTP_MAX_HANDLE))
			in->bad = 1;
		break;
	case NV_SFTP_FXP_DATA:
		r->data = sftp_get_str(in, &r->len);
		break;
	case NV_SFTP_FXP_NAME:
		r->count = sftp_get_u32(in);
		r->data = in->p + in->pos;
		r->len = in->n - in->pos;
		break;
	case NV_SFTP_FXP_ATTRS:
		sftp_get_attrs(in, &r->attrs);
		break;
	case NV_SFTP_FXP_EXTENDED_REPLY:
		r->data = in->p + in->pos;
		r->len = in->n - in->pos;
		break;
	default:
		in->bad = 1;
	}
}

int nv_sftp_reply_parse(nv_sftp_reply *r, const unsigned char *p, size_t n)
{
	struct sftp_in in = { .p = p, .n = n };
	size_t total;

	memset(r, 0, sizeof(*r));
	if (nv_sftp_frame(p, n, &total) != 1 || total != n)
		return -1;
	in.pos = 4;
	if (in.pos >= n)
		return -1;
	r->type = p[in.pos++];
	if (r->type == NV_SFTP_FXP_VERSION) {
		r->count = sftp_get_u32(&in);
		r->data = p + in.pos;
		r->len = n - in.pos;
		return in.bad ? -1 : 0;
	}
	r->id = sftp_get_u32(&in);
	sftp_reply_body(r, &in);
	return in.bad ? -1 : 0;
}

int nv_sftp_name_next(const nv_sftp_reply *r, size_t *pos, uint32_t *index, nv_sftp_name *out)
{
	struct sftp_in in = { .p = r->data, .n = r->len, .pos = *pos };
	size_t longlen;

	if (r->type != NV_SFTP_FXP_NAME || *index >= r->count)
		return 0;
	out->name = (const char *)sftp_get_str(&in, &out->name_len);
	sftp_get_str(&in, &longlen); /* ls -l text: not used */
	sftp_get_attrs(&in, &out->attrs);
	if (in.bad)
		return -1;
	*pos = in.pos;
	(*index)++;
	return 1;
}

int nv_sftp_ext_next(const nv_sftp_reply *r, size_t *pos, const char **name, size_t *name_len,
		     const unsigned char **data, size_t *data_len)
{
	struct sftp_in in = { .p = r->data, .n = r->len, .pos = *pos };

	if (r->type != NV_SFTP_FXP_VERSION || *pos >= r->len)
		return 0;
	*name = (const char *)sftp_get_str(&in, name_len);
	*data = sftp_get_str(&in, data_len);
	if (in.bad)
		return -1;
	*pos = in.pos;
	return 1;
}

int nv_sftp_limits_parse(const nv_sftp_reply *r, nv_sftp_limits *out)
{
	struct sftp_in in = { .p = r->data, .n = r->len };

	memset(out, 0, sizeof(*out));
	if (r->type != NV_SFTP_FXP_EXTENDED_REPLY)
		return -1;
	out->packet = sftp_get_u64(&in);
	out->read = sftp_get_u64(&in);
	out->write = sftp_get_u64(&in);
	out->handles = sftp_get_u64(&in);
	return in.bad ? -1 : 0;
}

const char *nv_sftp_status_name(uint32_t status)
{
	switch (status) {
	case NV_SFTP_FX_OK:
		return "success";
	case NV_SFTP_FX_EOF:
		return "end of file";
	case NV_SFTP_FX_NO_SUCH_FILE:
	case NV_SFTP_FX_NO_SUCH_PATH:
		return "no such file";
	case NV_SFTP_FX_PERMISSION_DENIED:
	case NV_SFTP_FX_WRITE_PROTECT:
		return "permission denied";
	case NV_SFTP_FX_FILE_ALREADY_EXISTS:
		return "file exists";
	case NV_SFTP_FX_NO_SPACE_ON_FILESYSTEM:
	case NV_SFTP_FX_QUOTA_EXCEEDED:
		return "no space left";
	case NV_SFTP_FX_OP_UNSUPPORTED:
		return "operation not supported by the server";
	case NV_SFTP_FX_NO_CONNECTION:
	case NV_SFTP_FX_CONNECTION_LOST:
		return "connection lost";
	case NV_SFTP_FX_BAD_MESSAGE:
		return "bad message";
	default:
		return "failure";
	}
}
