/* run_key.c: the per-run key: made and kept by the publishing host, published
 * signed in the vault, read and verified by the shards, forgotten after the
 * run is published. Called through run_key.h. */
#include "run_key.h"
#include "ssh/sshsig.h"
#include "util/log.h"
#include "util/state.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* This host's file for the run's identity: push/<vault_id>/runs/<run>.key. */
static int nv_run_key_path(char *out, size_t cap, const char *vault_id, const char *run)
{
	char rel[256], dir[128];
	int rc;

	if ((rc = nv_run_id_check(run)) ||
	    (rc = nv_vstate_name(dir, sizeof(dir), NV_VSTATE_RUNS, vault_id)))
		return rc;
	snprintf(rel, sizeof(rel), "%s/%s.key", dir, run);
	return nv_state_path(out, cap, rel);
}

/* The identity this host keeps for run; NV_ENOTFOUND when none. */
static int nv_run_key_read(const char *vault_id, const char *run, nv_age_identity **id)
{
	char path[4400], *buf;
	size_t len;
	int rc;

	*id = NULL;
	if ((rc = nv_run_key_path(path, sizeof(path), vault_id, run)) ||
	    (rc = nv_state_read(path, &buf, &len)))
		return rc;
	rc = nv_age_identity_parse(id, buf, len);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc ? nv_error_wrap(NV_EINVAL, "%s", path) : 0;
}

int nv_run_load(nv_vault *v, const char *run, nv_run_doc *out, nv_age_recipient *r)
{
	const char *vid = nv_vault_descriptor(v)->vault_id, *where = nv_vault_location(v)->text;
	char key[NV_RUN_NAME_MAX];
	unsigned char *buf = NULL;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = nv_run_doc_name(key, run)))
		return rc;
	rc = nv_drv_get_buf(nv_vault_store(v), key, NV_VAULT_DOC_MAX, &buf, &len);
	if (rc == NV_ENOTFOUND)
		return nv_error_set(NV_EINVAL, "run %s is not prepared in %s (no %s): run navette "
				    "publish VAULT --prepare --run %s on the publishing host first "
				    "(or the run was published already)", run, where, key, run);
	if (rc)
		return nv_error_wrap(rc, "fetching %s", key);
	/* Only a key the vault's signing key vouches for gets a shard's catalog. */
	rc = nv_vault_check_signature(v, key, NV_SSHSIG_NS_RUN, buf, len);
	if (!rc)
		rc = nv_run_doc_parse(out, (const char *)buf, len);
	if (!rc && (strcmp(out->vault_id, vid) != 0 || strcmp(out->run, run) != 0))
		rc = nv_error_set(NV_EMISMATCH, "%s names vault %s, run %s", key, out->vault_id,
				  out->run);
	if (!rc)
		rc = nv_age_recipient_parse(r, out->recipient);
	free(buf);
	return rc ? nv_error_wrap(rc, "%s", where) : 0;
}

/* Does the identity belong to the document's recipient? */
static int nv_run_key_matches(const nv_age_identity *id, const nv_run_doc *d)
{
	nv_age_recipient r;
	char text[NV_AGE_RECIPIENT_MAX];

	return nv_age_identity_recipient(id, &r) == 0 &&
	       nv_age_recipient_format(text, sizeof(text), &r) == 0 &&
	       strcmp(text, d->recipient) == 0;
}

int nv_run_identity(nv_vault *v, const char *run, nv_run_doc *doc, nv_age_identity **id)
{
	const char *vid = nv_vault_descriptor(v)->vault_id;
	nv_age_recipient r;
	int rc;

	*id = NULL;
	if ((rc = nv_run_load(v, run, doc, &r)))
		return rc;
	rc = nv_run_key_read(vid, run, id);
	if (rc == NV_ENOTFOUND)
		return nv_error_set(NV_EINVAL, "this host holds no key for run %s of vault %s "
				    "(push/%s/runs/%s.key in its state): publish from the host "
				    "that ran publish --prepare", run, vid, vid, run);
	if (rc)
		return rc;
	if (!nv_run_key_matches(*id, doc)) {
		nv_age_identity_free(*id);
		*id = NULL;
		return nv_error_set(NV_EMISMATCH, "the key of run %s in %s (%s) is not the one "
				    "this host made for it: refusing the run", run,
				    nv_vault_location(v)->text, doc->recipient);
	}
	return 0;
}

