/* cmd_stubs.c: commands whose implementation has not landed yet.
 * Called by the dispatcher in cli.c. */
#include "cli.h"

#include <stdio.h>

#define NV_STUB(fn, name)                                                         \
	int fn(nv_cli *c)                                                         \
	{                                                                         \
		(void)c;                                                          \
		fputs("navette: " name ": not available in this build yet\n", stderr); \
		return NV_EXIT_FATAL;                                             \
	}
NV_STUB(nv_cmd_pull, "pull")
NV_STUB(nv_cmd_verify, "verify")
NV_STUB(nv_cmd_log, "log")
