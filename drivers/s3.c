/* s3.c: the s3 storage driver (placeholder: "not built in" until it lands).
 * No code but src/driver.c calls these slots. */
#include "driver.h"

static const char *const s3_schemes[] = { "s3", NULL };

static int s3_open(struct nv_conn **out, const nv_location *loc)
{
	(void)loc;
	*out = NULL;
	return nv_error_set(NV_ENOTSUP, "the s3 driver is not built in yet");
}

static void s3_close(struct nv_conn *c) { (void)c; }

const nv_driver nv_driver_s3 = {
	.version = NV_DRIVER_VERSION,
	.name = "s3",
	.schemes = s3_schemes,
	.open = s3_open,
	.close = s3_close,
};
