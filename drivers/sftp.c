/* sftp.c: the sftp storage driver (placeholder: "not built in" until it lands).
 * No code but src/driver.c calls these slots. */
#include "driver.h"

static const char *const sftp_schemes[] = { "sftp", NULL };

static int sftp_open(struct nv_conn **out, const nv_location *loc)
{
	(void)loc;
	*out = NULL;
	return nv_error_set(NV_ENOTSUP, "the sftp driver is not built in yet");
}

static void sftp_close(struct nv_conn *c) { (void)c; }

const nv_driver nv_driver_sftp = {
	.version = NV_DRIVER_VERSION,
	.name = "sftp",
	.schemes = sftp_schemes,
	.open = sftp_open,
	.close = sftp_close,
};
