/* test_s3_delete.c: the DeleteObjects pieces of the s3 driver: the XML body (escaping,
 * UTF-8 names), the answer's parse, and the per-key error mapping. Run by make check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/s3.h"

static void test_body_escaping(void **state)
{
	const char *keys[] = { "a&b", "x<y>z", "caf\xc3\xa9 \xe6\x97\xa5.txt", "q\"uo'te",
			       "sp ace/  two" };
	nv_sb b = { 0 };

	(void)state;
	nv_s3_delete_body(&b, "root/", keys, 5, NULL);
	assert_int_equal(nv_sb_ok(&b), 0);
	assert_string_equal(b.s,
		"<Delete><Quiet>true</Quiet>"
		"<Object><Key>root/a&amp;b</Key></Object>"
		"<Object><Key>root/x&lt;y&gt;z</Key></Object>"
		"<Object><Key>root/caf\xc3\xa9 \xe6\x97\xa5.txt</Key></Object>"
		"<Object><Key>root/q&quot;uo&apos;te</Key></Object>"
		"<Object><Key>root/sp ace/  two</Key></Object>"
		"</Delete>");
	nv_sb_free(&b);
}

static void test_body_subset(void **state)
{
	const char *keys[] = { "one", "two", "three" };
	const unsigned char use[] = { 1, 0, 1 };
	nv_sb b = { 0 };

	(void)state;
	nv_s3_delete_body(&b, "", keys, 3, use);
	assert_string_equal(b.s, "<Delete><Quiet>true</Quiet><Object><Key>one</Key></Object>"
				 "<Object><Key>three</Key></Object></Delete>");
	nv_sb_free(&b);
}

/* Our own body must read back through the XML parser as the exact keys. */
static int key_cb(void *ctx, const char *path, const char *text, size_t len)
{
	nv_sb *got = ctx;

	if (strcmp(path, "Delete/Object/Key") == 0) {
		nv_sb_addn(got, text, len);
		nv_sb_add(got, "|");
	}
	return 0;
}

static void test_body_roundtrip(void **state)
{
	const char *keys[] = { "a&amp;b", "<![CDATA[x]]>", "\xf0\x9f\x98\x80 & <" };
	nv_sb b = { 0 }, got = { 0 };

	(void)state;
	nv_s3_delete_body(&b, "", keys, 3, NULL);
	assert_int_equal(nv_xml_parse(b.s, b.len, key_cb, &got), 0);
	assert_string_equal(got.s, "a&amp;b|<![CDATA[x]]>|\xf0\x9f\x98\x80 & <|");
	nv_sb_free(&b);
	nv_sb_free(&got);
}

static void test_xml_names(void **state)
{
	(void)state;
	assert_true(nv_s3_xml_name_ok("plain/key with space"));
	assert_true(nv_s3_xml_name_ok("caf\xc3\xa9/\xe6\x97\xa5/\xf0\x9f\x98\x80"));
	assert_false(nv_s3_xml_name_ok("latin1-caf\xe9"));        /* not UTF-8 */
	assert_false(nv_s3_xml_name_ok("over\xc0\xaflong"));       /* overlong '/' */
	assert_false(nv_s3_xml_name_ok("surr\xed\xa0\x80ogate"));  /* U+D800 */
	assert_false(nv_s3_xml_name_ok("nonchar\xef\xbf\xbe"));    /* U+FFFE */
	assert_false(nv_s3_xml_name_ok("cut\xe6\x97"));            /* truncated */
	assert_false(nv_s3_xml_name_ok("ctl\x01"));
}

