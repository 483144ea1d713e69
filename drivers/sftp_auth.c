/* sftp_auth.c: user authentication: private key file, then ssh-agent, then a
 * password from the config or environment. Never prompts. Called by sftp_session.c. */
#include "sftp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* 1 when the server accepted the key, 0 when it refused it, <0 on other errors. */
static int sftp_auth_keyfile(struct nv_conn *c)
{
	char *key;
	size_t len;
	int rc;

	rc = nv_read_private_file(c->key_file, &key, &len);
	if (rc) /* missing, unreadable or too open: the configuration is wrong */
		return nv_error_wrap(rc == NV_ERR ? rc : NV_EINVAL, "sftp %s: key_file", c->where);
	rc = libssh2_userauth_publickey_frommemory(c->ssh, c->user, strlen(c->user), NULL, 0,
						   key, len, c->passphrase);
	OPENSSL_cleanse(key, len);
	free(key);
	if (rc == 0)
		return 1;
	if (rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED ||
	    rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)
		return nv_error_set(NV_EAUTH, "sftp %s: cannot use key_file %s (%s)", c->where,
				    c->key_file, c->passphrase ? "wrong passphrase or unsupported key"
				    : "encrypted key without key_passphrase, or unsupported key");
	if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
		return 0;
	return nv_sftp_fail(c, rc, "authenticating with key_file");
}

static int sftp_auth_agent(struct nv_conn *c)
{
	LIBSSH2_AGENT *agent = libssh2_agent_init(c->ssh);
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int ok = 0;

	if (!agent)
		return 0;
	if (libssh2_agent_connect(agent) == 0 && libssh2_agent_list_identities(agent) == 0) {
		while (!ok && libssh2_agent_get_identity(agent, &id, prev) == 0) {
			ok = libssh2_agent_userauth(agent, c->user, id) == 0;
			prev = id;
		}
	}
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return ok;
}

int nv_sftp_auth(struct nv_conn *c)
{
	char tried[128] = "";
	const char *methods;
	int rc;

	methods = libssh2_userauth_list(c->ssh, c->user, (unsigned)strlen(c->user));
	if (!methods) {
		if (libssh2_userauth_authenticated(c->ssh))
			return 0;
		return nv_sftp_fail(c, libssh2_session_last_errno(c->ssh),
				    "asking for authentication methods");
	}
	if (strstr(methods, "publickey") && c->key_file) {
		rc = sftp_auth_keyfile(c);
		if (rc)
			return rc > 0 ? 0 : rc;
		strcat(tried, " key_file");
	}
	if (strstr(methods, "publickey") && getenv("SSH_AUTH_SOCK")) {
		if (sftp_auth_agent(c))
			return 0;
		strcat(tried, " ssh-agent");
	}
	if (strstr(methods, "password") && c->password) {
		rc = libssh2_userauth_password_ex(c->ssh, c->user, (unsigned)strlen(c->user),
						  c->password, (unsigned)strlen(c->password), NULL);
		if (rc == 0)
			return 0;
		if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED)
			return nv_sftp_fail(c, rc, "password authentication");
		strcat(tried, " password");
	}
	return nv_error_set(NV_EAUTH, "sftp %s: authentication refused (tried:%s; the server "
			    "accepts: %s)", c->where, *tried ? tried : " nothing configured",
			    methods);
}
