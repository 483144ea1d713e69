/* sftp_ssh.c: the ssh transport's command line and the meaning of ssh's
 * failures (sftp_ssh.h). Called by sftp_exec.c and tests/unit/test_sftp_ssh.c.
 *
 * The command line: an argv array for execvp, never a shell. Values ssh reads
 * as configuration lines (-oKey=value) are quoted as ssh's argv_split reads
 * them ("..." with \" and \\) and '%' is doubled (ssh expands %-tokens in
 * file names); host and user go where no option can start: "-l USER" takes its
 * next word whatever it is, and HOST follows "--". They are checked even so. */
#include "sftp_ssh.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define NV_SFTP_SSH_MAX_ARGS 32

void nv_sftp_ssh_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static int sftp_ssh_plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/* A host as ssh takes it on its command line: a name, an address (IPv6
 * without brackets) or an alias of ~/.ssh/config. */
static int sftp_ssh_host_ok(const char *h)
{
	if (!*h || *h == '-')
		return 0;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || strchr("._-:", *h)))
			return 0;
	return 1;
}

/* "-oKey=\"value\"" with value quoted for ssh's argv_split and %-expansion. */
static char *sftp_ssh_opt_path(const char *key, const char *value)
{
	size_t n = strlen(key) + 2 * strlen(value) + 8, o;
	char *s = malloc(n);

	if (!s)
		return NULL;
	o = (size_t)snprintf(s, n, "-o%s=\"", key);
	for (; *value; value++) {
		if (*value == '"' || *value == '\\')
			s[o++] = '\\';
		else if (*value == '%')
			s[o++] = '%';
		s[o++] = *value;
	}
	s[o++] = '"';
	s[o] = '\0';
	return s;
}

