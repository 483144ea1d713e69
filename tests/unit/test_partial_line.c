/* test_partial_line.c: the hand reader of a partial catalog's file lines
 * (vault/partial_line.h) against jansson: it takes the writer's form with
 * jansson's values, leaves every other line to jansson (which parse_file then
 * accepts or refuses as before), and never takes a line jansson would refuse
 * or read otherwise: every byte of a line altered, or the line cut, either
 * reads alike both ways or is left to jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "vault/partial_line.h"
#include "vault/run_doc.h"

#define SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define OBJ "objects/94/94bbeebc3ed4fdfef6a3b372689d408b821ad6796d97c1e65cfe2b82a37aa9bc" \
	".0123456789abcdef.age"
/* LINE_OF(mode, mtime, path, size): a file line in the writer's form */
#define LINE_OF(mode, mtime, path, size) "{\"mode\":" mode ",\"mtime\":" mtime ",\"mtime_ns\":" \
	"120000000,\"object\":\"" OBJ "\",\"path\":\"" path "\",\"sha256\":\"" SHA "\",\"size\":" \
	size ",\"stored_sha256\":\"abababababababababababababababababababababababababababababababab\"," \
	"\"stored_size\":207}"
#define LINE LINE_OF("420", "1764464523", "dir/file.txt", "6")

/* jansson's reading, as run_doc.c's fallback makes it: 0 and *f (strings
 * into *o), or -1. */
static int by_jansson(nv_pline *f, json_t **o, const char *line, size_t len)
{
	json_int_t v[5];

	*o = memchr(line, '\n', len) ? NULL : json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*o) ||
	    json_unpack(*o, "{s:I, s:I, s:I, s:s%, s:s%, s:s%, s:I, s:s%, s:I !}", "mode", &v[0],
			"mtime", &v[1], "mtime_ns", &v[2], "object", &f->object.s, &f->object.len,
			"path", &f->path.s, &f->path.len, "sha256", &f->sha256.s, &f->sha256.len,
			"size", &v[3], "stored_sha256", &f->stored_sha256.s, &f->stored_sha256.len,
			"stored_size", &v[4]) != 0) {
		json_decref(*o);
		*o = NULL;
		return -1;
	}
	f->mode = v[0];
	f->mtime = v[1];
	f->mtime_ns = v[2];
	f->size = v[3];
	f->stored_size = v[4];
	return 0;
}

static int same_str(nv_pline_str a, nv_pline_str b)
{
	return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
}

static int same(const nv_pline *a, const nv_pline *b)
{
	return a->mode == b->mode && a->mtime == b->mtime && a->mtime_ns == b->mtime_ns &&
	       a->size == b->size && a->stored_size == b->stored_size &&
	       same_str(a->object, b->object) && same_str(a->path, b->path) &&
	       same_str(a->sha256, b->sha256) && same_str(a->stored_sha256, b->stored_sha256);
}

/* The property: the hand reader takes a line only as jansson reads it. */
static void check_line(const char *line, size_t len)
{
	nv_pline fast, ref;
	json_t *o;

	if (nv_pline_fast(&fast, line, len) != 0)
		return;
	if (by_jansson(&ref, &o, line, len) != 0)
		fail_msg("taken by hand, refused by jansson: %.*s", (int)len, line);
	if (!same(&fast, &ref))
		fail_msg("read otherwise than jansson: %.*s", (int)len, line);
	json_decref(o);
}

static void test_writer_form(void **state)
{
	static const char *const lines[] = {
		LINE,
		LINE_OF("0", "-5", "a", "0"),                              /* a time before 1970 */
		LINE_OF("0", "-0", "a", "0"),                              /* JSON's -0 is 0 */
		LINE_OF("4095", "1", "a", "999999999999999999"),           /* 18 digits */
		LINE_OF("420", "1", " !#$%&'()*+,-./:;<=>?@[]^_`{|}~", "1"), /* printable ASCII */
	};
	nv_pline f;
	nv_cat_entry e;
	nv_obj_rec obj;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
		if (nv_pline_fast(&f, lines[i], strlen(lines[i])) != 0)
			fail_msg("not taken by hand: %s", lines[i]);
		check_line(lines[i], strlen(lines[i]));
	}
	assert_int_equal(nv_pline_fast(&f, lines[1], strlen(lines[1])), 0);
	assert_true(f.mtime == -5 && f.mode == 0 && f.mtime_ns == 120000000 && f.stored_size == 207);
	assert_int_equal(nv_partial_file_parse(&e, &obj, LINE, strlen(LINE)), 0);
	assert_string_equal(e.path, "dir/file.txt");
	assert_string_equal(obj.name, OBJ);
	assert_true(e.size == 6 && e.mode == 0644 && e.mtime == 1764464523 && obj.size == 207);
	assert_true(e.sha256[0] == 0x58 && obj.sha256[31] == 0xab);
	free(e.path);
	free(obj.name);
}

