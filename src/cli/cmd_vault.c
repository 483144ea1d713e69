/* cmd_vault.c: opening a vault for the reader commands: identity first, then
 * the pinned descriptor, the generation asked for and its catalog. */
#include "cmd_vault.h"
#include "keys.h"
#include "vault/vault_many.h"
#include "util/log.h"
#include "vault/vault_select.h"

#include <string.h>

int nv_vread_is_vault(const nv_location *loc)
{
	nv_store *s;
	nv_entry e;
	int found, rc;

	if ((rc = nv_drv_open(&s, loc)))
		return rc;
	found = nv_drv_stat(s, NV_VAULT_DESCRIPTOR, &e) == 0;
	nv_drv_close(s);
	nv_error_clear();
	return found;
}

static int nv_vread_fail(int rc, int exit_code)
{
	nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return exit_code ? exit_code : nv_exit_for_error(rc);
}

int nv_vread_open(nv_vread_session *s, nv_cli *c, int argi, unsigned want)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (want & NV_VREAD_CATALOG)
		want |= NV_VREAD_IDENTITY | NV_VREAD_CURRENT;
	if (want & NV_VREAD_STREAM)
		want |= NV_VREAD_CURRENT;
	if (nv_cli_location(c, argi, &s->loc))
		return NV_EXIT_USAGE;
	/* The identity is a local file: a missing or unsafe one is the user's
	 * configuration, reported before anything is fetched. */
	if ((want & NV_VREAD_IDENTITY) && (rc = nv_keys_identity(c, &s->id)))
		return nv_vread_fail(rc, NV_EXIT_USAGE);
	if ((rc = nv_vault_open(&s->v, s->loc, nv_keys_signing_pubkey(c))))
		return nv_vread_fail(rc, 0);
	if (!(want & NV_VREAD_CURRENT))
		return 0;
	if (want & NV_VREAD_STREAM)
		rc = nv_vault_select_generation_read(s->v, c->generation, &s->mr, &s->m, s->sha,
						     &s->gen);
	else
		rc = nv_vault_select_generation(s->v, c->generation, &s->m, s->sha, &s->gen);
	if (rc == NV_ENOTFOUND && c->generation > 0)
		return nv_vread_fail(rc, NV_EXIT_USAGE); /* no such --generation */
	if (rc)
		return nv_vread_fail(rc, 0);
	if (!(want & NV_VREAD_CATALOG) || s->gen == 0)
		return 0;
	if ((rc = nv_vault_catalog(s->v, &s->m, s->id, &s->cat))) {
		/* An identity that opens no stanza is the wrong key: the user's. */
		return nv_vread_fail(rc, rc == NV_EAUTH ? NV_EXIT_USAGE : 0);
	}
	return 0;
}

void nv_vread_close(nv_vread_session *s)
{
	nv_catalog_clear(&s->cat);
	nv_mread_close(s->mr);
	nv_manifest_clear(&s->m);
	nv_vault_close(s->v);
	nv_age_identity_free(s->id);
	nv_location_free(s->loc);
	memset(s, 0, sizeof(*s));
}

int nv_vread_each_vault(nv_cli *c, nv_vault_fn one, const void *ctx, size_t *n,
			size_t *failed)
{
	nv_location *prefix = NULL;
	char **vaults = NULL;
	int code = NV_EXIT_OK, rc;

	*n = *failed = 0;
	if (nv_cli_location(c, 0, &prefix))
		return NV_EXIT_USAGE;
	if (nv_vaults_find(prefix, &vaults, n)) {
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		nv_location_free(prefix);
		return nv_exit_for_error(nv_error_code());
	}
	for (size_t i = 0; i < *n; i++) {
		rc = one(c, vaults[i], ctx);
		*failed += rc != 0;
		code = nv_exit_worst(code, rc);
	}
	nv_vaults_free(vaults, *n);
	nv_location_free(prefix);
	return code;
}
