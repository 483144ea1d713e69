/* local.c: the local storage driver (placeholder: "not built in" until it lands).
 * No code but src/driver.c calls these slots. */
#include "driver.h"

static const char *const local_schemes[] = { "file", NULL };

static int local_open(struct nv_conn **out, const nv_location *loc)
{
	(void)loc;
	*out = NULL;
	return nv_error_set(NV_ENOTSUP, "the local driver is not built in yet");
}

static void local_close(struct nv_conn *c) { (void)c; }

const nv_driver nv_driver_local = {
	.version = NV_DRIVER_VERSION,
	.name = "local",
	.schemes = local_schemes,
	.open = local_open,
	.close = local_close,
};
