/* cmd_vault.c: opening a vault for the reader commands: identity first, then
 * the pinned descriptor, the generation asked for and its catalog. */
#include "cmd_vault.h"
#include "keys.h"
#include "util/log.h"

#include <string.h>

int nv_vread_is_vault(const nv_location *loc)
{
	nv_store *s;
	nv_entry e;
	int found;

	if (nv_drv_open(&s, loc))
		return 0;
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

/* A signed heartbeat naming a newer generation than every manifest means the
 * store withholds the newest manifests: refused like any rollback, and
 * remembered. An absent or bad heartbeat proves nothing here (verify
 * --max-age reports it); the manifests' own checks stand. */
static int nv_vread_withheld(nv_vread_session *s)
{
	const char *vid = nv_vault_descriptor(s->v)->vault_id;
	nv_heartbeat hb;
	int rc;

	if ((rc = nv_vault_heartbeat(s->v, &hb))) {
		/* Deleting it is within the store's power; altering it is worth a word. */
		if (rc != NV_ENOTFOUND)
			nv_log(NV_LOG_WARN, "%s: heartbeat ignored: %s", s->loc->text,
			       nv_error_msg());
		nv_error_clear();
		return 0;
	}
	if (hb.generation <= s->gen)
		return 0;
	nv_vault_set_seen(vid, hb.generation);
	return nv_error_set(NV_EMISMATCH, "%s: the signed heartbeat names generation %llu but "
			    "the newest manifest is %llu: the store withholds manifests (refusing "
			    "a rollback)", s->loc->text, (unsigned long long)hb.generation,
			    (unsigned long long)s->gen);
}

int nv_vread_open(nv_vread_session *s, nv_cli *c, int argi, unsigned want)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (want & NV_VREAD_CATALOG)
		want |= NV_VREAD_IDENTITY | NV_VREAD_CURRENT;
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
	rc = nv_vault_current(s->v, c->generation, &s->m, s->sha, &s->gen);
	if (rc == NV_ENOTFOUND && c->generation > 0)
		return nv_vread_fail(rc, NV_EXIT_USAGE); /* no such --generation */
	if (!rc && c->generation <= 0)
		rc = nv_vread_withheld(s);
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
	nv_manifest_clear(&s->m);
	nv_vault_close(s->v);
	nv_age_identity_free(s->id);
	nv_location_free(s->loc);
	memset(s, 0, sizeof(*s));
}
