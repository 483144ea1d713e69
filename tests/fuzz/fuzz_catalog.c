/* fuzz_catalog.c: the catalog's strict parse (src/vault/vault_doc.c): paths that
 * are valid keys, sorted, unique, no file that is also a directory. What parses
 * must write back, line by line with nv_catalog_line, to a catalog that parses to
 * the same entries. */
#include "fuzz.h"

#include "util/strbuf.h"
#include "vault/vault_doc.h"

static void append_line(nv_sb *sb, char *line)
{
	NV_FUZZ_ASSERT(line != NULL);
	nv_sb_add(sb, line);
	free(line);
}

static void assert_same(const nv_catalog *a, const nv_catalog *b)
{
	NV_FUZZ_ASSERT(strcmp(a->vault_id, b->vault_id) == 0);
	NV_FUZZ_ASSERT(a->generation == b->generation && a->n == b->n);
	for (size_t i = 0; i < a->n; i++) {
		const nv_cat_entry *x = &a->e[i], *y = &b->e[i];

		NV_FUZZ_ASSERT(strcmp(x->path, y->path) == 0 && strcmp(x->object, y->object) == 0);
		NV_FUZZ_ASSERT(x->size == y->size && x->mode == y->mode);
		NV_FUZZ_ASSERT(x->mtime == y->mtime && x->mtime_ns == y->mtime_ns);
		NV_FUZZ_ASSERT(memcmp(x->sha256, y->sha256, NV_SHA256_LEN) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nv_catalog c, again;
	nv_sb sb = { 0 };

	if (nv_catalog_parse(&c, (const char *)data, size) != 0)
		return 0;
	append_line(&sb, nv_catalog_line(&c, NULL));
	for (size_t i = 0; i < c.n; i++)
		append_line(&sb, nv_catalog_line(&c, &c.e[i]));
	NV_FUZZ_ASSERT(nv_sb_ok(&sb) == 0);
	NV_FUZZ_ASSERT(nv_catalog_parse(&again, sb.s, sb.len) == 0);
	assert_same(&c, &again);
	nv_catalog_clear(&again);
	nv_catalog_clear(&c);
	nv_sb_free(&sb);
	return 0;
}
