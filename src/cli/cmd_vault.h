/* cmd_vault.h: what the vault reader commands (pull, ls, verify, log) share:
 * opening a vault from the command line with the generation it asks for
 * (chosen by vault/vault_select.c).
 * Called by cmd_pull.c, cmd_ls.c, cmd_verify.c and cmd_log.c. */
#ifndef NV_CMD_VAULT_H
#define NV_CMD_VAULT_H

#include "cli.h"
#include "vault/manifest_read.h"
#include "vault/vault.h"

typedef struct nv_vread_session {
	nv_location *loc;
	nv_vault *v;
	nv_age_identity *id;   /* when asked for */
	nv_manifest m;         /* the chosen generation (cleared if the vault is empty) */
	unsigned char sha[NV_SHA256_LEN];
	uint64_t gen;          /* 0: the vault has no generation yet */
	nv_catalog cat;        /* when asked for */
	nv_mread *mr;          /* NV_VREAD_STREAM: the manifest as a stream (m: its header) */
} nv_vread_session;

enum nv_vread_want {
	NV_VREAD_IDENTITY = 1 << 0, /* load the identity first (fails fast, exit 2) */
	NV_VREAD_CURRENT = 1 << 1,  /* the newest generation or --generation N */
	NV_VREAD_CATALOG = 1 << 2,  /* and its catalog (implies both above) */
	NV_VREAD_STREAM = 1 << 3,   /* the generation's manifest as a stream, never held
	                             * whole (implies CURRENT; not with CATALOG) */
};

/* Opens the vault named by c->args[argi] as the options say. Returns 0 or an
 * exit code (enum nv_exit), the error already logged. */
int nv_vread_open(nv_vread_session *s, nv_cli *c, int argi, unsigned want);
void nv_vread_close(nv_vread_session *s);
/* --all: runs one(c, rel, ctx) on every vault found under the location
 * c->args[0] (rel: its folder there). Returns the worst of their exit codes
 * (nv_exit_worst), or the listing's error's; *n vaults found, *failed of them
 * did not exit 0. One vault's failure does not stop the others. */
typedef int (*nv_vault_fn)(nv_cli *c, const char *rel, const void *ctx);
int nv_vread_each_vault(nv_cli *c, nv_vault_fn one, const void *ctx, size_t *n,
			size_t *failed);

/* Does the location hold a vault descriptor? (ls uses it to switch modes.) 1 or
 * 0; a negative nv_err, message kept, when the store could not be opened: the
 * caller reports it rather than open again (a second open after the retries
 * of the first one would fail again, with the attempt budget spent). */
int nv_vread_is_vault(const nv_location *loc);

#endif
