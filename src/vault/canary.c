/* canary.c: the drill document: fetched, verified before parsing, held against
 * this host's pin (no rollback, no second document under one serial), and
 * written with the next serial. Called through canary.h. */
#include "canary.h"
#include "ssh/sshsig.h"
#include "util/log.h"
#include "util/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the pin: pins/<vault_id>.drill holds "<serial> <SHA-256 of the bytes>\n" ---- */

static int nv_drill_pin_read(const char *vault_id, uint64_t *serial, char hex[NV_SHA256_HEX])
{
	char path[4200], *buf;
	unsigned long long s;
	size_t len;
	int rc;

	*serial = 0;
	hex[0] = '\0';
	if ((rc = nv_vstate_path(path, sizeof(path), NV_VSTATE_DRILL, vault_id)) ||
	    (rc = nv_state_read(path, &buf, &len)))
		return rc;
	rc = sscanf(buf, "%llu %64s", &s, hex) == 2 && nv_hex_ok(hex, NV_SHA256_HEX - 1) ?
	     0 : nv_error_set(NV_EINVAL, "%s is malformed", path);
	free(buf);
	if (!rc)
		*serial = s;
	return rc;
}

static int nv_drill_pin_write(const char *vault_id, uint64_t serial, const void *doc,
			      size_t len)
{
	char path[4200], line[128], hex[NV_SHA256_HEX];
	unsigned char sha[NV_SHA256_LEN];
	int rc;

	if ((rc = nv_vstate_path(path, sizeof(path), NV_VSTATE_DRILL, vault_id)))
		return rc;
	nv_sha256_buf(sha, doc, len);
	nv_hex(hex, sha, sizeof(sha));
	snprintf(line, sizeof(line), "%llu %s\n", (unsigned long long)serial, hex);
	return nv_state_write(path, line, strlen(line));
}

uint64_t nv_drill_pinned(const char *vault_id)
{
	char hex[NV_SHA256_HEX];
	uint64_t serial;

	if (nv_drill_pin_read(vault_id, &serial, hex))
		nv_error_clear(); /* none, or unreadable: nothing pinned */
	return serial;
}

/* The document against the pin; a newer serial is pinned. */
static int nv_drill_pin_check(const nv_vault *v, const nv_drill_doc *d, const void *buf,
			      size_t len)
{
	const char *vid = nv_vault_descriptor(v)->vault_id, *where = nv_vault_location(v)->text;
	char pinned_hex[NV_SHA256_HEX], hex[NV_SHA256_HEX];
	unsigned char sha[NV_SHA256_LEN];
	uint64_t pinned;

	if (nv_drill_pin_read(vid, &pinned, pinned_hex))
		nv_error_clear();
	nv_sha256_buf(sha, buf, len);
	nv_hex(hex, sha, sizeof(sha));
	if (d->serial < pinned)
		return nv_error_set(NV_EMISMATCH, "%s: %s has serial %llu but this host pinned "
				    "serial %llu: refusing a rolled-back drill document", where,
				    NV_VAULT_DRILL, (unsigned long long)d->serial,
				    (unsigned long long)pinned);
	if (d->serial == pinned && strcmp(hex, pinned_hex) != 0)
		return nv_error_set(NV_EMISMATCH, "%s: %s serial %llu is not the document this "
				    "host pinned under that serial", where, NV_VAULT_DRILL,
				    (unsigned long long)pinned);
	return d->serial > pinned ? nv_drill_pin_write(vid, d->serial, buf, len) : 0;
}

int nv_drill_trust(nv_vault *v, const void *buf, size_t len, nv_drill_doc *out)
{
	const char *vid = nv_vault_descriptor(v)->vault_id, *where = nv_vault_location(v)->text;
	int rc = nv_drill_doc_parse(out, buf, len);

	if (!rc && strcmp(out->vault_id, vid) != 0)
		rc = nv_error_set(NV_EMISMATCH, "%s: %s belongs to vault %s", where,
				  NV_VAULT_DRILL, out->vault_id);
	if (!rc)
		rc = nv_drill_pin_check(v, out, buf, len);
	if (rc)
		nv_drill_doc_clear(out);
	return rc;
}