/* A prepared run: this host's own (*again = 1), or another key's (NV_EEXISTS). */
static int nv_run_prepared(nv_vault *v, const char *run, nv_run_doc *out, int *again)
{
	const char *vid = nv_vault_descriptor(v)->vault_id;
	nv_age_identity *id = NULL;
	nv_age_recipient r;
	int rc = nv_run_load(v, run, out, &r);

	if (rc == NV_EINVAL) { /* not prepared */
		nv_error_clear();
		return 0;
	}
	if (rc == NV_EMISMATCH) { /* the signing key's holder replaces what it cannot trust */
		nv_log(NV_LOG_WARN, "replacing a run document that does not verify: %s",
		       nv_error_msg());
		nv_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	rc = nv_run_key_read(vid, run, &id);
	if (!rc && nv_run_key_matches(id, out))
		*again = 1;
	else if (!rc || rc == NV_ENOTFOUND)
		rc = nv_error_set(NV_EEXISTS, "run %s is prepared in %s already, with a key this "
				  "host does not hold (%s): its shards may have written for it. "
				  "Publish it from the host that prepared it, or take another run "
				  "id", run, nv_vault_location(v)->text, out->recipient);
	nv_age_identity_free(id);
	return rc;
}

int nv_run_prepare(nv_vault *v, const nv_sshkey *sk, const char *run, nv_run_doc *out,
		   int *again)
{
	const char *vid = nv_vault_descriptor(v)->vault_id;
	char key[NV_RUN_NAME_MAX], path[4400], *text = NULL, *doc = NULL;
	size_t len;
	int rc;

	*again = 0;
	if ((rc = nv_vault_check_signing_key(v, sk)) || (rc = nv_run_doc_name(key, run)) ||
	    (rc = nv_run_prepared(v, run, out, again)) || *again)
		return rc;
	memset(out, 0, sizeof(*out));
	memcpy(out->vault_id, vid, NV_VAULT_ID_HEX);
	memcpy(out->run, run, strlen(run) + 1);
	nv_time_format(out->time, time(NULL));
	/* The identity is kept before the vault names its key: a key the vault
	 * names is never one nobody holds. */
	if ((rc = nv_age_keygen(&text, out->recipient, sizeof(out->recipient))) ||
	    (rc = nv_run_key_path(path, sizeof(path), vid, run)) ||
	    (rc = nv_state_write(path, text, strlen(text))) ||
	    (rc = nv_run_doc_format(&doc, &len, out)))
		goto out;
	/* signature first: a reader never sees an unsigned document */
	if ((rc = nv_vault_put_signature(v, sk, key, NV_SSHSIG_NS_RUN, doc, len)) ||
	    (rc = nv_drv_put_buf(nv_vault_store(v), key, doc, len, 0)))
		goto out;
	rc = nv_drv_flush(nv_vault_store(v));
out:
	if (text)
		nv_age_wipe_free(text, strlen(text));
	free(doc);
	return rc;
}

int nv_run_forget(nv_vault *v, nv_store *s, const char *run, char *const *keys, size_t n)
{
	const char *vid = nv_vault_descriptor(v)->vault_id;
	char doc[NV_RUN_NAME_MAX], sig[NV_SIGNED_NAME_MAX], path[4400];
	int rc = 0, r;

	for (size_t i = 0; i < n; i++)
		if ((r = nv_drv_remove(s, keys[i])) && r != NV_ENOTFOUND && !rc)
			rc = nv_error_wrap(r, "removing %s", keys[i]);
	if ((r = nv_run_doc_name(doc, run)) || (r = nv_signature_name(sig, doc)))
		return r;
	if ((r = nv_drv_remove(s, doc)) && r != NV_ENOTFOUND && !rc)
		rc = nv_error_wrap(r, "removing %s", doc);
	if ((r = nv_drv_remove(s, sig)) && r != NV_ENOTFOUND && !rc)
		rc = nv_error_wrap(r, "removing %s", sig);
	if ((r = nv_run_key_path(path, sizeof(path), vid, run)))
		return rc ? rc : r;
	if (unlink(path) != 0 && !rc)
		rc = nv_error_errno(errno, "removing %s", path);
	return rc;
}
