/* age.h: the age v1 file format (age-encryption.org/v1) with X25519 recipients,
 * on OpenSSL 3. Everyone may call; no OpenSSL type crosses this header.
 *
 * Errors (codes from error.h, message through nv_error_msg()):
 *   NV_EINVAL    malformed key text, recipient or identity file, bad argument;
 *   NV_EAUTH     no identity matches any recipient stanza ("no identity matches
 *                any recipient stanza"), a wrong or missing passphrase;
 *   NV_ENOTFOUND, NV_EPERM, NV_EIO  reading a key file failed (errno mapped);
 *   NV_EMISMATCH anything wrong in an age file: not age, unknown version, header
 *                syntax or non-canonical base64, low-order X25519 share, header
 *                MAC, a chunk failing authentication, truncation, trailing data.
 *                The message says which check failed and at which chunk;
 *   NV_ERR       out of memory, or an OpenSSL call failed.
 * Every secret (file keys, identities, passphrase-derived keys) is wiped before
 * its memory is freed; messages never contain secrets. */
#ifndef NV_AGE_H
#define NV_AGE_H

#include <stddef.h>
#include <stdint.h>

#define NV_AGE_CHUNK_SIZE 65536u /* plaintext bytes per payload chunk */
/* Room for a formatted recipient ("age1" + 58 chars) or identity plus NUL. */
#define NV_AGE_RECIPIENT_MAX 64
#define NV_AGE_IDENTITY_MAX 80
/* Largest scrypt work factor (log2 N) accepted when decrypting: 2^22 * 1 KiB =
 * 4 GiB of memory at most, as stock age. Callers may pass a lower cap. */
#define NV_AGE_SCRYPT_MAX_LOGN 22

/* An X25519 recipient: the public key. */
typedef struct {
	unsigned char pub[32];
} nv_age_recipient;

/* One or more X25519 identities (secret keys). Wiped on free. */
typedef struct nv_age_identity nv_age_identity;

/* Parses "age1..." (Bech32, lower case only, checksum checked). NV_EINVAL on error. */
int nv_age_recipient_parse(nv_age_recipient *out, const char *text);
/* Writes "age1..." and a NUL into out; cap >= NV_AGE_RECIPIENT_MAX always fits. */
int nv_age_recipient_format(char *out, size_t cap, const nv_age_recipient *r);
/* Reads a recipients file as stock age -R does for X25519 keys: one "age1..." per
 * line, blank lines and lines starting with '#' ignored, surrounding blanks
 * trimmed. At least one recipient is required. *out is malloc'd (free()). */
int nv_age_recipients_load(nv_age_recipient **out, size_t *n, const char *path);

/* Makes a new identity. *out_file_text is malloc'd and holds exactly what
 * age-keygen writes: "# created: <RFC 3339 local time>\n# public key: age1...\n"
 * "AGE-SECRET-KEY-1...\n"; wipe it (nv_age_wipe_free) once written. out_recipient
 * receives the "age1..." string (cap >= NV_AGE_RECIPIENT_MAX). */
int nv_age_keygen(char **out_file_text, char *out_recipient, size_t cap);

/* Parses identity text: "AGE-SECRET-KEY-1..." lines (upper case Bech32), blank
 * lines and '#' comments ignored; at least one key. NV_EINVAL on error. */
int nv_age_identity_parse(nv_age_identity **out, const char *text, size_t len);
/* Loads an identity file as age-keygen writes it (several keys allowed), or such a
 * file passphrase-encrypted by `age -p` (binary or -a armored; one scrypt stanza,
 * work factor up to NV_AGE_SCRYPT_MAX_LOGN). passphrase may be NULL for plain
 * files; an encrypted file without one gives NV_EAUTH "... is passphrase-
 * protected", a wrong one NV_EAUTH. The file is read with nv_read_private_file(),
 * so one readable or writable by group or others is refused. */
int nv_age_identity_load(nv_age_identity **out, const char *path, const char *passphrase);
/* Same, for identity bytes already in memory (plain or passphrase-encrypted). */
int nv_age_identity_from_bytes(nv_age_identity **out, const void *data, size_t len,
			       const char *passphrase);
/* The first identity's public key. */
int nv_age_identity_recipient(const nv_age_identity *id, nv_age_recipient *out);
/* Number of X25519 keys held. */
size_t nv_age_identity_count(const nv_age_identity *id);
/* Wipes and frees; NULL is a no-op. */
void nv_age_identity_free(nv_age_identity *id);

