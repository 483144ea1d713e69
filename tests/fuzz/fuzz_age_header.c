/* fuzz_age_header.c: the age header (src/age/age_header.c): where it ends, found at
 * once and over growing prefixes as the stream decryptor looks for it (the two must
 * agree), its strict parse, and each stanza unwrapped with the test identity. */
#include "fuzz.h"

#include "age/age.h"
#include "age/age_header.h"
#include "age/age_stanza.h"

/* tests/age/testkey.txt: a test-only key; the corpus is encrypted to it. */
static const char test_identity[] =
	"AGE-SECRET-KEY-1MHELVQ5Z2QVQYTLJZYDSLH52ACNGLRC528QUUXFE3RWVRDFXEEVS73ELP3\n";

/* nv_age_header_end fed prefixes growing by step bytes, as a stream arrives. */
static long end_by_prefixes(const uint8_t *data, size_t size, size_t step)
{
	size_t scanned = 0, len = 0;
	long r;

	do {
		len = size - len < step ? size : len + step;
		r = nv_age_header_end(data, len, &scanned);
	} while (r == 0 && len < size);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nv_age_identity *id;
	struct nv_age_header h;
	size_t scanned = 0;
	long end;

	if (!id && nv_age_identity_parse(&id, test_identity, sizeof(test_identity) - 1))
		abort();
	end = nv_age_header_end(data, size, &scanned);
	NV_FUZZ_ASSERT(end == end_by_prefixes(data, size, 37));
	NV_FUZZ_ASSERT(end == end_by_prefixes(data, size, 1 + size % 101));
	if (end <= 0)
		return 0;
	memset(&h, 0, sizeof(h));
	if (nv_age_header_parse(&h, data, (size_t)end) == 0) {
		for (size_t i = 0; i < h.n; i++) {
			unsigned char file_key[16];

			if (nv_age_x25519_unwrap(file_key, &h.st[i], id) == 0)
				(void)nv_age_header_verify(&h, data, file_key);
		}
	}
	nv_age_header_clear(&h);
	return 0;
}
