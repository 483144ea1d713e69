/* b64.h: the one base64 (RFC 4648 standard alphabet), strict and canonical: unpadded
 * for age header stanzas, padded for armor, Content-MD5 and Azure keys. Everyone may call. */
#ifndef NV_B64_H
#define NV_B64_H

#include <stddef.h>

/* Encoded length without padding of n bytes. */
size_t nv_b64_raw_len(size_t n);
/* Writes the unpadded encoding of in and a NUL; out holds nv_b64_raw_len(n) + 1. */
void nv_b64_raw_encode(char *out, const unsigned char *in, size_t n);
/* Decodes exactly len chars of unpadded standard base64 into out (room
 * len * 3 / 4). Refuses padding, characters outside the alphabet, a length of
 * 4k+1 and non-zero trailing bits, so every byte string has one encoding.
 * Returns the decoded length, or -1. */
long nv_b64_raw_decode(unsigned char *out, const char *in, size_t len);
/* Padded variants for the armor: a multiple of 4 characters, '=' only at the end,
 * canonical trailing bits. */
size_t nv_b64_pad_len(size_t n);
void nv_b64_pad_encode(char *out, const unsigned char *in, size_t n);
long nv_b64_pad_decode(unsigned char *out, const char *in, size_t len);

#endif
