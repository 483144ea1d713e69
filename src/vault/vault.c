/* vault.c: one session with a vault: pins, signature checks before any JSON
 * is parsed, generations, hash-checked small objects, the catalog, init. */
#include "vault.h"
#include "push_state.h"
#include "util/b64.h"
#include "engine/lister.h"
#include "ssh/sshsig.h"
#include "util/state.h"

#include <dirent.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nv_vault {
	const nv_location *loc;
	nv_store *store;
	nv_descriptor desc;
	nv_sshkey *signer;
	nv_age_recipient *recips;
	size_t n_recips;
};

nv_store *nv_vault_store(nv_vault *v) { return v->store; }
const nv_location *nv_vault_location(const nv_vault *v) { return v->loc; }
const nv_descriptor *nv_vault_descriptor(const nv_vault *v) { return &v->desc; }
const nv_sshkey *nv_vault_signer(const nv_vault *v) { return v->signer; }

int nv_vault_recipients(const nv_vault *v, const nv_age_recipient **out, size_t *n)
{
	*out = v->recips;
	*n = v->n_recips;
	return 0;
}

void nv_vault_close(nv_vault *v)
{
	if (!v)
		return;
	nv_drv_close(v->store);
	nv_descriptor_clear(&v->desc);
	nv_sshkey_free(v->signer);
	free(v->recips);
	free(v);
}

int nv_vault_signature_begin(nv_vault *v, const char *key, const char *ns,
			     nv_sshsig_ctx **ctx)
{
	char sk[NV_SIGNED_NAME_MAX];
	unsigned char *sig;
	size_t siglen;
	int rc;

	*ctx = NULL;
	if ((rc = nv_signature_name(sk, key)))
		return rc;
	rc = nv_drv_get_buf(v->store, sk, NV_VAULT_DOC_MAX, &sig, &siglen);
	if (rc == NV_ENOTFOUND)
		return nv_error_set(NV_EMISMATCH, "%s is not signed (%s is missing)", key, sk);
	if (rc)
		return nv_error_wrap(rc, "fetching %s", sk);
	rc = nv_sshsig_verify_begin(ctx, (const char *)sig, siglen, v->signer, ns);
	free(sig);
	if (rc)
		return nv_error_wrap(NV_EMISMATCH, "%s: bad signature", key);
	return 0;
}

int nv_vault_signature_end(const char *key, nv_sshsig_ctx *ctx)
{
	if (nv_sshsig_verify_end(ctx))
		return nv_error_wrap(NV_EMISMATCH, "%s: bad signature", key);
	return 0;
}

int nv_vault_check_signature(nv_vault *v, const char *key, const char *ns, const void *buf,
			     size_t len)
{
	nv_sshsig_ctx *ctx;
	int rc = nv_vault_signature_begin(v, key, ns, &ctx);

	if (rc)
		return rc;
	if ((rc = nv_sshsig_update(ctx, buf, len))) {
		nv_sshsig_ctx_free(ctx);
		return rc;
	}
	return nv_vault_signature_end(key, ctx);
}

int nv_vault_check_signing_key(const nv_vault *v, const nv_sshkey *sk)
{
	char *line = NULL;
	int rc = nv_sshkey_format_public(&line, sk, NULL);

	if (!rc && strcmp(line, v->desc.signing_key) != 0)
		rc = nv_error_set(NV_EINVAL, "this signing key is not the vault's (the "
				  "descriptor names %s)", v->desc.signing_key);
	free(line);
	return rc;
}

int nv_vault_put_signature(nv_vault *v, const nv_sshkey *k, const char *key, const char *ns,
			   const void *buf, size_t len)
{
	char sk[NV_SIGNED_NAME_MAX], *sig;
	int rc;

	if ((rc = nv_signature_name(sk, key)) || (rc = nv_sshsig_sign(&sig, k, ns, buf, len)))
		return rc;
	rc = nv_drv_put_buf(v->store, sk, sig, strlen(sig), 0);
	free(sig);
	return rc;
}

/* ---- pins ---- */