int nv_drill_load(nv_vault *v, nv_drill_doc *out)
{
	const char *vid = nv_vault_descriptor(v)->vault_id, *where = nv_vault_location(v)->text;
	unsigned char *buf;
	size_t len;
	uint64_t pinned;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = nv_drv_get_buf(nv_vault_store(v), NV_VAULT_DRILL, NV_VAULT_DOC_MAX, &buf, &len);
	if (rc == NV_ENOTFOUND) {
		if ((pinned = nv_drill_pinned(vid)))
			return nv_error_set(NV_ENOTFOUND, "%s has no %s, though this host pinned "
					    "its serial %llu (withheld or deleted)", where,
					    NV_VAULT_DRILL, (unsigned long long)pinned);
		return nv_error_set(NV_ENOTFOUND, "%s has no %s (navette drill-key add makes "
				    "one)", where, NV_VAULT_DRILL);
	}
	if (rc)
		return nv_error_wrap(rc, "fetching %s", NV_VAULT_DRILL);
	/* Only a document the vault's signing key vouches for is parsed. */
	rc = nv_vault_check_signature(v, NV_VAULT_DRILL, NV_SSHSIG_NS_DRILL, buf, len);
	if (!rc)
		rc = nv_drill_trust(v, buf, len, out);
	if (rc)
		rc = nv_error_wrap(rc, "%s", where);
	free(buf);
	return rc;
}

static int nv_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* d->recipients: the age recipients given, checked, sorted, once each. */
static int nv_drill_set_recipients(nv_drill_doc *d, const char *const *r, size_t n)
{
	nv_age_recipient parsed;
	size_t k = 0;

	if (n > NV_DRILL_RECIPIENTS_MAX)
		return nv_error_set(NV_EINVAL, "at most %d drill recipients",
				    NV_DRILL_RECIPIENTS_MAX);
	if (n && !(d->recipients = calloc(n, sizeof(char *))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (nv_age_recipient_parse(&parsed, r[i]))
			return nv_error_wrap(NV_EINVAL, "drill recipient %zu", i + 1);
		if (!(d->recipients[d->n_recipients++] = strdup(r[i])))
			return nv_error_set(NV_ERR, "out of memory");
	}
	if (d->n_recipients)
		qsort(d->recipients, d->n_recipients, sizeof(char *), nv_strcmp_p);
	for (size_t i = 0; i < d->n_recipients; i++) {
		if (k && strcmp(d->recipients[k - 1], d->recipients[i]) == 0) {
			free(d->recipients[i]);
			continue;
		}
		d->recipients[k++] = d->recipients[i];
	}
	d->n_recipients = k;
	return 0;
}

int nv_drill_write(nv_vault *v, const nv_sshkey *sk, const char *const *recipients,
		   size_t n, nv_drill_doc *out)
{
	const char *vid = nv_vault_descriptor(v)->vault_id;
	nv_drill_doc cur;
	uint64_t serial = nv_drill_pinned(vid);
	char *buf = NULL;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = nv_vault_check_signing_key(v, sk)))
		return rc;
	/* The next serial after whatever this host or the store has seen: a
	 * reader that pinned the store's document accepts this one. */
	rc = nv_drill_load(v, &cur);
	if (rc == NV_EMISMATCH) /* the signing key's holder replaces what it cannot trust */
		nv_log(NV_LOG_WARN, "replacing a drill document that does not verify: %s",
		       nv_error_msg());
	else if (rc && rc != NV_ENOTFOUND)
		return rc;
	nv_error_clear();
	if (!rc && cur.serial > serial)
		serial = cur.serial;
	nv_drill_doc_clear(&cur);
	memcpy(out->vault_id, vid, NV_VAULT_ID_HEX);
	out->serial = serial + 1;
	nv_time_format(out->time, time(NULL));
	if ((rc = nv_drill_set_recipients(out, recipients, n)) ||
	    (rc = nv_drill_doc_format(&buf, &len, out)))
		goto out;
	/* The signature first: a reader may briefly see the old document with the
	 * new signature, which fails verification, never an unsigned document. */
	if ((rc = nv_vault_put_signature(v, sk, NV_VAULT_DRILL, NV_SSHSIG_NS_DRILL, buf, len)) ||
	    (rc = nv_drv_put_buf(nv_vault_store(v), NV_VAULT_DRILL, buf, len, 0)) ||
	    (rc = nv_drv_flush(nv_vault_store(v))))
		goto out;
	rc = nv_drill_pin_write(vid, out->serial, buf, len);
out:
	free(buf);
	if (rc)
		nv_drill_doc_clear(out);
	return rc;
}
