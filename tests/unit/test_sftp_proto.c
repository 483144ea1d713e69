/* test_sftp_proto.c: unit tests of the SFTP v3 packet module (drivers/sftp_proto.c):
 * requests encoded byte for byte as draft-02 lays them out, replies decoded
 * (every type, NAME entries, VERSION extensions, limits), and the replies a
 * broken or hostile server could send refused: truncated, overlong, lengths
 * that point past the packet, a handle too long, an unknown type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/sftp_proto.h"

/* ---- a reply built by hand ---- */

struct pkt {
	unsigned char b[4096];
	size_t n;
};

static void put_u32(struct pkt *p, uint32_t v)
{
	p->b[p->n++] = (unsigned char)(v >> 24);
	p->b[p->n++] = (unsigned char)(v >> 16);
	p->b[p->n++] = (unsigned char)(v >> 8);
	p->b[p->n++] = (unsigned char)v;
}

static void put_u64(struct pkt *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p, (uint32_t)v);
}

static void put_str(struct pkt *p, const char *s, size_t n)
{
	put_u32(p, (uint32_t)n);
	memcpy(p->b + p->n, s, n);
	p->n += n;
}

/* Starts a packet of type (with id unless VERSION); done() writes its length. */
static void start(struct pkt *p, uint8_t type, uint32_t id)
{
	p->n = 4;
	p->b[p->n++] = type;
	if (type != NV_SFTP_FXP_VERSION)
		put_u32(p, id);
}

static void done(struct pkt *p)
{
	uint32_t len = (uint32_t)(p->n - 4);

	p->b[0] = (unsigned char)(len >> 24);
	p->b[1] = (unsigned char)(len >> 16);
	p->b[2] = (unsigned char)(len >> 8);
	p->b[3] = (unsigned char)len;
}

static uint32_t get_u32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ---- encoding ---- */

static void test_encode_open(void **state)
{
	nv_sftp_out o = { 0 };
	nv_sftp_attrs a = { .flags = NV_SFTP_ATTR_PERMISSIONS, .perm = 0644 };
	static const unsigned char want[] = {
		0, 0, 0, 26,  3,  0, 0, 0, 7,  0, 0, 0, 5, 'd', 'i', 'r', '/', 'f',
		0, 0, 0, 0x2a, /* WRITE|CREAT|EXCL */
		0, 0, 0, 4,  0, 0, 0x01, 0xa4,
	};

	(void)state;
	assert_int_equal(nv_sftp_enc_open(&o, 7, "dir/f", NV_SFTP_FXF_WRITE | NV_SFTP_FXF_CREAT |
					 NV_SFTP_FXF_EXCL, &a), 0);
	assert_int_equal(o.len, sizeof(want));
	assert_memory_equal(o.p, want, sizeof(want));
	nv_sftp_out_free(&o);
}

static void test_encode_requests(void **state)
{
	nv_sftp_out o = { 0 };
	static const unsigned char h[] = { 'H', '1' };
	size_t total;

	(void)state;
	assert_int_equal(nv_sftp_enc_init(&o, 3), 0);
	assert_int_equal(o.len, 9);
	assert_int_equal(get_u32(o.p), 5);
	assert_int_equal(o.p[4], NV_SFTP_FXP_INIT);
	assert_int_equal(get_u32(o.p + 5), 3);
	nv_sftp_out_consume(&o, o.len);

	/* READ: id, handle, offset, length */
	assert_int_equal(nv_sftp_enc_read(&o, 9, h, 2, 0x100000002ull, 32768), 0);
	assert_int_equal(nv_sftp_frame(o.p, o.len, &total), 1);
	assert_int_equal(total, o.len);
	assert_int_equal(o.p[4], NV_SFTP_FXP_READ);
	assert_int_equal(get_u32(o.p + 5), 9);
	assert_int_equal(get_u32(o.p + 9), 2);
	assert_memory_equal(o.p + 13, "H1", 2);
	assert_int_equal(get_u32(o.p + 15), 1);
	assert_int_equal(get_u32(o.p + 19), 2);
	assert_int_equal(get_u32(o.p + 23), 32768);
	nv_sftp_out_consume(&o, o.len);

	/* WRITE's head counts the data the caller sends after it */
	assert_int_equal(nv_sftp_enc_write_head(&o, 10, h, 2, 5, 1000), 0);
	assert_int_equal(o.len, 4 + 1 + 4 + 6 + 8 + 4);
	assert_int_equal(get_u32(o.p), o.len - 4 + 1000);
	assert_int_equal(nv_sftp_frame(o.p, o.len, &total), 0); /* the data is still to come */
	nv_sftp_out_consume(&o, o.len);

	/* posix-rename: EXTENDED, its name, both paths */
	assert_int_equal(nv_sftp_enc_posix_rename(&o, 11, "a", "bc"), 0);
	assert_int_equal(o.p[4], NV_SFTP_FXP_EXTENDED);
	assert_int_equal(get_u32(o.p + 9), 24);
	assert_memory_equal(o.p + 13, "posix-rename@openssh.com", 24);
	assert_int_equal(get_u32(o.p + 37), 1);
	assert_int_equal(get_u32(o.p + 42), 2);
	assert_int_equal(o.len, 48);
	nv_sftp_out_free(&o);
}