static int nv_pin_save(const nv_descriptor *d)
{
	char path[4200], *buf;
	size_t len;
	int rc;

	if ((rc = nv_vstate_path(path, sizeof(path), NV_VSTATE_PIN, d->vault_id)) ||
	    (rc = nv_pin_format(&buf, &len, d)))
		return rc;
	rc = nv_state_write(path, buf, len);
	free(buf);
	return rc;
}

static int nv_pin_load(nv_descriptor *pin, const char *vault_id)
{
	char path[4200], *buf;
	size_t len;
	int rc;

	memset(pin, 0, sizeof(*pin));
	if ((rc = nv_vstate_path(path, sizeof(path), NV_VSTATE_PIN, vault_id)) ||
	    (rc = nv_state_read(path, &buf, &len)))
		return rc;
	rc = nv_pin_parse(pin, buf, len);
	free(buf);
	return rc;
}

/* Finds a pinned signing key that verifies the descriptor's signature. Several
 * vaults may share a signing key: which pin applies is decided only after
 * parsing, by the vault id. */
static int nv_pin_find(nv_sshkey **key, const unsigned char *desc, size_t dlen,
		       const unsigned char *sig, size_t slen)
{
	char dir[4200], path[4400], vid[NV_VAULT_ID_HEX];
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (nv_vstate_path(dir, sizeof(dir), NV_VSTATE_PINS, NULL))
		return 0;
	d = opendir(dir);
	while (d && !found && (de = readdir(d))) {
		nv_descriptor pin;
		char *buf;
		size_t len;

		if (nv_vstate_pin_parse(vid, de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (nv_state_read(path, &buf, &len))
			continue;
		if (nv_pin_parse(&pin, buf, len) == 0) {
			if (nv_sshkey_parse_public(key, pin.signing_key) == 0 &&
			    nv_sshsig_verify((const char *)sig, slen, *key, NV_SSHSIG_NS_VAULT, desc,
					     dlen) == 0)
				found = 1;
			if (!found) {
				nv_sshkey_free(*key);
				*key = NULL;
			}
			nv_descriptor_clear(&pin);
		}
		free(buf);
	}
	if (d)
		closedir(d);
	nv_error_clear();
	return found;
}

static int nv_load_pubkey_arg(nv_sshkey **out, const char *arg)
{
	if (strncmp(arg, "ssh-", 4) == 0)
		return nv_sshkey_parse_public(out, arg);
	return nv_sshkey_load_public(out, arg);
}

/* Which vault id this host last trusted at this location: a descriptor of
 * another vault appearing there is a swap, not a first contact. */
static int nv_binding_path(char *out, size_t cap, const nv_location *loc)
{
	char text[8192], hex[NV_SHA256_HEX];
	unsigned char sha[NV_SHA256_LEN];

	snprintf(text, sizeof(text), "%s\n%s\n%s\n%s", loc->driver->name,
		 loc->remote ? loc->remote : "", loc->authority ? loc->authority : "", loc->path);
	nv_sha256_buf(sha, text, strlen(text));
	nv_hex(hex, sha, sizeof(sha));
	return nv_vstate_path(out, cap, NV_VSTATE_BOUND, hex);
}

static int nv_binding_check(const nv_vault *v, int record)
{
	char path[4200], *buf;
	size_t len;
	int rc = 0;

	if (nv_binding_path(path, sizeof(path), v->loc))
		return 0;
	if (nv_state_read(path, &buf, &len) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, v->desc.vault_id) != 0)
			rc = nv_error_set(NV_EMISMATCH, "%s held vault %s; its descriptor now claims "
					  "vault %s: a swapped descriptor does not match the pin",
					  v->loc->text, buf, v->desc.vault_id);
		free(buf);
		return rc;
	}
	nv_error_clear();
	return record ? nv_state_write(path, v->desc.vault_id, strlen(v->desc.vault_id)) : 0;
}

/* Is the --signing-pubkey argument (a key line or a file) this key line? */
static int nv_pubkey_arg_is(const char *arg, const char *line)
{
	nv_sshkey *k = NULL;
	char *l = NULL;
	int same = nv_load_pubkey_arg(&k, arg) == 0 &&
		   nv_sshkey_format_public(&l, k, NULL) == 0 && strcmp(l, line) == 0;

	free(l);
	nv_sshkey_free(k);
	return same;
}

