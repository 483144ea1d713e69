/* sftp_connect.c: the libssh2 transport's session brought up: TCP connect
 * with a timeout, handshake with host-key algorithms ordered from known_hosts,
 * host-key check, auth, SFTP. Called by sftp_l2.c (its connect slot) only. */
#include "sftp_l2_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* AES-CTR first: with AES-NI it is the cheapest cipher libssh2 1.10 offers. */
/* For a host known_hosts says nothing about: OpenSSH's order, not libssh2's
 * (which starts with ecdsa), so accept-new records the key ssh would. */
#define NV_SFTP_HOSTKEYS "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa"
#define NV_SFTP_CIPHERS "aes128-ctr,aes256-ctr,aes192-ctr,aes256-cbc,aes128-cbc"

/* libssh2 1.10's method_pref drops names it lacks with an overlapping memcpy
 * (ASan flags it): hand it only names it supports. */
static void sftp_pref(LIBSSH2_SESSION *ssh, int method, const char *want)
{
	const char **algs = NULL;
	char list[512] = "", *save = NULL, *copy = strdup(want), *name;
	int n = libssh2_session_supported_algs(ssh, method, &algs), i;

	for (name = copy ? strtok_r(copy, ",", &save) : NULL; name;
	     name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < n; i++) {
			if (strcmp(algs[i], name) == 0 &&
			    strlen(list) + strlen(name) + 2 < sizeof(list)) {
				if (*list)
					strcat(list, ",");
				strcat(list, name);
			}
		}
	}
	if (*list)
		libssh2_session_method_pref(ssh, method, list);
	if (n > 0)
		libssh2_free(ssh, algs);
	free(copy);
}

static int sftp_connect_one(const struct addrinfo *ai, long timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);
	struct pollfd p;
	int err = 0, one = 1;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			goto out_close;
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, (int)timeout_ms) != 1) {
			errno = ETIMEDOUT;
			goto out_close;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			errno = err ? err : errno;
			goto out_close;
		}
	}
	/* libssh2 runs in blocking mode, bounded by its own timeout. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto out_close;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
out_close:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Connection problems are transient (the server may come back); an unknown
 * host name is a configuration error. */
static int sftp_tcp(struct nv_conn *c, struct nv_sftp_l2 *l2)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res, *ai;
	char port[8];
	int rc, err = ECONNREFUSED;

	snprintf(port, sizeof(port), "%u", c->port);
	rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc)
		return nv_error_set(rc == EAI_AGAIN ? NV_ERETRY : NV_EINVAL,
				    "sftp %s: cannot resolve host: %s", c->where,
				    gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		l2->sock = sftp_connect_one(ai, c->timeout_ms);
		if (l2->sock >= 0)
			break;
		err = errno;
	}
	freeaddrinfo(res);
	if (l2->sock < 0)
		return nv_error_set(NV_ERETRY, "sftp %s: connect: %s", c->where, strerror(err));
	return 0;
}

static int sftp_handshake(struct nv_conn *c, struct nv_sftp_l2 *l2)
{
	struct nv_sftp_known *k;
	const char *blob;
	size_t len;
	int type, rc;

	rc = nv_sftp_known_load(&k, c);
	if (rc)
		return rc;
	/* libssh2 1.10 would pick the server's first host-key algorithm; a host
	 * known by another key type would then look changed. */
	sftp_pref(l2->ssh, LIBSSH2_METHOD_HOSTKEY,
		  *nv_sftp_known_prefs(k) ? nv_sftp_known_prefs(k) : NV_SFTP_HOSTKEYS);
	sftp_pref(l2->ssh, LIBSSH2_METHOD_CRYPT_CS, NV_SFTP_CIPHERS);
	sftp_pref(l2->ssh, LIBSSH2_METHOD_CRYPT_SC, NV_SFTP_CIPHERS);
	rc = libssh2_session_handshake(l2->ssh, l2->sock);
	if (rc) {
		nv_sftp_known_free(k);
		return nv_sftp_l2_fail(c, rc, "SSH handshake");
	}
	blob = libssh2_session_hostkey(l2->ssh, &len, &type);
	if (!blob)
		rc = nv_sftp_l2_fail(c, libssh2_session_last_errno(l2->ssh), "reading host key");
	else
		rc = nv_sftp_known_check(k, c, (const unsigned char *)blob, len);
	nv_sftp_known_free(k);
	return rc;
}

static pthread_once_t sftp_once = PTHREAD_ONCE_INIT;
static int sftp_init_rc;

static void sftp_global_init(void)
{
	sftp_init_rc = libssh2_init(0);
}

int nv_sftp_l2_connect(struct nv_conn *c)
{
	struct nv_sftp_l2 *l2;
	int rc;

	pthread_once(&sftp_once, sftp_global_init);
	if (sftp_init_rc)
		return nv_error_set(NV_ERR, "sftp: libssh2 failed to initialise");
	if (!(l2 = calloc(1, sizeof(*l2))))
		return nv_error_set(NV_ERR, "out of memory");
	l2->sock = -1;
	c->t = l2; /* a failure below tears it down (nv_sftp_teardown) */
	rc = sftp_tcp(c, l2);
	if (rc)
		goto out;
	l2->ssh = libssh2_session_init_ex(NULL, NULL, NULL, c); /* c: for sftp_kbdint */
	if (!l2->ssh) {
		rc = nv_error_set(NV_ERR, "sftp %s: cannot create an SSH session", c->where);
		goto out;
	}
	libssh2_session_set_blocking(l2->ssh, 1);
	libssh2_session_set_timeout(l2->ssh, c->timeout_ms);
	rc = sftp_handshake(c, l2);
	if (!rc) {
		libssh2_keepalive_config(l2->ssh, 1, c->keepalive_sec);
		rc = nv_sftp_auth(c);
	}
	if (!rc) {
		l2->sftp = libssh2_sftp_init(l2->ssh);
		if (!l2->sftp)
			rc = nv_sftp_l2_fail(c, libssh2_session_last_errno(l2->ssh),
					     "starting the SFTP subsystem");
	}
out:
	if (rc)
		nv_sftp_teardown(c);
	return rc;
}
