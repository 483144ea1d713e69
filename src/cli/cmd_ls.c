/* cmd_ls.c: the ls command: a location's files, streamed in key order, or
 * a vault's files from its catalog. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "cmd_vault.h"
#include "engine/lister.h"
#include "vault/catalog_read.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/times.h"

#include <stdio.h>
#include <string.h>

/* One entry on stdout: names are the store's, so escaped (util/escape.h). */
static void nv_ls_print(const nv_cli *c, const nv_entry *e)
{
	char when[NV_TIME_LEN] = "-";
	nv_sb b = { 0 };

	if ((e->flags & NV_ENTRY_HAS_MTIME) && nv_time_utc(when, e->mtime_sec))
		nv_log(NV_LOG_WARN, "%s: mtime %lld is outside the years 1 to 9999 (shown as %s)",
		       e->key, (long long)e->mtime_sec, when);
	if (c->json) {
		nv_sb_addc(&b, '{');
		nv_json_member(&b, "path", e->key);
		nv_sb_addf(&b, ",\"size\":%llu", (unsigned long long)e->size);
		if (e->flags & NV_ENTRY_HAS_MTIME)
			nv_sb_addf(&b, ",\"mtime\":\"%s\"", when);
		if (e->flags & NV_ENTRY_HAS_MODE)
			nv_sb_addf(&b, ",\"mode\":\"%04o\"", (unsigned)e->mode);
		nv_sb_add(&b, "}\n");
	} else {
		nv_sb_addf(&b, "%12llu %-20s ", (unsigned long long)e->size, when);
		nv_escape_human(&b, e->key, strlen(e->key));
		nv_sb_addc(&b, '\n');
	}
	fwrite(nv_sb_str(&b), 1, b.len, stdout);
	nv_sb_free(&b);
}

/* A vault: the files of its newest generation (or --generation N), from the
 * catalog, which needs the identity; read as a stream (vault/catalog_read.h),
 * each entry printed as it is checked, so a vault of a million files lists in
 * bounded memory. */
static int nv_ls_vault(nv_cli *c)
{
	nv_vread_session s;
	nv_cread *cr = NULL;
	nv_cat_entry ce;
	int rc = nv_vread_open(&s, c, 0, NV_VREAD_IDENTITY | NV_VREAD_STREAM), err = 0;

	if (!rc && s.gen && (err = nv_cread_open_catalog(&cr, s.v, s.mr, &s.m, s.id)) == 0) {
		while ((err = nv_cread_next(cr, &ce)) == 0) {
			nv_entry e = {
				.key = ce.path, .size = ce.size, .mtime_sec = ce.mtime,
				.mtime_nsec = ce.mtime_ns, .mode = ce.mode & 07777,
				.flags = NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_MODE,
			};

			nv_ls_print(c, &e);
		}
		err = err == NV_EOF ? 0 : err;
	}
	if (err) {
		/* an identity that opens no stanza is the wrong key: the user's */
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
		rc = err == NV_EAUTH ? NV_EXIT_USAGE : nv_exit_for_error(err);
	}
	nv_cread_close(cr);
	if (!rc && s.gen == 0)
		nv_log(NV_LOG_NOTICE, "%s: the vault has no generation yet", s.loc->text);
	nv_vread_close(&s);
	if (fflush(stdout) != 0 && !rc)
		return NV_EXIT_FATAL;
	return rc;
}

int nv_cmd_ls(nv_cli *c)
{
	nv_location *loc = NULL;
	nv_store *s = NULL;
	nv_sorted *l = NULL;
	nv_entry e;
	int rc;

	if (nv_cli_location(c, 0, &loc))
		return NV_EXIT_USAGE;
	if ((rc = nv_vread_is_vault(loc)) < 0)
		goto out;
	if (rc) {
		nv_location_free(loc);
		return nv_ls_vault(c);
	}
	if (c->generation > 0) {
		nv_log(NV_LOG_ERROR, "%s is not a vault: --generation applies to vaults only",
		       loc->text);
		nv_location_free(loc);
		return NV_EXIT_USAGE;
	}
	if ((rc = nv_drv_open(&s, loc)) || (rc = nv_sorted_open(&l, s, "", 0)))
		goto out;
	while ((rc = nv_sorted_next(l, &e)) == 0)
		nv_ls_print(c, &e);
	if (rc == NV_EOF)
		rc = 0;
out:
	if (rc)
		nv_log(NV_LOG_ERROR, "%s: %s", loc->text, nv_error_msg());
	nv_sorted_close(l);
	nv_drv_close(s);
	nv_location_free(loc);
	if (fflush(stdout) != 0 && !rc)
		return NV_EXIT_FATAL;
	return nv_exit_for_error(rc);
}
