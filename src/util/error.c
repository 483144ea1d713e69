/* error.c: per-thread error code and message (see error.h).
 * Everyone may call. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local int nv_err_code;
static _Thread_local char nv_err_msg[1024];

int nv_error_setv(int code, const char *fmt, va_list ap)
{
	nv_err_code = code;
	vsnprintf(nv_err_msg, sizeof(nv_err_msg), fmt, ap);
	return code;
}

int nv_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nv_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

int nv_error_wrap(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof(nv_err_msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, nv_err_msg, sizeof(old));
	nv_err_code = code;
	if (old[0])
		snprintf(nv_err_msg, sizeof(nv_err_msg), "%s: %s", prefix, old);
	else
		snprintf(nv_err_msg, sizeof(nv_err_msg), "%s", prefix);
	return code;
}

/* The one errno -> nv_err mapping (the local driver, state files, keys and
 * configs all come through here). tests/unit/test_error.c pins every row.
 *
 * ELOOP is NV_EINVAL, not "not found": navette opens with O_NOFOLLOW (and
 * RESOLVE_NO_SYMLINKS) where it refuses to follow a symbolic link, so ELOOP
 * means "a symlink stands there" (or a loop of them in a path the user gave).
 * The thing exists; navette declines to go through it, which a user must be
 * told rather than shown an empty place. A caller whose contract is that a
 * symlink is not an object (the local driver's stat, read, remove and listing)
 * says so itself, with its own message. */
int nv_error_from_errno(int errnum)
{
	switch (errnum) {
	case ENOENT: case ENOTDIR:
		return NV_ENOTFOUND;
	case EEXIST: case ENOTEMPTY:
	case EISDIR: /* a directory stands where a file was to go */
		return NV_EEXISTS;
	case EACCES: case EPERM: case EROFS: case ETXTBSY:
		return NV_EPERM;
	case ENOSPC: case EDQUOT:
	case EFBIG: /* past the file size limit: as good as full */
		return NV_ENOSPC;
	case EINVAL: case ENAMETOOLONG: case ELOOP:
	case EXDEV: /* openat2(RESOLVE_BENEATH): the path would leave its directory */
		return NV_EINVAL;
	case EINTR: case EAGAIN:
	case ESTALE: /* an NFS handle gone stale: opening again gets a fresh one */
		return NV_ERETRY;
	case ENOSYS: case EOPNOTSUPP:
		return NV_ENOTSUP;
	case ENOMEM: case EMFILE: case ENFILE: /* the process ran short, not the file */
		return NV_ERR;
	default:
		return NV_EIO;
	}
}

int nv_error_errno(int errnum, const char *fmt, ...)
{
	char prefix[768];
	va_list ap;
	int code = nv_error_from_errno(errnum);

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	return nv_error_set(code, "%s: %s", prefix, strerror(errnum));
}

const char *nv_error_msg(void) { return nv_err_msg; }
int nv_error_code(void) { return nv_err_code; }

void nv_error_clear(void)
{
	nv_err_code = NV_OK;
	nv_err_msg[0] = '\0';
}

const char *nv_error_name(int code)
{
	switch (code) {
	case NV_OK: return "ok";
	case NV_EOF: return "end";
	case NV_ENOTFOUND: return "not found";
	case NV_EEXISTS: return "already exists";
	case NV_EAUTH: return "authentication";
	case NV_ERETRY: return "transient";
	case NV_EMISMATCH: return "mismatch";
	case NV_ENOTSUP: return "not supported";
	case NV_EINVAL: return "invalid";
	case NV_EPERM: return "permission denied";
	case NV_ENOSPC: return "no space";
	case NV_EIO: return "I/O";
	case NV_ECANCEL: return "cancelled";
	case NV_ELIMIT: return "limit reached";
	default: return "error";
	}
}