/* expands: ssh reads the path as a configuration value (%-tokens, ${VAR}). */
static int sftp_ssh_path_ok(const char *what, const char *path, int expands)
{
	const char *p;

	for (p = path; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return nv_error_set(NV_EINVAL, "sftp: %s holds a control character", what);
	if (expands && strstr(path, "${"))
		return nv_error_set(NV_EINVAL, "sftp: %s '%s' holds \"${\", which ssh would "
				    "expand (transport = ssh)", what, path);
	return 0;
}

struct sftp_argv {
	char **v;
	int n;
	int oom;
};

static void sftp_arg_take(struct sftp_argv *a, char *s)
{
	if (!s || a->n >= NV_SFTP_SSH_MAX_ARGS) {
		free(s);
		a->oom = 1;
		return;
	}
	a->v[a->n++] = s;
}

static void sftp_arg(struct sftp_argv *a, const char *s)
{
	sftp_arg_take(a, strdup(s));
}

/* "-oKey=N", or "N" when key is NULL. */
static void sftp_argn(struct sftp_argv *a, const char *key, unsigned v)
{
	char buf[64];

	if (key)
		snprintf(buf, sizeof(buf), "-o%s=%u", key, v);
	else
		snprintf(buf, sizeof(buf), "%u", v);
	sftp_arg(a, buf);
}

static int sftp_ssh_check(const nv_sftp_ssh_args *a)
{
	int rc;

	if (!a->command || !*a->command || !sftp_ssh_plain(a->command))
		return nv_error_set(NV_EINVAL, "sftp: ssh_command must name one program (no "
				    "blanks, no arguments)");
	if (!sftp_ssh_host_ok(a->host))
		return nv_error_set(NV_EINVAL, "sftp: host '%s' is not a host name or address "
				    "ssh could take (letters, digits, '.', '-', '_', ':'; not "
				    "starting with '-')", a->host);
	if (a->user && (!*a->user || *a->user == '-' || !sftp_ssh_plain(a->user)))
		return nv_error_set(NV_EINVAL, "sftp: user '%s' cannot be passed to ssh (empty, "
				    "starting with '-', or holding a blank)", a->user);
	if ((a->config && (rc = sftp_ssh_path_ok("ssh_config", a->config, 0))) ||
	    (a->key_file && (rc = sftp_ssh_path_ok("key_file", a->key_file, 1))) ||
	    (a->known_hosts && (rc = sftp_ssh_path_ok("known_hosts", a->known_hosts, 1))))
		return rc;
	return 0;
}

int nv_sftp_ssh_argv(char ***out, const nv_sftp_ssh_args *a)
{
	struct sftp_argv v = { .v = calloc(NV_SFTP_SSH_MAX_ARGS + 1, sizeof(char *)) };
	int rc;

	*out = NULL;
	if ((rc = sftp_ssh_check(a))) {
		free(v.v);
		return rc;
	}
	if (!v.v)
		return nv_error_set(NV_ERR, "out of memory");
	sftp_arg(&v, a->command);
	if (a->config) { /* a path of its own: -F takes the next word as it is */
		sftp_arg(&v, "-F");
		sftp_arg(&v, a->config);
	}
	/* no X11 or agent forwarding, no tty, no port forwardings from ssh_config */
	sftp_arg(&v, "-x");
	sftp_arg(&v, "-a");
	sftp_arg(&v, "-T");
	sftp_arg(&v, "-oClearAllForwardings=yes");
	/* never a prompt: no passphrase, no password, no "are you sure" */
	sftp_arg(&v, "-oBatchMode=yes");
	sftp_arg(&v, a->accept_new ? "-oStrictHostKeyChecking=accept-new"
				   : "-oStrictHostKeyChecking=yes");
	if (a->known_hosts) {
		sftp_arg_take(&v, sftp_ssh_opt_path("UserKnownHostsFile", a->known_hosts));
		sftp_arg(&v, "-oGlobalKnownHostsFile=none");
	}
	if (a->key_file)
		sftp_arg_take(&v, sftp_ssh_opt_path("IdentityFile", a->key_file));
	sftp_argn(&v, "ConnectTimeout", a->timeout_sec ? a->timeout_sec : 30);
	if (a->keepalive_sec)
		sftp_argn(&v, "ServerAliveInterval", a->keepalive_sec);
	if (a->port) {
		sftp_arg(&v, "-p");
		sftp_argn(&v, NULL, a->port);
	}
	if (a->user) {
		sftp_arg(&v, "-l");
		sftp_arg(&v, a->user);
	}
	sftp_arg(&v, "-s");
	sftp_arg(&v, "--");
	sftp_arg(&v, a->host);
	sftp_arg(&v, "sftp");
	if (v.oom) {
		nv_sftp_ssh_argv_free(v.v);
		return nv_error_set(NV_ERR, "out of memory");
	}
	*out = v.v;
	return 0;
}

/* ---- what ssh said ---- */

/* The line of err holding needle, copied (without its end of line) to line. */
static int sftp_ssh_line(const char *err, const char *needle, char *line, size_t size)
{
	const char *hit = strstr(err, needle), *start, *end;

	if (!hit)
		return 0;
	for (start = hit; start > err && start[-1] != '\n'; start--)
		;
	end = strchr(hit, '\n');
	if (!end)
		end = hit + strlen(hit);
	while (end > start && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	snprintf(line, size, "%.*s", (int)(end - start), start);
	return 1;
}

/* The last line of err that says something (not a banner of '@'). */
static void sftp_ssh_last(const char *err, char *line, size_t size)
{
	const char *end = err + strlen(err), *start;

	*line = '\0';
	while (end > err) {
		while (end > err && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
			end--;
		for (start = end; start > err && start[-1] != '\n'; start--)
			;
		if (end > start && *start != '@') {
			snprintf(line, size, "%.*s", (int)(end - start), start);
			return;
		}
		end = start;
	}
}

/* The fingerprint ssh printed ("SHA256:..."), or "". */
static void sftp_ssh_fingerprint(const char *err, char *fp, size_t size)
{
	const char *s = strstr(err, "SHA256:");
	size_t n = 0;

	*fp = '\0';
	if (!s)
		return;
	while (s[n] && s[n] != '.' && s[n] != '\n' && s[n] != ' ' && s[n] != '\r')
		n++;
	snprintf(fp, size, "%.*s", (int)n, s);
}

struct sftp_ssh_cause {
	const char *needle;  /* in ssh's stderr */
	int code;
	const char *what;    /* our words for it */
};

/* First match wins: the host-key cases come before "Permission denied". */
static const struct sftp_ssh_cause sftp_ssh_causes[] = {
	{ "REVOKED HOST KEY", NV_EAUTH, "the host key is marked @revoked in known_hosts" },
	{ "is marked as revoked", NV_EAUTH, "the host key is marked @revoked in known_hosts" },
	{ "REMOTE HOST IDENTIFICATION HAS CHANGED", NV_EAUTH, "HOST KEY CHANGED" },
	{ "has changed and you have requested strict checking", NV_EAUTH, "HOST KEY CHANGED" },
	{ "host key is known for", NV_EAUTH, "unknown host key" },
	{ "Host key verification failed", NV_EAUTH, "host key refused" },
	{ "Permission denied", NV_EAUTH, "authentication refused" },
	{ "Too many authentication failures", NV_EAUTH, "authentication refused" },
	{ "Temporary failure in name resolution", NV_ERETRY, "cannot resolve host" },
	{ "Could not resolve hostname", NV_EINVAL, "cannot resolve host" },
	{ "Bad configuration option", NV_EINVAL, "ssh refused its configuration" },
	{ "Bad owner or permissions", NV_EINVAL, "ssh refused its configuration" },
	{ "Unsupported option", NV_EINVAL, "ssh refused its configuration" },
	{ "Bad port", NV_EINVAL, "ssh refused its configuration" },
	{ "terminating, ", NV_EINVAL, "ssh refused its configuration" },
	{ "Cannot execute command-line and remote command", NV_EINVAL,
	  "ssh refused its configuration (a RemoteCommand in ssh_config)" },
	{ "subsystem request failed", NV_ENOTSUP, "the server runs no sftp subsystem" },
	{ "Unable to negotiate", NV_EINVAL, "ssh and the server share no algorithm" },
	{ "timed out", NV_ERETRY, "connection timed out" },
	{ "Connection refused", NV_ERETRY, "connection refused" },
	{ "No route to host", NV_ERETRY, "connect" },
	{ "Network is unreachable", NV_ERETRY, "connect" },
	{ "Connection reset", NV_ERETRY, "connection lost" },
	{ "Connection closed", NV_ERETRY, "connection lost" },
	{ "closed by remote host", NV_ERETRY, "connection lost" },
	{ "Broken pipe", NV_ERETRY, "connection lost" },
};

static void sftp_ssh_exit_text(int status, char *out, size_t size)
{
	if (status == -1)
		snprintf(out, size, "ssh stopped");
	else if (WIFEXITED(status))
		snprintf(out, size, "ssh exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, size, "ssh killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, size, "ssh ended");
}

int nv_sftp_ssh_failure(const char *err, int status, int established, char *why, size_t size)
{
	char line[512], last[512], fp[128], exit_text[64];
	const struct sftp_ssh_cause *c = NULL;
	size_t i;

	sftp_ssh_last(err, last, sizeof(last));
	sftp_ssh_exit_text(status, exit_text, sizeof(exit_text));
	for (i = 0; i < sizeof(sftp_ssh_causes) / sizeof(sftp_ssh_causes[0]) && !c; i++)
		if (sftp_ssh_line(err, sftp_ssh_causes[i].needle, line, sizeof(line)))
			c = &sftp_ssh_causes[i];
	if (established) {
		snprintf(why, size, "connection lost (%s%s%s)", exit_text, *last ? ": " : "", last);
		return NV_ERETRY;
	}
	if (!c) {
		/* unknown: a proxy or a server that went away; the retry budget bounds it */
		snprintf(why, size, "%s%s%s", exit_text, *last ? ": " : "", *last ? last : "");
		return NV_ERETRY;
	}
	if (strcmp(c->what, "HOST KEY CHANGED") == 0) {
		sftp_ssh_fingerprint(err, fp, sizeof(fp));
		snprintf(why, size, "HOST KEY CHANGED: the server offers %s, which known_hosts "
			 "does not list for it; refusing (someone may be intercepting the "
			 "connection; if the change is expected, remove the old entry) (ssh: %s)",
			 *fp ? fp : "another key", line);
	} else if (strcmp(c->what, "unknown host key") == 0) {
		snprintf(why, size, "unknown host key (ssh: %s); check the fingerprint, then add "
			 "it to known_hosts or set host_key_checking = accept-new", line);
	} else {
		snprintf(why, size, "%s (ssh: %s)", c->what, line);
	}
	return c->code;
}
