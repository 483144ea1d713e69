/* sftp_l2_int.h: the libssh2 transport of the sftp driver, shared by its files:
 * sftp_l2.c (its requests), sftp_connect.c (a session brought up), sftp_auth.c
 * and sftp_hostkey.c (used to come up), sftp_l2_err.c (the mapping of libssh2's
 * codes, under all of them). The only header that names libssh2 types.
 * Private to those five files. */
#ifndef NV_SFTP_L2_INT_H
#define NV_SFTP_L2_INT_H

#include "sftp_int.h"

#include <libssh2.h>
#include <libssh2_sftp.h>

/* libssh2 1.10 cuts reads and writes into requests of at most this many bytes. */
#define NV_SFTP_REQ_BYTES 30000u

/* The session (c->t while up). */
struct nv_sftp_l2 {
	int sock;                   /* -1 once closed */
	LIBSSH2_SESSION *ssh;
	LIBSSH2_SFTP *sftp;         /* NULL until the subsystem is up */
};

static inline struct nv_sftp_l2 *nv_sftp_l2(const struct nv_conn *c)
{
	return (struct nv_sftp_l2 *)c->t;
}

/* ---- sftp_l2_err.c: the mapping of libssh2's codes ---- */

/* What a libssh2 call returned (rc), in the transports' convention: an SFTP
 * status (> 0) when the server refused, else a negative nv_err with libssh2's
 * words in c->why. 0 stays 0. */
int nv_sftp_l2_rc(struct nv_conn *c, int rc);
/* nv_sftp_fail(c, nv_sftp_l2_rc(c, rc), ...) */
int nv_sftp_l2_fail(struct nv_conn *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- sftp_connect.c ---- */
int nv_sftp_l2_connect(struct nv_conn *c);

/* ---- sftp_hostkey.c: known_hosts ---- */
struct nv_sftp_known; /* keys known_hosts holds for one host */
int nv_sftp_known_load(struct nv_sftp_known **out, const struct nv_conn *c);
void nv_sftp_known_free(struct nv_sftp_known *k);
/* Host-key algorithms to prefer ("" when known_hosts has nothing for the host). */
const char *nv_sftp_known_prefs(const struct nv_sftp_known *k);
/* Checks the server's key blob; appends it for an unknown host under accept-new. */
int nv_sftp_known_check(const struct nv_sftp_known *k, const struct nv_conn *c,
			const unsigned char *blob, size_t len);

/* ---- sftp_auth.c ---- */
int nv_sftp_auth(struct nv_conn *c);

#endif
