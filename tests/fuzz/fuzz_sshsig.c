/* fuzz_sshsig.c: the SSHSIG parser and checks (src/ssh/sshsig.c), whole and in
 * pieces (the two must agree), against the test vectors' key and messages: "hello\n"
 * in namespace navette-manifest and "" in navette-vault. */
#include "fuzz.h"

#include "ssh/sshsig.h"

/* tests/unit/sshsig_vectors.h: vec_pub, a test-only key */
static const char test_signer[] =
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBUqmgkd8jAp4olzRSvOs0VgsLMSKoxiG7sI9v0eytl/ me@host";

static void check(const nv_sshkey *signer, const uint8_t *data, size_t size, const char *ns,
		  const char *msg)
{
	size_t len = strlen(msg);
	int whole = nv_sshsig_verify((const char *)data, size, signer, ns, msg, len), parts;
	nv_sshsig_ctx *c;

	parts = nv_sshsig_verify_begin(&c, (const char *)data, size, signer, ns);
	if (parts == 0) {
		/* the message in two pieces */
		NV_FUZZ_ASSERT(nv_sshsig_update(c, msg, len / 2) == 0);
		NV_FUZZ_ASSERT(nv_sshsig_update(c, msg + len / 2, len - len / 2) == 0);
		parts = nv_sshsig_verify_end(c);
	}
	NV_FUZZ_ASSERT(whole == parts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nv_sshkey *signer;

	if (!signer && nv_sshkey_parse_public(&signer, test_signer) != 0)
		abort();
	check(signer, data, size, NV_SSHSIG_NS_MANIFEST, "hello\n");
	check(signer, data, size, NV_SSHSIG_NS_VAULT, "");
	return 0;
}
