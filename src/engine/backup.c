/* backup.c: --backup-dir (backup.h): where the backup may lie, and one file's
 * copy from the destination to it through the ordinary transfer.
 * Called by the engine. */
#include "backup.h"
#include "dest_lock.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

/* The rest of inner after outer's path and a '/', when inner lies strictly
 * inside outer; NULL otherwise. */
static const char *nv_inside(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (strncmp(inner, outer, n) != 0)
		return NULL;
	if (n && outer[n - 1] == '/') /* a root: "local:/" */
		return inner[n] ? inner + n : NULL;
	return inner[n] == '/' ? inner + n + 1 : NULL;
}

int nv_backup_place(const nv_location *dst, const nv_location *bak, char *hide, size_t cap)
{
	char cd[4200], cb[4200];
	const char *rest;
	int rc;

	hide[0] = '\0';
	if ((rc = nv_location_canon(dst, cd, sizeof(cd))) ||
	    (rc = nv_location_canon(bak, cb, sizeof(cb))))
		return rc;
	if (strcmp(cd, cb) == 0)
		return nv_error_set(NV_EINVAL, "--backup-dir %s is the destination itself",
				    bak->text);
	if (nv_inside(cd, cb))
		return nv_error_set(NV_EINVAL, "the destination %s lies inside --backup-dir %s: "
				    "a backup could land on a destination file", dst->text,
				    bak->text);
	if ((rest = nv_inside(cb, cd)) &&
	    (size_t)snprintf(hide, cap, "%s/", rest) >= cap)
		return nv_error_set(NV_EINVAL, "--backup-dir %s: path too long", bak->text);
	return 0;
}

int nv_backup_one(nv_xfer_ctx *x, nv_store *bak, const char *key, const nv_entry *e)
{
	nv_xfer_ctx b = *x;
	nv_xfer_result res;
	nv_entry now;
	int rc;

	if (!e) {
		if ((rc = nv_drv_stat(x->dst, key, &now)))
			return rc;
		e = &now;
	}
	b.src = x->dst; /* the destination's copy is the source of its backup */
	b.dst = bak;
	rc = nv_xfer_copy(&b, key, e, &res);
	return rc ? nv_error_wrap(rc, "backing up %s", key) : 0;
}
