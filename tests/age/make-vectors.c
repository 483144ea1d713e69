/* make-vectors.c: writes the bad-case age vectors of tests/age/ (see README.md)
 * once, from the module's own primitives. Run: make-vectors DIR < testkey.txt */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age/age_crypto.h"
#include "age/age_header.h"
#include "age/age_int.h"
#include "age/age_stanza.h"
#include "age/age_stream.h"
#include "util/error.h"

static nv_age_recipient nv_vec_rcpt;
static const char *nv_vec_dir;

/* The plaintext pattern the unit test recomputes: byte i = i * 131 + 7. */
static unsigned char *nv_vec_plain(size_t n)
{
	unsigned char *p = malloc(n ? n : 1);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 131 + 7);
	return p;
}

_Noreturn static void nv_vec_die(const char *what)
{
	fprintf(stderr, "make-vectors: %s: %s\n", what, nv_error_msg());
	exit(1);
}

static void nv_vec_write(const char *name, const unsigned char *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", nv_vec_dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		nv_vec_die(path);
	printf("%s (%zu bytes)\n", name, n);
}

/* A file with the header of one X25519 stanza to the test key, then the chunks
 * given as (length, last flag) pairs, sealed by hand so that any sequence,
 * also one the encryptor would never write, can be made. */
static unsigned char *nv_vec_build(size_t *len, const size_t *sizes, const int *last, size_t nchunks)
{
	unsigned char fk[16], key[32], nonce[12], *out, *plain;
	char stanza[NV_AGE_X25519_STANZA_LEN + 1];
	size_t total = 0, i, o, hl;
	nv_age_enc *e;
	nv_age_aead *a;

	for (i = 0; i < nchunks; i++)
		total += sizes[i] + NV_AGE_TAG;
	if (nv_age_random(fk, 16) < 0 || nv_age_x25519_wrap(stanza, &nv_vec_rcpt, fk) < 0 ||
	    nv_age_enc_new_raw(&e, fk, stanza, NV_AGE_X25519_STANZA_LEN) < 0)
		nv_vec_die("header");
	out = malloc(nv_age_enc_bound(e, 0) + total);
	if (nv_age_enc_update(e, "", 0, out, &hl) < 0 || nv_age_payload_key(key, fk, out + hl - 16) < 0 ||
	    nv_age_aead_new(&a, key) < 0)
		nv_vec_die("payload key");
	nv_age_enc_free(e);
	plain = nv_vec_plain(NV_AGE_CHUNK_SIZE);
	for (i = 0, o = hl; i < nchunks; i++) {
		nv_age_stream_nonce(nonce, i, last[i]);
		if (nv_age_aead_seal(a, nonce, plain, sizes[i], out + o) < 0)
			nv_vec_die("seal");
		o += sizes[i] + NV_AGE_TAG;
	}
	nv_age_aead_free(a);
	free(plain);
	*len = o;
	return out;
}

/* A well-formed file of n pattern bytes, from the real encryptor. */
static unsigned char *nv_vec_good(size_t *len, size_t n, const nv_age_recipient *r)
{
	unsigned char *plain = nv_vec_plain(n), *out;

	if (nv_age_encrypt_buf(&out, len, plain, n, r, 1) < 0)
		nv_vec_die("encrypt");
	free(plain);
	return out;
}

/* Offset of the X25519 share (first stanza argument) and of the MAC. */
#define NV_VEC_SHARE (NV_AGE_INTRO_LEN + 10)
#define NV_VEC_BODY (NV_VEC_SHARE + 44)
#define NV_VEC_MAC (NV_AGE_INTRO_LEN + NV_AGE_X25519_STANZA_LEN + 4)
#define NV_VEC_PAYLOAD (NV_AGE_INTRO_LEN + NV_AGE_X25519_STANZA_LEN + NV_AGE_MAC_LINE_LEN + 16)

static char nv_vec_b64_noncanonical(char c)
{
	/* The last of 43 characters carries 4 data bits and 2 bits that must be zero. */
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	return alpha[(strchr(alpha, c) - alpha) | 1];
}

