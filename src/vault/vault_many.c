/* vault_many.c: finding the vaults under a prefix and choosing each one's
 * signing key (vault_many.h). Called by the commands' --all modes. */
#include "vault_many.h"
#include "engine/lister.h"
#include "ssh/sshsig.h"
#include "util/log.h"
#include "vault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NV_DESC_SUFFIX "/" NV_VAULT_DESCRIPTOR

void nv_vaults_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int nv_vaults_find(const nv_location *prefix, char ***out, size_t *n)
{
	size_t cap = 0, klen, slen = strlen(NV_DESC_SUFFIX);
	nv_store *s = NULL;
	nv_sorted *l = NULL;
	char **v = NULL, *rel;
	nv_entry e;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nv_drv_open(&s, prefix)) || (rc = nv_sorted_open(&l, s, "", 0)))
		goto out;
	while ((rc = nv_sorted_next(l, &e)) == 0) {
		klen = strlen(e.key);
		if (strcmp(e.key, NV_VAULT_DESCRIPTOR) == 0)
			rel = strdup("");
		else if (klen > slen && strcmp(e.key + klen - slen, NV_DESC_SUFFIX) == 0)
			rel = strndup(e.key, klen - slen);
		else
			continue;
		if (*n == cap) {
			char **g = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!g) {
				free(rel);
				rc = nv_error_set(NV_ERR, "out of memory");
				break;
			}
			v = g;
		}
		if (!rel) {
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
		v[(*n)++] = rel;
	}
	if (rc == NV_EOF)
		rc = 0;
out:
	nv_sorted_close(l);
	nv_drv_close(s);
	if (rc) {
		nv_vaults_free(v, *n);
		*n = 0;
		return nv_error_wrap(rc, "finding the vaults under %s", prefix->text);
	}
	*out = v;
	return 0;
}

int nv_vaults_join(char **out, const char *prefix_text, const char *rel)
{
	size_t n = strlen(prefix_text);
	int slash = n && prefix_text[n - 1] == '/';

	if (!*rel)
		*out = strdup(prefix_text);
	else if (asprintf(out, "%s%s%s", prefix_text, slash ? "" : "/", rel) < 0)
		*out = NULL;
	return *out ? 0 : nv_error_set(NV_ERR, "out of memory");
}

/* The line of keys_file for vault_id whose key verified sig over desc. */
static int nv_pick_line(const char *keys_file, const unsigned char *desc, size_t dlen,
			const unsigned char *sig, size_t slen, char **key)
{
	FILE *f = fopen(keys_file, "r");
	char line[8192];
	int rc = 0;

	if (!f)
		return nv_error_errno(errno, "%s", keys_file);
	while (!*key && fgets(line, sizeof(line), f)) {
		char *id = line, *k, *end;
		nv_sshkey *pk = NULL;
		nv_descriptor d;

		line[strcspn(line, "\r\n")] = '\0';
		id += strspn(id, " \t");
		if (!*id || *id == '#')
			continue;
		k = id + strcspn(id, " \t");
		if (!*k)
			continue;
		*k++ = '\0';
		k += strspn(k, " \t");
		end = k + strlen(k);
		while (end > k && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (nv_sshkey_parse_public(&pk, k) ||
		    nv_sshsig_verify((const char *)sig, slen, pk, "navette-vault", desc, dlen)) {
			nv_sshkey_free(pk);
			nv_error_clear();
			continue;
		}
		nv_sshkey_free(pk);
		/* signature verified: only now is the descriptor parsed */
		if (nv_descriptor_parse(&d, (const char *)desc, dlen) == 0) {
			if (strcmp(d.vault_id, id) == 0 && !(*key = strdup(k)))
				rc = nv_error_set(NV_ERR, "out of memory");
			nv_descriptor_clear(&d);
		}
		nv_error_clear();
	}
	fclose(f);
	return rc;
}

int nv_vault_pick_key(const nv_location *loc, const char *keys_file, char **key)
{
	unsigned char *desc = NULL, *sig = NULL;
	size_t dlen, slen;
	nv_vault *v = NULL;
	nv_store *s = NULL;
	int rc;

	*key = NULL;
	if (nv_vault_open(&v, loc, NULL) == 0) {
		nv_vault_close(v);
		return 0;
	}
	if (!keys_file)
		return nv_error_code();
	nv_error_clear();
	if ((rc = nv_drv_open(&s, loc)) ||
	    (rc = nv_drv_get_buf(s, NV_VAULT_DESCRIPTOR, NV_VAULT_DOC_MAX, &desc, &dlen)) ||
	    (rc = nv_drv_get_buf(s, NV_VAULT_DESCRIPTOR ".sig", NV_VAULT_DOC_MAX, &sig, &slen)))
		goto out;
	if ((rc = nv_pick_line(keys_file, desc, dlen, sig, slen, key)))
		goto out;
	if (!*key)
		rc = nv_error_set(NV_EAUTH, "%s: neither a pin of this host nor a line of %s "
				  "(vault id and signing key) verifies this vault's descriptor",
				  loc->text, keys_file);
out:
	free(desc);
	free(sig);
	nv_drv_close(s);
	return rc;
}
