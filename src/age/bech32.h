/* bech32.h: BIP 173 Bech32 (not Bech32m) without the 90-character limit, as age
 * uses it for "age1..." and "AGE-SECRET-KEY-1...". Called by the age module only. */
#ifndef NV_BECH32_H
#define NV_BECH32_H

#include <stddef.h>

/* Encodes hrp + data (8-bit bytes, regrouped to 5 bits) into out with a NUL;
 * upper != 0 gives an all upper-case string. Returns the length, or -1 when
 * cap is too small or hrp is not printable ASCII. */
int nv_bech32_encode(char *out, size_t cap, const char *hrp, const unsigned char *data,
		     size_t n, int upper);
/* Decodes text whose human-readable part must equal hrp (compared ignoring
 * case, but the text may not mix cases); writes the 8-bit data into out (cap
 * bytes) and its length into *n. Refuses bad checksums, characters outside the
 * charset, mixed case and non-zero padding bits. 0 on success, -1 otherwise. */
int nv_bech32_decode(unsigned char *out, size_t cap, size_t *n, const char *hrp,
		     const char *text);

#endif