static void nv_vec_header_cases(void)
{
	unsigned char *f;
	size_t n;

	f = nv_vec_good(&n, 5, &nv_vec_rcpt);
	nv_vec_write("good-5.age", f, n);
	f[NV_VEC_SHARE + 42] = (unsigned char)nv_vec_b64_noncanonical((char)f[NV_VEC_SHARE + 42]);
	nv_vec_write("noncanonical-share.age", f, n);
	free(f);

	f = nv_vec_good(&n, 5, &nv_vec_rcpt);
	f[NV_VEC_BODY + 42] = (unsigned char)nv_vec_b64_noncanonical((char)f[NV_VEC_BODY + 42]);
	nv_vec_write("noncanonical-body.age", f, n);
	free(f);

	f = nv_vec_good(&n, 5, &nv_vec_rcpt);
	memset(f + NV_VEC_SHARE, 'A', 43); /* u = 0 */
	nv_vec_write("low-order-zero.age", f, n);
	memcpy(f + NV_VEC_SHARE, "AQ", 2); /* u = 1 */
	nv_vec_write("low-order-one.age", f, n);
	free(f);

	f = nv_vec_good(&n, 5, &nv_vec_rcpt);
	f[NV_VEC_MAC] = f[NV_VEC_MAC] == 'A' ? 'B' : 'A';
	nv_vec_write("header-mac.age", f, n);
	free(f);

	f = nv_vec_good(&n, 5, &nv_vec_rcpt);
	f[NV_AGE_INTRO_LEN - 2] = '2';
	nv_vec_write("unknown-version.age", f, n);
	free(f);
}

static void nv_vec_payload_cases(void)
{
	static const size_t full_empty[] = {NV_AGE_CHUNK_SIZE, 0};
	static const int flags_01[] = {0, 1};
	static const size_t one_full[] = {NV_AGE_CHUNK_SIZE};
	static const int flags_1[] = {1};
	nv_age_recipient other;
	unsigned char *f, sk[32];
	size_t n;

	f = nv_vec_build(&n, full_empty, flags_01, 2);
	nv_vec_write("empty-after-full.age", f, n);
	free(f);

	f = nv_vec_good(&n, NV_AGE_CHUNK_SIZE + 1, &nv_vec_rcpt);
	nv_vec_write("missing-last.age", f, NV_VEC_PAYLOAD + NV_AGE_CHUNK_ENC);
	free(f);

	/* Trailing bytes are only told apart from damage after a full last chunk. */
	f = nv_vec_build(&n, one_full, flags_1, 1);
	f = realloc(f, n + 3);
	memcpy(f + n, "xyz", 3);
	nv_vec_write("trailing-data.age", f, n + 3);
	free(f);

	f = nv_vec_good(&n, 100, &nv_vec_rcpt);
	nv_vec_write("truncated-mid-chunk.age", f, n - 40);
	nv_vec_write("truncated-in-tag.age", f, NV_VEC_PAYLOAD + 5);
	nv_vec_write("truncated-header.age", f, NV_VEC_MAC);
	f[NV_VEC_PAYLOAD + 3] ^= 1;
	nv_vec_write("flipped-payload.age", f, n);
	free(f);

	if (nv_age_random(sk, 32) < 0 || nv_age_x25519_public(other.pub, sk) < 0)
		nv_vec_die("other key");
	f = nv_vec_good(&n, 5, &other);
	nv_vec_write("no-match.age", f, n);
	free(f);
}

int main(int argc, char **argv)
{
	char text[4096];
	size_t n = fread(text, 1, sizeof(text) - 1, stdin);
	nv_age_identity *id;

	if (argc != 2) {
		fprintf(stderr, "usage: make-vectors DIR < testkey.txt\n");
		return 2;
	}
	nv_vec_dir = argv[1];
	if (nv_age_identity_parse(&id, text, n) < 0 || nv_age_identity_recipient(id, &nv_vec_rcpt) < 0)
		nv_vec_die("identity");
	nv_age_identity_free(id);
	nv_vec_header_cases();
	nv_vec_payload_cases();
	return 0;
}
