/* test_azure_sign.c: unit tests of the Azure Shared Key string-to-sign and
 * signature against Microsoft's worked examples, and of connection strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../drivers/azure_connstr.h"
#include "../drivers/azure_sign.h"
#include "../drivers/http.h"
#include "util/error.h"

/* The storage emulator's published, well-known account key. */
static const char emu_key[] =
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/* "Authorize with Shared Key": Get Container Metadata through a path-style
 * (emulator) URL; the account appears twice in the canonicalized resource. */
static void test_doc_example(void **state)
{
	const nv_az_hdr h[] = {
		{ "x-ms-version", "2009-09-19" },
		{ "x-ms-date", "Sun, 11 Oct 2009 21:49:13 GMT" },
	};
	char *sts;

	(void)state;
	assert_int_equal(nv_az_string_to_sign(&sts, "GET", h, 2, "myaccount",
					      "/myaccount/mycontainer",
					      "restype=container&comp=metadata&timeout=20"), 0);
	assert_string_equal(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\n"
			    "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\n"
			    "x-ms-version:2009-09-19\n"
			    "/myaccount/myaccount/mycontainer\ncomp:metadata\n"
			    "restype:container\ntimeout:20");
	free(sts);
}

/* Signature over the example above with the emulator key; the expected value
 * was computed independently with `openssl dgst -sha256 -mac HMAC`. */
static void test_authorization(void **state)
{
	const char *sts = "GET\n\n\n\n\n\n\n\n\n\n\n\n"
			  "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\n"
			  "x-ms-version:2009-09-19\n"
			  "/myaccount/myaccount/mycontainer\ncomp:metadata\n"
			  "restype:container\ntimeout:20";
	unsigned char *key;
	size_t keylen;
	char *auth;

	(void)state;
	assert_int_equal(nv_az_key_decode(&key, &keylen, emu_key), 0);
	assert_int_equal(keylen, 64);
	assert_int_equal(nv_az_authorization(&auth, "myaccount", key, keylen, sts), 0);
	assert_string_equal(auth,
			    "SharedKey myaccount:Su5rvibNeMxB7A4I87rOtEgCDtdICsL8v5H+yJs0W+M=");
	free(auth);
	free(key);
}

/* The account key: padding optional, blanks around it ignored, anything
 * else that is not canonical base64 refused without quoting it. */
static void test_key_decode(void **state)
{
	unsigned char *key;
	size_t keylen;

	(void)state;
	assert_int_equal(nv_az_key_decode(&key, &keylen, "\t a2V5MQ==\n"), 0);
	assert_int_equal(keylen, 4);
	assert_memory_equal(key, "key1", 4);
	free(key);
	assert_int_equal(nv_az_key_decode(&key, &keylen, "a2V5MQ"), 0);
	assert_int_equal(keylen, 4);
	free(key);
	assert_int_equal(nv_az_key_decode(&key, &keylen, "not base64!"), NV_EINVAL);
	assert_null(key);
	assert_null(strstr(nv_error_msg(), "not base64!"));
	assert_int_equal(nv_az_key_decode(&key, &keylen, "a2V5M=Q="), NV_EINVAL);
	assert_int_equal(nv_az_key_decode(&key, &keylen, "  "), NV_EINVAL);
}

/* The docs' List Blobs example: repeated names join their sorted values. */
static void test_repeated_query(void **state)
{
	char *sts;

	(void)state;
	assert_int_equal(nv_az_string_to_sign(&sts, "GET", NULL, 0, "myaccount",
		"/mycontainer",
		"restype=container&comp=list&include=snapshots&include=metadata"
		"&include=uncommittedblobs"), 0);
	assert_non_null(strstr(sts, "/myaccount/mycontainer\ncomp:list\n"
			       "include:metadata,snapshots,uncommittedblobs\n"
			       "restype:container"));
	free(sts);
}

/* Standard headers in their slots, zero Content-Length signed empty, x-ms-*
 * sorted by name (x-ms-range before x-ms-range-get-content-md5), names
 * lower-cased, values decoded, whitespace folded. */