static int nv_vault_parse_recipients(nv_vault *v)
{
	v->recips = calloc(v->desc.n_recipients, sizeof(*v->recips));
	if (!v->recips)
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < v->desc.n_recipients; i++)
		if (nv_age_recipient_parse(&v->recips[i], v->desc.recipients[i]))
			return nv_error_wrap(NV_EMISMATCH, "vault descriptor: recipient %zu", i + 1);
	v->n_recips = v->desc.n_recipients;
	return 0;
}

static int nv_vault_trust(nv_vault *v, const char *signing_pubkey, const unsigned char *desc,
			  size_t dlen, const unsigned char *sig, size_t slen)
{
	nv_descriptor pin;
	char fp[128], *line = NULL;
	int rc, have_pin;

	memset(&pin, 0, sizeof(pin));
	if (!nv_pin_find(&v->signer, desc, dlen, sig, slen)) {
		if (!signing_pubkey)
			return nv_error_set(NV_EAUTH, "%s: no pinned signing key verifies this "
					    "vault's descriptor (first contact from this host? pass "
					    "--signing-pubkey with the vault's signing public key)",
					    v->loc->text);
		if ((rc = nv_load_pubkey_arg(&v->signer, signing_pubkey)))
			return rc;
		if (nv_sshsig_verify((const char *)sig, slen, v->signer, NV_SSHSIG_NS_VAULT, desc,
				     dlen)) {
			nv_sshkey_fingerprint(fp, sizeof(fp), v->signer);
			return nv_error_set(NV_EAUTH, "%s: the vault descriptor is not signed by "
					    "%s", v->loc->text, fp);
		}
	}
	/* Only now, with a verified signature, is the JSON parsed. */
	if ((rc = nv_descriptor_parse(&v->desc, (const char *)desc, dlen)))
		goto out;
	if ((rc = nv_sshkey_format_public(&line, v->signer, NULL)))
		goto out;
	have_pin = nv_pin_load(&pin, v->desc.vault_id) == 0;
	nv_error_clear();
	if ((rc = nv_binding_check(v, 0)))
		goto out;
	if (have_pin) {
		/* the pin of this vault id, and only it, decides */
		if (strcmp(line, pin.signing_key) != 0 || !nv_descriptor_matches_pin(&v->desc, &pin))
			rc = nv_error_set(NV_EMISMATCH, "%s: the vault descriptor does not match "
					  "the pin for vault %s (other recipients or signing key)",
					  v->loc->text, pin.vault_id);
	} else if (!signing_pubkey) {
		rc = nv_error_set(NV_EAUTH, "%s: vault %s is not pinned on this host (first "
				  "contact? pass --signing-pubkey with its signing public key)",
				  v->loc->text, v->desc.vault_id);
	} else if (strcmp(line, v->desc.signing_key) != 0 ||
		   !nv_pubkey_arg_is(signing_pubkey, v->desc.signing_key)) {
		rc = nv_error_set(NV_EMISMATCH, "%s: the descriptor names another signing key "
				  "than --signing-pubkey", v->loc->text);
	} else {
		rc = nv_pin_save(&v->desc);
	}
	if (!rc)
		rc = nv_vault_parse_recipients(v);
	if (!rc)
		rc = nv_binding_check(v, 1);
out:
	free(line);
	nv_descriptor_clear(&pin);
	return rc;
}