static void test_encode_fixed(void **state)
{
	unsigned char buf[16];
	nv_sftp_out o;

	(void)state;
	nv_sftp_out_fixed(&o, buf, sizeof(buf));
	assert_int_equal(nv_sftp_enc_init(&o, 3), 0);
	/* a stat of a long path does not fit: refused, nothing grows */
	assert_int_equal(nv_sftp_enc_path(&o, NV_SFTP_FXP_STAT, 1, "/a/long/path/name"), -1);
	assert_true(o.failed);
	assert_ptr_equal(o.p, buf);
	nv_sftp_out_free(&o);
}

static void test_encode_too_long(void **state)
{
	nv_sftp_out o = { 0 };
	char *big = malloc(NV_SFTP_MAX_PACKET + 2);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', NV_SFTP_MAX_PACKET + 1);
	big[NV_SFTP_MAX_PACKET + 1] = '\0';
	assert_int_equal(nv_sftp_enc_path(&o, NV_SFTP_FXP_STAT, 1, big), -1);
	nv_sftp_out_free(&o);
	free(big);
}

/* ---- decoding ---- */

static void test_decode_status_handle_data(void **state)
{
	struct pkt p;
	nv_sftp_reply r;

	(void)state;
	start(&p, NV_SFTP_FXP_STATUS, 42);
	put_u32(&p, NV_SFTP_FX_NO_SUCH_FILE);
	put_str(&p, "No such file", 12);
	put_str(&p, "", 0);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(r.type, NV_SFTP_FXP_STATUS);
	assert_int_equal(r.id, 42);
	assert_int_equal(r.status, NV_SFTP_FX_NO_SUCH_FILE);
	assert_int_equal(r.msg_len, 12);
	assert_memory_equal(r.msg, "No such file", 12);
	assert_string_equal(nv_sftp_status_name(r.status), "no such file");

	/* an old server's STATUS without message */
	start(&p, NV_SFTP_FXP_STATUS, 1);
	put_u32(&p, NV_SFTP_FX_EOF);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(r.status, NV_SFTP_FX_EOF);

	start(&p, NV_SFTP_FXP_HANDLE, 2);
	put_str(&p, "\0\1\2", 3);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.data, "\0\1\2", 3);

	start(&p, NV_SFTP_FXP_DATA, 3);
	put_str(&p, "hello", 5);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(r.type, NV_SFTP_FXP_DATA);
	assert_int_equal(r.len, 5);
	assert_memory_equal(r.data, "hello", 5);
}

static void test_decode_attrs(void **state)
{
	struct pkt p;
	nv_sftp_reply r;

	(void)state;
	start(&p, NV_SFTP_FXP_ATTRS, 4);
	put_u32(&p, NV_SFTP_ATTR_SIZE | NV_SFTP_ATTR_UIDGID | NV_SFTP_ATTR_PERMISSIONS |
		     NV_SFTP_ATTR_ACMODTIME | NV_SFTP_ATTR_EXTENDED);
	put_u64(&p, 5000000000ull);
	put_u32(&p, 1000);
	put_u32(&p, 100);
	put_u32(&p, 0100640);
	put_u32(&p, 1);
	put_u32(&p, 4000000000u);
	put_u32(&p, 1); /* one extended pair, skipped */
	put_str(&p, "x@y", 3);
	put_str(&p, "z", 1);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(r.attrs.size, 5000000000ull);
	assert_int_equal(r.attrs.uid, 1000);
	assert_int_equal(r.attrs.perm, 0100640);
	assert_int_equal(r.attrs.mtime, 4000000000u);

	/* only some fields */
	start(&p, NV_SFTP_FXP_ATTRS, 5);
	put_u32(&p, NV_SFTP_ATTR_PERMISSIONS);
	put_u32(&p, 040755);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(r.attrs.flags, NV_SFTP_ATTR_PERMISSIONS);
	assert_int_equal(r.attrs.perm, 040755);
	assert_int_equal(r.attrs.size, 0);
}

static void test_decode_name(void **state)
{
	struct pkt p;
	nv_sftp_reply r;
	nv_sftp_name n;
	size_t pos = 0;
	uint32_t idx = 0;

	(void)state;
	start(&p, NV_SFTP_FXP_NAME, 6);
	put_u32(&p, 2);
	put_str(&p, "a file", 6);
	put_str(&p, "-rw-r--r-- ... a file", 21);
	put_u32(&p, NV_SFTP_ATTR_SIZE);
	put_u64(&p, 12);
	put_str(&p, "dir", 3);
	put_str(&p, "", 0);
	put_u32(&p, NV_SFTP_ATTR_PERMISSIONS);
	put_u32(&p, 040700);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(nv_sftp_name_next(&r, &pos, &idx, &n), 1);
	assert_int_equal(n.name_len, 6);
	assert_memory_equal(n.name, "a file", 6);
	assert_int_equal(n.attrs.size, 12);
	assert_int_equal(nv_sftp_name_next(&r, &pos, &idx, &n), 1);
	assert_memory_equal(n.name, "dir", 3);
	assert_int_equal(n.attrs.perm, 040700);
	assert_int_equal(nv_sftp_name_next(&r, &pos, &idx, &n), 0);

	/* a count larger than the entries: the walk fails, never reads past the end */
	start(&p, NV_SFTP_FXP_NAME, 7);
	put_u32(&p, 3);
	put_str(&p, "x", 1);
	put_str(&p, "", 0);
	put_u32(&p, 0);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	pos = 0;
	idx = 0;
	assert_int_equal(nv_sftp_name_next(&r, &pos, &idx, &n), 1);
	assert_int_equal(nv_sftp_name_next(&r, &pos, &idx, &n), -1);
}

