/* keys.c: finds the identity, recipients and signing keys a command needs:
 * command line, then NAVETTE_* variables, then the config's [navette] section. */
#include "keys.h"
#include "util/log.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads a passphrase from the terminal without echo; only when stdin is one. */
static int nv_prompt_passphrase(char *buf, size_t cap, const char *what)
{
	struct termios old, quiet;
	int ok;

	if (!isatty(STDIN_FILENO))
		return nv_error_set(NV_EINVAL, "%s is passphrase-protected: give "
				    "--passphrase-file (stdin is not a terminal), or set "
				    "NAVETTE_PASSPHRASE_FILE or passphrase_file = in [navette] of "
				    "the config", what);
	fprintf(stderr, "Passphrase for %s: ", what);
	tcgetattr(STDIN_FILENO, &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	ok = fgets(buf, (int)cap, stdin) != NULL;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (!ok)
		return nv_error_set(NV_EINVAL, "no passphrase read");
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* A key, recipients or passphrase file named on this host is the user's
 * configuration: whatever keeps it from loading (missing, readable by others,
 * encrypted where that is not supported) is NV_EINVAL, so the run exits 2, not
 * 4 as a failure of the store would. what says which file it was (NULL: the
 * message says so already). */
static int nv_keys_config_error(int rc, const char *what)
{
	char msg[1024];

	if (rc == NV_ERR)
		return rc;
	if (what)
		return nv_error_wrap(NV_EINVAL, "%s", what);
	snprintf(msg, sizeof(msg), "%s", nv_error_msg()); /* it names the file already */
	return nv_error_set(NV_EINVAL, "%s", msg);
}

static int nv_read_passphrase_file(nv_cli *c, char **out)
{
	const char *f = c->passphrase_file ? c->passphrase_file :
			nv_config_global(c->cfg, "passphrase_file", "NAVETTE_PASSPHRASE_FILE");
	size_t len;
	int rc;

	*out = NULL;
	if (!f)
		return 0;
	if ((rc = nv_read_private_file(f, out, &len)))
		return nv_keys_config_error(rc, "passphrase file");
	(*out)[strcspn(*out, "\r\n")] = '\0'; /* the first line is the passphrase */
	return 0;
}

/* Loads one key file of either kind; pass NULL when none was given. */
typedef int (*nv_key_loader)(void *out, const char *path, const char *pass);

static int nv_load_identity(void *out, const char *path, const char *pass)
{
	return nv_age_identity_load(out, path, pass);
}

static int nv_load_signing_key(void *out, const char *path, const char *pass)
{
	return nv_sshkey_load_private_pass(out, path, pass);
}

/* The one passphrase route for every key: the passphrase file (option,
 * variable, config), else the terminal once the file proves encrypted. */
static int nv_load_with_passphrase(nv_cli *c, const char *path, nv_key_loader load, void *out)
{
	char *pass = NULL, typed[1024];
	int rc;

	if ((rc = nv_read_passphrase_file(c, &pass)))
		return rc;
	rc = load(out, path, pass);
	if (rc == NV_EAUTH && !pass && strstr(nv_error_msg(), "passphrase")) {
		if ((rc = nv_prompt_passphrase(typed, sizeof(typed), path)) == 0)
			rc = load(out, path, typed);
		OPENSSL_cleanse(typed, sizeof(typed));
	}
	if (pass) {
		OPENSSL_cleanse(pass, strlen(pass));
		free(pass);
	}
	return rc;
}

int nv_keys_identity(nv_cli *c, nv_age_identity **out)
{
	const char *f = c->n_identity_files ? c->identity_files[0] :
			nv_config_global(c->cfg, "identity", "NAVETTE_IDENTITY");

	*out = NULL;
	if (!f)
		return nv_error_set(NV_EINVAL, "an age identity is needed: --identity FILE "
				    "(or NAVETTE_IDENTITY, or identity = in [navette] of the config)");
	if (c->n_identity_files > 1)
		return nv_error_set(NV_EINVAL, "give one --identity file (it may hold several keys)");
	return nv_load_with_passphrase(c, f, nv_load_identity, out);
}

int nv_keys_recipients(nv_cli *c, nv_age_recipient **out, size_t *n)
{
	nv_age_recipient *all = NULL, *more;
	size_t total = 0, k;
	const char *files[NV_CLI_MAX_LIST + 1];
	int nfiles = c->n_recipients_files, rc = 0;

	*out = NULL;
	*n = 0;
	memcpy(files, c->recipients_files, sizeof(char *) * (size_t)nfiles);
	if (!c->n_recipients && !nfiles) {
		const char *f = nv_config_global(c->cfg, "recipients_file",
						 "NAVETTE_RECIPIENTS_FILE");
		if (f)
			files[nfiles++] = f;
	}
	all = calloc((size_t)c->n_recipients + 1, sizeof(*all));
	if (!all)
		return nv_error_set(NV_ERR, "out of memory");
	for (int i = 0; i < c->n_recipients; i++)
		if ((rc = nv_age_recipient_parse(&all[total++], c->recipients[i])))
			goto fail;
	for (int i = 0; i < nfiles; i++) {
		nv_age_recipient *r;

		if ((rc = nv_age_recipients_load(&r, &k, files[i]))) {
			rc = nv_keys_config_error(rc, NULL);
			goto fail;
		}
		more = realloc(all, (total + k) * sizeof(*all));
		if (!more) {
			free(r);
			rc = nv_error_set(NV_ERR, "out of memory");
			goto fail;
		}
		all = more;
		memcpy(all + total, r, k * sizeof(*r));
		total += k;
		free(r);
	}
	if (!total) {
		rc = nv_error_set(NV_EINVAL, "recipients are needed: --recipient age1... or "
				  "--recipients-file FILE");
		goto fail;
	}
	*out = all;
	*n = total;
	return 0;
fail:
	free(all);
	return rc;
}

int nv_keys_signing_key(nv_cli *c, nv_sshkey **out)
{
	const char *f = c->signing_key ? c->signing_key :
			nv_config_global(c->cfg, "signing_key", "NAVETTE_SIGNING_KEY");
	int rc;

	*out = NULL;
	if (!f)
		return nv_error_set(NV_EINVAL, "a signing key is needed: --signing-key FILE (an "
				    "OpenSSH Ed25519 key, e.g. from navette keygen --signing)");
	if ((rc = nv_load_with_passphrase(c, f, nv_load_signing_key, out)))
		return nv_keys_config_error(rc, "signing key");
	return 0;
}

const char *nv_keys_signing_pubkey(nv_cli *c)
{
	return c->signing_pubkey ? c->signing_pubkey :
	       nv_config_global(c->cfg, "signing_pubkey", "NAVETTE_SIGNING_PUBKEY");
}
