/* azure.c: the azure storage driver (placeholder: "not built in" until it lands).
 * No code but src/driver.c calls these slots. */
#include "driver.h"

static const char *const azure_schemes[] = { "az", NULL };

static int azure_open(struct nv_conn **out, const nv_location *loc)
{
	(void)loc;
	*out = NULL;
	return nv_error_set(NV_ENOTSUP, "the azure driver is not built in yet");
}

static void azure_close(struct nv_conn *c) { (void)c; }

const nv_driver nv_driver_azure = {
	.version = NV_DRIVER_VERSION,
	.name = "azure",
	.schemes = azure_schemes,
	.open = azure_open,
	.close = azure_close,
};
