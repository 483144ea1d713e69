/* test_s3_uploads.c: the parse of a ListMultipartUploads page (the s3 driver's
 * leftovers), on the example of Amazon's API reference and on what a server
 * may get wrong; s3rver has no such call to test it against. Run by make check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/s3.h"

/* Amazon S3 API Reference, ListMultipartUploads, "Sample Response" (abridged). */
static const char page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"  <Bucket>bucket</Bucket>\n"
	"  <KeyMarker></KeyMarker>\n"
	"  <UploadIdMarker></UploadIdMarker>\n"
	"  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>\n"
	"  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>\n"
	"  <MaxUploads>3</MaxUploads>\n"
	"  <IsTruncated>true</IsTruncated>\n"
	"  <Upload>\n"
	"    <Key>my-divisor</Key>\n"
	"    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>\n"
	"    <Initiator><ID>arn:aws:iam::111122223333:user/u</ID><DisplayName>u</DisplayName>"
	"</Initiator>\n"
	"    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>"
	"<DisplayName>OwnerDisplayName</DisplayName></Owner>\n"
	"    <StorageClass>REDUCED_REDUNDANCY</StorageClass>\n"
	"    <Initiated>2010-11-10T20:48:33.000Z</Initiated>\n"
	"  </Upload>\n"
	"  <Upload>\n"
	"    <Key>my-movie &amp; more.m2ts</Key>\n"
	"    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\n"
	"    <StorageClass>STANDARD</StorageClass>\n"
	"    <Initiated>2010-11-10T20:49:33.000Z</Initiated>\n"
	"  </Upload>\n"
	"</ListMultipartUploadsResult>\n";

static void test_sample_page(void **state)
{
	struct s3_uploads_page p;

	(void)state;
	assert_int_equal(nv_s3_uploads_parse(&p, page1, strlen(page1)), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.u[0].key, "my-divisor");
	assert_string_equal(p.u[0].id, "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
	assert_int_equal(p.u[0].initiated, 1289422113);
	assert_string_equal(p.u[1].key, "my-movie & more.m2ts");
	assert_int_equal(p.u[1].initiated, 1289422173);
	assert_true(p.truncated);
	assert_string_equal(p.next_key, "my-movie.m2ts");
	assert_string_equal(p.next_id, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
	nv_s3_uploads_page_free(&p);
}

/* An entry without a key or an id cannot be aborted: left out. A date that
 * cannot be read is 0 (never old enough). An empty last page is no error. */
static void test_partial_entries(void **state)
{
	static const char doc[] =
		"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
		"<Upload><Key>no-id</Key></Upload>"
		"<Upload><UploadId>no-key</UploadId></Upload>"
		"<Upload><Key>k</Key><UploadId>u</UploadId><Initiated>yesterday</Initiated></Upload>"
		"</ListMultipartUploadsResult>";
	static const char empty[] =
		"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
		"</ListMultipartUploadsResult>";
	struct s3_uploads_page p;

	(void)state;
	assert_int_equal(nv_s3_uploads_parse(&p, doc, strlen(doc)), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.u[0].key, "k");
	assert_string_equal(p.u[0].id, "u");
	assert_int_equal(p.u[0].initiated, 0);
	assert_false(p.truncated);
	assert_null(p.next_key);
	nv_s3_uploads_page_free(&p);
	assert_int_equal(nv_s3_uploads_parse(&p, empty, strlen(empty)), 0);
	assert_int_equal(p.n, 0);
	nv_s3_uploads_page_free(&p);
}

static void test_not_xml(void **state)
{
	static const char junk[] = "<ListMultipartUploadsResult><Upload><Key>a</Key>";
	struct s3_uploads_page p;

	(void)state;
	assert_int_not_equal(nv_s3_uploads_parse(&p, junk, strlen(junk)), 0);
	assert_int_equal(p.n, 0);
	assert_null(p.u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_page),
		cmocka_unit_test(test_partial_entries),
		cmocka_unit_test(test_not_xml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
