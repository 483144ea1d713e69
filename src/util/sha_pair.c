/* sha_pair.c: two SHA-256 streams side by side (sha_pair.h): with SHA-NI,
 * blocks of both are hashed interleaved (the rounds as in Intel's paper on
 * the SHA extensions and Linux's sha256_ni_asm.S), else OpenSSL's. */
#include "sha_pair.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define NV_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* One stream on SHA-NI: its state and a partial block. */
typedef struct nv_sha_lane {
	uint32_t h[8];
	unsigned char buf[64];
	size_t buflen;
	uint64_t total;
} nv_sha_lane;

struct nv_sha_pair {
	int ni;
	nv_sha_lane lane[2];
	nv_sha256 *gen[2]; /* without SHA-NI */
};

static const uint32_t nv_sha_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static void nv_lane_reset(nv_sha_lane *l)
{
	memcpy(l->h, nv_sha_iv, sizeof(l->h));
	l->buflen = 0;
	l->total = 0;
}

#ifdef NV_SHA_NI

static const uint32_t nv_sha_k[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

#define NV_SHA_TARGET __attribute__((target("sha,ssse3,sse4.1")))

/* The state as SHA-NI holds it: ABEF and CDGH. */
typedef struct nv_ni_state {
	__m128i abef, cdgh;
} nv_ni_state;

NV_SHA_TARGET static inline nv_ni_state nv_ni_load(const uint32_t h[8])
{
	__m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);
	__m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);

	return (nv_ni_state){ _mm_alignr_epi8(dcba, efgh, 8), _mm_blend_epi16(efgh, dcba, 0xF0) };
}

NV_SHA_TARGET static inline void nv_ni_store(nv_ni_state s, uint32_t h[8])
{
	__m128i feba = _mm_shuffle_epi32(s.abef, 0x1B), dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);

	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* Rounds i..i+3 of state S over block P; m0 holds (or, below 16, gets) words
 * i..i+3 of the schedule, m1 and m3 the groups that follow and precede it. */
#define NV_R4(S, P, i, m0, m1, m3)                                                      \
	do {                                                                            \
		__m128i k_;                                                             \
		if ((i) < 16)                                                           \
			m0 = _mm_shuffle_epi8(                                          \
				_mm_loadu_si128((const __m128i *)((P) + (i) * 4)), bswap); \
		k_ = _mm_add_epi32(m0, _mm_load_si128((const __m128i *)&nv_sha_k[i])); \
		S.cdgh = _mm_sha256rnds2_epu32(S.cdgh, S.abef, k_);                     \
		if ((i) >= 12 && (i) < 60)                                              \
			m1 = _mm_sha256msg2_epu32(                                      \
				_mm_add_epi32(m1, _mm_alignr_epi8(m0, m3, 4)), m0);     \
		S.abef = _mm_sha256rnds2_epu32(S.abef, S.cdgh, _mm_shuffle_epi32(k_, 0x0E)); \
		if ((i) >= 4 && (i) < 52)                                               \
			m3 = _mm_sha256msg1_epu32(m3, m0);                              \
	} while (0)

/* Sixteen rounds from i of one state (its schedule in m[0..3]). */
#define NV_R16(S, P, i, m)                                                              \
	NV_R4(S, P, (i) + 0, m[0], m[1], m[3]);                                        \
	NV_R4(S, P, (i) + 4, m[1], m[2], m[0]);                                        \
	NV_R4(S, P, (i) + 8, m[2], m[3], m[1]);                                        \
	NV_R4(S, P, (i) + 12, m[3], m[0], m[2])

NV_SHA_TARGET static void nv_ni_blocks1(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
	nv_ni_state s = nv_ni_load(h), was;
	__m128i m[4];

	for (; n; n--, p += 64) {
		was = s;
		NV_R16(s, p, 0, m);
		NV_R16(s, p, 16, m);
		NV_R16(s, p, 32, m);
		NV_R16(s, p, 48, m);
		s.abef = _mm_add_epi32(s.abef, was.abef);
		s.cdgh = _mm_add_epi32(s.cdgh, was.cdgh);
	}
	nv_ni_store(s, h);
}

/* Four rounds of a, then of b: each waits less on its own last round. */
#define NV_R4X2(i, ma0, ma1, ma3, mb0, mb1, mb3)                                        \
	NV_R4(a, pa, i, ma0, ma1, ma3);                                                 \
	NV_R4(b, pb, i, mb0, mb1, mb3)
#define NV_R16X2(i)                                                                     \
	NV_R4X2((i) + 0, ma[0], ma[1], ma[3], mb[0], mb[1], mb[3]);                    \
	NV_R4X2((i) + 4, ma[1], ma[2], ma[0], mb[1], mb[2], mb[0]);                    \
	NV_R4X2((i) + 8, ma[2], ma[3], ma[1], mb[2], mb[3], mb[1]);                    \
	NV_R4X2((i) + 12, ma[3], ma[0], ma[2], mb[3], mb[0], mb[2])

