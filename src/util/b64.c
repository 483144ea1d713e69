/* b64.c: strict, canonical base64 (RFC 4648 standard alphabet), the project's only
 * one. Everyone may call (age, ssh, vault, the HTTP drivers). */
#include "b64.h"

static const char nv_b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int nv_b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t nv_b64_raw_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void nv_b64_raw_encode(char *out, const unsigned char *in, size_t n)
{
	size_t i;
	char *o = out;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
		*o++ = nv_b64_alpha[v >> 18 & 63];
		*o++ = nv_b64_alpha[v >> 12 & 63];
		*o++ = nv_b64_alpha[v >> 6 & 63];
		*o++ = nv_b64_alpha[v & 63];
	}
	if (n - i == 1) {
		*o++ = nv_b64_alpha[in[i] >> 2];
		*o++ = nv_b64_alpha[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		*o++ = nv_b64_alpha[in[i] >> 2];
		*o++ = nv_b64_alpha[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*o++ = nv_b64_alpha[(in[i + 1] & 15) << 2];
	}
	*o = '\0';
}

long nv_b64_raw_decode(unsigned char *out, const char *in, size_t len)
{
	unsigned long acc = 0;
	int bits = 0, v;
	size_t i;
	long n = 0;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = nv_b64_val((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits (2 or 4) must be zero, or two strings would decode alike. */
	if (acc & ((1ul << bits) - 1))
		return -1;
	return n;
}

size_t nv_b64_pad_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void nv_b64_pad_encode(char *out, const unsigned char *in, size_t n)
{
	size_t k = nv_b64_raw_len(n);

	nv_b64_raw_encode(out, in, n);
	while (k % 4)
		out[k++] = '=';
	out[k] = '\0';
}

long nv_b64_pad_decode(unsigned char *out, const char *in, size_t len)
{
	size_t pad = 0;

	if (len % 4)
		return -1;
	while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
		pad++;
	return nv_b64_raw_decode(out, in, len - pad);
}
