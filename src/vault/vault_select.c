/* vault_select.c: the reader's choices: which generation, and which files of
 * it a pull restores. Called through vault_select.h. */
#include "vault_select.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

/* A signed heartbeat naming a newer generation than the newest manifest. */
static int nv_vault_withheld(nv_vault *v, uint64_t newest)
{
	const char *vid = nv_vault_descriptor(v)->vault_id, *where = nv_vault_location(v)->text;
	nv_heartbeat hb;
	int rc;

	if ((rc = nv_vault_heartbeat(v, &hb))) {
		/* Deleting it is within the store's power; altering it is worth a word. */
		if (rc != NV_ENOTFOUND)
			nv_log(NV_LOG_WARN, "%s: heartbeat ignored: %s", where, nv_error_msg());
		nv_error_clear();
		return 0;
	}
	if (hb.generation <= newest)
		return 0;
	nv_vault_set_seen(vid, hb.generation);
	return nv_error_set(NV_EMISMATCH, "%s: the signed heartbeat names generation %llu but "
			    "the newest manifest is %llu: the store withholds manifests (refusing "
			    "a rollback)", where, (unsigned long long)hb.generation,
			    (unsigned long long)newest);
}

int nv_vault_select_generation(nv_vault *v, long long want, nv_manifest *out,
			       unsigned char sha[NV_SHA256_LEN], uint64_t *gen)
{
	int rc = nv_vault_current(v, want, out, sha, gen);

	if (!rc && want <= 0 && (rc = nv_vault_withheld(v, *gen)))
		nv_manifest_clear(out);
	return rc;
}

int nv_vault_select_generation_read(nv_vault *v, long long want, nv_mread **out,
				    nv_manifest *head, unsigned char sha[NV_SHA256_LEN],
				    uint64_t *gen)
{
	int rc = nv_vault_current_read(v, want, out, head, sha, gen);

	if (!rc && want <= 0 && (rc = nv_vault_withheld(v, *gen))) {
		nv_mread_close(*out);
		*out = NULL;
		nv_manifest_clear(head);
	}
	return rc;
}

/* First catalog entry whose path is >= p (the catalog is sorted by path). */
static size_t nv_pull_lower_bound(const nv_catalog *cat, const char *p)
{
	size_t lo = 0, hi = cat->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(cat->e[mid].path, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Marks the entries a PATH names: the file itself, or everything beneath it
 * as a directory. Returns how many it names. "a/..." does not follow "a" in
 * byte order ("a-b" and "a.txt" sort between them): the directory's entries
 * are looked up from "a/" on. */
static size_t nv_pull_mark(const nv_catalog *cat, const char *arg, unsigned char *sel)
{
	size_t n = strlen(arg), hits = 0, i;
	char *p;

	while (n > 1 && arg[n - 1] == '/')
		n--;
	if (!(p = malloc(n + 2)))
		return 0;
	memcpy(p, arg, n);
	p[n] = '\0';
	i = nv_pull_lower_bound(cat, p);
	if (i < cat->n && strcmp(cat->e[i].path, p) == 0) {
		sel[i] = 1;
		hits++;
	}
	p[n] = '/';
	p[n + 1] = '\0';
	for (i = nv_pull_lower_bound(cat, p); i < cat->n; i++) {
		if (strncmp(cat->e[i].path, p, n + 1) != 0)
			break;
		sel[i] = 1;
		hits++;
	}
	free(p);
	return hits;
}

int nv_pull_select(nv_vread_job **jobs, size_t *n, const nv_manifest *m,
		   const nv_catalog *cat, const char *const *paths, size_t npaths,
		   const char *where)
{
	unsigned char *sel;
	nv_vread_job *j;
	int rc = 0;

	*jobs = NULL;
	*n = 0;
	if (m->generation == 0) {
		rc = nv_error_set(NV_ENOTFOUND, "%s: the vault has no generation yet: nothing to "
				  "restore", where);
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		return rc;
	}
	sel = calloc(cat->n ? cat->n : 1, 1);
	j = calloc(cat->n ? cat->n : 1, sizeof(*j));
	if (!sel || !j) {
		rc = nv_error_set(NV_ERR, "out of memory");
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		goto out;
	}
	if (!npaths)
		memset(sel, 1, cat->n);
	for (size_t a = 0; a < npaths; a++)
		if (!nv_pull_mark(cat, paths[a], sel)) {
			rc = nv_error_set(NV_EINVAL, "%s: no file or directory of generation %llu "
					  "is named %s", where, (unsigned long long)m->generation,
					  paths[a]);
			nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		}
	for (size_t i = 0; i < cat->n && !rc; i++) {
		if (!sel[i])
			continue;
		j[*n].entry = &cat->e[i];
		if (!(j[*n].rec = nv_manifest_find(m, cat->e[i].object))) {
			rc = nv_error_set(NV_EMISMATCH, "%s: the catalog names object %s for %s, "
					  "which the signed manifest of generation %llu does not "
					  "list", where, cat->e[i].object, cat->e[i].path,
					  (unsigned long long)m->generation);
			nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		}
		(*n)++;
	}
out:
	free(sel);
	if (rc) {
		free(j);
		*n = 0;
		return rc;
	}
	*jobs = j;
	return 0;
}
