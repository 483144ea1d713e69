/* fuzz_location.c: the location parser (src/driver/driver.c, nv_location_parse:
 * paths, file://, scheme://authority/path, NAME:path against a config naming one
 * remote of each type and one of an unknown type) and the credential-stripped form
 * others may read (src/driver/location_public.c). */
#include "fuzz.h"

#include <stdio.h>
#include <unistd.h>

#include "driver/driver.h"

static const char remotes[] =
	"[disk]\ntype = local\n[box]\ntype = sftp\nhost = h\n[ovh]\ntype = s3\n"
	"[blob]\ntype = azure\n[odd]\ntype = gopher\n";

/* The config above, loaded once from a file (the only way in). */
static nv_config *config(void)
{
	char name[] = "/tmp/nv-fuzz-location-XXXXXX";
	nv_config *cfg;
	int fd = mkstemp(name);

	if (fd < 0 || write(fd, remotes, sizeof(remotes) - 1) != (ssize_t)sizeof(remotes) - 1)
		abort();
	close(fd);
	if (nv_config_load(&cfg, name) != 0)
		abort();
	unlink(name);
	return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nv_config *cfg;
	char *text = nv_fuzz_str(data, size), *pub;
	nv_location *loc;

	if (!cfg)
		cfg = config();
	pub = nv_location_public(text);
	NV_FUZZ_ASSERT(pub && strlen(pub) <= strlen(text));
	if (nv_location_parse(&loc, text, cfg) == 0) {
		NV_FUZZ_ASSERT(loc->driver && loc->path && loc->settings);
		/* a parsed location's text is its public form: no password shown */
		NV_FUZZ_ASSERT(strcmp(loc->text, pub) == 0);
		nv_location_free(loc);
	}
	free(pub);
	free(text);
	return 0;
}
