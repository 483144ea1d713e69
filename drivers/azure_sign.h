/* azure_sign.h: Azure Storage Shared Key signing (string-to-sign, HMAC-SHA256).
 * Called by the azure driver files only. */
#ifndef NV_AZURE_SIGN_H
#define NV_AZURE_SIGN_H

#include <stddef.h>

/* One request header, as the driver sends it. */
typedef struct nv_az_hdr {
	const char *name;
	const char *value;
} nv_az_hdr;

/* Builds the Shared Key string-to-sign (service version 2015-02-21 and later):
 * the verb, eleven standard headers, the x-ms-* headers sorted by name and the
 * canonicalized resource "/account" + path + "\nname:value" per query parameter
 * (names lower-cased and sorted, values decoded, repeated names joined by ',').
 * path is the URL path exactly as sent (percent-encoded, starting with '/');
 * query is the raw query string without '?', or NULL. *out is malloc'd. */
int nv_az_string_to_sign(char **out, const char *method, const nv_az_hdr *hdrs,
			 size_t nhdrs, const char *account, const char *path,
			 const char *query);

/* "SharedKey account:base64(HMAC-SHA256(key, sts))"; *out is malloc'd and
 * holds a signature over the secret key: never log it, wipe before free. */
int nv_az_authorization(char **out, const char *account, const unsigned char *key,
			size_t keylen, const char *sts);

/* Decodes an account key (standard base64, padding optional, blanks around it
 * ignored) into *out (malloc'd, a secret: wipe it before free). NV_EINVAL,
 * with a message that does not quote the key, when it is not base64 or empty. */
int nv_az_key_decode(unsigned char **out, size_t *len, const char *b64);

#endif
