/* sshkey.h: OpenSSH Ed25519 keys (private key files, plain or passphrase-protected,
 * .pub lines, fingerprints) as stock ssh-keygen writes them. Everyone may call. */
#ifndef NV_SSHKEY_H
#define NV_SSHKEY_H

#include <stddef.h>

/* An Ed25519 key: private and public, or public only. Opaque; the private
 * part is wiped when the key is freed. */
typedef struct nv_sshkey nv_sshkey;

/* Room for nv_sshkey_fingerprint(): "SHA256:" + 43 base64 characters + NUL. */
#define NV_SSHKEY_FP_MAX 64

/* Makes a new random key (with its private part). */
int nv_sshkey_generate(nv_sshkey **out);

/* Loads an "openssh-key-v1" private key file, as `ssh-keygen -t ed25519`
 * writes it: unencrypted (-N ''), or passphrase-protected (KDF bcrypt; cipher
 * aes256-ctr, ssh-keygen's default, or with -Z aes128/192/256-ctr or -cbc,
 * aes128/256-gcm@openssh.com, chacha20-poly1305@openssh.com) when pass is
 * given. Refused with a clear message: a file readable or writable by group or
 * others (NV_EINVAL), an encrypted key without pass (NV_EAUTH "... is
 * passphrase-protected: a passphrase is needed") or with a wrong one (NV_EAUTH
 * "...: wrong passphrase"), another cipher, KDF, key type or file format
 * (NV_ENOTSUP), more bcrypt rounds than NV_SSHKEY_MAX_ROUNDS (sshkey_crypt.h),
 * a damaged file or one whose check integers or public half disagree
 * (NV_EINVAL). A missing file gives NV_ENOTFOUND. */
int nv_sshkey_load_private_pass(nv_sshkey **out, const char *path, const char *pass);
/* nv_sshkey_load_private_pass without a passphrase. */
int nv_sshkey_load_private(nv_sshkey **out, const char *path);

/* Parses the text of a private key file (as nv_sshkey_load_private_pass does,
 * but without the file and its permission check). name appears in messages. */
int nv_sshkey_parse_private_pass(nv_sshkey **out, const char *text, size_t len,
				 const char *name, const char *pass);
/* nv_sshkey_parse_private_pass without a passphrase. */
int nv_sshkey_parse_private(nv_sshkey **out, const char *text, size_t len, const char *name);

/* Writes k's private key file text exactly as `ssh-keygen -t ed25519 -N ''`
 * does (PEM-style armor, 70-column base64, random check integers), so that
 * `ssh-keygen -y -f FILE` reads it. comment may be NULL (empty); one with a
 * line break or longer than 1024 bytes gives NV_EINVAL. *out_text is
 * malloc'd and secret: wipe it (OPENSSL_cleanse or explicit_bzero) before
 * free. NV_EINVAL when k has no private part. The caller writes it to a file
 * with mode 0600. */
int nv_sshkey_format_private(char **out_text, const nv_sshkey *k, const char *comment);

/* Parses one public key line: "ssh-ed25519 AAAA... [comment]" (a .pub file
 * or authorized_keys line without options), or a bare base64 key blob
 * (optionally followed by a comment).
 * Leading/trailing whitespace is ignored. Another key type gives NV_ENOTSUP,
 * anything malformed NV_EINVAL. */
int nv_sshkey_parse_public(nv_sshkey **out, const char *line);

/* Loads a .pub file: its first line that is neither empty nor a '#' comment. */
int nv_sshkey_load_public(nv_sshkey **out, const char *path);

/* "ssh-ed25519 AAAA..." followed by " comment" when comment is non-empty, with
 * no trailing newline. *out_line is malloc'd. Comments as for
 * nv_sshkey_format_private. */
int nv_sshkey_format_public(char **out_line, const nv_sshkey *k, const char *comment);

/* The raw 32-byte Ed25519 public key; out must have room for 32 bytes. */
void nv_sshkey_public_raw(unsigned char out[32], const nv_sshkey *k);

/* The SSH wire encoding of the public key (string "ssh-ed25519", string key):
 * the 51 bytes that SSHSIG signatures and fingerprints are made from. *out is
 * malloc'd. */
int nv_sshkey_public_blob(unsigned char **out, size_t *out_len, const nv_sshkey *k);

/* Parses that wire encoding (exactly, nothing after it) into a public key.
 * Another key type gives NV_ENOTSUP, anything malformed NV_EINVAL. */
int nv_sshkey_from_blob(nv_sshkey **out, const void *blob, size_t len);

/* "SHA256:<unpadded base64>" exactly as `ssh-keygen -l` prints it. cap should
 * be at least NV_SSHKEY_FP_MAX; NV_EINVAL when it is too small. */
int nv_sshkey_fingerprint(char *out, size_t cap, const nv_sshkey *k);

/* 1 when both keys have the same public half, else 0 (also when one is NULL). */
int nv_sshkey_public_equal(const nv_sshkey *a, const nv_sshkey *b);

/* 1 when k holds a private part (can sign), else 0. */
int nv_sshkey_has_private(const nv_sshkey *k);

/* Signs msg with Ed25519 (pure, no prehash) into sig (64 bytes). For sshsig.c;
 * NV_EINVAL when k has no private part. */
int nv_sshkey_sign_raw(unsigned char sig[64], const nv_sshkey *k, const void *msg, size_t len);

/* Checks a raw 64-byte Ed25519 signature of msg: 0 if valid, NV_EMISMATCH if not. */
int nv_sshkey_verify_raw(const nv_sshkey *k, const unsigned char sig[64], const void *msg,
			 size_t len);

/* Wipes the private part and frees. NULL is a no-op. */
void nv_sshkey_free(nv_sshkey *k);

#endif
