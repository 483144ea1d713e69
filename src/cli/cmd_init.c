/* cmd_init.c: the init command: creates a vault and pins it on this host.
 * Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "keys.h"
#include "util/log.h"
#include "vault/vault.h"

#include <stdio.h>
#include <stdlib.h>

int nv_cmd_init(nv_cli *c)
{
	nv_age_recipient *r = NULL;
	nv_location *loc = NULL;
	nv_sshkey *k = NULL;
	char vault_id[NV_VAULT_ID_HEX], fp[128];
	size_t n;
	int rc;

	if (nv_cli_location(c, 0, &loc))
		return NV_EXIT_USAGE;
	if ((rc = nv_keys_recipients(c, &r, &n)) || (rc = nv_keys_signing_key(c, &k)))
		goto out;
	if ((rc = nv_vault_init(loc, r, n, k, vault_id)))
		goto out;
	nv_sshkey_fingerprint(fp, sizeof(fp), k);
	nv_log(NV_LOG_NOTICE, "created vault %s at %s: %zu recipient(s), signing key %s; "
	       "pinned on this host", vault_id, loc->text, n, fp);
	printf("%s\n", vault_id);
out:
	if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	free(r);
	nv_sshkey_free(k);
	nv_location_free(loc);
	return nv_exit_for_error(rc);
}
