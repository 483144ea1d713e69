/* hash.c: SHA-256 through OpenSSL's EVP (SHA-NI where the CPU has it).
 * Everyone may call. */
#include "hash.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct nv_sha256 {
	EVP_MD_CTX *ctx;
};

nv_sha256 *nv_sha256_new(void)
{
	nv_sha256 *h = malloc(sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

void nv_sha256_update(nv_sha256 *h, const void *buf, size_t len)
{
	EVP_DigestUpdate(h->ctx, buf, len);
}

void nv_sha256_final(nv_sha256 *h, unsigned char out[NV_SHA256_LEN])
{
	unsigned int n = NV_SHA256_LEN;

	EVP_DigestFinal_ex(h->ctx, out, &n);
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void nv_sha256_free(nv_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void nv_sha256_buf(unsigned char out[NV_SHA256_LEN], const void *buf, size_t len)
{
	unsigned int n = NV_SHA256_LEN;

	EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL);
}

void nv_hex(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int nv_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nv_unhex(unsigned char *out, size_t outlen, const char *hex)
{
	if (strlen(hex) != 2 * outlen)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		int hi = nv_hexval(hex[2 * i]), lo = nv_hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
