/* format.c: the vault's names built and parsed strictly, in one place, so that
 * writer and readers cannot drift apart. Called through format.h. */
#include "format.h"
#include "util/error.h"
#include "util/state.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NV_HEXDIGITS "0123456789abcdef"

int nv_hex_ok(const char *s, size_t n)
{
	return strspn(s, NV_HEXDIGITS) == n && s[n] == '\0';
}

/* ---- objects ---- */

void nv_object_id(char id[NV_OBJECT_ID_HEX], const unsigned char kid[NV_KID_LEN],
		  const unsigned char sha[NV_SHA256_LEN])
{
	unsigned char mac[NV_SHA256_LEN] = { 0 };
	const void *msg = sha;
	size_t len = NV_SHA256_LEN;

	/* once per file pushed: on the thread's HMAC context (util/hash.h) */
	nv_hmac_sha256_v(mac, kid, NV_KID_LEN, &msg, &len, 1);
	nv_hex(id, mac, NV_SHA256_LEN);
}

struct nv_object_ids {
	EVP_MAC_CTX *ctx; /* HMAC-SHA256, keyed with K_id once */
};

int nv_object_ids_new(nv_object_ids **out, const unsigned char kid[NV_KID_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	nv_object_ids *x = calloc(1, sizeof(*x));

	*out = NULL;
	if (x && mac)
		x->ctx = EVP_MAC_CTX_new(mac); /* which holds its own reference to mac */
	EVP_MAC_free(mac);
	if (!x || !x->ctx || !EVP_MAC_init(x->ctx, kid, NV_KID_LEN, params)) {
		nv_object_ids_free(x);
		return nv_error_set(NV_ERR, "cannot set up HMAC-SHA256 (OpenSSL, or out of memory)");
	}
	*out = x;
	return 0;
}

int nv_object_ids_make(nv_object_ids *x, char id[NV_OBJECT_ID_HEX],
		       const unsigned char sha[NV_SHA256_LEN])
{
	unsigned char mac[NV_SHA256_LEN];
	size_t n = 0;

	/* no key: the one set up by nv_object_ids_new, its pads computed once */
	if (!EVP_MAC_init(x->ctx, NULL, 0, NULL) || !EVP_MAC_update(x->ctx, sha, NV_SHA256_LEN) ||
	    !EVP_MAC_final(x->ctx, mac, &n, sizeof(mac)) || n != sizeof(mac))
		return nv_error_set(NV_ERR, "HMAC-SHA256 failed (OpenSSL)");
	nv_hex(id, mac, NV_SHA256_LEN);
	return 0;
}

void nv_object_ids_free(nv_object_ids *x)
{
	if (!x)
		return;
	EVP_MAC_CTX_free(x->ctx); /* which wipes the keyed state */
	free(x);
}

void nv_canary_key(unsigned char out[NV_KID_LEN], const unsigned char kid[NV_KID_LEN],
		   const char *const *recipients, size_t n)
{
	static const char label[] = "navette-canary-v1\n";
	size_t len = sizeof(label) - 1, off;
	unsigned int maclen = 0;
	char *msg;

	for (size_t i = 0; i < n; i++)
		len += strlen(recipients[i]) + 1;
	/* Out of memory leaves a key of zeros, which the pusher refuses. */
	memset(out, 0, NV_KID_LEN);
	if (!(msg = malloc(len)))
		return;
	memcpy(msg, label, off = sizeof(label) - 1);
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(recipients[i]);

		memcpy(msg + off, recipients[i], k);
		msg[off + k] = '\n';
		off += k + 1;
	}
	HMAC(EVP_sha256(), kid, NV_KID_LEN, (unsigned char *)msg, len, out, &maclen);
	free(msg);
}

int nv_object_prefix(char out[NV_OBJECT_PREFIX_MAX], const char *id)
{
	if (!nv_hex_ok(id, 64))
		return nv_error_set(NV_EINVAL, "object id '%.80s' is not 64 hex digits", id);
	snprintf(out, NV_OBJECT_PREFIX_MAX, NV_VAULT_OBJECTS "%.2s/%s.", id, id);
	return 0;
}

