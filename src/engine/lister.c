/* lister.c: pipeline stage 1 — wraps a driver listing, refuses disorder and
 * unsafe keys, so later stages can merge-join in constant memory. */
#include "lister.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/retry.h"

#include <stdlib.h>
#include <string.h>

struct nv_sorted {
	nv_lister *l;
	char *prev;
	size_t prev_cap;
	unsigned long skipped;
	const char *where;
	int hide_leases;      /* a whole-location listing: skip NV_LEASE_DIR */
	nv_sorted_skip_fn skip; /* may be NULL */
	void *skip_ctx;
};

int nv_sorted_open(nv_sorted **out, nv_store *s, const char *prefix, int missing_ok)
{
	nv_sorted *l = calloc(1, sizeof(*l));
	int rc;

	*out = NULL;
	if (!l)
		return nv_error_set(NV_ERR, "out of memory");
	l->where = nv_drv_location(s)->text;
	l->hide_leases = !*prefix;
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

/* An unsafe name (nv_key_check's message set) is an item of its own: skipped. */
static void nv_lister_skip(nv_sorted *l, const char *key)
{
	nv_log_field f[] = {
		NV_LF_S("action", "skipped"), NV_LF_S("path", key), NV_LF_S("reason", nv_error_msg()),
	};

	nv_log_record(NV_LOG_WARN, "item", f, NV_LF_COUNT(f), "%s: skipping unsafe name: %s",
		      l->where, nv_error_msg());
	nv_progress_error(); /* a failure of the run (exit 3) */
	if (l->skip)
		l->skip(l->skip_ctx, key, "unsafe-name", nv_error_msg());
}

int nv_sorted_next(nv_sorted *l, nv_entry *out)
{
	int rc;

	if (!l->l)
		return NV_EOF;
	for (;;) {
		/* Each entry is an item of its own for the retry budget (util/retry.h):
		 * a long listing does not spend one budget across the whole run. */
		nv_retry_begin(nv_retry_get_default(), NULL);
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
		if (l->hide_leases && !strncmp(out->key, NV_LEASE_DIR, strlen(NV_LEASE_DIR)))
			continue;
		if (nv_key_check(out->key) == 0)
			return 0;
		nv_lister_skip(l, out->key);
		l->skipped++;
	}
}

unsigned long nv_sorted_skipped(const nv_sorted *l) { return l->skipped; }

static void nv_sorted_not_file(void *ctx, const nv_entry *e)
{
	nv_sorted *l = ctx;

	if (l->hide_leases && !strncmp(e->key, NV_LEASE_DIR, strlen(NV_LEASE_DIR)))
		return;
	l->skip(l->skip_ctx, e->key, e->flags & NV_ENTRY_SYMLINK ? "symlink" : "special",
		e->flags & NV_ENTRY_SYMLINK ? "a symbolic link: not followed, not compared"
					    : "a device, fifo or socket: not compared");
}

void nv_sorted_observe(nv_sorted *l, nv_sorted_skip_fn fn, void *ctx)
{
	l->skip = fn;
	l->skip_ctx = ctx;
	if (l->l)
		nv_drv_list_observe(l->l, fn ? nv_sorted_not_file : NULL, l);
}

void nv_sorted_close(nv_sorted *l)
{
	if (!l)
		return;
	nv_drv_list_close(l->l);
	free(l->prev);
	free(l);
}
