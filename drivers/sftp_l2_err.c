/* sftp_l2_err.c: the libssh2 transport's one mapping of libssh2's codes to the
 * transports' convention (sftp_int.h): an SFTP status the server sent, or an
 * nv_err with libssh2's words. Called by sftp_l2.c, sftp_connect.c, sftp_auth.c. */
#include "sftp_l2_int.h"

#include <stdarg.h>
#include <stdio.h>

/* ---- the mapping of libssh2's codes ---- */

static int sftp_session_code(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
	case LIBSSH2_ERROR_PASSWORD_EXPIRED:
	case LIBSSH2_ERROR_KEYFILE_AUTH_FAILED:
	case LIBSSH2_ERROR_FILE:
	case LIBSSH2_ERROR_METHOD_NONE:
		return NV_EAUTH;
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_BAD_SOCKET:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_INVALID_MAC:
		return NV_ERETRY;
	case LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
		return NV_ENOTSUP;
	default:
		return NV_ERR;
	}
}

int nv_sftp_l2_rc(struct nv_conn *c, int rc)
{
	struct nv_sftp_l2 *l2 = nv_sftp_l2(c);
	unsigned long st;
	char *msg = NULL;
	int code;

	if (rc >= 0)
		return 0;
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && l2 && l2->sftp) {
		st = libssh2_sftp_last_error(l2->sftp);
		return st == 0 || st > 255 ? NV_SFTP_FX_FAILURE : (int)st;
	}
	code = sftp_session_code(rc);
	if (l2 && l2->ssh && libssh2_session_last_error(l2->ssh, &msg, NULL, 0) && msg && *msg)
		return nv_sftp_why(c, code, "%s", msg);
	return nv_sftp_why(c, code, "unknown error");
}

int nv_sftp_l2_fail(struct nv_conn *c, int rc, const char *fmt, ...)
{
	char ctx[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	return nv_sftp_fail(c, nv_sftp_l2_rc(c, rc), "%s", ctx);
}

