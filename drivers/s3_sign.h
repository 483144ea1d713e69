/* s3_sign.h: AWS Signature Version 4 (header form) over OpenSSL HMAC, with each step
 * exposed so unit tests can check AWS's worked examples. Only the s3 driver and its tests. */
#ifndef NV_S3_SIGN_H
#define NV_S3_SIGN_H

#include "http.h"

typedef struct nv_sigv4 {
	const char *method;          /* "GET" */
	const char *uri;             /* canonical URI: the encoded path, e.g. "/b/k%20x" */
	const char *query;           /* canonical query (nv_sigv4_query), "" for none */
	const nv_http_headers *headers; /* every header here is signed; must hold host
	                                 * and x-amz-date */
	const char *payload_hash;    /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
	const char *amz_date;        /* "20130524T000000Z" */
	const char *region;          /* "us-east-1" */
	const char *service;         /* "s3" */
	const char *access_key;
	const char *secret_key;
} nv_sigv4;

/* Builds the canonical query from name/value pairs (pairs[2i], pairs[2i+1];
 * a NULL value is written "name="): RFC 3986-encoded, sorted by name then value. */
int nv_sigv4_query(char **out, const char *const *pairs, size_t npairs);
/* The canonical request; *signed_headers gets "host;range;x-amz-date". */
int nv_sigv4_canonical_request(char **out, char **signed_headers, const nv_sigv4 *s);
/* "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256(canonical request)>". */
int nv_sigv4_string_to_sign(char **out, const nv_sigv4 *s, const char *canonical_request);
/* Hex signature of string_to_sign with the key derived from secret/date/region/service. */
int nv_sigv4_signature(char out[65], const nv_sigv4 *s, const char *string_to_sign);
/* The whole Authorization header value:
 * "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,
 *  SignedHeaders=...,Signature=...". *out is malloc'd. */
int nv_sigv4_authorization(char **out, const nv_sigv4 *s);
/* "20130524T000000Z" for t; out: 17 bytes. */
void nv_sigv4_date(char out[17], time_t t);

#endif
