/* replicate_doc.c: signed documents kept as their exact bytes (the
 * replication copies what was verified, never a second read), and their
 * publication signature first. Called by replicate.c. */
#include "replicate.h"
#include "replicate_int.h"
#include "ssh/sshsig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nv_rdoc_clear(nv_rdoc *d)
{
	free(d->body);
	free(d->sig);
	memset(d, 0, sizeof(*d));
}

int nv_rdoc_fetch(nv_store *s, const nv_sshkey *signer, const char *key, const char *ns,
		  size_t max, nv_rdoc *out)
{
	char sk[512];
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(sk, sizeof(sk), "%s.sig", key);
	if ((rc = nv_drv_get_buf(s, key, max, &out->body, &out->body_len)))
		return rc;
	rc = nv_drv_get_buf(s, sk, NV_VAULT_DOC_MAX, &out->sig, &out->sig_len);
	if (rc == NV_ENOTFOUND)
		rc = nv_error_set(NV_EMISMATCH, "%s is not signed (%s is missing)", key, sk);
	else if (!rc && nv_sshsig_verify((const char *)out->sig, out->sig_len, signer, ns,
					 out->body, out->body_len))
		rc = nv_error_wrap(NV_EMISMATCH, "%s: bad signature", key);
	if (rc)
		nv_rdoc_clear(out);
	return rc;
}

int nv_rdoc_publish(nv_store *s, const char *key, const nv_rdoc *d, int exclusive)
{
	char sk[512];
	unsigned char *have;
	size_t len;
	int rc;

	snprintf(sk, sizeof(sk), "%s.sig", key);
	/* The signature first: readers list only the bodies, so a body never
	 * shows without the signature that vouches for it. */
	if ((rc = nv_drv_put_buf(s, sk, d->sig, d->sig_len, 0)))
		return nv_error_wrap(rc, "writing %s", sk);
	rc = nv_drv_put_buf(s, key, d->body, d->body_len, exclusive ? NV_WRITE_EXCLUSIVE : 0);
	if (rc != NV_EEXISTS)
		return rc ? nv_error_wrap(rc, "writing %s", key) : 0;
	/* Already there (a run killed after writing it, or a racing one). */
	if ((rc = nv_drv_get_buf(s, key, d->body_len, &have, &len)))
		return rc == NV_EINVAL ? nv_error_set(NV_EMISMATCH, "%s at the destination "
						      "differs from the source's", key) : rc;
	rc = len == d->body_len && memcmp(have, d->body, len) == 0
		     ? 0 : nv_error_set(NV_EMISMATCH, "%s at the destination differs from "
					"the source's", key);
	free(have);
	return rc;
}
