/* sftp.c: the sftp storage driver: its table, settings, open/close, and each
 * slot's reconnect loop. No code but src/driver.c calls the slots.
 * The driver's other files, and which calls which, are listed in sftp_int.h.
 * Two transports carry its requests: the stock ssh client speaking SFTP over a
 * socket pair (sftp_exec.c), or libssh2 (sftp_l2.c).
 *
 * Locations:
 *   sftp://user@host[:port]/abs/path   absolute path, as in curl
 *   sftp://user@host[:port]/~/dir      relative to the login (home) directory
 *   NAME:path                          remote NAME of the config file (type = sftp);
 *                                      path as written: relative paths start at home
 * Settings (paths may start with "~/"; config file keys; URL-form locations read
 * $NAVETTE_<KEY>, named remotes $NAVETTE_REMOTE_<NAME>_<KEY>; the URL's user, host
 * and port win over settings):
 *   transport            ssh: run the ssh client (`ssh -s HOST sftp`, as sshfs does),
 *                        which brings ~/.ssh/config, ProxyJump, ControlMaster and
 *                        OpenSSH's ciphers (AES-GCM, chacha20-poly1305); libssh2: talk
 *                        SSH in-process (AES-CTR with HMAC only in libssh2 1.10).
 *                        Default: ssh when neither password nor key_passphrase is set
 *                        (ssh never prompts here: BatchMode, and no secret goes on its
 *                        command line) and ssh_command is set or "ssh" is in $PATH,
 *                        else libssh2
 *   ssh_command          the ssh program, default "ssh" from $PATH (one path, no
 *                        arguments: options belong in ~/.ssh/config)
 *   ssh_config           an ssh_config file for transport = ssh, instead of ssh's own
 *                        ~/.ssh/config and /etc/ssh/ssh_config (ssh -F)
 *   host                 server name or address (required for NAME:path); with
 *                        transport = ssh also a Host of ~/.ssh/config
 *   port                 TCP port, default 22 (transport = ssh: ssh's own choice)
 *   user                 login, default $USER (transport = ssh: ssh's own choice)
 *   key_file             private key (OpenSSH or PEM format); refused when group or
 *                        others may read it, as ssh does. Unset: ~/.ssh/id_ed25519,
 *                        id_ecdsa and id_rsa are tried, after the agent, when present
 *   key_passphrase       passphrase of key_file (or key_passphrase_file: a file holding it)
 *   password             for "password" or "keyboard-interactive" authentication; from
 *                        the config file or the environment (also $SSHPASS), or a
 *                        URL's user:password@ (which others on the host may see on the
 *                        command line: the config is better); never prompted for,
 *                        never logged, stripped from every location navette prints
 *   (ssh-agent)          used when $SSH_AUTH_SOCK is set, after key_file
 *   known_hosts          default ~/.ssh/known_hosts; hashed entries and [host]:port work.
 *                        transport = ssh: when set, the only file ssh consults
 *                        (UserKnownHostsFile, GlobalKnownHostsFile none); unset, ssh's own
 *   host_key_checking    yes (default): an unknown or changed host key is refused with
 *                        its SHA256 fingerprint; accept-new: an unknown host's key is
 *                        appended to known_hosts (a changed key is still refused).
 *                        transport = ssh: ssh checks, with StrictHostKeyChecking=yes or
 *                        accept-new whatever ~/.ssh/config says
 *   timeout              seconds any single network operation may take, default 30
 *   (retries)            no longer a setting here: --retries is the one budget per
 *                        item (a file, a manifest; default 3) that these reconnects
 *                        and the engine's retries of the whole item share, with the
 *                        one backoff of util/retry.h (0.25 s doubling to 8 s, jittered).
 *                        After a reconnect, open, stat, list (each directory), read (at
 *                        its offset: a download resumes) and remove are made again; a
 *                        write cannot resume: its item starts over
 *   keepalive            seconds between SSH keepalives on an idle session, default 15
 *   requests             read requests kept in flight per transfer, default 64 (each
 *                        carries up to 30000 bytes, libssh2's limit); writes keep a
 *                        quarter of that in flight (more overflows sshd's channel
 *                        window and stalls), from a buffer of twice that drawn from
 *                        the run's memory budget (--max-memory). transport = ssh:
 *                        reads and writes keep that many requests of 32 KiB in flight
 *   fsync                each: ask the server to fsync every file before it is renamed
 *                        into place (fsync@openssh.com, one round trip per file);
 *                        batch (the default) and none: no fsync, SFTP has no batch
 *                        barrier, so durability is the server's own
 * Writes go to ".navette-tmp.<run id>.<random>" in the target directory, then are
 * renamed. SFTP has no locks: a clean-up removes another run's temp files only on
 * the caller's proof that their writer is dead (the lease, their age).
 * SFTP v3 rename refuses an existing target, which makes NV_WRITE_EXCLUSIVE atomic;
 * a plain overwrite is posix-rename@openssh.com where the transport and server
 * have it (transport = ssh with OpenSSH), else remove-then-rename (libssh2 1.10 has no
 * posix-rename), so for that short window a reader finds no file under the key
 * (never a partial one).
 * Modification times have one-second resolution (SFTP v3). Symlinks and special files
 * are not listed. */