static const char two_errors[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"  <Deleted><Key>r/gone</Key></Deleted>\n"
	"  <Error><Key>r/a&amp;b c</Key><Code>AccessDenied</Code>"
	"<Message>Access Denied</Message></Error>\n"
	"  <Error>\n    <Key>r/caf\xc3\xa9</Key>\n    <Code>InternalError</Code>\n"
	"    <Message>We encountered an internal error. Please try again.</Message>\n"
	"  </Error>\n"
	"</DeleteResult>";

static void test_parse_errors(void **state)
{
	struct s3_delete_result r;

	(void)state;
	assert_int_equal(nv_s3_delete_parse(&r, two_errors, strlen(two_errors)), 0);
	assert_int_equal(r.nerrors, 2);
	assert_string_equal(r.errors[0].key, "r/a&b c");
	assert_string_equal(r.errors[0].e.code, "AccessDenied");
	assert_string_equal(r.errors[0].e.message, "Access Denied");
	assert_string_equal(r.errors[1].key, "r/caf\xc3\xa9");
	assert_string_equal(r.errors[1].e.code, "InternalError");
	assert_string_equal(r.errors[1].e.message,
			    "We encountered an internal error. Please try again.");
	assert_int_equal(r.ndeleted, 1);
	assert_string_equal(r.deleted[0], "r/gone");
	nv_s3_delete_result_free(&r);
}

static void test_parse_quiet_and_bad(void **state)
{
	static const char quiet[] = "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>";
	static const char whole[] = "<Error><Code>InternalError</Code></Error>";
	struct s3_delete_result r;

	(void)state;
	assert_int_equal(nv_s3_delete_parse(&r, quiet, strlen(quiet)), 0);
	assert_int_equal(r.nerrors, 0);
	assert_int_equal(r.ndeleted, 0);
	nv_s3_delete_result_free(&r);
	assert_int_equal(nv_s3_delete_parse(&r, whole, strlen(whole)), NV_ERR);
	assert_int_not_equal(nv_s3_delete_parse(&r, "<DeleteResult><Error>", 21), 0);
	assert_int_not_equal(nv_s3_delete_parse(&r, "", 0), 0);
	/* Many entries: the arrays grow. */
	{
		nv_sb b = { 0 };

		nv_sb_add(&b, "<DeleteResult>");
		for (int i = 0; i < 1000; i++)
			nv_sb_addf(&b, "<Error><Key>k%d</Key><Code>AccessDenied</Code></Error>"
				   "<Deleted><Key>d%d</Key></Deleted>", i, i);
		nv_sb_add(&b, "</DeleteResult>");
		assert_int_equal(nv_s3_delete_parse(&r, b.s, b.len), 0);
		assert_int_equal(r.nerrors, 1000);
		assert_int_equal(r.ndeleted, 1000);
		assert_string_equal(r.errors[999].key, "k999");
		assert_string_equal(r.deleted[517], "d517");
		nv_s3_delete_result_free(&r);
		nv_sb_free(&b);
	}
}

/* Each per-key <Error> goes through the driver's one mapping. */
static void test_error_mapping(void **state)
{
	struct nv_conn c = { .bucket = "bkt", .root = "r/", .region = "us-east-1" };
	nv_xml_error e = { "AccessDenied", "Access Denied", "" };

	(void)state;
	assert_int_equal(nv_s3_error_of(&c, 0, &e, NULL, "POST (delete)", "a&b c"), NV_EPERM);
	assert_non_null(strstr(nv_error_msg(), "s3://bkt/r/a&b c: AccessDenied: Access Denied"));
	snprintf(e.code, sizeof(e.code), "InternalError");
	assert_int_equal(nv_s3_error_of(&c, 0, &e, NULL, "POST (delete)", "k"), NV_ERETRY);
	snprintf(e.code, sizeof(e.code), "SlowDown");
	assert_int_equal(nv_s3_error_of(&c, 0, &e, NULL, "POST (delete)", "k"), NV_ERETRY);
	snprintf(e.code, sizeof(e.code), "SomethingNew");
	assert_int_equal(nv_s3_error_of(&c, 0, &e, NULL, "POST (delete)", "k"), NV_ERR);
	snprintf(e.code, sizeof(e.code), "AccessDenied");
	assert_int_equal(nv_s3_error_of(&c, 403, &e, NULL, "GET", "k"), NV_EPERM);
	assert_non_null(strstr(nv_error_msg(), "s3://bkt/r/k: 403 AccessDenied"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_escaping),
		cmocka_unit_test(test_body_subset),
		cmocka_unit_test(test_body_roundtrip),
		cmocka_unit_test(test_xml_names),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_quiet_and_bad),
		cmocka_unit_test(test_error_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
