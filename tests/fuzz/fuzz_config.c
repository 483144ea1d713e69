/* fuzz_config.c: the config file parser (src/util/config.c, through its public
 * entry point nv_config_load, given a file), then every remote's lookups as drivers
 * make them, and the Azure connection strings it may hold (drivers/azure_connstr.c). */
#include "fuzz.h"

#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../drivers/azure_connstr.h"
#include "util/config.h"

/* One file in memory (memfd: a fuzzer writing a disk file per input would wait on
 * the disk), mode 0600 as the parser demands, rewritten for each input and opened
 * through /proc/self/fd: nothing is left behind, even on a crash. */
static const char *input_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		if ((fd = memfd_create("nv-fuzz-config", MFD_CLOEXEC)) < 0 || fchmod(fd, 0600) != 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

static void look_up(const nv_config *cfg, const char *remote)
{
	nv_settings *s = nv_settings_new(cfg, remote);
	const char *cs;
	uint64_t u;
	int b;

	if (!s)
		abort();
	(void)nv_settings_get_bool(s, "path_style", NULL, 0, &b);
	(void)nv_settings_get_u64(s, "port", NULL, 22, &u);
	(void)nv_settings_get_size(s, "part_size", NULL, 0, &u);
	cs = nv_settings_get(s, "connection_string", NULL);
	if (cs) {
		nv_az_connstr parsed;

		(void)nv_az_connstr_parse(&parsed, cs);
		nv_az_connstr_clear(&parsed);
	}
	nv_settings_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nv_config *cfg;
	const char *name;

	if (nv_config_load(&cfg, input_file(data, size)) != 0)
		return 0;
	(void)nv_config_global(cfg, "identity", NULL);
	for (unsigned i = 0; (name = nv_config_remote_name(cfg, i)); i++) {
		NV_FUZZ_ASSERT(nv_config_remote_type(cfg, name) != NULL ||
			       strcmp(name, NV_CONFIG_GLOBAL) == 0);
		look_up(cfg, name);
	}
	nv_config_free(cfg);
	return 0;
}