#include "sftp_int.h"
#include "walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

static const char *const sftp_schemes[] = { "sftp", NULL };

/* ---- settings ---- */

static void sftp_secret_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void sftp_conn_free(struct nv_conn *c)
{
	if (!c)
		return;
	nv_sftp_disconnect(c);
	free(c->host);
	free(c->user);
	free(c->where);
	free(c->root);
	free(c->key_file);
	sftp_secret_free(c->passphrase);
	sftp_secret_free(c->password);
	free(c->known_hosts);
	free(c->ssh_command);
	free(c->ssh_config);
	nv_walk_seen_free(c->seen);
	free(c);
}

static int sftp_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* URL parts are percent-encoded ("my%20dir"); NAME:path is taken as written. */
static char *sftp_unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && sftp_hexval(s[i + 1]) >= 0 &&
		    sftp_hexval(s[i + 2]) >= 0) {
			*o++ = (char)(sftp_hexval(s[i + 1]) * 16 + sftp_hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* "user@host:port", "user:password@host", "host", "[v6::addr]:port". A
 * password is a secret: kept for authentication, never in a message. */
static int sftp_parse_authority(struct nv_conn *c, const char *a)
{
	const char *at = strrchr(a, '@'), *h = at ? at + 1 : a, *hend, *colon;
	const char *pw = at ? memchr(a, ':', (size_t)(at - a)) : NULL;

	if (at && !(c->user = sftp_unescape(a, (size_t)((pw ? pw : at) - a))))
		return nv_error_set(NV_ERR, "out of memory");
	if (pw && !(c->password = sftp_unescape(pw + 1, (size_t)(at - pw - 1))))
		return nv_error_set(NV_ERR, "out of memory");
	if (*h == '[') {
		hend = strchr(h, ']');
		if (!hend)
			return nv_error_set(NV_EINVAL, "sftp: bad address in '%s'", h);
		colon = hend[1] == ':' ? hend + 1 : NULL;
		c->host = strndup(h + 1, (size_t)(hend - h - 1));
	} else {
		colon = strchr(h, ':');
		c->host = strndup(h, colon ? (size_t)(colon - h) : strlen(h));
	}
	if (!c->host)
		return nv_error_set(NV_ERR, "out of memory");
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);

		if (*end || p == 0 || p > 65535)
			return nv_error_set(NV_EINVAL, "sftp: bad port in '%s'", h);
		c->port = (unsigned)p;
		c->port_set = 1;
	}
	return 0;
}

/* The root directory: "/~" and "~" prefixes mean the login directory, which is
 * where SFTP resolves relative paths; trailing slashes are dropped. */
