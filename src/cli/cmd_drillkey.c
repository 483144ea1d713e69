/* cmd_drillkey.c: the drill-key command: list, add or remove the drill
 * recipients of a vault's drill document (vault/canary.h), which the holder
 * of the vault's signing key signs. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "keys.h"
#include "util/log.h"
#include "vault/canary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The --recipient/--recipients-file keys as "age1..." strings; *out malloc'd
 * (one block: the pointers, then the strings). */
static int nv_drillkey_given(nv_cli *c, char ***out, size_t *n)
{
	nv_age_recipient *r = NULL;
	char **s;
	int rc;

	*out = NULL;
	if ((rc = nv_keys_recipients(c, &r, n)))
		return rc;
	s = malloc(*n * (sizeof(char *) + NV_AGE_RECIPIENT_MAX));
	for (size_t i = 0; s && i < *n; i++) {
		s[i] = (char *)(s + *n) + i * NV_AGE_RECIPIENT_MAX;
		nv_age_recipient_format(s[i], NV_AGE_RECIPIENT_MAX, &r[i]);
	}
	free(r);
	if (!s)
		return nv_error_set(NV_ERR, "out of memory");
	*out = s;
	return 0;
}

static int nv_drillkey_has(char *const *list, size_t n, const char *r)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], r) == 0)
			return 1;
	return 0;
}

/* The new list: cur and the given keys (add), or cur without them (remove:
 * each must be there). *out malloc'd, pointing into cur and given. */
static int nv_drillkey_merge(int add, const nv_drill_doc *cur, char **given, size_t ng,
			     const char ***out, size_t *n)
{
	const char **l = calloc(cur->n_recipients + ng + 1, sizeof(char *));

	*out = l;
	*n = 0;
	if (!l)
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < ng; i++)
		if (!add && !nv_drillkey_has(cur->recipients, cur->n_recipients, given[i]))
			return nv_error_set(NV_EINVAL, "%s is not a drill recipient", given[i]);
	for (size_t i = 0; i < cur->n_recipients; i++)
		if (add || !nv_drillkey_has(given, ng, cur->recipients[i]))
			l[(*n)++] = cur->recipients[i];
	for (size_t i = 0; add && i < ng; i++)
		l[(*n)++] = given[i];
	return 0;
}

/* add or remove: the document rewritten with the next serial. */
static int nv_drillkey_change(nv_cli *c, nv_vault *v, int add, const nv_drill_doc *cur)
{
	nv_sshkey *sk = NULL;
	nv_drill_doc out;
	const char **list = NULL;
	char **given = NULL;
	size_t ng = 0, n = 0;
	int rc;

	if (!(rc = nv_keys_signing_key(c, &sk)) && !(rc = nv_drillkey_given(c, &given, &ng)) &&
	    !(rc = nv_drillkey_merge(add, cur, given, ng, &list, &n)) &&
	    !(rc = nv_drill_write(v, sk, list, n, &out))) {
		nv_log(NV_LOG_NOTICE, "%s: drill document serial %llu signed: %zu drill "
		       "recipient%s (the next push encrypts its canary files to them)",
		       nv_vault_location(v)->text, (unsigned long long)out.serial,
		       out.n_recipients, out.n_recipients == 1 ? "" : "s");
		nv_drill_doc_clear(&out);
	}
	free(list);
	free(given);
	nv_sshkey_free(sk);
	return rc;
}

int nv_cmd_drillkey(nv_cli *c)
{
	const char *verb = c->args[0];
	nv_location *loc = NULL;
	nv_vault *v = NULL;
	nv_drill_doc cur = { 0 };
	int rc, add = strcmp(verb, "add") == 0, list = strcmp(verb, "list") == 0;

	if (!add && !list && strcmp(verb, "remove") != 0) {
		nv_log(NV_LOG_ERROR, "drill-key takes add, remove or list, not '%s'", verb);
		return NV_EXIT_USAGE;
	}
	if (nv_cli_location(c, 1, &loc))
		return NV_EXIT_USAGE;
	if ((rc = nv_vault_open(&v, loc, nv_keys_signing_pubkey(c))))
		goto out;
	rc = nv_drill_load(v, &cur);
	if (rc == NV_ENOTFOUND) {
		if (list)
			nv_log(NV_LOG_NOTICE, "%s", nv_error_msg()); /* none: nothing to list */
		nv_error_clear();
		rc = 0; /* add: the first document */
	}
	if (rc)
		goto out;
	if (list && cur.serial) {
		for (size_t i = 0; i < cur.n_recipients; i++)
			printf("%s\n", cur.recipients[i]); /* checked age1... keys: nothing to escape */
		nv_log(NV_LOG_NOTICE, "%s: drill document serial %llu, %zu drill recipient%s",
		       loc->text, (unsigned long long)cur.serial, cur.n_recipients,
		       cur.n_recipients == 1 ? "" : "s");
	} else if (!list) {
		rc = nv_drillkey_change(c, v, add, &cur);
	}
out:
	if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	nv_drill_doc_clear(&cur);
	nv_vault_close(v);
	nv_location_free(loc);
	return nv_exit_for_error(rc);
}
