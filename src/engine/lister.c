/* lister.c: pipeline stage 1 — wraps a driver listing, refuses disorder and
 * unsafe keys, so later stages can merge-join in constant memory. */
#include "lister.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

struct nv_sorted {
	nv_lister *l;
	char *prev;
	size_t prev_cap;
	unsigned long skipped;
	const char *where;
};

int nv_sorted_open(nv_sorted **out, nv_store *s, const char *prefix, int missing_ok)
{
	nv_sorted *l = calloc(1, sizeof(*l));
	int rc;

	*out = NULL;
	if (!l)
		return nv_error_set(NV_ERR, "out of memory");
	l->where = nv_drv_location(s)->text;
	rc = nv_drv_list_open(&l->l, s, prefix);
	if (rc == NV_ENOTFOUND && missing_ok) {
		nv_error_clear();
		rc = 0;
	}
	if (rc) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

static int nv_remember(nv_sorted *l, const char *key)
{
	size_t n = strlen(key) + 1;

	if (n > l->prev_cap) {
		char *p = realloc(l->prev, n * 2);

		if (!p)
			return nv_error_set(NV_ERR, "out of memory");
		l->prev = p;
		l->prev_cap = n * 2;
	}
	memcpy(l->prev, key, n);
	return 0;
}

int nv_sorted_next(nv_sorted *l, nv_entry *out)
{
	int rc;

	if (!l->l)
		return NV_EOF;
	for (;;) {
		rc = nv_drv_list_next(l->l, out);
		if (rc)
			return rc;
		if (l->prev && strcmp(l->prev, out->key) >= 0)
			/* The store broke the listing contract: fatal for the run (exit 4),
			 * not a difference in content. */
			return nv_error_set(NV_ERR, "listing of %s is not in byte order "
					    "('%s' came after '%s'): aborting, nothing deleted",
					    l->where, out->key, l->prev);
		if ((rc = nv_remember(l, out->key)))
			return rc;
		if (nv_key_check(out->key) == 0)
			return 0;
		nv_log(NV_LOG_WARN, "%s: skipping unsafe name: %s", l->where, nv_error_msg());
		l->skipped++;
	}
}

unsigned long nv_sorted_skipped(const nv_sorted *l) { return l->skipped; }

void nv_sorted_close(nv_sorted *l)
{
	if (!l)
		return;
	nv_drv_list_close(l->l);
	free(l->prev);
	free(l);
}
