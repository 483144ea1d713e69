/* bech32.c: BIP 173 Bech32 encoding and checked decoding for age keys.
 * Called by the age module only (age_keys.c). */
#include "bech32.h"

#include <string.h>
#include <strings.h>

static const char nv_bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static unsigned long nv_bech32_polymod_step(unsigned long chk, unsigned v)
{
	static const unsigned long gen[5] = {0x3b6a57b2ul, 0x26508e6dul, 0x1ea119faul,
					     0x3d4233ddul, 0x2a1462b3ul};
	unsigned long top = chk >> 25;
	int i;

	chk = (chk & 0x1fffffful) << 5 ^ v;
	for (i = 0; i < 5; i++)
		if (top >> i & 1)
			chk ^= gen[i];
	return chk;
}

/* Checksum state after the expanded hrp (always taken in lower case). */
static unsigned long nv_bech32_hrp_chk(const char *hrp, size_t hlen)
{
	unsigned long chk = 1;
	size_t i;

	for (i = 0; i < hlen; i++)
		chk = nv_bech32_polymod_step(chk, (unsigned)(hrp[i] | 0x20) >> 5);
	chk = nv_bech32_polymod_step(chk, 0);
	for (i = 0; i < hlen; i++)
		chk = nv_bech32_polymod_step(chk, (unsigned)(hrp[i] | 0x20) & 31);
	return chk;
}

static char nv_bech32_case(char c, int upper)
{
	return upper && c >= 'a' && c <= 'z' ? (char)(c - 32) : !upper && c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

int nv_bech32_encode(char *out, size_t cap, const char *hrp, const unsigned char *data,
		     size_t n, int upper)
{
	size_t hlen = strlen(hrp), ndig = (n * 8 + 4) / 5, o = 0, i;
	unsigned long chk, acc = 0;
	int bits = 0;

	if (hlen == 0 || hlen + 1 + ndig + 6 + 1 > cap)
		return -1;
	for (i = 0; i < hlen; i++) {
		if (hrp[i] < 33 || hrp[i] > 126)
			return -1;
		out[o++] = nv_bech32_case(hrp[i], upper);
	}
	out[o++] = nv_bech32_case('1', upper);
	chk = nv_bech32_hrp_chk(hrp, hlen);
	for (i = 0; i < n; i++) {
		acc = (acc << 8 | data[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			chk = nv_bech32_polymod_step(chk, acc >> bits & 31);
			out[o++] = nv_bech32_case(nv_bech32_charset[acc >> bits & 31], upper);
		}
	}
	if (bits) {
		unsigned v = (unsigned)(acc << (5 - bits)) & 31;
		chk = nv_bech32_polymod_step(chk, v);
		out[o++] = nv_bech32_case(nv_bech32_charset[v], upper);
	}
	for (i = 0; i < 6; i++)
		chk = nv_bech32_polymod_step(chk, 0);
	chk ^= 1;
	for (i = 0; i < 6; i++)
		out[o++] = nv_bech32_case(nv_bech32_charset[chk >> (5 * (5 - i)) & 31], upper);
	out[o] = '\0';
	return (int)o;
}

static int nv_bech32_digit(char c)
{
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c + 32);
	if (c == '\0' || !(p = strchr(nv_bech32_charset, c)))
		return -1;
	return (int)(p - nv_bech32_charset);
}

int nv_bech32_decode(unsigned char *out, size_t cap, size_t *n, const char *hrp,
		     const char *text)
{
	size_t len = strlen(text), hlen = strlen(hrp), i, o = 0;
	unsigned long chk, acc = 0;
	int lower = 0, upper = 0, bits = 0, d;

	for (i = 0; i < len; i++) {
		if (text[i] < 33 || text[i] > 126)
			return -1;
		lower |= text[i] >= 'a' && text[i] <= 'z';
		upper |= text[i] >= 'A' && text[i] <= 'Z';
	}
	if (lower && upper)
		return -1;
	/* The hrp is known, so the separator '1' must follow it (the charset has no '1'). */
	if (hlen == 0 || len < hlen + 1 + 6 || strncasecmp(text, hrp, hlen) != 0 || text[hlen] != '1')
		return -1;
	chk = nv_bech32_hrp_chk(text, hlen);
	for (i = hlen + 1; i < len; i++) {
		if ((d = nv_bech32_digit(text[i])) < 0)
			return -1;
		chk = nv_bech32_polymod_step(chk, (unsigned)d);
		if (i >= len - 6)
			continue;
		acc = (acc << 5 | (unsigned)d) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Padding: fewer than 5 bits, all zero, or the encoding is not canonical. */
	if (chk != 1 || bits >= 5 || (acc & ((1ul << bits) - 1)))
		return -1;
	*n = o;
	return 0;
}