int nv_object_name(char out[NV_OBJECT_NAME_MAX], const char *id, const char *nonce)
{
	int rc = nv_object_prefix(out, id);

	if (rc)
		return rc;
	if (!nv_hex_ok(nonce, 16))
		return nv_error_set(NV_EINVAL, "object nonce '%.40s' is not 16 hex digits", nonce);
	snprintf(out + NV_OBJECT_PREFIX_MAX - 1, NV_OBJECT_NAME_MAX - NV_OBJECT_PREFIX_MAX + 1,
		 "%s.age", nonce);
	return 0;
}

int nv_object_name_new(char out[NV_OBJECT_NAME_MAX], const char *id)
{
	unsigned char nonce[8];
	char hex[NV_OBJECT_NONCE_HEX];

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return nv_error_set(NV_ERR, "no randomness");
	nv_hex(hex, nonce, sizeof(nonce));
	return nv_object_name(out, id, hex);
}

int nv_object_name_parse(const char *name, char id[NV_OBJECT_ID_HEX],
			 char nonce[NV_OBJECT_NONCE_HEX])
{
	/* offsets in "objects/ab/<64>.<16>.age" */
	const size_t dir = 8, idp = 11, dot = idp + 64, np = dot + 1, suffix = np + 16;
	const char *why = NULL;

	if (strlen(name) != NV_OBJECT_NAME_MAX - 1)
		why = "wrong length";
	else if (strncmp(name, NV_VAULT_OBJECTS, dir) != 0 || name[dir + 2] != '/')
		why = "not under objects/XX/";
	else if (strspn(name + idp, NV_HEXDIGITS) != 64 || name[dot] != '.')
		why = "its id is not 64 lower-case hex digits";
	else if (memcmp(name + dir, name + idp, 2) != 0)
		why = "its directory is not the first two digits of its id";
	else if (strspn(name + np, NV_HEXDIGITS) != 16)
		why = "its nonce is not 16 lower-case hex digits";
	else if (strcmp(name + suffix, ".age") != 0)
		why = "it does not end in .age";
	if (why)
		return nv_error_set(NV_EMISMATCH, "bad object name '%.120s': %s", name, why);
	if (id) {
		memcpy(id, name + idp, 64);
		id[64] = '\0';
	}
	if (nonce) {
		memcpy(nonce, name + np, 16);
		nonce[16] = '\0';
	}
	return 0;
}

/* ---- generations and manifests ---- */

void nv_generation_format(char out[NV_GENERATION_MAX], uint64_t gen)
{
	snprintf(out, NV_GENERATION_MAX, "%020llu", (unsigned long long)gen);
}

int nv_generation_parse(uint64_t *gen, const char *s)
{
	uint64_t g = 0;

	for (size_t i = 0; i < NV_GENERATION_DIGITS; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';

		if (d > 9)
			return nv_error_set(NV_EMISMATCH, "a generation is %d decimal digits",
					    NV_GENERATION_DIGITS);
		if (g > (UINT64_MAX - d) / 10)
			return nv_error_set(NV_EMISMATCH, "generation %.20s is too large", s);
		g = g * 10 + d;
	}
	*gen = g;
	return 0;
}

void nv_manifest_name(char out[NV_MANIFEST_NAME_MAX], uint64_t gen)
{
	char g[NV_GENERATION_MAX];

	nv_generation_format(g, gen);
	snprintf(out, NV_MANIFEST_NAME_MAX, NV_VAULT_MANIFESTS "%s.json", g);
}

int nv_manifest_name_parse(uint64_t *gen, const char *name)
{
	const size_t pre = sizeof(NV_VAULT_MANIFESTS) - 1;

	if (strlen(name) != NV_MANIFEST_NAME_MAX - 1 || strncmp(name, NV_VAULT_MANIFESTS, pre) ||
	    strcmp(name + pre + NV_GENERATION_DIGITS, ".json") != 0)
		return nv_error_set(NV_EMISMATCH, "'%.80s' is not manifests/<%d digits>.json", name,
				    NV_GENERATION_DIGITS);
	return nv_generation_parse(gen, name + pre);
}

int nv_signature_name(char out[NV_SIGNED_NAME_MAX], const char *name)
{
	int n = snprintf(out, NV_SIGNED_NAME_MAX, "%s" NV_VAULT_SIG_SUFFIX, name);

	if (n < 0 || n >= NV_SIGNED_NAME_MAX)
		return nv_error_set(NV_EINVAL, "no signature name for '%.80s': too long", name);
	return 0;
}

