/* test_sigv4.c: the SigV4 signer against AWS's worked examples (S3 "Signature
 * Calculations for the Authorization Header" and the IAM ListUsers example). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/s3.h"
#include "../../drivers/s3_sign.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void check_all(const nv_sigv4 *s, const char *want_creq, const char *want_sts,
		      const char *want_sig, const char *want_auth)
{
	char *creq, *sh, *sts, *auth, sig[65];

	assert_int_equal(nv_sigv4_canonical_request(&creq, &sh, s), 0);
	if (want_creq)
		assert_string_equal(creq, want_creq);
	assert_int_equal(nv_sigv4_string_to_sign(&sts, s, creq), 0);
	if (want_sts)
		assert_string_equal(sts, want_sts);
	assert_int_equal(nv_sigv4_signature(sig, s, sts), 0);
	assert_string_equal(sig, want_sig);
	assert_int_equal(nv_sigv4_authorization(&auth, s), 0);
	if (want_auth)
		assert_string_equal(auth, want_auth);
	free(creq);
	free(sh);
	free(sts);
	free(auth);
}

/* S3 docs, "Example: GET Object": first 10 bytes of test.txt. */
static void test_s3_get_object(void **state)
{
	nv_http_headers h = { 0 };
	nv_sigv4 s = {
		.method = "GET", .uri = "/test.txt", .query = "", .headers = &h,
		.payload_hash = EMPTY_SHA, .amz_date = "20130524T000000Z",
		.region = "us-east-1", .service = "s3", .access_key = AKID,
		.secret_key = S3_SECRET,
	};

	(void)state;
	/* Header order and case must not matter. */
	nv_http_header_add(&h, "x-amz-date", "20130524T000000Z");
	nv_http_header_add(&h, "Range", "bytes=0-9");
	nv_http_header_add(&h, "Host", "examplebucket.s3.amazonaws.com");
	nv_http_header_add(&h, "x-amz-content-sha256", "%s", EMPTY_SHA);
	check_all(&s,
		  "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
		  "x-amz-content-sha256:" EMPTY_SHA "\nx-amz-date:20130524T000000Z\n\n"
		  "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA,
		  "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
		  "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
		  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		  "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
		  "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
		  "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	nv_http_headers_clear(&h);
}

/* S3 docs, "Example: PUT Object": a '$' in the key, a signed body. */
static void test_s3_put_object(void **state)
{
	const char *body = "Welcome to Amazon S3.";
	char hash[65];
	nv_http_headers h = { 0 };
	nv_sb uri = { 0 };
	nv_sigv4 s = {
		.method = "PUT", .query = "", .headers = &h, .payload_hash = hash,
		.amz_date = "20130524T000000Z", .region = "us-east-1", .service = "s3",
		.access_key = AKID, .secret_key = S3_SECRET,
	};

	(void)state;
	nv_sha256_hex(hash, body, strlen(body));
	assert_string_equal(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	nv_sb_add(&uri, "/");
	nv_sb_add_urlenc(&uri, "test$file.text", 14, 1);
	s.uri = uri.s;
	nv_http_header_add(&h, "Host", "examplebucket.s3.amazonaws.com");
	nv_http_header_add(&h, "Date", "Fri, 24 May 2013 00:00:00 GMT");
	nv_http_header_add(&h, "x-amz-date", "20130524T000000Z");
	nv_http_header_add(&h, "x-amz-storage-class", "REDUCED_REDUNDANCY");
	nv_http_header_add(&h, "x-amz-content-sha256", "%s", hash);
	check_all(&s,
		  "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
		  "host:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:"
		  "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
		  "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
		  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
		  "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
		  NULL, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd", NULL);
	nv_http_headers_clear(&h);
	nv_sb_free(&uri);
}

static void sign_bucket_get(const char *const *pairs, size_t npairs, const char *want_query,
			    const char *want_sig)
{
	nv_http_headers h = { 0 };
	char *query;
	nv_sigv4 s = {
		.method = "GET", .uri = "/", .headers = &h, .payload_hash = EMPTY_SHA,
		.amz_date = "20130524T000000Z", .region = "us-east-1", .service = "s3",
		.access_key = AKID, .secret_key = S3_SECRET,
	};

	assert_int_equal(nv_sigv4_query(&query, pairs, npairs), 0);
	assert_string_equal(query, want_query);
	s.query = query;
	nv_http_header_add(&h, "Host", "examplebucket.s3.amazonaws.com");
	nv_http_header_add(&h, "x-amz-date", "20130524T000000Z");
	nv_http_header_add(&h, "x-amz-content-sha256", "%s", EMPTY_SHA);
	check_all(&s, NULL, NULL, want_sig, NULL);
	nv_http_headers_clear(&h);
	free(query);
}

/* S3 docs, "Example: GET Bucket Lifecycle": a value-less parameter. */
static void test_s3_get_lifecycle(void **state)
{
	const char *const pairs[] = { "lifecycle", NULL };

	(void)state;
	sign_bucket_get(pairs, 1, "lifecycle=",
			"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

/* S3 docs, "Example: Get Bucket (List Objects)": parameters sorted by name. */
static void test_s3_list_objects(void **state)
{
	const char *const pairs[] = { "prefix", "J", "max-keys", "2" };

	(void)state;
	sign_bucket_get(pairs, 2, "max-keys=2&prefix=J",
			"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

/* General SigV4 docs: IAM ListUsers, a non-S3 service, a header with "; ". */
static void test_iam_list_users(void **state)
{
	const char *const pairs[] = { "Version", "2010-05-08", "Action", "ListUsers" };
	nv_http_headers h = { 0 };
	char *query;
	nv_sigv4 s = {
		.method = "GET", .uri = "/", .headers = &h, .payload_hash = EMPTY_SHA,
		.amz_date = "20150830T123600Z", .region = "us-east-1", .service = "iam",
		.access_key = "AKIDEXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	};

	(void)state;
	assert_int_equal(nv_sigv4_query(&query, pairs, 2), 0);
	s.query = query;
	nv_http_header_add(&h, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
	nv_http_header_add(&h, "Host", "iam.amazonaws.com");
	nv_http_header_add(&h, "X-Amz-Date", "20150830T123600Z");
	check_all(&s,
		  "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
		  "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
		  "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
		  "content-type;host;x-amz-date\n" EMPTY_SHA,
		  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
		  "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
		  "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request,"
		  "SignedHeaders=content-type;host;x-amz-date,"
		  "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
	nv_http_headers_clear(&h);
	free(query);
}

/* Query encoding rules curl leaves to us: '+', ' ', '/', '=' and unicode. */
static void test_query_encoding(void **state)
{
	const char *const pairs[] = { "prefix", "a b+c/\xc3\xa9", "continuation-token", "x/y=",
				      "uploads", NULL };
	char *q;

	(void)state;
	assert_int_equal(nv_sigv4_query(&q, pairs, 3), 0);
	assert_string_equal(q, "continuation-token=x%2Fy%3D&prefix=a%20b%2Bc%2F%C3%A9&uploads=");
	free(q);
}

static void test_date(void **state)
{
	char d[17];

	(void)state;
	nv_sigv4_date(d, 1369353600);
	assert_string_equal(d, "20130524T000000Z");
}

static void test_trimall(void **state)
{
	nv_http_headers h = { 0 };
	char *creq, *sh;
	nv_sigv4 s = {
		.method = "GET", .uri = "", .query = "", .headers = &h, .payload_hash = "UNSIGNED-PAYLOAD",
		.amz_date = "20130524T000000Z", .region = "r", .service = "s3",
		.access_key = "a", .secret_key = "b",
	};

	(void)state;
	nv_http_header_add(&h, "X-Amz-Meta-A", "  two   words  ");
	nv_http_header_add(&h, "x-amz-meta-a", "again");
	assert_int_equal(nv_sigv4_canonical_request(&creq, &sh, &s), 0);
	assert_string_equal(creq, "GET\n/\n\nx-amz-meta-a:two words,again\n\nx-amz-meta-a\n"
				  "UNSIGNED-PAYLOAD");
	free(creq);
	free(sh);
	nv_http_headers_clear(&h);
}

/* x-amz-meta-mtime as rclone writes and reads it: float seconds. */
static void test_mtime_meta(void **state)
{
	int64_t sec;
	int32_t nsec;
	char out[32];

	(void)state;
	nv_s3_fmt_mtime(out, 1612325106, 500000000);
	assert_string_equal(out, "1612325106.500000000");
	assert_int_equal(nv_s3_parse_mtime(out, &sec, &nsec), 0);
	assert_true(sec == 1612325106 && nsec == 500000000);
	assert_int_equal(nv_s3_parse_mtime("1612325106.5", &sec, &nsec), 0);
	assert_true(sec == 1612325106 && nsec == 500000000);
	assert_int_equal(nv_s3_parse_mtime("1612325106", &sec, &nsec), 0);
	assert_true(sec == 1612325106 && nsec == 0);
	assert_int_equal(nv_s3_parse_mtime("1.0000000019", &sec, &nsec), 0);
	assert_true(sec == 1 && nsec == 1);
	nv_s3_fmt_mtime(out, -2, 500000000); /* -1.5 s */
	assert_string_equal(out, "-1.500000000");
	assert_int_equal(nv_s3_parse_mtime(out, &sec, &nsec), 0);
	assert_true(sec == -2 && nsec == 500000000);
	assert_int_equal(nv_s3_parse_mtime("", &sec, &nsec), NV_EINVAL);
	assert_int_equal(nv_s3_parse_mtime("12x", &sec, &nsec), NV_EINVAL);
	assert_int_equal(nv_s3_parse_mtime("1e9", &sec, &nsec), NV_EINVAL);
}

/* The one S3-error mapping: codes, hints, request ids. */
static int map_error(long status, const char *body, const char *header, char *msg, size_t cap)
{
	struct nv_conn c = { .bucket = "bkt", .root = "pre/", .region = "us-east-1" };
	nv_http_resp r = { .status = status };
	int rc;

	if (body) {
		r.body = strdup(body);
		r.body_len = strlen(body);
	}
	if (header)
		nv_http_header_add_line(&r.headers, header, strlen(header));
	rc = nv_s3_error(&c, &r, "GET", "k");
	snprintf(msg, cap, "%s", nv_error_msg());
	nv_http_resp_clear(&r);
	return rc;
}

static void test_error_mapping(void **state)
{
	char m[1024];

	(void)state;
	assert_int_equal(map_error(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>The "
				   "request signature we calculated does not match</Message>"
				   "<RequestId>R1</RequestId></Error>", NULL, m, sizeof(m)), NV_EAUTH);
	assert_string_equal(m, "s3: GET s3://bkt/pre/k: 403 SignatureDoesNotMatch: The request "
			       "signature we calculated does not match (check access_key_id, "
			       "secret_access_key and region) (request id R1)");
	assert_int_equal(map_error(403, "<Error><Code>InvalidAccessKeyId</Code></Error>", NULL, m,
				   sizeof(m)), NV_EAUTH);
	assert_int_equal(map_error(403, "<Error><Code>AccessDenied</Code></Error>", NULL, m,
				   sizeof(m)), NV_EPERM);
	assert_int_equal(map_error(404, "<Error><Code>NoSuchBucket</Code></Error>", NULL, m,
				   sizeof(m)), NV_ENOTFOUND);
	assert_non_null(strstr(m, "bucket does not exist"));
	assert_int_equal(map_error(404, NULL, "x-amz-request-id: R2", m, sizeof(m)), NV_ENOTFOUND);
	assert_non_null(strstr(m, "404: not found (request id R2)"));
	assert_int_equal(map_error(412, "<Error><Code>PreconditionFailed</Code></Error>", NULL, m,
				   sizeof(m)), NV_EEXISTS);
	/* the body was damaged on its way: sent again (it is in memory, whole) */
	assert_int_equal(map_error(400, "<Error><Code>BadDigest</Code></Error>", NULL, m,
				   sizeof(m)), NV_ERETRY);
	assert_int_equal(map_error(400, "<Error><Code>XAmzContentSHA256Mismatch</Code></Error>",
				   NULL, m, sizeof(m)), NV_ERETRY);
	assert_int_equal(map_error(400, "<Error><Code>InvalidDigest</Code></Error>", NULL, m,
				   sizeof(m)), NV_EMISMATCH);
	assert_int_equal(map_error(503, "<Error><Code>SlowDown</Code></Error>", NULL, m,
				   sizeof(m)), NV_ERETRY);
	assert_int_equal(map_error(400, "<Error><Code>RequestTimeout</Code></Error>", NULL, m,
				   sizeof(m)), NV_ERETRY);
	assert_int_equal(map_error(502, "<html>bad gateway</html>", NULL, m, sizeof(m)), NV_ERETRY);
	assert_int_equal(map_error(405, NULL, NULL, m, sizeof(m)), NV_ENOTSUP);
	assert_int_equal(map_error(400, "<Error><Code>AuthorizationHeaderMalformed</Code></Error>",
				   "x-amz-bucket-region: eu-west-3", m, sizeof(m)), NV_EAUTH);
	assert_non_null(strstr(m, "set region = eu-west-3"));
	assert_int_equal(map_error(409, "<Error><Code>Weird</Code></Error>", NULL, m, sizeof(m)),
			 NV_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_get_object),    cmocka_unit_test(test_s3_put_object),
		cmocka_unit_test(test_s3_get_lifecycle), cmocka_unit_test(test_s3_list_objects),
		cmocka_unit_test(test_iam_list_users),   cmocka_unit_test(test_query_encoding),
		cmocka_unit_test(test_trimall),          cmocka_unit_test(test_date),
		cmocka_unit_test(test_mtime_meta),
		cmocka_unit_test(test_error_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
