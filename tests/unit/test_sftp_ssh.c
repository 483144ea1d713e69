/* test_sftp_ssh.c: unit tests of the ssh transport's command line and of what
 * ssh's failures mean (drivers/sftp_ssh.c): the argv as execvp gets it, host
 * and user never read as options, paths quoted as ssh's argv_split reads them;
 * ssh's own words (OpenSSH 9.2) mapped to auth, configuration, retry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../drivers/sftp_ssh.h"
#include "util/error.h"

/* The argv of a, joined with '|', is want. */
static void expect_argv(const nv_sftp_ssh_args *a, const char *want)
{
	char **argv, got[2048];
	size_t o = 0;

	assert_int_equal(nv_sftp_ssh_argv(&argv, a), 0);
	got[0] = '\0';
	for (char **p = argv; *p; p++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s", p == argv ? "" : "|", *p);
	assert_string_equal(got, want);
	nv_sftp_ssh_argv_free(argv);
}

static void test_argv_full(void **state)
{
	nv_sftp_ssh_args a = {
		.command = "/usr/bin/ssh", .config = "/etc/nv ssh config", .host = "example.org",
		.user = "bob", .port = 2222, .key_file = "/k/id 50%\"x\\y",
		.known_hosts = "/k/known hosts", .accept_new = 0, .timeout_sec = 7,
		.keepalive_sec = 15,
	};

	(void)state;
	expect_argv(&a, "/usr/bin/ssh|-F|/etc/nv ssh config|-x|-a|-T|"
		    "-oClearAllForwardings=yes|-oBatchMode=yes|-oStrictHostKeyChecking=yes|"
		    "-oUserKnownHostsFile=\"/k/known hosts\"|-oGlobalKnownHostsFile=none|"
		    "-oIdentityFile=\"/k/id 50%%\\\"x\\\\y\"|-oConnectTimeout=7|"
		    "-oServerAliveInterval=15|-p|2222|-l|bob|-s|--|example.org|sftp");
}

static void test_argv_minimal(void **state)
{
	nv_sftp_ssh_args a = { .command = "ssh", .host = "fe80::1", .accept_new = 1 };

	(void)state;
	/* what is not set stays ssh's: no -p, -l, -i, known hosts files */
	expect_argv(&a, "ssh|-x|-a|-T|-oClearAllForwardings=yes|-oBatchMode=yes|"
		    "-oStrictHostKeyChecking=accept-new|-oConnectTimeout=30|-s|--|fe80::1|sftp");
}

static void test_argv_refused(void **state)
{
	static const char *const hosts[] = {
		"-oProxyCommand=touch /tmp/x", "-p", "", "a b", "host\n-oX=y", "a;b", "a@b",
		"$(id)", "h/x",
	};
	static const char *const users[] = { "-oProxyCommand=x", "", "a b", "a\tb", "u\n" };
	nv_sftp_ssh_args a = { .command = "ssh", .host = "ok.example" };
	char **argv = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		a.host = hosts[i];
		assert_int_equal(nv_sftp_ssh_argv(&argv, &a), NV_EINVAL);
		assert_null(argv);
		assert_non_null(strstr(nv_error_msg(), "host"));
	}
	a.host = "ok.example";
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		a.user = users[i];
		assert_int_equal(nv_sftp_ssh_argv(&argv, &a), NV_EINVAL);
		assert_non_null(strstr(nv_error_msg(), "user"));
	}
	a.user = NULL;
	a.key_file = "/home/${USER}/key";
	assert_int_equal(nv_sftp_ssh_argv(&argv, &a), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "key_file"));
	a.key_file = NULL;
	a.known_hosts = "/k/known\nhosts";
	assert_int_equal(nv_sftp_ssh_argv(&argv, &a), NV_EINVAL);
	a.known_hosts = NULL;
	a.command = "ssh -oProxyCommand=x";
	assert_int_equal(nv_sftp_ssh_argv(&argv, &a), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "ssh_command"));
}

/* ---- ssh's failures ---- */

static int failure(const char *err, int status, int up, char *why, size_t size)
{
	return nv_sftp_ssh_failure(err, status, up, why, size);
}

