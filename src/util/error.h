/* error.h: navette's few error codes and the per-thread error message.
 * Everyone may call; drivers map their library's errors here in one function each. */
#ifndef NV_ERROR_H
#define NV_ERROR_H

#include <stdarg.h>

/* 0 is success; negative codes are failures a caller can branch on.
 * NV_EOF is a positive "no more" from iterators, not a failure. */
enum nv_err {
	NV_OK = 0,
	NV_EOF = 1,
	NV_ERR = -1,       /* anything else: read the message */
	NV_ENOTFOUND = -2, /* key, file, bucket or path does not exist */
	NV_EEXISTS = -3,   /* create-if-absent target already exists */
	NV_EAUTH = -4,     /* credentials refused, host key unknown or changed */
	NV_ERETRY = -5,    /* transient: connection dropped, 5xx, timeout */
	NV_EMISMATCH = -6, /* bytes differ from what was expected (hash, size, MAC) */
	NV_ENOTSUP = -7,   /* the driver or server cannot do this */
	NV_EINVAL = -8,    /* bad argument, key, location or configuration */
	NV_EPERM = -9,     /* permission denied */
	NV_ENOSPC = -10,   /* no space left / quota exceeded */
	NV_EIO = -11,      /* local I/O error */
	NV_ECANCEL = -12,  /* interrupted by the user or by a fatal error elsewhere */
	NV_ELIMIT = -13,   /* a limit the user set was reached (--max-transfer): the run
	                    * stops cleanly and the next run resumes */
};

/* Records code and message for this thread and returns code, so callers write
 * `return nv_error_set(NV_EINVAL, "bad key '%s'", key);`. */
int nv_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nv_error_setv(int code, const char *fmt, va_list ap);
/* Prepends context to the current message: "pushing a/b: <old message>". */
int nv_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records strerror(errnum) after the message; returns the mapped code. */
int nv_error_errno(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps an errno value to an nv_err code: the one such mapping (ELOOP, a
 * symlink met under O_NOFOLLOW, is NV_EINVAL, not NV_ENOTFOUND; see error.c). */
int nv_error_from_errno(int errnum);
const char *nv_error_msg(void); /* never NULL; "" when nothing was set */
int nv_error_code(void);
void nv_error_clear(void);
const char *nv_error_name(int code); /* "not found", "auth", ... */

#endif
