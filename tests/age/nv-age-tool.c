/* nv-age-tool.c: test driver for the age module, stdin -> stdout, so shell tests
 * can check interop with stock age before the CLI exists. Not installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age/age.h"
#include "util/error.h"

/* Reads of varying sizes exercise the streaming code at odd split points. */
static size_t nv_tool_next_size(void)
{
	static const size_t sizes[] = {1, 7, 4096, 65535, 65536, 65537, 65552, 65553, 200000, 16};
	static unsigned i;

	return sizes[i++ % (sizeof(sizes) / sizeof(sizes[0]))];
}

static int nv_tool_fail(const char *what)
{
	fprintf(stderr, "nv-age-tool: %s: %s (%s)\n", what, nv_error_msg(),
		nv_error_name(nv_error_code()));
	return 1;
}

static int nv_tool_write(const void *p, size_t n)
{
	return n == 0 || fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

/* Reads up to want bytes; 0 at EOF. */
static long nv_tool_read(unsigned char *buf, size_t want)
{
	ssize_t got;

	do
		got = read(0, buf, want);
	while (got < 0 && errno == EINTR);
	return (long)got;
}

static int nv_tool_encrypt(int argc, char **argv)
{
	nv_age_recipient *r = NULL, *more;
	size_t n = 0, m, olen;
	unsigned char *in = malloc(200000), *out = NULL;
	nv_age_enc *e = NULL;
	long got;
	int i, rc = 1;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-R") == 0 && i + 1 < argc) {
			if (nv_age_recipients_load(&more, &m, argv[++i]) < 0)
				goto out;
		} else {
			m = 1;
			if (!(more = malloc(sizeof(*more))) || nv_age_recipient_parse(more, argv[i]) < 0) {
				free(more);
				goto out;
			}
		}
		r = realloc(r, (n + m) * sizeof(*r));
		memcpy(r + n, more, m * sizeof(*r));
		n += m;
		free(more);
	}
	if (nv_age_enc_new(&e, r, n) < 0 || !(out = malloc(nv_age_enc_bound(e, 200000))))
		goto out;
	while ((got = nv_tool_read(in, nv_tool_next_size())) > 0)
		if (nv_age_enc_update(e, in, (size_t)got, out, &olen) < 0 || nv_tool_write(out, olen) < 0)
			goto out;
	if (got < 0 || nv_age_enc_final(e, out, &olen) < 0 || nv_tool_write(out, olen) < 0)
		goto out;
	rc = 0;
out:
	if (rc)
		nv_tool_fail("encrypt");
	nv_age_enc_free(e);
	free(r);
	free(in);
	free(out);
	return rc;
}

static int nv_tool_decrypt(const char *idpath)
{
	nv_age_identity *id = NULL;
	nv_age_dec *d = NULL;
	unsigned char *in = malloc(200000), *out = malloc(nv_age_dec_bound(200000));
	size_t olen;
	long got;
	int rc = 1;

	if (nv_age_identity_load(&id, idpath, getenv("NV_AGE_PASSPHRASE")) < 0 ||
	    nv_age_dec_new(&d, id) < 0)
		goto out;
	while ((got = nv_tool_read(in, nv_tool_next_size())) > 0)
		if (nv_age_dec_update(d, in, (size_t)got, out, &olen) < 0 || nv_tool_write(out, olen) < 0)
			goto out;
	if (got < 0 || nv_age_dec_final(d, out, &olen) < 0 || nv_tool_write(out, olen) < 0)
		goto out;
	rc = 0;
out:
	if (rc)
		nv_tool_fail("decrypt");
	nv_age_dec_free(d);
	nv_age_identity_free(id);
	free(in);
	free(out);
	return rc;
}

/* Reads all of stdin (small inputs only). */
static unsigned char *nv_tool_slurp(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	long got;

	while (buf && (got = nv_tool_read(buf + n, cap - n)) > 0) {
		n += (size_t)got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	*len = n;
	return buf;
}

static int nv_tool_encrypt_passphrase(const char *log2n)
{
	const char *pass = getenv("NV_AGE_PASSPHRASE");
	unsigned char *in, *out = NULL;
	size_t inlen, outlen;
	int rc = 1;

	if (!pass) {
		fprintf(stderr, "nv-age-tool: set NV_AGE_PASSPHRASE\n");
		return 1;
	}
	in = nv_tool_slurp(&inlen);
	if (nv_age_encrypt_passphrase_buf(&out, &outlen, in, inlen, pass, atoi(log2n)) < 0)
		nv_tool_fail("encrypt-passphrase");
	else
		rc = nv_tool_write(out, outlen) < 0;
	nv_age_wipe_free(in, inlen);
	free(out);
	return rc;
}

static int nv_tool_keygen(void)
{
	char *text, pub[NV_AGE_RECIPIENT_MAX];

	if (nv_age_keygen(&text, pub, sizeof(pub)) < 0)
		return nv_tool_fail("keygen");
	fputs(text, stdout);
	nv_age_wipe_free(text, strlen(text));
	fprintf(stderr, "Public key: %s\n", pub);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "encrypt") == 0)
		return nv_tool_encrypt(argc - 2, argv + 2);
	if (argc == 3 && strcmp(argv[1], "decrypt") == 0)
		return nv_tool_decrypt(argv[2]);
	if (argc == 3 && strcmp(argv[1], "encrypt-passphrase") == 0)
		return nv_tool_encrypt_passphrase(argv[2]);
	if (argc == 2 && strcmp(argv[1], "keygen") == 0)
		return nv_tool_keygen();
	if (argc == 4 && strcmp(argv[1], "size") == 0) {
		printf("%llu\n", (unsigned long long)nv_age_ciphertext_size(
					 strtoull(argv[2], NULL, 10), (size_t)atoi(argv[3])));
		return 0;
	}
	fprintf(stderr, "usage: nv-age-tool encrypt [-R FILE] [age1...]... | decrypt IDENTITY |\n"
			"       encrypt-passphrase LOG2N | keygen | size PLAIN NRECIPIENTS\n"
			"(NV_AGE_PASSPHRASE holds the passphrase)\n");
	return 2;
}
