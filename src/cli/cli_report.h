/* cli_report.h: --report of check, copy and sync (engine/report.h): the
 * options checked and the signing key and --hashes-from loaded before the
 * run, the report opened with what is compared, then closed and signed into
 * FILE.sig (SSHSIG, namespace navette-report). Called by cmd_copy.c and
 * cmd_merge.c. */
#ifndef NV_CLI_REPORT_H
#define NV_CLI_REPORT_H

#include "cli.h"
#include "engine/report.h"
#include "ssh/sshkey.h"

typedef struct nv_cli_report {
	nv_report *rep;      /* NULL without --report */
	nv_hashbook *book;   /* check --hashes-from */
	nv_sshkey *key;      /* --signing-key */
} nv_cli_report;

/* Before anything is read (src: the run's source, --hashes-from's): 0, or
 * an exit code with the reason logged. cr is zeroed first. */
int nv_cli_report_prepare(nv_cli *c, nv_cli_report *cr, const nv_location *src);
/* Opens the report (with --report), compare "files" or "objects". 0 or an exit code. */
int nv_cli_report_open(nv_cli *c, nv_cli_report *cr, const nv_location *src,
		       const nv_location *dst, const char *compare, const char *vault_id);
/* Writes its summary with the run's exit code, signs it, frees cr. Returns
 * code, or NV_EXIT_FATAL when the report or its signature could not be written. */
int nv_cli_report_end(nv_cli *c, nv_cli_report *cr, int code);
/* Signs the report at path into path.sig (SSHSIG of its bytes on disk,
 * namespace navette-report), written whole then renamed. 0 or an error. */
int nv_cli_report_sign(const char *path, const nv_sshkey *k);

#endif
