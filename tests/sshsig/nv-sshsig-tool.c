/* nv-sshsig-tool.c: a test-only command line over the sshkey/sshsig module,
 * so tests/integration/sshsig_interop.sh can face stock ssh-keygen. Not installed. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "ssh/sshkey.h"
#include "ssh/sshsig.h"

static int usage(void)
{
	fputs("usage: nv-sshsig-tool keygen PRIV [COMMENT]   (writes PRIV and PRIV.pub)\n"
	      "       nv-sshsig-tool pubkey PRIV\n"
	      "       nv-sshsig-tool fingerprint PUB\n"
	      "       nv-sshsig-tool sign PRIV NAMESPACE MSG SIG\n"
	      "       nv-sshsig-tool verify PUB NAMESPACE MSG SIG\n", stderr);
	return 2;
}

static int fail(const char *what)
{
	fprintf(stderr, "nv-sshsig-tool: %s: %s\n", what, nv_error_msg());
	return 1;
}

static int read_all(char **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		return nv_error_errno(errno, "cannot read %s", path);
	}
	for (;;) {
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
		if (!buf) {
			fclose(f);
			return nv_error_set(NV_ERR, "out of memory");
		}
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

/* Creates path (refusing to replace it) with mode and writes text. */
static int write_new(const char *path, const char *text, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(text);

	if (fd < 0)
		return nv_error_errno(errno, "cannot create %s", path);
	if (write(fd, text, len) != (ssize_t)len || close(fd) != 0)
		return nv_error_errno(errno, "cannot write %s", path);
	return 0;
}

static int cmd_keygen(const char *priv, const char *comment)
{
	nv_sshkey *k = NULL;
	char *text = NULL, *line = NULL, *pubpath = NULL;
	int rc;

	if ((rc = nv_sshkey_generate(&k)) || (rc = nv_sshkey_format_private(&text, k, comment)) ||
	    (rc = nv_sshkey_format_public(&line, k, comment)) ||
	    (rc = write_new(priv, text, 0600)))
		goto out;
	if (asprintf(&pubpath, "%s.pub", priv) < 0) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto out;
	}
	{
		FILE *f = fopen(pubpath, "wx");

		if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0)
			rc = nv_error_errno(errno, "cannot write %s", pubpath);
	}
out:
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	free(line);
	free(pubpath);
	nv_sshkey_free(k);
	return rc ? fail("keygen") : 0;
}

static int cmd_pubkey(const char *priv)
{
	nv_sshkey *k = NULL;
	char *line = NULL;
	int rc;

	if ((rc = nv_sshkey_load_private(&k, priv)) || (rc = nv_sshkey_format_public(&line, k, NULL)))
		goto out;
	printf("%s\n", line);
out:
	free(line);
	nv_sshkey_free(k);
	return rc ? fail("pubkey") : 0;
}

static int cmd_fingerprint(const char *pub)
{
	nv_sshkey *k = NULL;
	char fp[NV_SSHKEY_FP_MAX];
	int rc;

	if ((rc = nv_sshkey_load_public(&k, pub)) == 0 &&
	    (rc = nv_sshkey_fingerprint(fp, sizeof(fp), k)) == 0)
		printf("%s\n", fp);
	nv_sshkey_free(k);
	return rc ? fail("fingerprint") : 0;
}

static int cmd_sign(const char *priv, const char *ns, const char *msgpath, const char *sigpath)
{
	nv_sshkey *k = NULL;
	char *msg = NULL, *sig = NULL;
	size_t len;
	int rc;

	if ((rc = nv_sshkey_load_private(&k, priv)) || (rc = read_all(&msg, &len, msgpath)) ||
	    (rc = nv_sshsig_sign(&sig, k, ns, msg, len)) || (rc = write_new(sigpath, sig, 0644)))
		goto out;
out:
	free(msg);
	free(sig);
	nv_sshkey_free(k);
	return rc ? fail("sign") : 0;
}

static int cmd_verify(const char *pub, const char *ns, const char *msgpath, const char *sigpath)
{
	nv_sshkey *k = NULL;
	char *msg = NULL, *sig = NULL;
	size_t len, siglen;
	int rc;

	if ((rc = nv_sshkey_load_public(&k, pub)) || (rc = read_all(&msg, &len, msgpath)) ||
	    (rc = read_all(&sig, &siglen, sigpath)))
		goto out;
	rc = nv_sshsig_verify(sig, siglen, k, ns, msg, len);
out:
	free(msg);
	free(sig);
	nv_sshkey_free(k);
	if (rc)
		return fail("verify");
	puts("good signature");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "keygen") == 0 && argc <= 4)
		return cmd_keygen(argv[2], argc == 4 ? argv[3] : NULL);
	if (strcmp(argv[1], "pubkey") == 0 && argc == 3)
		return cmd_pubkey(argv[2]);
	if (strcmp(argv[1], "fingerprint") == 0 && argc == 3)
		return cmd_fingerprint(argv[2]);
	if (strcmp(argv[1], "sign") == 0 && argc == 6)
		return cmd_sign(argv[2], argv[3], argv[4], argv[5]);
	if (strcmp(argv[1], "verify") == 0 && argc == 6)
		return cmd_verify(argv[2], argv[3], argv[4], argv[5]);
	return usage();
}
