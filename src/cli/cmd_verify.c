/* cmd_verify.c: the verify command: signatures, hash chain, objects at the
 * level asked, heartbeat age. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cmd_vault.h"
#include "util/log.h"
#include "vault/vault_verify.h"

#include <string.h>

int nv_cmd_verify(nv_cli *c)
{
	nv_verify_opts o = { .level = NV_VERIFY_LIST, .max_age = -1 };
	static const char *const names[] = { "list", "hash", "deep" };
	nv_verify_report r;
	nv_vread_session s;
	nv_outcome out;
	int rc;

	if (c->level && strcmp(c->level, "hash") == 0)
		o.level = NV_VERIFY_HASH;
	else if (c->level && strcmp(c->level, "deep") == 0)
		o.level = NV_VERIFY_DEEP;
	if (c->max_age)
		o.max_age = c->max_age_seconds;
	if ((rc = nv_vread_open(&s, c, 0, o.level == NV_VERIFY_DEEP ? NV_VREAD_IDENTITY : 0)))
		goto out;
	o.id = s.id;
	o.workers = c->eng.transfers;
	o.buf_size = c->eng.buffer_size;
	o.retries = c->eng.retries;
	if ((rc = nv_vault_verify(s.v, &o, &r)))
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	nv_verify_outcome(&r, &out);
	if (rc && !out.fatal)
		out.fatal = rc;
	rc = nv_exit_code(&out);
	nv_log(rc ? NV_LOG_ERROR : NV_LOG_NOTICE, "verify (%s%s%s): %s: %llu manifests "
	       "verified, newest generation %llu, %llu objects good, %llu older objects, "
	       "%llu problem%s", names[o.level], c->max_age ? ", heartbeat max-age " : "",
	       c->max_age ? c->max_age : "", s.loc->text, (unsigned long long)r.manifests,
	       (unsigned long long)r.generation, (unsigned long long)r.objects,
	       (unsigned long long)r.extra, (unsigned long long)r.problems,
	       r.problems == 1 ? "" : "s");
out:
	nv_vread_close(&s);
	return rc;
}
