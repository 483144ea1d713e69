/* fuzz_age_stream.c: age decryption (src/age/age_dec.c, age_buf.c) with the test
 * identity: the whole-buffer call (armor included) and the stream fed in pieces
 * must agree on the outcome and the plaintext; and passphrase files (age -p) with a
 * work factor capped at 2^10, so that a fuzzed scrypt stanza costs little. */
#include "fuzz.h"

#include "age/age.h"

/* tests/age/testkey.txt, and the passphrase of corpus/age_stream/passphrase-*.age:
 * test-only secrets. */
static const char test_identity[] =
	"AGE-SECRET-KEY-1MHELVQ5Z2QVQYTLJZYDSLH52ACNGLRC528QUUXFE3RWVRDFXEEVS73ELP3\n";
#define TEST_PASSPHRASE "navette-test-passphrase"
#define TEST_MAX_LOGN 10

/* The stream fed step bytes at a time, each call given exactly the output room the
 * API promises to need (so that ASan sees a write past it); *out (malloc'd, NULL on
 * failure) gets the plaintext. Returns what the first failing call returned, or 0. */
static int stream_decrypt(const nv_age_identity *id, const uint8_t *data, size_t size,
			  size_t step, unsigned char **out, size_t *outlen)
{
	size_t cap = size + nv_age_dec_bound(0), n = 0, got, room = nv_age_dec_bound(step);
	unsigned char *acc = malloc(cap), *piece = malloc(room);
	nv_age_dec *d = NULL;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (!acc || !piece)
		abort();
	if ((rc = nv_age_dec_new(&d, id)) < 0)
		goto out_free;
	for (size_t off = 0; off < size; off += step) {
		size_t len = size - off < step ? size - off : step;

		if ((rc = nv_age_dec_update(d, data + off, len, piece, &got)) < 0)
			goto out_free;
		NV_FUZZ_ASSERT(got <= room && n + got <= cap);
		memcpy(acc + n, piece, got);
		n += got;
	}
	if ((rc = nv_age_dec_final(d, piece, &got)) < 0)
		goto out_free;
	NV_FUZZ_ASSERT(got <= nv_age_dec_bound(0) && n + got <= cap);
	memcpy(acc + n, piece, got);
	*out = acc;
	*outlen = n + got;
	acc = NULL;
out_free:
	nv_age_dec_free(d);
	nv_age_wipe_free(piece, room);
	nv_age_wipe_free(acc, cap);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nv_age_identity *id;
	unsigned char *whole, *streamed;
	size_t wlen, slen;
	int wrc, src;

	if (!id && nv_age_identity_parse(&id, test_identity, sizeof(test_identity) - 1))
		abort();
	wrc = nv_age_decrypt_buf(&whole, &wlen, data, size, id);
	/* an armored file is only read whole; the stream takes binary files */
	if (size < 5 || memcmp(data, "-----", 5) != 0) {
		src = stream_decrypt(id, data, size, 1 + size % 333, &streamed, &slen);
		NV_FUZZ_ASSERT((wrc == 0) == (src == 0));
		NV_FUZZ_ASSERT(wrc != 0 || (wlen == slen && memcmp(whole, streamed, wlen) == 0));
		nv_age_wipe_free(streamed, slen);
	}
	nv_age_wipe_free(whole, wlen);
	if (nv_age_decrypt_passphrase_buf(&whole, &wlen, data, size, TEST_PASSPHRASE,
					  TEST_MAX_LOGN) == 0)
		nv_age_wipe_free(whole, wlen);
	return 0;
}
