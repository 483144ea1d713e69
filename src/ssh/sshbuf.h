/* sshbuf.h: bounds-checked readers and writers of SSH wire data (u32, string)
 * and the base64 used by OpenSSH armor. Callers: sshkey.c and sshsig.c only. */
#ifndef NV_SSHBUF_H
#define NV_SSHBUF_H

#include <stddef.h>
#include <stdint.h>

/* A growable output buffer. Its contents may be secret, so it is always wiped
 * when it grows or is freed. Writers return 0 or NV_EINVAL (size cap hit);
 * after a failure the buffer keeps what it had and stays usable for free. */
typedef struct nv_sshbuf {
	unsigned char *data;
	size_t len;
	size_t cap;
} nv_sshbuf;

/* Hard cap on any buffer built here: keys, signatures and armor are small. */
#define NV_SSHBUF_MAX ((size_t)1 << 20)

void nv_sshbuf_init(nv_sshbuf *b);
/* Wipes and frees the contents; the struct may be reused after. */
void nv_sshbuf_free(nv_sshbuf *b);
int nv_sshbuf_put(nv_sshbuf *b, const void *p, size_t n);
int nv_sshbuf_put_u32(nv_sshbuf *b, uint32_t v);
/* An SSH "string": u32 length then the bytes. */
int nv_sshbuf_put_string(nv_sshbuf *b, const void *p, size_t n);
int nv_sshbuf_put_cstring(nv_sshbuf *b, const char *s);

/* A read cursor over bytes it does not own. Every getter checks the bounds
 * first and returns NV_EINVAL without moving when the data is short. */
typedef struct nv_sshrd {
	const unsigned char *p;
	size_t len;
	size_t off;
} nv_sshrd;

void nv_sshrd_init(nv_sshrd *r, const void *p, size_t len);
int nv_sshrd_u32(nv_sshrd *r, uint32_t *out);
/* Points *out into the reader's bytes (no copy) for n bytes. */
int nv_sshrd_bytes(nv_sshrd *r, const unsigned char **out, size_t n);
/* Points *out at a string's bytes (no copy), *n its length. */
int nv_sshrd_string(nv_sshrd *r, const unsigned char **out, size_t *n);
/* Reads a string and checks it equals s exactly; NV_EMISMATCH otherwise. */
int nv_sshrd_expect_cstring(nv_sshrd *r, const char *s);
size_t nv_sshrd_left(const nv_sshrd *r);

/* Standard base64 with '=' padding, no line breaks. *out is malloc'd and
 * NUL-terminated; returns 0 or NV_EINVAL. */
int nv_base64_encode(char **out, const void *p, size_t n);
/* Decodes standard base64, skipping ASCII whitespace anywhere (armor lines).
 * Padding is optional, but bits past the last byte must be zero and nothing
 * may follow the padding (one encoding per value). *out is malloc'd (wipe it
 * if the data is secret); returns 0 or NV_EINVAL. */
int nv_base64_decode(unsigned char **out, size_t *out_len, const char *s, size_t n);

/* OpenSSH armor: a begin line, base64 wrapped at width columns, an end line,
 * each ending in "\n" (keys and SSHSIG signatures both use width 70).
 * *out is malloc'd and NUL-terminated; wipe it if data is secret. */
int nv_ssh_armor(char **out, const unsigned char *data, size_t len, const char *begin,
		 const char *end, size_t width);
/* The reverse: text must hold, after optional whitespace, the begin line,
 * base64 lines, the end line and nothing but whitespace after it. Decodes into
 * a malloc'd *out (wipe it if secret). NV_EINVAL with a message otherwise. */
int nv_ssh_dearmor(unsigned char **out, size_t *out_len, const char *text, size_t len,
		   const char *begin, const char *end);

/* Copies s (at most cap - 1 bytes, NUL-terminated), replacing anything unprintable with
 * '?', so a hostile file's strings can go into an error message. */
void nv_sshbuf_printable(char *out, size_t cap, const unsigned char *s, size_t n);

#endif
