/* sftp_auth.c: user authentication over libssh2: private key file, then
 * ssh-agent, then a password from the config or environment. Never prompts.
 * Called by sftp_connect.c (the libssh2 transport) only. */
#include "sftp_l2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* 1 when the server accepted the key, 0 when the key was refused or unusable
 * (detail says why), <0 on other errors. A default identity (not named in the
 * settings) that cannot be read is skipped, as ssh does. */
static int sftp_auth_keyfile(struct nv_conn *c, const char *path, char *detail, size_t size)
{
	char *key;
	size_t len;
	int rc;

	rc = nv_read_private_file(path, &key, &len);
	if (rc && path != c->key_file) {
		nv_error_clear();
		return 0;
	}
	if (rc) /* missing, unreadable or too open: the configuration is wrong */
		return nv_error_wrap(rc == NV_ERR ? rc : NV_EINVAL, "sftp %s: key_file", c->where);
	rc = libssh2_userauth_publickey_frommemory(nv_sftp_l2(c)->ssh, c->user, strlen(c->user),
						   NULL, 0, key, len, c->passphrase);
	OPENSSL_cleanse(key, len);
	free(key);
	if (rc == 0)
		return 1;
	rc = nv_sftp_l2_fail(c, rc, "key_file %s (refused by the server, or unusable: if the key "
			  "is encrypted, check key_passphrase%s)", path,
			  c->passphrase ? "" : ", which is not set");
	if (rc != NV_EAUTH)
		return rc;
	snprintf(detail, size, "; %s", nv_error_msg());
	return 0;
}
/* ~/.ssh/id_ed25519, id_ecdsa, id_rsa: those present, as ssh tries them. */
static int sftp_auth_defaults(struct nv_conn *c, char *tried, char *detail, size_t size)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *home = getenv("HOME");
	char path[4096];
	size_t i;
	int rc;

	for (i = 0; home && i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/.ssh/%s", home, names[i]);
		if (access(path, F_OK) != 0)
			continue;
		rc = sftp_auth_keyfile(c, path, detail, size);
		if (rc)
			return rc;
		strcat(tried, " ~/.ssh/");
		strcat(tried, names[i]);
	}
	return 0;
}

/* 1 when the server accepted one of the agent's keys; 0 otherwise, with what
 * happened appended to tried: an agent that is not there, holds no key, or
 * whose keys were all refused are three different fixes for the user. */
static int sftp_auth_agent(struct nv_conn *c, char *tried, size_t size)
{
	LIBSSH2_AGENT *agent = libssh2_agent_init(nv_sftp_l2(c)->ssh);
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	size_t used = strlen(tried);
	int ok = 0, keys = 0;

	if (!agent || libssh2_agent_connect(agent) != 0) {
		snprintf(tried + used, size - used, " ssh-agent (none reachable at $SSH_AUTH_SOCK)");
	} else if (libssh2_agent_list_identities(agent) != 0) {
		snprintf(tried + used, size - used, " ssh-agent (did not list its keys)");
	} else {
		while (!ok && libssh2_agent_get_identity(agent, &id, prev) == 0) {
			ok = libssh2_agent_userauth(agent, c->user, id) == 0;
			prev = id;
			keys++;
		}
		if (!keys)
			snprintf(tried + used, size - used, " ssh-agent (holds no keys)");
		else if (!ok)
			snprintf(tried + used, size - used, " ssh-agent (%d key%s refused)", keys,
				 keys == 1 ? "" : "s");
	}
	if (agent) {
		libssh2_agent_disconnect(agent);
		libssh2_agent_free(agent);
	}
	return ok;
}

/* keyboard-interactive with the configured password: servers that take passwords
 * through PAM offer only this. Every prompt gets the password; never a terminal. */
static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(sftp_kbdint)
{
	struct nv_conn *c = *abstract;
	int i;

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	(void)prompts;
	for (i = 0; i < num_prompts; i++) {
		responses[i].text = strdup(c->password);
		responses[i].length = responses[i].text ? (unsigned)strlen(c->password) : 0;
	}
}

static int sftp_auth_password(struct nv_conn *c, const char *methods, char *tried)
{
	int rc = LIBSSH2_ERROR_AUTHENTICATION_FAILED;

	if (strstr(methods, "password")) {
		rc = libssh2_userauth_password_ex(nv_sftp_l2(c)->ssh, c->user,
						  (unsigned)strlen(c->user), c->password,
						  (unsigned)strlen(c->password), NULL);
		strcat(tried, " password");
	} else if (strstr(methods, "keyboard-interactive")) {
		rc = libssh2_userauth_keyboard_interactive_ex(nv_sftp_l2(c)->ssh, c->user,
							      (unsigned)strlen(c->user),
							      sftp_kbdint);
		strcat(tried, " keyboard-interactive");
	}
	if (rc == 0)
		return 1;
	if ((rc = nv_sftp_l2_fail(c, rc, "password authentication")) != NV_EAUTH)
		return rc;
	return 0;
}

int nv_sftp_auth(struct nv_conn *c)
{
	LIBSSH2_SESSION *ssh = nv_sftp_l2(c)->ssh;
	char tried[192] = "", detail[768] = "";
	const char *methods;
	int rc;

	methods = libssh2_userauth_list(ssh, c->user, (unsigned)strlen(c->user));
	if (!methods) {
		if (libssh2_userauth_authenticated(ssh))
			return 0;
		return nv_sftp_l2_fail(c, libssh2_session_last_errno(ssh),
				    "asking for authentication methods");
	}
	if (strstr(methods, "publickey") && c->key_file) {
		rc = sftp_auth_keyfile(c, c->key_file, detail, sizeof(detail));
		if (rc)
			return rc > 0 ? 0 : rc;
		strcat(tried, " key_file");
	}
	if (strstr(methods, "publickey") && getenv("SSH_AUTH_SOCK")) {
		if (sftp_auth_agent(c, tried, sizeof(tried)))
			return 0;
	}
	if (strstr(methods, "publickey") && !c->key_file) {
		rc = sftp_auth_defaults(c, tried, detail, sizeof(detail));
		if (rc)
			return rc > 0 ? 0 : rc;
	}
	if (c->password) {
		rc = sftp_auth_password(c, methods, tried);
		if (rc)
			return rc > 0 ? 0 : rc;
	}
	return nv_error_set(NV_EAUTH, "sftp %s: authentication refused (tried:%s; the server "
			    "accepts: %s)%s", c->where, *tried ? tried : " nothing configured",
			    methods, detail);
}
