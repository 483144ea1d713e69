/* fuzz_sshkey.c: the OpenSSH key parsers (src/ssh/sshkey.c): private key files,
 * public key lines and wire blobs. What parses must format back to something that
 * parses to the same key; a blob must be exactly what the key encodes to. */
#include "fuzz.h"

#include "ssh/sshkey.h"

static void check_private(const uint8_t *data, size_t size)
{
	nv_sshkey *k, *again;
	char *text;

	if (nv_sshkey_parse_private(&k, (const char *)data, size, "fuzz") != 0)
		return;
	NV_FUZZ_ASSERT(nv_sshkey_has_private(k));
	NV_FUZZ_ASSERT(nv_sshkey_format_private(&text, k, NULL) == 0);
	NV_FUZZ_ASSERT(nv_sshkey_parse_private(&again, text, strlen(text), "again") == 0);
	NV_FUZZ_ASSERT(nv_sshkey_public_equal(k, again));
	explicit_bzero(text, strlen(text));
	free(text);
	nv_sshkey_free(again);
	nv_sshkey_free(k);
}

static void check_public(const uint8_t *data, size_t size)
{
	char *line = nv_fuzz_str(data, size), *out, fp[NV_SSHKEY_FP_MAX];
	nv_sshkey *k, *again;

	if (nv_sshkey_parse_public(&k, line) == 0) {
		NV_FUZZ_ASSERT(nv_sshkey_fingerprint(fp, sizeof(fp), k) == 0);
		NV_FUZZ_ASSERT(nv_sshkey_format_public(&out, k, "c") == 0);
		NV_FUZZ_ASSERT(nv_sshkey_parse_public(&again, out) == 0);
		NV_FUZZ_ASSERT(nv_sshkey_public_equal(k, again));
		nv_sshkey_free(again);
		free(out);
		nv_sshkey_free(k);
	}
	free(line);
}

static void check_blob(const uint8_t *data, size_t size)
{
	unsigned char *blob;
	size_t len;
	nv_sshkey *k;

	if (nv_sshkey_from_blob(&k, data, size) != 0)
		return;
	NV_FUZZ_ASSERT(nv_sshkey_public_blob(&blob, &len, k) == 0);
	NV_FUZZ_ASSERT(len == size && memcmp(blob, data, size) == 0);
	free(blob);
	nv_sshkey_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_private(data, size);
	check_public(data, size);
	check_blob(data, size);
	return 0;
}