int nv_vault_open(nv_vault **out, const nv_location *loc, const char *signing_pubkey)
{
	nv_vault *v = calloc(1, sizeof(*v));
	unsigned char *desc = NULL, *sig = NULL;
	char sigkey[NV_SIGNED_NAME_MAX];
	size_t dlen, slen;
	int rc;

	*out = NULL;
	if (!v)
		return nv_error_set(NV_ERR, "out of memory");
	v->loc = loc;
	if ((rc = nv_signature_name(sigkey, NV_VAULT_DESCRIPTOR)) ||
	    (rc = nv_drv_open(&v->store, loc)))
		goto fail;
	rc = nv_drv_get_buf(v->store, NV_VAULT_DESCRIPTOR, NV_VAULT_DOC_MAX, &desc, &dlen);
	if (rc == NV_ENOTFOUND) {
		rc = nv_error_set(NV_ENOTFOUND, "%s is not a navette vault (no %s; create one "
				  "with navette init)", loc->text, NV_VAULT_DESCRIPTOR);
		goto fail;
	}
	if (rc)
		goto fail;
	rc = nv_drv_get_buf(v->store, sigkey, NV_VAULT_DOC_MAX, &sig, &slen);
	if (rc == NV_ENOTFOUND)
		rc = nv_error_set(NV_EMISMATCH, "%s: the vault descriptor is not signed",
				  loc->text);
	if (rc)
		goto fail;
	if ((rc = nv_vault_trust(v, signing_pubkey, desc, dlen, sig, slen)))
		goto fail;
	free(desc);
	free(sig);
	*out = v;
	return 0;
fail:
	free(desc);
	free(sig);
	nv_vault_close(v);
	return rc;
}

/* ---- generations ---- */

int nv_vault_generations(nv_vault *v, uint64_t **out, size_t *n)
{
	nv_sorted *l;
	nv_entry e;
	uint64_t *g = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nv_sorted_open(&l, v->store, NV_VAULT_MANIFESTS, 1)))
		return rc;
	while ((rc = nv_sorted_next(l, &e)) == 0) {
		uint64_t gen;

		if (nv_manifest_name_parse(&gen, e.key))
			continue; /* signatures, and whatever else lies there */
		if (*n == cap) {
			uint64_t *grown = realloc(g, (cap = cap ? cap * 2 : 16) * sizeof(*g));

			if (!grown) {
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			g = grown;
		}
		g[(*n)++] = gen;
	}
	nv_sorted_close(l);
	if (rc != NV_EOF) {
		free(g);
		*n = 0;
		return rc;
	}
	*out = g;
	return 0;
}

int nv_vault_manifest_check_head(const nv_vault *v, const char *key, const nv_manifest *m,
				 uint64_t gen)
{
	if (strcmp(m->vault_id, v->desc.vault_id) != 0)
		return nv_error_set(NV_EMISMATCH, "%s belongs to vault %s, not to this vault %s",
				    key, m->vault_id, v->desc.vault_id);
	if (m->generation != gen)
		return nv_error_set(NV_EMISMATCH, "%s holds generation %llu: a manifest was "
				    "renamed", key, (unsigned long long)m->generation);
	return 0;
}

int nv_vault_manifest(nv_vault *v, uint64_t gen, nv_manifest *out,
		      unsigned char sha[NV_SHA256_LEN])
{
	char key[NV_MANIFEST_NAME_MAX];
	unsigned char *buf;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	nv_manifest_name(key, gen);
	if ((rc = nv_drv_get_buf(v->store, key, NV_VAULT_MANIFEST_MAX, &buf, &len)))
		return nv_error_wrap(rc, "fetching generation %llu", (unsigned long long)gen);
	rc = nv_vault_check_signature(v, key, NV_SSHSIG_NS_MANIFEST, buf, len);
	if (rc == 0)
		rc = nv_manifest_parse(out, (const char *)buf, len);
	if (rc == 0)
		rc = nv_vault_manifest_check_head(v, key, out, gen);
	if (rc == 0)
		nv_sha256_buf(sha, buf, len);
	else
		nv_manifest_clear(out);
	free(buf);
	return rc;
}

uint64_t nv_vault_seen(const char *vault_id)
{
	char path[4200], *buf;
	size_t len;
	uint64_t g = 0;

	if (nv_vstate_path(path, sizeof(path), NV_VSTATE_SEEN, vault_id) ||
	    nv_state_read(path, &buf, &len)) {
		nv_error_clear();
		return 0;
	}
	g = strtoull(buf, NULL, 10);
	free(buf);
	return g;
}

int nv_vault_set_seen(const char *vault_id, uint64_t gen)
{
	char path[4200], buf[32];
	int rc;

	if (gen <= nv_vault_seen(vault_id))
		return 0;
	if ((rc = nv_vstate_path(path, sizeof(path), NV_VSTATE_SEEN, vault_id)))
		return rc;
	snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)gen);
	return nv_state_write(path, buf, strlen(buf));
}

