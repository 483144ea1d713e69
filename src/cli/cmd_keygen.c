/* cmd_keygen.c: the keygen command: one age identity, or one OpenSSH Ed25519
 * signing key, per call. Called by the dispatcher in cli.c. */
#include "cli.h"
#include "cli_commands.h"
#include "keys.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates path (never overwriting) with mode and writes text. */
static int nv_write_new_file(const char *path, const char *text, mode_t mode)
{
	size_t len = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0)
		return nv_error_errno(errno, "creating %s", path);
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			unlink(path);
			return nv_error_errno(e, "writing %s", path);
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return nv_error_errno(errno, "writing %s", path);
	return 0;
}

static int nv_keygen_signing(nv_cli *c)
{
	char pub[4200], *priv = NULL, *line = NULL;
	nv_sshkey *k = NULL;
	int rc;

	if (!c->output)
		return nv_error_set(NV_EINVAL, "keygen --signing needs -o FILE (FILE and FILE.pub "
				    "are written)");
	snprintf(pub, sizeof(pub), "%s.pub", c->output);
	if ((rc = nv_sshkey_generate(&k)) ||
	    (rc = nv_sshkey_format_private(&priv, k, "navette signing key")) ||
	    (rc = nv_sshkey_format_public(&line, k, "navette signing key")))
		goto out;
	if ((rc = nv_write_new_file(c->output, priv, 0600)))
		goto out;
	{
		size_t n = strlen(line);
		char *withnl = malloc(n + 2);

		if (!withnl) {
			rc = nv_error_set(NV_ERR, "out of memory");
			goto out;
		}
		memcpy(withnl, line, n);
		memcpy(withnl + n, "\n", 2);
		rc = nv_write_new_file(pub, withnl, 0644);
		free(withnl);
		if (rc)
			goto out;
	}
	printf("%s\n", line);
out:
	if (priv) {
		OPENSSL_cleanse(priv, strlen(priv));
		free(priv);
	}
	free(line);
	nv_sshkey_free(k);
	return rc;
}

/* As age-keygen says it; under --log-json, a JSON line like every other. */
static void nv_keygen_tell(const char *recipient)
{
	nv_log_field f[] = { NV_LF_S("recipient", recipient) };

	if (nv_log_json())
		nv_log_record(NV_LOG_NOTICE, "message", f, 1, "Public key: %s", recipient);
	else
		fprintf(stderr, "Public key: %s\n", recipient);
}

static int nv_keygen_identity(nv_cli *c)
{
	char *text = NULL, recipient[NV_AGE_RECIPIENT_MAX];
	int rc;

	if ((rc = nv_age_keygen(&text, recipient, sizeof(recipient))))
		return rc;
	if (c->output) {
		rc = nv_write_new_file(c->output, text, 0600);
		if (!rc) {
			nv_keygen_tell(recipient);
			printf("%s\n", recipient);
		}
	} else {
		fputs(text, stdout);
		nv_keygen_tell(recipient);
	}
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

int nv_cmd_keygen(nv_cli *c)
{
	int rc = c->signing ? nv_keygen_signing(c) : nv_keygen_identity(c);

	if (rc)
		nv_log(NV_LOG_ERROR, "%s", nv_error_msg());
	return nv_exit_for_error(rc);
}
