/* md5_pair.c: MD5 in plain C and a two-digest update (see md5_pair.h). */
#include "md5_pair.h"

#include <string.h>

static const uint32_t K[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

#define ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
#define F(b, c, d) ((((c) ^ (d)) & (b)) ^ (d))
#define G(b, c, d) ((((b) ^ (c)) & (d)) ^ (c))
#define H(b, c, d) ((b) ^ (c) ^ (d))
#define I(b, c, d) ((c) ^ ((b) | ~(d)))
/* One step: the state's four words rotate through a, b, c, d by name. */
#define STEP(f, a, b, c, d, x, k, r) ((a) = (b) + ROTL((a) + f(b, c, d) + (x) + (k), r))

static inline void add4(uint32_t h[4], uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

static inline uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The 64 steps of one block: S(f, a, b, c, d, word index, rotation), with i the
 * step number (the index into K) kept by the caller. */
#define ROUNDS(S)                                                                              \
	S(F, a, b, c, d, 0, 7) S(F, d, a, b, c, 1, 12) S(F, c, d, a, b, 2, 17) S(F, b, c, d, a, 3, 22) \
	S(F, a, b, c, d, 4, 7) S(F, d, a, b, c, 5, 12) S(F, c, d, a, b, 6, 17) S(F, b, c, d, a, 7, 22) \
	S(F, a, b, c, d, 8, 7) S(F, d, a, b, c, 9, 12) S(F, c, d, a, b, 10, 17) S(F, b, c, d, a, 11, 22) \
	S(F, a, b, c, d, 12, 7) S(F, d, a, b, c, 13, 12) S(F, c, d, a, b, 14, 17) S(F, b, c, d, a, 15, 22) \
	S(G, a, b, c, d, 1, 5) S(G, d, a, b, c, 6, 9) S(G, c, d, a, b, 11, 14) S(G, b, c, d, a, 0, 20) \
	S(G, a, b, c, d, 5, 5) S(G, d, a, b, c, 10, 9) S(G, c, d, a, b, 15, 14) S(G, b, c, d, a, 4, 20) \
	S(G, a, b, c, d, 9, 5) S(G, d, a, b, c, 14, 9) S(G, c, d, a, b, 3, 14) S(G, b, c, d, a, 8, 20) \
	S(G, a, b, c, d, 13, 5) S(G, d, a, b, c, 2, 9) S(G, c, d, a, b, 7, 14) S(G, b, c, d, a, 12, 20) \
	S(H, a, b, c, d, 5, 4) S(H, d, a, b, c, 8, 11) S(H, c, d, a, b, 11, 16) S(H, b, c, d, a, 14, 23) \
	S(H, a, b, c, d, 1, 4) S(H, d, a, b, c, 4, 11) S(H, c, d, a, b, 7, 16) S(H, b, c, d, a, 10, 23) \
	S(H, a, b, c, d, 13, 4) S(H, d, a, b, c, 0, 11) S(H, c, d, a, b, 3, 16) S(H, b, c, d, a, 6, 23) \
	S(H, a, b, c, d, 9, 4) S(H, d, a, b, c, 12, 11) S(H, c, d, a, b, 15, 16) S(H, b, c, d, a, 2, 23) \
	S(I, a, b, c, d, 0, 6) S(I, d, a, b, c, 7, 10) S(I, c, d, a, b, 14, 15) S(I, b, c, d, a, 5, 21) \
	S(I, a, b, c, d, 12, 6) S(I, d, a, b, c, 3, 10) S(I, c, d, a, b, 10, 15) S(I, b, c, d, a, 1, 21) \
	S(I, a, b, c, d, 8, 6) S(I, d, a, b, c, 15, 10) S(I, c, d, a, b, 6, 15) S(I, b, c, d, a, 13, 21) \
	S(I, a, b, c, d, 4, 6) S(I, d, a, b, c, 11, 10) S(I, c, d, a, b, 2, 15) S(I, b, c, d, a, 9, 21)

static void blocks1(uint32_t h[4], const unsigned char *p, size_t n)
{
	for (; n; n--, p += 64) {
		uint32_t x[16], a = h[0], b = h[1], c = h[2], d = h[3];
		int i = 0;

		for (int j = 0; j < 16; j++)
			x[j] = le32(p + 4 * j);
#define S1(f, a, b, c, d, k, r) STEP(f, a, b, c, d, x[k], K[i], r); i++;
		ROUNDS(S1)
#undef S1
		add4(h, a, b, c, d);
	}
}

/* The same blocks into two states, their steps interleaved: each state's chain
 * fills the cycles the other one waits on. */
static void blocks2(uint32_t h[4], uint32_t g[4], const unsigned char *p, size_t n)
{
	for (; n; n--, p += 64) {
		uint32_t x[16], a = h[0], b = h[1], c = h[2], d = h[3];
		uint32_t a2 = g[0], b2 = g[1], c2 = g[2], d2 = g[3];
		int i = 0;

		for (int j = 0; j < 16; j++)
			x[j] = le32(p + 4 * j);
#define S2(f, a, b, c, d, k, r) STEP(f, a, b, c, d, x[k], K[i], r); \
		STEP(f, a##2, b##2, c##2, d##2, x[k], K[i], r); i++;
		ROUNDS(S2)
#undef S2
		add4(h, a, b, c, d);
		add4(g, a2, b2, c2, d2);
	}
}

void nv_md5_init(nv_md5_ctx *c)
{
	c->h[0] = 0x67452301;
	c->h[1] = 0xefcdab89;
	c->h[2] = 0x98badcfe;
	c->h[3] = 0x10325476;
	c->len = 0;
}

void nv_md5_update(nv_md5_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t have = (size_t)(c->len % 64);

	c->len += len;
	if (have) {
		size_t n = 64 - have < len ? 64 - have : len;

		memcpy(c->buf + have, p, n);
		p += n;
		len -= n;
		if (have + n < 64)
			return;
		blocks1(c->h, c->buf, 1);
	}
	blocks1(c->h, p, len / 64);
	memcpy(c->buf, p + len / 64 * 64, len % 64);
}

void nv_md5_update_pair(nv_md5_ctx *x, nv_md5_ctx *y, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t have = (size_t)(x->len % 64), n;

	if (have != y->len % 64) {
		nv_md5_update(x, data, len);
		nv_md5_update(y, data, len);
		return;
	}
	if (have) { /* bring both to a block boundary one at a time */
		n = 64 - have < len ? 64 - have : len;
		nv_md5_update(x, p, n);
		nv_md5_update(y, p, n);
		p += n;
		len -= n;
	}
	x->len += len;
	y->len += len;
	blocks2(x->h, y->h, p, len / 64);
	memcpy(x->buf, p + len / 64 * 64, len % 64);
	memcpy(y->buf, p + len / 64 * 64, len % 64);
}

void nv_md5_final(nv_md5_ctx *c, unsigned char out[16])
{
	unsigned char pad[72] = { 0x80 };
	uint64_t bits = c->len * 8;
	size_t have = (size_t)(c->len % 64), padlen = have < 56 ? 56 - have : 120 - have;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (8 * i));
	nv_md5_update(c, pad, padlen + 8);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(c->h[i] >> (8 * j));
}