static void test_failure_host_keys(void **state)
{
	char why[1024];

	(void)state;
	assert_int_equal(failure("No ED25519 host key is known for [127.0.0.1]:2222 and you "
				 "have requested strict checking.\nHost key verification failed.\n",
				 255 << 8, 0, why, sizeof(why)), NV_EAUTH);
	assert_non_null(strstr(why, "unknown host key (ssh: No ED25519 host key is known for "
				    "[127.0.0.1]:2222"));
	assert_int_equal(failure("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
				 "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
				 "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
				 "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
				 "The fingerprint for the ED25519 key sent by the remote host is\n"
				 "SHA256:gduRuBJvTbfkt5ObStFjWXG4sDvq39AvxEauCe9sEG4.\n"
				 "Host key for [127.0.0.1]:2222 has changed and you have requested "
				 "strict checking.\nHost key verification failed.\n",
				 255 << 8, 0, why, sizeof(why)), NV_EAUTH);
	assert_non_null(strstr(why, "HOST KEY CHANGED: the server offers "
				    "SHA256:gduRuBJvTbfkt5ObStFjWXG4sDvq39AvxEauCe9sEG4,"));
	assert_int_equal(failure("@       WARNING: REVOKED HOST KEY DETECTED!               @\n"
				 "The ED25519 host key for [127.0.0.1]:2222 is marked as revoked.\n"
				 "Host key verification failed.\n", 255 << 8, 0, why, sizeof(why)),
			 NV_EAUTH);
	assert_non_null(strstr(why, "revoked"));
}

static void test_failure_other(void **state)
{
	char why[1024];

	(void)state;
	assert_int_equal(failure("bob@h: Permission denied (publickey,password).\n", 255 << 8, 0,
				 why, sizeof(why)), NV_EAUTH);
	assert_string_equal(why, "authentication refused (ssh: bob@h: Permission denied "
			    "(publickey,password).)");
	assert_int_equal(failure("ssh: connect to host 127.0.0.1 port 1: Connection refused\n",
				 255 << 8, 0, why, sizeof(why)), NV_ERETRY);
	assert_int_equal(failure("ssh: Could not resolve hostname nowhere.invalid: Name or "
				 "service not known\n", 255 << 8, 0, why, sizeof(why)), NV_EINVAL);
	assert_int_equal(failure("ssh: Could not resolve hostname x: Temporary failure in name "
				 "resolution\n", 255 << 8, 0, why, sizeof(why)), NV_ERETRY);
	assert_int_equal(failure("command-line line 0: Bad configuration option: foo\n",
				 255 << 8, 0, why, sizeof(why)), NV_EINVAL);
	assert_int_equal(failure("Cannot execute command-line and remote command.\n", 255 << 8, 0,
				 why, sizeof(why)), NV_EINVAL);
	assert_int_equal(failure("subsystem request failed on channel 0\n", 255 << 8, 0, why,
				 sizeof(why)), NV_ENOTSUP);
	assert_int_equal(failure("Unable to negotiate with 127.0.0.1 port 22: no matching cipher "
				 "found. Their offer: aes128-ctr\n", 255 << 8, 0, why, sizeof(why)),
			 NV_EINVAL);
	assert_int_equal(failure("Connection timed out during banner exchange\n", 255 << 8, 0,
				 why, sizeof(why)), NV_ERETRY);
	/* something ssh never said before: retried, its words kept */
	assert_int_equal(failure("something new\n", 255 << 8, 0, why, sizeof(why)), NV_ERETRY);
	assert_string_equal(why, "ssh exited with status 255: something new");
	/* a session that was up: whatever ssh says, the connection was lost */
	assert_int_equal(failure("Connection to h closed by remote host.\n", 255 << 8, 1, why,
				 sizeof(why)), NV_ERETRY);
	assert_string_equal(why, "connection lost (ssh exited with status 255: Connection to h "
			    "closed by remote host.)");
	assert_int_equal(failure("", SIGKILL, 1, why, sizeof(why)), NV_ERETRY);
	assert_string_equal(why, "connection lost (ssh killed by signal 9)");
	assert_int_equal(failure("", -1, 1, why, sizeof(why)), NV_ERETRY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_full),
		cmocka_unit_test(test_argv_minimal),
		cmocka_unit_test(test_argv_refused),
		cmocka_unit_test(test_failure_host_keys),
		cmocka_unit_test(test_failure_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
