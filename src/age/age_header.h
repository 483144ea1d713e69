/* age_header.h: the text header (stanzas, MAC line) and the payload's key and
 * STREAM nonces; calls only age_crypto (age_int.h). Included by src/age/. */
#ifndef NV_AGE_HEADER_H
#define NV_AGE_HEADER_H

#include <stddef.h>

struct nv_age_stanza {
	char *type;
	char **args;
	size_t nargs;
	unsigned char *body;
	size_t bodylen;
};
struct nv_age_header {
	struct nv_age_stanza *st;
	size_t n;
	size_t mac_off; /* bytes covered by the MAC: up to and including "---" */
	unsigned char mac[32];
};
/* Where the header ends in buf: its length including the MAC line's '\n', 0 when
 * more bytes are needed, <0 (message set) when buf cannot start an age v1 file. */
/* *scanned (start at 0) remembers how far earlier calls looked. */
long nv_age_header_end(const unsigned char *buf, size_t len, size_t *scanned);
/* Parses exactly len bytes (as measured by nv_age_header_end). */
int nv_age_header_parse(struct nv_age_header *h, const unsigned char *buf, size_t len);
void nv_age_header_clear(struct nv_age_header *h);
/* Writes one stanza "-> args...\n" + wrapped body into out (NULL: only measures). */
size_t nv_age_stanza_write(char *out, const char *const *args, size_t nargs,
			   const unsigned char *body, size_t bodylen);
/* Appends "--- <mac>\n" after hdr[0..len) (which ends before "---"), keyed by
 * file_key; returns the new length. hdr must have NV_AGE_MAC_LINE_LEN spare. */
int nv_age_header_seal(unsigned char *hdr, size_t *len, const unsigned char file_key[16]);
/* Checks h's MAC over buf[0..h->mac_off) with file_key. */
int nv_age_header_verify(const struct nv_age_header *h, const unsigned char *buf,
			 const unsigned char file_key[16]);
/* Payload key from the file key and the 16-byte nonce. */
int nv_age_payload_key(unsigned char key[32], const unsigned char file_key[16],
		       const unsigned char nonce[16]);
/* STREAM nonce: 11-byte big-endian counter, then the last-chunk flag. */
void nv_age_stream_nonce(unsigned char nonce[12], unsigned long long counter, int last);

#endif