static void test_decode_version_limits(void **state)
{
	struct pkt p;
	nv_sftp_reply r;
	nv_sftp_limits lim;
	const unsigned char *data;
	const char *name;
	size_t pos = 0, nlen, dlen;

	(void)state;
	start(&p, NV_SFTP_FXP_VERSION, 0);
	put_u32(&p, 3);
	put_str(&p, "posix-rename@openssh.com", 24);
	put_str(&p, "1", 1);
	put_str(&p, "limits@openssh.com", 18);
	put_str(&p, "1", 1);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(r.type, NV_SFTP_FXP_VERSION);
	assert_int_equal(r.count, 3);
	assert_int_equal(nv_sftp_ext_next(&r, &pos, &name, &nlen, &data, &dlen), 1);
	assert_int_equal(nlen, 24);
	assert_memory_equal(name, "posix-rename@openssh.com", 24);
	assert_int_equal(nv_sftp_ext_next(&r, &pos, &name, &nlen, &data, &dlen), 1);
	assert_memory_equal(name, "limits@openssh.com", 18);
	assert_int_equal(nv_sftp_ext_next(&r, &pos, &name, &nlen, &data, &dlen), 0);

	start(&p, NV_SFTP_FXP_EXTENDED_REPLY, 8);
	put_u64(&p, 262144);
	put_u64(&p, 261120);
	put_u64(&p, 261120);
	put_u64(&p, 0);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
	assert_int_equal(nv_sftp_limits_parse(&r, &lim), 0);
	assert_int_equal(lim.read, 261120);
	assert_int_equal(lim.handles, 0);
	r.len = 16; /* cut short */
	assert_int_equal(nv_sftp_limits_parse(&r, &lim), -1);
}

static void test_frame(void **state)
{
	unsigned char b[8] = { 0, 0, 0, 3, 101, 0, 0, 0 };
	size_t total = 0;

	(void)state;
	assert_int_equal(nv_sftp_frame(b, 3, &total), 0);
	assert_int_equal(nv_sftp_frame(b, 6, &total), 0);
	assert_int_equal(nv_sftp_frame(b, 7, &total), 1);
	assert_int_equal(total, 7);
	memcpy(b, "\0\0\0\0", 4);
	assert_int_equal(nv_sftp_frame(b, 8, &total), -1); /* empty packet */
	memcpy(b, "\0\x04\0\x01", 4);
	assert_int_equal(nv_sftp_frame(b, 8, &total), -1); /* over 256 KiB */
}

static void test_decode_refused(void **state)
{
	struct pkt p;
	nv_sftp_reply r;
	char big[300];

	(void)state;
	/* a DATA whose string runs past the packet */
	start(&p, NV_SFTP_FXP_DATA, 1);
	put_u32(&p, 100);
	memcpy(p.b + p.n, "abc", 3);
	p.n += 3;
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), -1);
	/* a handle longer than draft-02's 256 bytes */
	memset(big, 'h', sizeof(big));
	start(&p, NV_SFTP_FXP_HANDLE, 1);
	put_str(&p, big, 257);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), -1);
	/* an empty handle */
	start(&p, NV_SFTP_FXP_HANDLE, 1);
	put_str(&p, "", 0);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), -1);
	/* a request type, as if the server asked something */
	start(&p, NV_SFTP_FXP_OPEN, 1);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), -1);
	/* no room for the id */
	p.n = 4;
	p.b[p.n++] = NV_SFTP_FXP_STATUS;
	p.b[p.n++] = 0;
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), -1);
	/* attributes cut short */
	start(&p, NV_SFTP_FXP_ATTRS, 1);
	put_u32(&p, NV_SFTP_ATTR_SIZE);
	put_u32(&p, 1);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), -1);
	/* a length field that disagrees with the bytes given */
	start(&p, NV_SFTP_FXP_STATUS, 1);
	put_u32(&p, 0);
	done(&p);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n - 1), -1);
	assert_int_equal(nv_sftp_reply_parse(&r, p.b, p.n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_open),
		cmocka_unit_test(test_encode_requests),
		cmocka_unit_test(test_encode_fixed),
		cmocka_unit_test(test_encode_too_long),
		cmocka_unit_test(test_decode_status_handle_data),
		cmocka_unit_test(test_decode_attrs),
		cmocka_unit_test(test_decode_name),
		cmocka_unit_test(test_decode_version_limits),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_decode_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
