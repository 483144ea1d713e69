/* fuzz_manifest.c: the transport manifest's strict parse (src/vault/vault_doc.c),
 * both its fast path for object lines in nv_manifest_format's exact form and
 * jansson for any other. What parses must format and parse back to the same
 * records, and formatting that again must give the same bytes. */
#include "fuzz.h"

#include "vault/vault_doc.h"

static void assert_same(const nv_manifest *a, const nv_manifest *b)
{
	NV_FUZZ_ASSERT(strcmp(a->vault_id, b->vault_id) == 0);
	NV_FUZZ_ASSERT(a->generation == b->generation && a->n == b->n && a->bytes == b->bytes);
	NV_FUZZ_ASSERT(strcmp(a->time, b->time) == 0 && strcmp(a->previous, b->previous) == 0);
	NV_FUZZ_ASSERT(strcmp(a->catalog, b->catalog) == 0);
	for (size_t i = 0; i < a->n; i++) {
		NV_FUZZ_ASSERT(strcmp(a->objs[i].name, b->objs[i].name) == 0);
		NV_FUZZ_ASSERT(a->objs[i].size == b->objs[i].size);
		NV_FUZZ_ASSERT(memcmp(a->objs[i].sha256, b->objs[i].sha256, NV_SHA256_LEN) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nv_manifest m, again;
	char *text, *text2;
	size_t len, len2;

	if (nv_manifest_parse(&m, (const char *)data, size) != 0)
		return 0;
	NV_FUZZ_ASSERT(nv_manifest_find(&m, m.catalog) != NULL);
	NV_FUZZ_ASSERT(nv_manifest_format(&text, &len, &m) == 0);
	NV_FUZZ_ASSERT(nv_manifest_parse(&again, text, len) == 0);
	assert_same(&m, &again);
	NV_FUZZ_ASSERT(nv_manifest_format(&text2, &len2, &again) == 0);
	NV_FUZZ_ASSERT(len == len2 && memcmp(text, text2, len) == 0);
	free(text2);
	free(text);
	nv_manifest_clear(&again);
	nv_manifest_clear(&m);
	return 0;
}
