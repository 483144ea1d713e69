/* keys.h: resolves the keys a command needs from its options, the NAVETTE_*
 * environment and the config file's [navette] section. Called by the commands. */
#ifndef NV_KEYS_H
#define NV_KEYS_H

#include "age/age.h"
#include "cli.h"
#include "ssh/sshkey.h"

/* --identity FILE (repeatable), else $NAVETTE_IDENTITY, else config
 * "identity". Passphrase-protected files take the passphrase from
 * --passphrase-file / $NAVETTE_PASSPHRASE_FILE, else from the terminal (only
 * when stdin is a TTY; never prompts otherwise). NV_EINVAL when none is given. */
int nv_keys_identity(nv_cli *c, nv_age_identity **out);
/* --recipient / --recipients-file, else $NAVETTE_RECIPIENTS_FILE, else config
 * "recipients_file". *out malloc'd. */
int nv_keys_recipients(nv_cli *c, nv_age_recipient **out, size_t *n);
/* --signing-key FILE, else $NAVETTE_SIGNING_KEY, else config "signing_key".
 * A passphrase-protected key (ssh-keygen -N) takes its passphrase as the
 * identity does (nv_keys_identity). Every failure is NV_EINVAL (exit 2). */
int nv_keys_signing_key(nv_cli *c, nv_sshkey **out);
/* --signing-pubkey, else $NAVETTE_SIGNING_PUBKEY, else config
 * "signing_pubkey"; NULL when none (pins alone must then do). */
const char *nv_keys_signing_pubkey(nv_cli *c);

#endif
