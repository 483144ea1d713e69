/* test_http.c: unit tests of the shared HTTP helpers (URL encoding, redaction,
 * XML reader, hashes, time parsing, URL policy, Retry-After). Run by make check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/http.h"
#include "util/retry.h"

static void test_urlenc(void **state)
{
	nv_sb b = { 0 };
	const char *in = "a b+c/d~e_f.g-h%\xc3\xa9(x)";
	char *s, *dec;

	(void)state;
	nv_sb_add_urlenc(&b, in, strlen(in), 0);
	assert_string_equal(b.s, "a%20b%2Bc%2Fd~e_f.g-h%25%C3%A9%28x%29");
	nv_sb_free(&b);
	nv_sb_add_urlenc(&b, in, strlen(in), 1);
	assert_string_equal(b.s, "a%20b%2Bc/d~e_f.g-h%25%C3%A9%28x%29");
	assert_int_equal(nv_url_decode(&dec, b.s, b.len), 0);
	assert_string_equal(dec, in);
	free(dec);
	s = nv_sb_take(&b);
	assert_non_null(s);
	free(s);
	assert_int_equal(nv_url_decode(&dec, "a%2", 3), 0);
	assert_string_equal(dec, "a%2");
	free(dec);
}

static void test_redact(void **state)
{
	char out[256];

	(void)state;
	nv_http_redact_url(out, sizeof(out),
			   "https://a.blob/c/b?sv=2020&sig=SeCrEt%2B&se=2030&comp=list");
	assert_string_equal(out, "https://a.blob/c/b?sv=2020&sig=REDACTED&se=2030&comp=list");
	assert_null(strstr(out, "SeCrEt"));
	nv_http_redact_url(out, sizeof(out),
			   "https://h/k?X-Amz-Credential=AKID%2F&X-Amz-Signature=abc&uploads");
	assert_string_equal(out, "https://h/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&uploads");
	nv_http_redact_url(out, sizeof(out), "https://h/b?max-keys=7&continuation-token=x&Token=y");
	assert_string_equal(out, "https://h/b?max-keys=7&continuation-token=x&Token=REDACTED");
	nv_http_redact_url(out, sizeof(out), "https://h/k");
	assert_string_equal(out, "https://h/k");
	nv_http_redact_header(out, sizeof(out), "Authorization: AWS4-HMAC-SHA256 Credential=x");
	assert_string_equal(out, "Authorization: REDACTED");
	nv_http_redact_header(out, sizeof(out), "x-amz-date: 20130524T000000Z");
	assert_string_equal(out, "x-amz-date: 20130524T000000Z");
}

struct collect {
	char keys[8][64];
	int n;
	char token[64];
};

static int list_cb(void *ctx, const char *path, const char *text, size_t len)
{
	struct collect *c = ctx;

	(void)len;
	if (strcmp(path, "ListBucketResult/Contents/Key") == 0 && c->n < 8)
		strcpy(c->keys[c->n++], text);
	else if (strcmp(path, "ListBucketResult/NextContinuationToken") == 0)
		strcpy(c->token, text);
	return 0;
}

static void test_xml_stream(void **state)
{
	const char *doc =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>b</Name><Contents><Key>a&amp;b</Key><Size>3</Size></Contents>"
		"<Contents><Key>caf\xc3\xa9 x+y</Key></Contents>"
		"<NextContinuationToken>tok/en==</NextContinuationToken></ListBucketResult>";
	struct collect c = { 0 };
	nv_xml *x;
	size_t i;

	(void)state;
	assert_int_equal(nv_xml_new(&x, list_cb, &c), 0);
	/* Feed one byte at a time: element text split across calls must join. */
	for (i = 0; doc[i]; i++)
		assert_int_equal(nv_xml_sink(x, doc + i, 1), 0);
	assert_int_equal(nv_xml_feed(x, NULL, 0, 1), 0);
	nv_xml_free(x);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.keys[0], "a&b");
	assert_string_equal(c.keys[1], "caf\xc3\xa9 x+y");
	assert_string_equal(c.token, "tok/en==");
}

static void test_xml_bad(void **state)
{
	struct collect c = { 0 };
	const char *dtd = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>";

	nv_sb deep = { 0 };
	char *big;
	int i;

	(void)state;
	/* The server's fault, never the user's configuration (NV_EINVAL exits 2). */
	assert_int_equal(nv_xml_parse("<a><b></a>", 10, list_cb, &c), NV_ERR);
	assert_int_equal(nv_xml_parse(dtd, strlen(dtd), list_cb, &c), NV_ERR);
	assert_non_null(strstr(nv_error_msg(), "DTD"));
	for (i = 0; i < 10000; i++)
		nv_sb_add(&deep, "<a>");
	assert_int_equal(nv_xml_parse(deep.s, deep.len, list_cb, &c), NV_ERR);
	assert_non_null(strstr(nv_error_msg(), "nested too deeply"));
	nv_sb_free(&deep);
	big = malloc(70000);
	assert_non_null(big);
	memset(big, 'x', 70000);
	memcpy(big, "<a>", 3);
	memcpy(big + 70000 - 4, "</a>", 4);
	assert_int_equal(nv_xml_parse(big, 70000, list_cb, &c), NV_ERR);
	assert_non_null(strstr(nv_error_msg(), "text too long"));
	free(big);
}