static int sftp_set_root(struct nv_conn *c, const char *path, int url)
{
	char *p = url ? sftp_unescape(path, strlen(path)) : strdup(path);
	const char *s = p;
	size_t n;

	if (!p)
		return nv_error_set(NV_ERR, "out of memory");
	if (strcmp(s, "/~") == 0 || strcmp(s, "~") == 0)
		s = "";
	else if (strncmp(s, "/~/", 3) == 0)
		s += 3;
	else if (strncmp(s, "~/", 2) == 0)
		s += 2;
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		n--;
	c->root = strndup(s, n);
	free(p);
	return c->root ? 0 : nv_error_set(NV_ERR, "out of memory");
}

static char *sftp_setting(const nv_location *loc, const char *key, const char *env)
{
	const char *v = nv_settings_get(loc->settings, key, env);

	return v && *v ? strdup(v) : NULL;
}

/* Paths in settings may start with "~/", as they do in ssh_config. */
static char *sftp_path_setting(const nv_location *loc, const char *key)
{
	const char *v = nv_settings_get(loc->settings, key, NULL), *home = getenv("HOME");
	char *p;

	if (!v || !*v)
		return NULL;
	if (strncmp(v, "~/", 2) != 0 || !home)
		return strdup(v);
	return asprintf(&p, "%s%s", home, v + 1) < 0 ? NULL : p;
}

