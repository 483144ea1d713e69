/* canary_drill.h: what a drill with a drill key reads (docs/FORMAT.md 2.8):
 * the drill document, the canary catalog (the canary files are then restored
 * like any drill's files, object_read.h), and the stored bytes of every other
 * object, checked against the signed manifest without decrypting anything.
 * Called by drill.c (its canary mode). */
#ifndef NV_CANARY_DRILL_H
#define NV_CANARY_DRILL_H

#include "vault.h"
#include "vault_pull.h"

/* The drill document, when the store has one, verified and held against this
 * host's pin (canary.h): 0 and its serial, NV_ENOTFOUND (*serial 0) when there
 * is none, NV_EMISMATCH for a forged or rolled-back one. Warns when id's key is
 * not among its drill recipients. */
int nv_canary_check_doc(nv_vault *v, const nv_age_identity *id, uint64_t *serial);

/* The canary catalog generation m names, opened with id (a drill key, or the
 * owner's identity). NV_ENOTFOUND when m names none (pushed while the vault had
 * no drill recipient), NV_EAUTH when id opens it not, NV_EMISMATCH when it is
 * not what the signed manifest says. */
int nv_canary_catalog(nv_vault *v, const nv_manifest *m, const nv_age_identity *id,
		      nv_catalog *out);

/* A stored-bytes job for every object of m that neither a file of the canary
 * catalog cat (which may be empty) nor the canary catalog itself uses (its
 * bytes were checked when it was opened). *jobs malloc'd, pointing into m. */
int nv_canary_others(const nv_manifest *m, const nv_catalog *cat, nv_vread_job **jobs,
		     size_t *n);

#endif