static void test_xml_error(void **state)
{
	const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
			   "<Message>The resource you requested does not exist</Message>"
			   "<Resource>/mybucket/myfoto.jpg</Resource>"
			   "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
	nv_xml_error e;

	(void)state;
	assert_int_equal(nv_xml_error_parse(&e, body, strlen(body)), 1);
	assert_string_equal(e.code, "NoSuchKey");
	assert_string_equal(e.message, "The resource you requested does not exist");
	assert_string_equal(e.request_id, "4442587FB7D0A2F9");
	assert_int_equal(nv_xml_error_parse(&e, "<html>oops", 10), 0);
	assert_int_equal(nv_xml_error_parse(&e, "<CompleteMultipartUploadResult/>", 32), 0);
	assert_string_equal(e.code, "");
}

static void test_crypto(void **state)
{
	char hex[65], b64[25];
	unsigned char mac[32];

	(void)state;
	nv_sha256_hex(hex, "", 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	nv_md5_base64(b64, "", 0);
	assert_string_equal(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
	/* RFC 4231 test case 2 */
	assert_int_equal(nv_hmac_sha256(mac, "Jefe", 4, "what do ya want for nothing?", 28), 0);
	nv_hex(hex, mac, 32);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_time(void **state)
{
	int64_t sec;
	int32_t nsec;
	char out[30];

	(void)state;
	assert_int_equal(nv_http_parse_time("2009-10-12T17:50:30.123Z", &sec, &nsec), 0);
	assert_int_equal(sec, 1255369830);
	assert_int_equal(nsec, 123000000);
	assert_int_equal(nv_http_parse_time("Mon, 12 Oct 2009 17:50:30 GMT", &sec, &nsec), 0);
	assert_int_equal(sec, 1255369830);
	assert_int_equal(nsec, 0);
	assert_int_equal(nv_http_parse_time("yesterday", &sec, &nsec), NV_EINVAL);
	nv_http_fmt_rfc1123(out, 1255369830);
	assert_string_equal(out, "Mon, 12 Oct 2009 17:50:30 GMT");
}

static void test_url_policy(void **state)
{
	(void)state;
	assert_int_equal(nv_http_check_url("https://s3.example.com/b", 0), 0);
	assert_int_equal(nv_http_check_url("http://127.0.0.1:9000/b", 0), 0);
	assert_int_equal(nv_http_check_url("http://[::1]:9000/b", 0), 0);
	assert_int_equal(nv_http_check_url("http://localhost/b", 0), 0);
	assert_int_equal(nv_http_check_url("http://s3.example.com/b", 0), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "allow_http"));
	assert_int_equal(nv_http_check_url("http://s3.example.com/b", 1), 0);
	assert_int_equal(nv_http_check_url("ftp://h/b", 1), NV_EINVAL);
	assert_int_equal(nv_http_host_is_ip_or_localhost("10.1.2.3"), 1);
	assert_int_equal(nv_http_host_is_ip_or_localhost("s3.amazonaws.com"), 0);
}

static void test_headers(void **state)
{
	nv_http_headers h = { 0 };

	(void)state;
	assert_int_equal(nv_http_header_add(&h, "x-amz-meta-mtime", "%d.%03d", 12, 5), 0);
	assert_int_equal(nv_http_header_add(&h, "Range", "bytes=%d-%d", 0, 9), 0);
	assert_string_equal(nv_http_header_get(&h, "X-AMZ-META-MTIME"), "12.005");
	assert_string_equal(h.v[1], "Range: bytes=0-9");
	assert_null(nv_http_header_get(&h, "x-amz-meta"));
	nv_http_headers_clear(&h);
	assert_int_equal(h.n, 0);
}

static unsigned after(long status, const char *name, const char *value)
{
	nv_http_resp r = { .status = status };
	unsigned ms;

	if (name)
		assert_int_equal(nv_http_header_add(&r.headers, name, "%s", value), 0);
	ms = nv_http_retry_after_ms(&r);
	nv_http_resp_clear(&r);
	return ms;
}

/* What a 429 or 503 asks to wait: Azure's milliseconds, else seconds; capped. */
static void test_retry_after(void **state)
{
	nv_http_resp r = { .status = 503 };

	(void)state;
	assert_int_equal(after(503, "Retry-After", "3"), 3000);
	assert_int_equal(after(429, "retry-after", "0"), 0);
	assert_int_equal(after(503, "x-ms-retry-after-ms", "1500"), 1500);
	assert_int_equal(after(503, "Retry-After", "99999999999"), NV_RETRY_AFTER_CAP_MS);
	assert_int_equal(after(503, "x-ms-retry-after-ms", "99999999999"), NV_RETRY_AFTER_CAP_MS);
	assert_int_equal(after(503, "Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"), 0);
	assert_int_equal(after(503, "Retry-After", "5s"), 0);
	assert_int_equal(after(500, "Retry-After", "3"), 0); /* only 429 and 503 ask */
	assert_int_equal(after(503, NULL, NULL), 0);
	/* Both: the finer one wins. */
	assert_int_equal(nv_http_header_add(&r.headers, "Retry-After", "2"), 0);
	assert_int_equal(nv_http_header_add(&r.headers, "x-ms-retry-after-ms", "2500"), 0);
	assert_int_equal(nv_http_retry_after_ms(&r), 2500);
	nv_http_resp_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlenc),     cmocka_unit_test(test_redact),
		cmocka_unit_test(test_xml_stream), cmocka_unit_test(test_xml_bad),
		cmocka_unit_test(test_xml_error),  cmocka_unit_test(test_crypto),
		cmocka_unit_test(test_time),       cmocka_unit_test(test_url_policy),
		cmocka_unit_test(test_headers),    cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