int nv_vault_check_stored(const nv_obj_rec *rec, uint64_t size,
			  const unsigned char sha[NV_SHA256_LEN])
{
	if (size != rec->size)
		return nv_error_set(NV_EMISMATCH, "object %s holds %s%llu bytes, the manifest "
				    "says %llu", rec->name, size > rec->size ? "more than " : "",
				    (unsigned long long)(size > rec->size ? rec->size : size),
				    (unsigned long long)rec->size);
	if (memcmp(sha, rec->sha256, NV_SHA256_LEN) != 0)
		return nv_error_set(NV_EMISMATCH, "object %s: SHA-256 of the stored bytes differs "
				    "from the manifest's (tampered or corrupted)", rec->name);
	return 0;
}

int nv_vault_fetch_object(nv_vault *v, const nv_obj_rec *rec, unsigned char **out,
			  size_t *len)
{
	unsigned char sha[NV_SHA256_LEN];
	int rc;

	if (rec->size > NV_VAULT_MANIFEST_MAX)
		return nv_error_set(NV_EINVAL, "%s is too large to load whole", rec->name);
	if ((rc = nv_drv_get_buf(v->store, rec->name, (size_t)rec->size, out, len))) {
		if (rc == NV_EINVAL) /* larger than the manifest says */
			rc = nv_error_set(NV_EMISMATCH, "%s: %s", rec->name, nv_error_msg());
		return rc == NV_ENOTFOUND ? nv_error_set(NV_ENOTFOUND, "object %s is missing",
							  rec->name) : rc;
	}
	nv_sha256_buf(sha, *out, *len);
	if ((rc = nv_vault_check_stored(rec, *len, sha))) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int nv_vault_catalog(nv_vault *v, const nv_manifest *m, const nv_age_identity *id,
		     nv_catalog *out)
{
	return nv_vault_catalog_named(v, m, m->catalog, NV_CATALOG_TYPE, id, out);
}

int nv_vault_catalog_named(nv_vault *v, const nv_manifest *m, const char *name,
			   const char *type, const nv_age_identity *id, nv_catalog *out)
{
	const nv_obj_rec *rec = nv_manifest_find(m, name);
	unsigned char *ct, *pt;
	size_t clen, plen;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!rec)
		return nv_error_set(NV_EMISMATCH, "catalog %s not in the manifest", name);
	if ((rc = nv_vault_fetch_object(v, rec, &ct, &clen)))
		return rc;
	rc = nv_age_decrypt_buf(&pt, &plen, ct, clen, id);
	free(ct);
	if (rc)
		return nv_error_wrap(rc, "decrypting the catalog %s", name);
	rc = nv_catalog_parse_type(out, (const char *)pt, plen, type);
	OPENSSL_cleanse(pt, plen);
	free(pt);
	if (rc)
		return rc;
	if (strcmp(out->vault_id, v->desc.vault_id) || out->generation != m->generation) {
		nv_catalog_clear(out);
		return nv_error_set(NV_EMISMATCH, "the catalog belongs to another vault or "
				    "generation");
	}
	return 0;
}

int nv_vault_put_object(nv_store *s, const char *id, const void *plain, size_t plen,
			const nv_age_recipient *r, size_t n, nv_obj_rec *out)
{
	char name[NV_OBJECT_NAME_MAX];
	unsigned char *ct;
	size_t clen;
	int rc;

	if ((rc = nv_object_name_new(name, id)) ||
	    (rc = nv_age_encrypt_buf(&ct, &clen, plain, plen, r, n)))
		return rc;
	rc = nv_drv_put_buf(s, name, ct, clen, NV_WRITE_EXCLUSIVE);
	if (!rc) {
		nv_sha256_buf(out->sha256, ct, clen);
		out->size = clen;
		if (!(out->name = strdup(name)))
			rc = nv_error_set(NV_ERR, "out of memory");
	}
	free(ct);
	return rc;
}

