/* hash.c: SHA-256 through OpenSSL's EVP (SHA-NI where the CPU has it).
 * Everyone may call. */
#include "hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct nv_sha256 {
	EVP_MD_CTX *ctx;
};

/* EVP_sha256() or HMAC() make OpenSSL 3 look the algorithm up by name each
 * time (locks, a hash table, for HMAC a parameter parse and a context): per
 * small file pushed or pulled, more than hashing it. So SHA-256 and HMAC are
 * fetched once per process, each thread keeps one HMAC context, and all is
 * released at exit (the exiting thread's context too: no key destructor runs
 * for it). */
static struct {
	EVP_MD *md;
	EVP_MAC *hmac;
	pthread_key_t tls; /* the thread's EVP_MAC_CTX, freed when the thread ends */
	int tls_ok;
} nv_alg;
static pthread_once_t nv_alg_once = PTHREAD_ONCE_INIT;

static void nv_hmac_ctx_free(void *c)
{
	EVP_MAC_CTX_free(c);
}

static void nv_alg_release(void)
{
	if (nv_alg.tls_ok) {
		nv_hmac_ctx_free(pthread_getspecific(nv_alg.tls));
		pthread_setspecific(nv_alg.tls, NULL);
	}
	EVP_MAC_free(nv_alg.hmac);
	EVP_MD_free(nv_alg.md);
	nv_alg.hmac = NULL;
	nv_alg.md = NULL;
}

static void nv_alg_fetch(void)
{
	nv_alg.md = EVP_MD_fetch(NULL, "SHA256", NULL);
	nv_alg.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	nv_alg.tls_ok = pthread_key_create(&nv_alg.tls, nv_hmac_ctx_free) == 0;
	atexit(nv_alg_release);
}

static const EVP_MD *nv_sha256_alg(void)
{
	pthread_once(&nv_alg_once, nv_alg_fetch);
	return nv_alg.md ? nv_alg.md : EVP_sha256();
}

/* The calling thread's HMAC-SHA256 context, made on its first use. */
static EVP_MAC_CTX *nv_hmac_ctx(void)
{
	EVP_MAC_CTX *c;
	OSSL_PARAM p[2];

	pthread_once(&nv_alg_once, nv_alg_fetch);
	if (!nv_alg.hmac || !nv_alg.tls_ok)
		return NULL;
	if ((c = pthread_getspecific(nv_alg.tls)))
		return c;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	if (!(c = EVP_MAC_CTX_new(nv_alg.hmac)) || EVP_MAC_CTX_set_params(c, p) != 1 ||
	    pthread_setspecific(nv_alg.tls, c) != 0) {
		EVP_MAC_CTX_free(c);
		return NULL;
	}
	return c;
}

int nv_hmac_sha256_v(unsigned char out[NV_SHA256_LEN], const void *key, size_t keylen,
		     const void *const *msg, const size_t *len, size_t n)
{
	static const unsigned char nokey[1];
	EVP_MAC_CTX *c = nv_hmac_ctx();
	size_t olen = 0, i;
	int ok = c && EVP_MAC_init(c, keylen ? key : nokey, keylen, NULL) == 1;

	for (i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(c, msg[i], len[i]) == 1;
	ok = ok && EVP_MAC_final(c, out, &olen, NV_SHA256_LEN) == 1 && olen == NV_SHA256_LEN;
	/* keyed with the empty key again: no key lingers in the thread's context */
	if (c)
		EVP_MAC_init(c, nokey, 0, NULL);
	return ok ? 0 : -1;
}

nv_sha256 *nv_sha256_new(void)
{
	nv_sha256 *h = malloc(sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex2(h->ctx, nv_sha256_alg(), NULL)) {
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
	EVP_DigestInit_ex2(h->ctx, NULL, NULL); /* the same algorithm again */
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

	EVP_Digest(buf, len, out, &n, nv_sha256_alg(), NULL);
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
