/* fuzz_sftp_reply.c: the bytes an SFTP server sends, through the ssh transport's
 * decoder (drivers/sftp_proto.c): framed packet after packet as the transport
 * frames them, each reply decoded, its NAME entries and VERSION extensions
 * walked, a limits reply read. Checks that what is decoded lies inside its packet. */
#include "fuzz.h"

#include "../../drivers/sftp_proto.h"

static int nv_fuzz_inside(const void *p, size_t n, const unsigned char *pkt, size_t len)
{
	const unsigned char *q = p;

	return n == 0 || (q >= pkt && q + n <= pkt + len);
}

static void nv_fuzz_reply(const unsigned char *pkt, size_t len)
{
	const unsigned char *data;
	const char *name;
	size_t pos = 0, nlen, dlen;
	uint32_t idx = 0;
	nv_sftp_limits lim;
	nv_sftp_reply r;
	nv_sftp_name n;

	if (nv_sftp_reply_parse(&r, pkt, len))
		return;
	NV_FUZZ_ASSERT(nv_fuzz_inside(r.data, r.len, pkt, len));
	NV_FUZZ_ASSERT(nv_fuzz_inside(r.msg, r.msg_len, pkt, len));
	while (nv_sftp_name_next(&r, &pos, &idx, &n) == 1)
		NV_FUZZ_ASSERT(nv_fuzz_inside(n.name, n.name_len, pkt, len));
	pos = 0;
	while (nv_sftp_ext_next(&r, &pos, &name, &nlen, &data, &dlen) == 1) {
		NV_FUZZ_ASSERT(nv_fuzz_inside(name, nlen, pkt, len));
		NV_FUZZ_ASSERT(nv_fuzz_inside(data, dlen, pkt, len));
	}
	(void)nv_sftp_limits_parse(&r, &lim);
	(void)nv_sftp_status_name(r.status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t total;

	/* a copy of each packet on the heap: a read past its end is caught */
	while (nv_sftp_frame(data, size, &total) == 1) {
		unsigned char *pkt = malloc(total);

		if (!pkt)
			abort();
		memcpy(pkt, data, total);
		nv_fuzz_reply(pkt, total);
		free(pkt);
		data += total;
		size -= total;
	}
	return 0;
}