int nv_vault_heartbeat(nv_vault *v, nv_heartbeat *out)
{
	unsigned char *buf;
	size_t len;
	int rc = nv_drv_get_buf(v->store, NV_VAULT_HEARTBEAT, NV_VAULT_DOC_MAX, &buf, &len);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc = nv_vault_check_signature(v, NV_VAULT_HEARTBEAT, NV_SSHSIG_NS_MANIFEST, buf, len);
	if (!rc)
		rc = nv_heartbeat_parse(out, (const char *)buf, len);
	if (!rc && strcmp(out->vault_id, v->desc.vault_id) != 0)
		rc = nv_error_set(NV_EMISMATCH, "the heartbeat belongs to another vault");
	free(buf);
	return rc;
}

/* ---- init ---- */

static int nv_cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nv_vault_init(const nv_location *loc, const nv_age_recipient *r, size_t n,
		  const nv_sshkey *signing_key, char vault_id_out[NV_VAULT_ID_HEX])
{
	unsigned char id[16], kid[NV_KID_LEN], *kct = NULL;
	size_t kctlen, dlen;
	char *desc = NULL, *b64 = NULL, *sig = NULL, sigkey[NV_SIGNED_NAME_MAX];
	nv_descriptor d;
	nv_store *s = NULL;
	nv_entry e;
	int rc;

	memset(&d, 0, sizeof(d));
	if (RAND_bytes(id, sizeof(id)) != 1 || RAND_bytes(kid, sizeof(kid)) != 1)
		return nv_error_set(NV_ERR, "no randomness");
	nv_hex(d.vault_id, id, sizeof(id));
	nv_time_format(d.created, time(NULL));
	d.n_recipients = n;
	d.recipients = calloc(n, sizeof(char *));
	if (!d.recipients) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		d.recipients[i] = malloc(NV_AGE_RECIPIENT_MAX);
		if (!d.recipients[i] ||
		    (rc = nv_age_recipient_format(d.recipients[i], NV_AGE_RECIPIENT_MAX, &r[i]))) {
			rc = nv_error_set(NV_ERR, "out of memory");
			goto out;
		}
	}
	qsort(d.recipients, n, sizeof(char *), nv_cmp_strp);
	if ((rc = nv_sshkey_format_public(&d.signing_key, signing_key, NULL)) ||
	    (rc = nv_age_encrypt_buf(&kct, &kctlen, kid, sizeof(kid), r, n)))
		goto out;
	if (!(b64 = malloc(nv_b64_pad_len(kctlen) + 1))) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	nv_b64_pad_encode(b64, kct, kctlen);
	d.kid_age = b64;
	b64 = NULL;
	if ((rc = nv_descriptor_format(&desc, &dlen, &d)) ||
	    (rc = nv_sshsig_sign(&sig, signing_key, NV_SSHSIG_NS_VAULT, desc, dlen)) ||
	    (rc = nv_drv_open(&s, loc)))
		goto out;
	if (nv_drv_stat(s, NV_VAULT_DESCRIPTOR, &e) == 0) {
		rc = nv_error_set(NV_EINVAL, "%s is already a vault", loc->text);
		goto out;
	}
	/* Signature first: a descriptor is never visible unsigned. */
	if ((rc = nv_signature_name(sigkey, NV_VAULT_DESCRIPTOR)) ||
	    (rc = nv_drv_put_buf(s, sigkey, sig, strlen(sig), 0)) ||
	    (rc = nv_drv_put_buf(s, NV_VAULT_DESCRIPTOR, desc, dlen, NV_WRITE_EXCLUSIVE)) ||
	    (rc = nv_drv_flush(s)))
		goto out;
	if ((rc = nv_push_kid_save(d.vault_id, kid)) || (rc = nv_pin_save(&d)))
		goto out;
	{
		/* a new vault made here replaces whatever this location held before */
		char path[4200];

		if ((rc = nv_binding_path(path, sizeof(path), loc)) ||
		    (rc = nv_state_write(path, d.vault_id, strlen(d.vault_id))))
			goto out;
	}
	memcpy(vault_id_out, d.vault_id, NV_VAULT_ID_HEX);
out:
	OPENSSL_cleanse(kid, sizeof(kid));
	nv_drv_close(s);
	free(kct);
	free(b64);
	free(desc);
	free(sig);
	nv_descriptor_clear(&d);
	return rc;
}
