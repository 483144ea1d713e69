/* fuzz_descriptor.c: the one-line JSON documents of src/vault/vault_doc.c: the vault
 * descriptor, the local pin and the heartbeat, each tried on every input. What
 * parses must format and parse back to the same fields. */
#include "fuzz.h"

#include "vault/vault_doc.h"

/* A pin made from d parses back to what d says. */
static void pin_round_trip(const nv_descriptor *d)
{
	nv_descriptor again;
	char *text;
	size_t n;

	NV_FUZZ_ASSERT(nv_pin_format(&text, &n, d) == 0);
	NV_FUZZ_ASSERT(nv_pin_parse(&again, text, n) == 0);
	NV_FUZZ_ASSERT(nv_descriptor_matches_pin(d, &again));
	free(text);
	nv_descriptor_clear(&again);
}

static void check_descriptor(const char *buf, size_t len)
{
	nv_descriptor d, again;
	char *text;
	size_t n;

	if (nv_descriptor_parse(&d, buf, len) != 0)
		return;
	NV_FUZZ_ASSERT(nv_descriptor_format(&text, &n, &d) == 0);
	NV_FUZZ_ASSERT(nv_descriptor_parse(&again, text, n) == 0);
	NV_FUZZ_ASSERT(nv_descriptor_matches_pin(&d, &again));
	NV_FUZZ_ASSERT(strcmp(d.created, again.created) == 0);
	NV_FUZZ_ASSERT(strcmp(d.kid_age, again.kid_age) == 0);
	free(text);
	nv_descriptor_clear(&again);
	pin_round_trip(&d);
	nv_descriptor_clear(&d);
}

static void check_pin(const char *buf, size_t len)
{
	nv_descriptor pin;

	if (nv_pin_parse(&pin, buf, len) != 0)
		return;
	pin_round_trip(&pin);
	nv_descriptor_clear(&pin);
}

static void check_heartbeat(const char *buf, size_t len)
{
	nv_heartbeat h, again;
	char *text;
	size_t n;

	if (nv_heartbeat_parse(&h, buf, len) != 0)
		return;
	NV_FUZZ_ASSERT(nv_heartbeat_format(&text, &n, &h) == 0);
	NV_FUZZ_ASSERT(nv_heartbeat_parse(&again, text, n) == 0);
	NV_FUZZ_ASSERT(strcmp(h.vault_id, again.vault_id) == 0 && h.generation == again.generation);
	NV_FUZZ_ASSERT(strcmp(h.manifest_sha256, again.manifest_sha256) == 0);
	NV_FUZZ_ASSERT(strcmp(h.time, again.time) == 0);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_descriptor((const char *)data, size);
	check_pin((const char *)data, size);
	check_heartbeat((const char *)data, size);
	return 0;
}