NV_SHA_TARGET static void nv_ni_blocks2(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8],
					const unsigned char *pb, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
	nv_ni_state a = nv_ni_load(ha), b = nv_ni_load(hb), wa, wb;
	__m128i ma[4], mb[4];

	for (; n; n--, pa += 64, pb += 64) {
		wa = a;
		wb = b;
		NV_R16X2(0);
		NV_R16X2(16);
		NV_R16X2(32);
		NV_R16X2(48);
		a.abef = _mm_add_epi32(a.abef, wa.abef);
		a.cdgh = _mm_add_epi32(a.cdgh, wa.cdgh);
		b.abef = _mm_add_epi32(b.abef, wb.abef);
		b.cdgh = _mm_add_epi32(b.cdgh, wb.cdgh);
	}
	nv_ni_store(a, ha);
	nv_ni_store(b, hb);
}

static int nv_cpu_sha_ni(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}

#else /* no SHA-NI here: the generic path only */

static void nv_ni_blocks1(uint32_t h[8], const unsigned char *p, size_t n)
{
	(void)h, (void)p, (void)n;
}

static void nv_ni_blocks2(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8],
			  const unsigned char *pb, size_t n)
{
	(void)ha, (void)pa, (void)hb, (void)pb, (void)n;
}

static int nv_cpu_sha_ni(void)
{
	return 0;
}

#endif

nv_sha_pair *nv_sha_pair_new(unsigned flags)
{
	nv_sha_pair *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ni = !(flags & NV_SHA_PAIR_GENERIC) && nv_cpu_sha_ni();
	if (!h->ni && (!(h->gen[0] = nv_sha256_new()) || !(h->gen[1] = nv_sha256_new()))) {
		nv_sha_pair_free(h);
		return NULL;
	}
	nv_lane_reset(&h->lane[0]);
	nv_lane_reset(&h->lane[1]);
	return h;
}

int nv_sha_pair_interleaved(const nv_sha_pair *h)
{
	return h->ni;
}

/* Completes l's partial block from *p, *n; hashes it once whole. */
static void nv_lane_fill(nv_sha_lane *l, const unsigned char **p, size_t *n)
{
	size_t k = 64 - l->buflen < *n ? 64 - l->buflen : *n;

	if (!l->buflen || !k)
		return;
	memcpy(l->buf + l->buflen, *p, k);
	l->buflen += k;
	*p += k;
	*n -= k;
	if (l->buflen == 64) {
		nv_ni_blocks1(l->h, l->buf, 1);
		l->buflen = 0;
	}
}

/* The whole blocks of p, n that are left, and the rest kept as a partial block. */
static void nv_lane_rest(nv_sha_lane *l, const unsigned char *p, size_t n)
{
	if (n >= 64)
		nv_ni_blocks1(l->h, p, n / 64);
	if (n % 64)
		memcpy(l->buf, p + (n - n % 64), n % 64);
	l->buflen = n % 64;
}

void nv_sha_pair_update(nv_sha_pair *h, const void *a, size_t na, const void *b, size_t nb)
{
	const unsigned char *pa = a, *pb = b;
	size_t both;

	if (!h->ni) {
		if (na)
			nv_sha256_update(h->gen[0], a, na);
		if (nb)
			nv_sha256_update(h->gen[1], b, nb);
		return;
	}
	h->lane[0].total += na;
	h->lane[1].total += nb;
	nv_lane_fill(&h->lane[0], &pa, &na);
	nv_lane_fill(&h->lane[1], &pb, &nb);
	/* a lane left with a partial block has nothing left to hash now */
	both = na / 64 < nb / 64 ? na / 64 : nb / 64;
	if (both) {
		nv_ni_blocks2(h->lane[0].h, pa, h->lane[1].h, pb, both);
		pa += both * 64;
		pb += both * 64;
		na -= both * 64;
		nb -= both * 64;
	}
	if (na)
		nv_lane_rest(&h->lane[0], pa, na);
	if (nb)
		nv_lane_rest(&h->lane[1], pb, nb);
}

/* The padding (0x80, zeros, the length in bits), the digest, a fresh lane. */
static void nv_lane_final(nv_sha_lane *l, unsigned char *out)
{
	unsigned char pad[128] = { 0 };
	uint64_t bits = l->total * 8;
	size_t blocks = l->buflen + 9 <= 64 ? 1 : 2;

	memcpy(pad, l->buf, l->buflen);
	pad[l->buflen] = 0x80;
	for (int i = 0; i < 8; i++)
		pad[blocks * 64 - 1 - i] = (unsigned char)(bits >> (8 * i));
	nv_ni_blocks1(l->h, pad, blocks);
	for (int i = 0; out && i < 8; i++) {
		out[4 * i] = (unsigned char)(l->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(l->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(l->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)l->h[i];
	}
	nv_lane_reset(l);
}

void nv_sha_pair_final(nv_sha_pair *h, unsigned char a[NV_SHA256_LEN],
		       unsigned char b[NV_SHA256_LEN])
{
	unsigned char scratch[NV_SHA256_LEN];

	if (h->ni) {
		nv_lane_final(&h->lane[0], a);
		nv_lane_final(&h->lane[1], b);
		return;
	}
	nv_sha256_final(h->gen[0], a ? a : scratch);
	nv_sha256_final(h->gen[1], b ? b : scratch);
}

void nv_sha_pair_free(nv_sha_pair *h)
{
	if (!h)
		return;
	nv_sha256_free(h->gen[0]);
	nv_sha256_free(h->gen[1]);
	free(h);
}
