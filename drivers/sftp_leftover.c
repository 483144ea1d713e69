/* sftp_leftover.c: the sftp driver's leftovers: the temp files interrupted
 * writes left, found by sftp_list.c's walk, removed on the caller's proof only
 * (SFTP has no locks to tell a live writer). Called by sftp.c only. */
#include "sftp_int.h"
#include "walk.h"

#include <stdlib.h>
#include <string.h>

int nv_sftp_leftovers_open(struct nv_leftovers **out, struct nv_conn *c)
{
	nv_walk *w;
	int rc;

	*out = NULL;
	if ((rc = nv_sftp_walk_leftovers(&w, c)))
		return rc;
	return nv_walk_leftovers_wrap(out, w, c->seen);
}

int nv_sftp_leftover_remove(struct nv_conn *c, const nv_leftover *lo, int proven)
{
	const char *leaf = strrchr(lo->name, '/');
	char *path;
	int rc;

	if (nv_tmp_parse(leaf ? leaf + 1 : lo->name, NULL) == NV_TMP_NOT_OURS || lo->upload)
		return nv_error_set(NV_EINVAL, "%s is not a temporary file of navette", lo->name);
	if (!proven)
		return nv_error_set(NV_ENOTSUP, "sftp %s: %s: nothing tells whether its writer is "
				    "alive", c->where, lo->name);
	if (!(path = nv_sftp_path(c, lo->name)))
		return nv_error_set(NV_ERR, "out of memory");
	rc = c->tp->unlink(c, path);
	free(path);
	if (rc)
		rc = nv_sftp_fail(c, rc, "removing %s", lo->name); /* gone: NV_ENOTFOUND */
	return rc;
}