static void test_headers_and_decoding(void **state)
{
	const nv_az_hdr h[] = {
		{ "x-ms-range-get-content-md5", "true" },
		{ "Content-Length", "11" },
		{ "X-MS-Range", "bytes=0-9" },
		{ "Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww==" },
		{ "If-None-Match", "*" },
		{ "x-ms-meta-mtime", "  1700000000.5   x " },
		{ "Accept", "ignored" },
	};
	const nv_az_hdr zero[] = { { "Content-Length", "0" } };
	char *sts;

	(void)state;
	assert_int_equal(nv_az_string_to_sign(&sts, "PUT", h, 7, "devstoreaccount1",
		"/devstoreaccount1/c/a%20b/%C3%A9", "prefix=a%2Fb%20c&Comp=Block"), 0);
	assert_string_equal(sts, "PUT\n\n\n11\nXrY7u+Ae7tCTyyK7j1rNww==\n\n\n\n\n*\n\n\n"
			    "x-ms-meta-mtime:1700000000.5 x\n"
			    "x-ms-range:bytes=0-9\n"
			    "x-ms-range-get-content-md5:true\n"
			    "/devstoreaccount1/devstoreaccount1/c/a%20b/%C3%A9\n"
			    "comp:Block\nprefix:a/b c");
	free(sts);
	assert_int_equal(nv_az_string_to_sign(&sts, "PUT", zero, 1, "a", "/c", NULL), 0);
	assert_string_equal(sts, "PUT\n\n\n\n\n\n\n\n\n\n\n\n/a/c");
	free(sts);
}

static void test_connstr(void **state)
{
	nv_az_connstr c;

	(void)state;
	assert_int_equal(nv_az_connstr_parse(&c, "DefaultEndpointsProtocol=http;"
		"AccountName=devstoreaccount1;AccountKey=" NV_AZ_EMULATOR_KEY ";"
		"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;"), 0);
	assert_string_equal(c.account, "devstoreaccount1");
	assert_string_equal(c.key, NV_AZ_EMULATOR_KEY);
	assert_string_equal(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
	assert_null(c.sas);
	nv_az_connstr_clear(&c);

	assert_int_equal(nv_az_connstr_parse(&c, "accountname=acct;EndpointSuffix="
		"core.chinacloudapi.cn;SharedAccessSignature=?sv=2021-08-06&sig=a%2Bb="), 0);
	assert_string_equal(c.endpoint, "https://acct.blob.core.chinacloudapi.cn");
	assert_string_equal(c.sas, "sv=2021-08-06&sig=a%2Bb=");
	assert_null(c.key);
	nv_az_connstr_clear(&c);

	assert_int_equal(nv_az_connstr_parse(&c, "UseDevelopmentStorage=true"), 0);
	assert_string_equal(c.account, NV_AZ_EMULATOR_ACCOUNT);
	assert_string_equal(c.key, NV_AZ_EMULATOR_KEY);
	assert_string_equal(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
	nv_az_connstr_clear(&c);

	assert_int_equal(nv_az_connstr_parse(&c, "AccountName=a;AccountName=b"), NV_EINVAL);
	nv_az_connstr_clear(&c);
	assert_int_equal(nv_az_connstr_parse(&c, "AccountName=a;junk"), NV_EINVAL);
	nv_az_connstr_clear(&c);
	assert_int_equal(nv_az_connstr_parse(&c, "AccountKey=s3cret;x"), NV_EINVAL);
	assert_null(strstr(nv_error_msg(), "s3cret"));
	nv_az_connstr_clear(&c);
	assert_int_equal(nv_az_connstr_parse(&c, "DefaultEndpointsProtocol=ftp;"
					     "AccountName=a"), NV_EINVAL);
	nv_az_connstr_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_authorization),
		cmocka_unit_test(test_key_decode),
		cmocka_unit_test(test_repeated_query),
		cmocka_unit_test(test_headers_and_decoding),
		cmocka_unit_test(test_connstr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