static int sftp_read_secret_file(char **out, const char *path)
{
	size_t len;
	int rc = nv_read_private_file(path, out, &len);

	if (rc)
		return rc;
	while (len && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
		(*out)[--len] = '\0';
	return 0;
}

static int sftp_settings_numbers(struct nv_conn *c, const nv_location *loc)
{
	uint64_t timeout, keepalive, requests, port;
	int rc;

	if ((rc = nv_settings_get_u64(loc->settings, "timeout", NULL, 30, &timeout)) ||
	    (rc = nv_settings_get_u64(loc->settings, "keepalive", NULL, 15, &keepalive)) ||
	    (rc = nv_settings_get_u64(loc->settings, "requests", NULL, 64, &requests)) ||
	    (rc = nv_settings_get_u64(loc->settings, "port", NULL, 22, &port)))
		return rc;
	if (timeout == 0 || timeout > 86400 || requests == 0 || requests > 1024 || port == 0 ||
	    port > 65535)
		return nv_error_set(NV_EINVAL, "sftp: timeout, requests or port out of range "
				    "for '%s'", loc->text);
	c->timeout_ms = (long)timeout * 1000;
	c->keepalive_sec = (unsigned)keepalive;
	c->requests = (unsigned)requests;
	c->port_set |= nv_settings_get(loc->settings, "port", NULL) != NULL;
	if (!c->port)
		c->port = (unsigned)port;
	return 0;
}

static int sftp_settings_auth(struct nv_conn *c, const nv_location *loc)
{
	const char *checking = nv_settings_get(loc->settings, "host_key_checking", NULL);
	char *pass_file = sftp_path_setting(loc, "key_passphrase_file");
	const char *fsync = nv_settings_get(loc->settings, "fsync", NULL);
	const char *home = getenv("HOME");
	int rc;

	c->key_file = sftp_path_setting(loc, "key_file");
	c->passphrase = sftp_setting(loc, "key_passphrase", NULL);
	rc = !c->passphrase && pass_file ? sftp_read_secret_file(&c->passphrase, pass_file) : 0;
	free(pass_file);
	if (rc)
		return rc;
	if (!c->password) /* one in the URL comes first */
		c->password = sftp_setting(loc, "password", "SSHPASS");
	c->known_hosts = sftp_path_setting(loc, "known_hosts");
	c->known_hosts_set = c->known_hosts != NULL;
	if (!c->known_hosts) {
		if (!home || asprintf(&c->known_hosts, "%s/.ssh/known_hosts", home) < 0) {
			c->known_hosts = NULL;
			return nv_error_set(NV_EINVAL, "sftp: no known_hosts: set it or $HOME");
		}
	}
	if (checking && strcmp(checking, "accept-new") == 0)
		c->accept_new = 1;
	else if (checking && strcmp(checking, "yes") != 0)
		return nv_error_set(NV_EINVAL, "sftp: host_key_checking must be 'yes' or "
				    "'accept-new' (got '%s')", checking);
	c->fsync_each = fsync && strcmp(fsync, "each") == 0;
	return 0;
}

/* The ssh program: a path as given, or a name looked up in $PATH as execvp
 * will. 1 when it can be run. */
static int sftp_ssh_found(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *colon;
	char buf[4096];

	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0;
	for (p = path ? path : "/usr/bin:/bin"; p; p = colon ? colon + 1 : NULL) {
		colon = strchr(p, ':');
		snprintf(buf, sizeof(buf), "%.*s%s%s", colon ? (int)(colon - p) : (int)strlen(p),
			 p, (colon ? colon == p : !*p) ? "" : "/", cmd);
		if (access(buf, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* transport = ssh|libssh2; the default: ssh where it can log in as libssh2
 * would, without a secret to hand over (ssh takes none but from a terminal or
 * an askpass program: never on its command line, never in its environment). */
static int sftp_settings_transport(struct nv_conn *c, const nv_location *loc)
{
	const char *t = nv_settings_get(loc->settings, "transport", NULL);
	int secret = c->password || c->passphrase, named;

	c->ssh_command = sftp_path_setting(loc, "ssh_command");
	c->ssh_config = sftp_path_setting(loc, "ssh_config");
	named = c->ssh_command != NULL; /* then ssh is wanted: a wrong path is an error */
	if (!c->ssh_command && !(c->ssh_command = strdup("ssh")))
		return nv_error_set(NV_ERR, "out of memory");
	if (t && strcmp(t, "libssh2") == 0) {
		c->tp = &nv_sftp_libssh2;
	} else if (t && strcmp(t, "ssh") == 0) {
		if (secret)
			return nv_error_set(NV_EINVAL, "sftp: '%s': transport = ssh takes no %s "
					    "(ssh would have to prompt for it): use ssh-agent or a "
					    "key without a passphrase, or transport = libssh2",
					    loc->text, c->password ? "password" : "key_passphrase");
		c->tp = &nv_sftp_ssh;
	} else if (t && *t) {
		return nv_error_set(NV_EINVAL, "sftp: transport must be 'ssh' or 'libssh2' (got "
				    "'%s')", t);
	} else {
		c->tp = !secret && (named || sftp_ssh_found(c->ssh_command)) ? &nv_sftp_ssh
									    : &nv_sftp_libssh2;
	}
	return 0;
}

static int sftp_settings(struct nv_conn *c, const nv_location *loc)
{
	int rc;

	if (loc->remote) {
		rc = sftp_set_root(c, loc->path ? loc->path : "", 0);
	} else {
		if (!loc->authority || !*loc->authority)
			return nv_error_set(NV_EINVAL, "sftp: '%s' names no host", loc->text);
		rc = sftp_parse_authority(c, loc->authority);
		if (!rc)
			rc = sftp_set_root(c, loc->path ? loc->path : "", 1);
	}
	if (rc)
		return rc;
	if (!c->host && !(c->host = sftp_setting(loc, "host", NULL)))
		return nv_error_set(NV_EINVAL, "sftp: remote '%s' has no host",
				    loc->remote ? loc->remote : loc->text);
	c->user_set = c->user || nv_settings_get(loc->settings, "user", NULL);
	if (!c->user)
		c->user = sftp_setting(loc, "user", "USER");
	if ((rc = sftp_settings_numbers(c, loc)) || (rc = sftp_settings_auth(c, loc)) ||
	    (rc = sftp_settings_transport(c, loc)))
		return rc;
	if (!c->user && c->tp != &nv_sftp_ssh) /* ssh has a user of its own */
		return nv_error_set(NV_EINVAL, "sftp: no user for '%s'", loc->text);
	/* transport = ssh: what ssh decides itself is not named */
	if (c->tp == &nv_sftp_ssh)
		rc = asprintf(&c->where, "%s%s%s", c->user_set ? c->user : "",
			      c->user_set ? "@" : "", c->host);
	else
		rc = asprintf(&c->where, "%s@%s:%u", c->user, c->host, c->port);
	if (rc >= 0 && c->tp == &nv_sftp_ssh && c->port_set) {
		char *w = c->where;

		rc = asprintf(&c->where, "%s:%u", w, c->port);
		free(w);
	}
	if (rc < 0) {
		c->where = NULL;
		return nv_error_set(NV_ERR, "out of memory");
	}
	return 0;
}

/* ---- slots ---- */

static int sftp_open(struct nv_conn **out, const nv_location *loc)
{
	struct nv_conn *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return nv_error_set(NV_ERR, "out of memory");
	rc = sftp_settings(c, loc);
	if (!rc)
		NV_SFTP_RETRY(c, rc, 0); /* connects */
	if (rc) {
		sftp_conn_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static void sftp_close(struct nv_conn *c)
{
	sftp_conn_free(c);
}

static int sftp_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	int rc;

	*out = NULL;
	NV_SFTP_RETRY(c, rc, nv_sftp_list_open(out, c, prefix));
	return rc;
}

static int sftp_stat(struct nv_conn *c, const char *key, nv_entry *out)
{
	int rc;

	NV_SFTP_RETRY(c, rc, nv_sftp_stat(c, key, out));
	return rc;
}

static int sftp_read(struct nv_conn *c, const char *key, uint64_t offset, void *buf,
		     size_t len, size_t *got)
{
	int rc;

	*got = 0;
	NV_SFTP_RETRY(c, rc, nv_sftp_read(c, key, offset, buf, len, got));
	return rc;
}

static int sftp_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
			   const nv_write_opts *opts)
{
	int rc;

	*out = NULL;
	NV_SFTP_RETRY(c, rc, nv_sftp_write_open(out, c, key, opts));
	return rc;
}

static int sftp_remove(struct nv_conn *c, const char *key)
{
	int rc;

	NV_SFTP_RETRY(c, rc, nv_sftp_remove(c, key));
	return rc;
}

static int sftp_leftovers_open(struct nv_leftovers **out, struct nv_conn *c)
{
	int rc;

	*out = NULL;
	NV_SFTP_RETRY(c, rc, nv_sftp_leftovers_open(out, c));
	return rc;
}

static int sftp_leftover_remove(struct nv_conn *c, const nv_leftover *lo, int proven)
{
	int rc;

	NV_SFTP_RETRY(c, rc, nv_sftp_leftover_remove(c, lo, proven));
	return rc;
}

const nv_driver nv_driver_sftp = {
	.version = NV_DRIVER_VERSION,
	.name = "sftp",
	.schemes = sftp_schemes,
	/* v3 rename never replaces a target; mtime to the second and mode via setstat */
	.caps = NV_CAP_EXCLUSIVE | NV_CAP_MTIME | NV_CAP_MODE,
	.min_part_size = 0,
	.open = sftp_open,
	.close = sftp_close,
	.list_open = sftp_list_open,
	.list_next = nv_walk_next, /* the walk is the listing */
	.list_close = nv_walk_close,
	.stat = sftp_stat,
	.read = sftp_read,
	.write_open = sftp_write_open,
	.write = nv_sftp_write,
	.write_commit = nv_sftp_write_commit,
	.write_abort = nv_sftp_write_abort,
	.remove = sftp_remove,
	.flush = NULL,
	/* version 4: temp files of interrupted writes */
	.leftovers_open = sftp_leftovers_open,
	.leftovers_next = nv_walk_leftovers_next,
	.leftovers_close = nv_walk_leftovers_close,
	.leftover_remove = sftp_leftover_remove,
	/* version 5: the temp file is renamed into another directory at commit */
	.write_retarget = nv_sftp_write_retarget,
};