/* Lines of another form: left to jansson, then accepted or refused as before. */
static void test_other_forms(void **state)
{
	static const struct {
		const char *line, *path; /* path: what an accepted line reads; NULL: refused */
	} cases[] = {
		{ "{\"mode\": 420,\"mtime\":1,\"mtime_ns\":0,\"object\":\"" OBJ "\",\"path\":\"x\","
		  "\"sha256\":\"" SHA "\",\"size\":6,\"stored_sha256\":\"" SHA "\",\"stored_size\":1}",
		  "x" },                                                      /* a blank */
		{ "{\"path\":\"x\",\"mode\":420,\"mtime\":1,\"mtime_ns\":0,\"object\":\"" OBJ "\","
		  "\"sha256\":\"" SHA "\",\"size\":6,\"stored_sha256\":\"" SHA "\",\"stored_size\":1}",
		  "x" },                                                      /* another order */
		{ LINE_OF("420", "1", "dir\\/file.txt", "6"), "dir/file.txt" }, /* an escape */
		{ LINE_OF("420", "1", "caf\\u00e9", "6"), "caf\xc3\xa9" },    /* ASCII only */
		{ LINE_OF("420", "1", "caf\xc3\xa9", "6"), "caf\xc3\xa9" },   /* raw UTF-8 */
		{ LINE_OF("420", "1", "a", "1000000000000000000"), "a" },     /* 19 digits */
		{ LINE_OF("0420", "1", "a", "6"), NULL },                     /* a leading zero */
		{ LINE_OF("420", "1", "a", "1e3"), NULL },                    /* not an integer */
		{ LINE_OF("420", "1", "a", "6.0"), NULL },
		{ LINE_OF("420", "1", "a", "99999999999999999999"), NULL },   /* too big */
		{ LINE_OF("420", "-", "a", "6"), NULL },
		{ LINE_OF("420", "1", "a\x01", "6"), NULL },                  /* a raw control */
		{ LINE_OF("420", "1", "a\\", "6"), NULL },
		{ LINE_OF("420", "1", "a", "6") "x", NULL },                  /* after the end */
		{ LINE_OF("420", "1", "a", "6") "\n", NULL },                 /* a second line */
		{ "{\"mode\":420,\"mode\":420,\"mtime\":1,\"mtime_ns\":0,\"object\":\"" OBJ "\","
		  "\"path\":\"x\",\"sha256\":\"" SHA "\",\"size\":6,\"stored_sha256\":\"" SHA "\","
		  "\"stored_size\":1}", NULL },                                /* a key twice */
		{ "", NULL },
		{ "{}", NULL },
	};
	nv_cat_entry e;
	nv_obj_rec obj;
	nv_pline f;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *l = cases[i].line;
		int rc;

		if (nv_pline_fast(&f, l, strlen(l)) != 1)
			fail_msg("taken by hand: %s", l);
		rc = nv_partial_file_parse(&e, &obj, l, strlen(l));
		if (!cases[i].path) {
			if (rc != NV_EMISMATCH)
				fail_msg("accepted (%d): %s", rc, l);
			assert_null(e.path);
			assert_null(obj.name);
			continue;
		}
		if (rc != 0)
			fail_msg("refused: %s: %s", l, nv_error_msg());
		assert_string_equal(e.path, cases[i].path);
		assert_string_equal(obj.name, OBJ);
		free(e.path);
		free(obj.name);
	}
}

/* Every byte of LINE replaced (by each of a few bytes that matter to the
 * grammar), and every cut of it: either the same reading as jansson's, or
 * left to jansson. */
static void test_altered_lines(void **state)
{
	static const char subst[] = "0 19-\"\\,:{}x.e\x7f\x80";
	char buf[sizeof(LINE)];
	size_t len = strlen(LINE);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++)
		check_line(LINE, cut);
	for (size_t i = 0; i < len; i++)
		for (size_t k = 0; k < sizeof(subst) - 1; k++) {
			memcpy(buf, LINE, len + 1);
			buf[i] = subst[k];
			check_line(buf, len);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_form),
		cmocka_unit_test(test_other_forms),
		cmocka_unit_test(test_altered_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
