/* sftp_ssh.h: the ssh command line of the sftp driver's ssh transport, built
 * from the settings and checked (no option can be slipped in through a host,
 * a user or a path), and what ssh's stderr and exit status mean, mapped to
 * nv_err. Pure functions: called by sftp_exec.c and tests/unit/test_sftp_ssh.c. */
#ifndef NV_SFTP_SSH_H
#define NV_SFTP_SSH_H

#include <stddef.h>

typedef struct nv_sftp_ssh_args {
	const char *command;     /* the ssh program: a name looked up in $PATH, or a path */
	const char *config;      /* NULL: ~/.ssh/config and /etc/ssh/ssh_config; else -F */
	const char *host;        /* as configured: a name, an address or a Host of ~/.ssh/config */
	const char *user;        /* NULL: ssh's own choice (~/.ssh/config, the login name) */
	unsigned port;           /* 0: ssh's own choice */
	const char *key_file;    /* NULL: ssh's own identities (and the agent) */
	const char *known_hosts; /* NULL: ssh's own files; else the only file consulted */
	int accept_new;          /* host_key_checking = accept-new */
	unsigned timeout_sec;    /* ConnectTimeout */
	unsigned keepalive_sec;  /* ServerAliveInterval; 0: none */
} nv_sftp_ssh_args;

/* The argv to run (NULL-terminated, malloc'd, free with nv_sftp_ssh_argv_free):
 *   ssh [-F CONFIG] -x -a -T -oClearAllForwardings=yes -oBatchMode=yes
 *       -oStrictHostKeyChecking=yes|accept-new [-oUserKnownHostsFile="..."
 *       -oGlobalKnownHostsFile=none] [-oIdentityFile="..."] -oConnectTimeout=N
 *       [-oServerAliveInterval=N] [-p PORT] [-l USER] -s -- HOST sftp
 * 0, or NV_EINVAL (message set) for a host or user that starts with '-' or holds
 * a blank or a control character, or a path ssh would expand ("${").
 * NV_ERR when out of memory. */
int nv_sftp_ssh_argv(char ***out, const nv_sftp_ssh_args *a);
void nv_sftp_ssh_argv_free(char **argv);

/* What went wrong, from ssh's stderr (err) and its waitpid status (-1: unknown,
 * or killed by navette): the nv_err code, and a sentence (why) that names the
 * cause and quotes ssh's own line. established: the SFTP session was up, so a
 * lost child is a dropped connection (NV_ERETRY) whatever it says. */
int nv_sftp_ssh_failure(const char *err, int status, int established, char *why, size_t size);

#endif