/* ---- a sharded push's run ---- */

int nv_run_id_check(const char *run)
{
	size_t n = strlen(run);

	if (!n || n > NV_RUN_ID_MAX ||
	    strspn(run, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") < n)
		return nv_error_set(NV_EINVAL, "a run id is 1 to %d letters, digits, '.', '_' or "
				    "'-', not '%.80s'", NV_RUN_ID_MAX, run);
	/* it names a folder of the vault (runs/<run>/) */
	if (strcmp(run, ".") == 0 || strcmp(run, "..") == 0)
		return nv_error_set(NV_EINVAL, "the run id of a sharded push names a folder of "
				    "the vault: not '%s'", run);
	return 0;
}

int nv_run_doc_name(char out[NV_RUN_NAME_MAX], const char *run)
{
	int rc = nv_run_id_check(run);

	if (!rc)
		snprintf(out, NV_RUN_NAME_MAX, NV_VAULT_RUNS "%s/run.json", run);
	return rc;
}

int nv_partial_name(char out[NV_RUN_NAME_MAX], const char *run, unsigned k, unsigned n)
{
	int rc = nv_run_id_check(run);

	if (!rc)
		snprintf(out, NV_RUN_NAME_MAX, NV_VAULT_RUNS "%s/shard-%u-of-%u.age", run, k, n);
	return rc;
}

/* A decimal number at the start of p without a leading zero (but "0"), at
 * most 9 digits, *end set past it; -1 when there is none. */
static long nv_decimal(const char *p, const char **end)
{
	size_t n = strspn(p, "0123456789");
	long v = 0;

	if (!n || n > 9 || (n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	*end = p + n;
	return v;
}

int nv_partial_name_parse(const char *key, const char *run, unsigned *k, unsigned *n)
{
	char dir[NV_RUN_NAME_MAX];
	const char *p;
	long kk, nn;
	int len = snprintf(dir, sizeof(dir), NV_VAULT_RUNS "%s/shard-", run);

	if (len < 0 || (size_t)len >= sizeof(dir) || strncmp(key, dir, (size_t)len) != 0 ||
	    (kk = nv_decimal(key + len, &p)) < 0 || strncmp(p, "-of-", 4) != 0 ||
	    (nn = nv_decimal(p + 4, &p)) < 1 || kk >= nn || strcmp(p, ".age") != 0)
		return nv_error_set(NV_EMISMATCH, "'%.120s' is not a partial catalog of run %s",
				    key, run);
	*k = (unsigned)kk;
	*n = (unsigned)nn;
	return 0;
}

void nv_partial_key(unsigned char out[NV_KID_LEN], const unsigned char kid[NV_KID_LEN])
{
	static const char label[] = "navette-partial-v1\n";
	unsigned int n = 0;

	HMAC(EVP_sha256(), kid, NV_KID_LEN, (const unsigned char *)label, sizeof(label) - 1, out,
	     &n);
}

void nv_partial_mac(unsigned char out[NV_SHA256_LEN], const unsigned char key[NV_KID_LEN],
		    const void *buf, size_t len)
{
	unsigned int n = 0;

	HMAC(EVP_sha256(), key, NV_KID_LEN, buf, len, out, &n);
}

/* HMAC (RFC 2104) over SHA-256, whose block is 64 bytes: a key of
 * NV_KID_LEN (32) bytes is used as it is, zero-padded. */
struct nv_partial_hmac {
	nv_sha256 *inner, *outer; /* both made at begin: end cannot fail */
	unsigned char opad[64];
};

nv_partial_hmac *nv_partial_mac_begin(const unsigned char key[NV_KID_LEN])
{
	nv_partial_hmac *h = calloc(1, sizeof(*h));
	unsigned char ipad[64];

	if (!h || !(h->inner = nv_sha256_new()) || !(h->outer = nv_sha256_new())) {
		if (h)
			nv_sha256_free(h->inner);
		free(h);
		return NULL;
	}
	memset(ipad, 0x36, sizeof(ipad));
	memset(h->opad, 0x5c, sizeof(h->opad));
	for (size_t i = 0; i < NV_KID_LEN; i++) {
		ipad[i] ^= key[i];
		h->opad[i] ^= key[i];
	}
	nv_sha256_update(h->inner, ipad, sizeof(ipad));
	OPENSSL_cleanse(ipad, sizeof(ipad));
	return h;
}

void nv_partial_mac_update(nv_partial_hmac *h, const void *buf, size_t len)
{
	nv_sha256_update(h->inner, buf, len);
}

void nv_partial_mac_end(nv_partial_hmac *h, unsigned char out[NV_SHA256_LEN])
{
	unsigned char in[NV_SHA256_LEN];

	nv_sha256_final(h->inner, in);
	nv_sha256_update(h->outer, h->opad, sizeof(h->opad));
	nv_sha256_update(h->outer, in, sizeof(in));
	nv_sha256_final(h->outer, out);
	nv_sha256_free(h->outer);
	nv_sha256_free(h->inner);
	OPENSSL_cleanse(h, sizeof(*h));
	free(h);
}

/* ---- this host's state ---- */

int nv_vstate_name(char *out, size_t cap, nv_vstate which, const char *arg)
{
	static const char *const push_file[] = {
		[NV_VSTATE_KID] = "kid",         [NV_VSTATE_CACHE] = "cache.tsv",
		[NV_VSTATE_LANDED] = "landed.tsv", [NV_VSTATE_PENDING] = "pending",
		[NV_VSTATE_LAST] = "last",       [NV_VSTATE_LOCK] = "lock",
		[NV_VSTATE_CANARY] = "canary",   [NV_VSTATE_RUNS] = "runs",
	};
	size_t want = which == NV_VSTATE_BOUND ? 64 : NV_VAULT_ID_HEX - 1;
	int n;

	if (which != NV_VSTATE_PINS && (!arg || !nv_hex_ok(arg, want)))
		return nv_error_set(NV_EINVAL, "no state file for '%.80s': not %zu hex digits",
				    arg ? arg : "", want);
	switch (which) {
	case NV_VSTATE_PINS:
		n = snprintf(out, cap, "pins");
		break;
	case NV_VSTATE_PIN:
		n = snprintf(out, cap, "pins/%s.json", arg);
		break;
	case NV_VSTATE_SEEN:
		n = snprintf(out, cap, "seen/%s", arg);
		break;
	case NV_VSTATE_BOUND:
		n = snprintf(out, cap, "bound/%s", arg);
		break;
	case NV_VSTATE_DRILL:
		n = snprintf(out, cap, "pins/%s.drill", arg); /* beside the descriptor's pin */
		break;
	default:
		if ((unsigned)which >= sizeof(push_file) / sizeof(*push_file))
			return nv_error_set(NV_EINVAL, "unknown state file %d", (int)which);
		n = snprintf(out, cap, "push/%s/%s", arg, push_file[which]);
	}
	if (n < 0 || (size_t)n >= cap)
		return nv_error_set(NV_EINVAL, "state file name too long");
	return 0;
}

int nv_vstate_path(char *out, size_t cap, nv_vstate which, const char *arg)
{
	char rel[128];
	int rc = nv_vstate_name(rel, sizeof(rel), which, arg);

	if (rc)
		return rc;
	switch (which) {
	case NV_VSTATE_CACHE: case NV_VSTATE_LANDED: case NV_VSTATE_PENDING:
	case NV_VSTATE_LAST: case NV_VSTATE_LOCK:
		return nv_state_own_path(out, cap, rel); /* one push's own */
	default:
		return nv_state_path(out, cap, rel);
	}
}

int nv_vstate_pin_parse(char vault_id[NV_VAULT_ID_HEX], const char *filename)
{
	if (strspn(filename, NV_HEXDIGITS) != NV_VAULT_ID_HEX - 1 ||
	    strcmp(filename + NV_VAULT_ID_HEX - 1, ".json") != 0)
		return nv_error_set(NV_EMISMATCH, "'%.80s' is not <vault id>.json", filename);
	memcpy(vault_id, filename, NV_VAULT_ID_HEX - 1);
	vault_id[NV_VAULT_ID_HEX - 1] = '\0';
	return 0;
}