/* --- Streaming encryption, push style, bounded memory (one chunk + header). ---
 * new(): makes a random file key and payload nonce for n >= 1 recipients.
 * update(): consumes all inlen bytes, writes *outlen bytes to out; the first
 *   update (or final, if no update came) also writes the header and nonce.
 *   out must hold nv_age_enc_bound(e, inlen) bytes. A chunk is written only when
 *   the next byte is known to exist, so out may get nothing for a while.
 * final(): writes the last chunk (and the header when nothing came before);
 *   out must hold nv_age_enc_bound(e, 0) bytes. After final only free is allowed.
 * free(): wipes; allowed at any time, also without final; NULL is a no-op.
 * Its chunk buffer (64 KiB) is held in the calling thread's seat of the run's
 * memory budget (util/membudget.h): free it on the thread that made it. */
typedef struct nv_age_enc nv_age_enc;
int nv_age_enc_new(nv_age_enc **out, const nv_age_recipient *r, size_t n);
size_t nv_age_enc_bound(const nv_age_enc *e, size_t inlen);
int nv_age_enc_update(nv_age_enc *e, const void *in, size_t inlen, void *out, size_t *outlen);
int nv_age_enc_final(nv_age_enc *e, void *out, size_t *outlen);
void nv_age_enc_free(nv_age_enc *e);

/* Exact size of the age file for plain_size bytes and n X25519 recipients, as
 * nv_age_enc_* writes it (its header length depends only on n). */
uint64_t nv_age_ciphertext_size(uint64_t plain_size, size_t n_recipients);
/* Plaintext size of a well-formed age file of cipher_size bytes with n X25519
 * recipients as navette writes it; NV_EMISMATCH when no plaintext size fits. */
int nv_age_plaintext_size(uint64_t *out, uint64_t cipher_size, size_t n_recipients);

/* --- Streaming decryption, push style. ---
 * new(): id must outlive the decryptor.
 * update(): consumes all inlen bytes; releases plaintext only chunk by chunk, each
 *   after its tag verified and once the next byte shows it is not the last chunk.
 *   out must hold nv_age_dec_bound(inlen) bytes. Errors are sticky.
 * final(): verifies and releases the last chunk (out must hold
 *   nv_age_dec_bound(0) = one chunk); NV_EMISMATCH when the input was truncated,
 *   the last chunk is missing or empty after a full one, or trailing data follows.
 *   Only after final returned 0 is the plaintext known complete.
 * free(): wipes; allowed at any time; NULL is a no-op.
 * Its chunk buffer, as the encryptor's, is held in the calling thread's seat of
 * the run's memory budget: free it on the thread that made it. */
typedef struct nv_age_dec nv_age_dec;
int nv_age_dec_new(nv_age_dec **out, const nv_age_identity *id);
size_t nv_age_dec_bound(size_t inlen);
int nv_age_dec_update(nv_age_dec *d, const void *in, size_t inlen, void *out, size_t *outlen);
int nv_age_dec_final(nv_age_dec *d, void *out, size_t *outlen);
void nv_age_dec_free(nv_age_dec *d);

/* --- Whole-buffer helpers for small things (keys, catalogs). ---
 * *out is malloc'd; for decryption it is plaintext: wipe it (nv_age_wipe_free). */
int nv_age_encrypt_buf(unsigned char **out, size_t *outlen, const void *in, size_t inlen,
		       const nv_age_recipient *r, size_t n);
int nv_age_decrypt_buf(unsigned char **out, size_t *outlen, const void *in, size_t inlen,
		       const nv_age_identity *id);
/* Passphrase encryption (one scrypt stanza, as `age -p`), for protecting identity
 * files; log2n is the scrypt work factor (stock age uses 18; 10..22 accepted). */
int nv_age_encrypt_passphrase_buf(unsigned char **out, size_t *outlen, const void *in,
				  size_t inlen, const char *passphrase, int log2n);
/* Decrypts a binary or armored passphrase-encrypted file; log2n above max_log2n
 * is refused (NV_EMISMATCH) before any work. Wrong passphrase: NV_EAUTH. */
int nv_age_decrypt_passphrase_buf(unsigned char **out, size_t *outlen, const void *in,
				  size_t inlen, const char *passphrase, int max_log2n);

/* Wipes len bytes at p and frees p; NULL is a no-op. */
void nv_age_wipe_free(void *p, size_t len);

#endif
