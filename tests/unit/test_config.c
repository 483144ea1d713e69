/* test_config.c: config file loading, permission refusal and the settings
 * lookup order (src/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/config.h"
#include "util/error.h"

static char nv_path[64];

static void write_bytes(const char *text, size_t len, mode_t mode)
{
	FILE *f;

	strcpy(nv_path, "/tmp/nv-cfg-XXXXXX");
	close(mkstemp(nv_path));
	f = fopen(nv_path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	chmod(nv_path, mode);
}

static void write_file(const char *text, mode_t mode)
{
	write_bytes(text, strlen(text), mode);
}

static void test_permissions(void **state)
{
	nv_config *cfg;

	(void)state;
	write_file("[a]\ntype = s3\nsecret_access_key = s3cr3t\n", 0644);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "readable by group or others"));
	assert_null(strstr(nv_error_msg(), "s3cr3t"));
	chmod(nv_path, 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), 0);
	nv_config_free(cfg);
	unlink(nv_path);

	/* no secret: readable is fine, writable by others never */
	write_file("[a]\ntype = sftp\nhost = h\n", 0644);
	assert_int_equal(nv_config_load(&cfg, nv_path), 0);
	nv_config_free(cfg);
	chmod(nv_path, 0666);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "writable"));
	unlink(nv_path);
}

static void test_syntax(void **state)
{
	nv_config *cfg;

	(void)state;
	write_file("[a]\ntype = s3\nthis is not ini\n", 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "line 3"));
	unlink(nv_path);
	write_file("[a]\nhost = x\n", 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "no type"));
	unlink(nv_path);
	assert_int_equal(nv_config_load(&cfg, "/nonexistent/navette.conf"), NV_EINVAL);
	/* a missing default file is an empty config */
	setenv("HOME", "/nonexistent", 1);
	unsetenv("NAVETTE_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(nv_config_load(&cfg, NULL), 0);
	assert_null(nv_config_remote_name(cfg, 0));
	nv_config_free(cfg);
}

static void test_lookup_order(void **state)
{
	nv_config *cfg;
	nv_settings *a, *b, *url;
	uint64_t n;
	int flag;

	(void)state;
	write_file("[ovh]\ntype = s3\naccess_key_id = OVHKEY\nregion = gra\n"
		   "[scw]\ntype = s3\nregion = fr-par\npart_size = 8M\n", 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), 0);
	unlink(nv_path);
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("NAVETTE_REMOTE_SCW_REGION", "nl-ams", 1);
	setenv("NAVETTE_TIMEOUT", "7", 1);
	a = nv_settings_new(cfg, "ovh");
	b = nv_settings_new(cfg, "scw");
	url = nv_settings_new(cfg, NULL);
	/* a named remote's own key wins over the ecosystem variable */
	assert_string_equal(nv_settings_get(a, "access_key_id", "AWS_ACCESS_KEY_ID"), "OVHKEY");
	/* ... which fills what the remote leaves unset */
	assert_string_equal(nv_settings_get(b, "access_key_id", "AWS_ACCESS_KEY_ID"), "ENVKEY");
	/* NAVETTE_REMOTE_<NAME>_<KEY> sets one remote's key only */
	assert_string_equal(nv_settings_get(b, "region", NULL), "nl-ams");
	assert_string_equal(nv_settings_get(a, "region", NULL), "gra");
	/* URL form: NAVETTE_<KEY>, then the ecosystem variable */
	assert_string_equal(nv_settings_get(url, "timeout", NULL), "7");
	assert_null(nv_settings_get(a, "timeout", NULL));
	assert_string_equal(nv_settings_get(url, "access_key_id", "AWS_ACCESS_KEY_ID"), "ENVKEY");
	/* the command line wins over everything */
	nv_config_set_override(cfg, "region", "cli");
	assert_string_equal(nv_settings_get(a, "region", NULL), "cli");
	assert_int_equal(nv_settings_get_size(b, "part_size", NULL, 0, &n), 0);
	assert_true(n == 8u << 20);
	nv_config_set_override(cfg, "flag", "maybe");
	assert_int_equal(nv_settings_get_bool(a, "flag", NULL, 0, &flag), NV_EINVAL);
	nv_config_set_override(cfg, "flag", "yes");
	assert_int_equal(nv_settings_get_bool(a, "flag", NULL, 0, &flag), 0);
	assert_int_equal(flag, 1);
	nv_settings_free(a);
	nv_settings_free(b);
	nv_settings_free(url);
	nv_config_free(cfg);
}

/* Regression: the lookup once built variable names in a buffer inside the
 * settings, which worker threads share; two threads then read each other's names. */
static nv_settings *race_settings;
static void *race_lookup(void *arg)
{
	const char *key = arg, *want = strcmp(key, "alpha") == 0 ? "A" : "B";
	int bad = 0;

	for (int i = 0; i < 20000; i++) {
		const char *v = nv_settings_get(race_settings, key, NULL);

		bad |= !v || strcmp(v, want) != 0;
	}
	return (void *)(intptr_t)bad;
}

static void test_lookup_threads(void **state)
{
	nv_config *cfg = nv_config_new();
	pthread_t a, b;
	void *ra, *rb;

	(void)state;
	setenv("NAVETTE_REMOTE_R_ALPHA", "A", 1);
	setenv("NAVETTE_REMOTE_R_BETA", "B", 1);
	race_settings = nv_settings_new(cfg, "r");
	pthread_create(&a, NULL, race_lookup, "alpha");
	pthread_create(&b, NULL, race_lookup, "beta");
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	assert_null(ra);
	assert_null(rb);
	nv_settings_free(race_settings);
	nv_config_free(cfg);
}

static void test_private_file(void **state)
{
	char *buf;
	size_t len;

	(void)state;
	write_file("AGE-SECRET-KEY-1XYZ\n", 0644);
	assert_int_equal(nv_read_private_file(nv_path, &buf, &len), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "group or others"));
	chmod(nv_path, 0600);
	assert_int_equal(nv_read_private_file(nv_path, &buf, &len), 0);
	assert_int_equal(len, 20);
	assert_string_equal(buf, "AGE-SECRET-KEY-1XYZ\n");
	free(buf);
	unlink(nv_path);
}

/* Loads text as a config file; the caller frees the config. */
static nv_config *load_text(const char *text)
{
	nv_config *cfg = NULL;

	write_file(text, 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), 0);
	unlink(nv_path);
	return cfg;
}

static const char *remote_key(nv_config *cfg, const char *remote, const char *key,
			      char *out, size_t cap)
{
	nv_settings *s = nv_settings_new(cfg, remote);
	const char *v = nv_settings_get(s, key, NULL);

	if (v)
		snprintf(out, cap, "%s", v);
	nv_settings_free(s);
	return v ? out : NULL;
}

/* Regression: libinih as packaged reads at most 199 bytes a line, so a standard
 * Azure connection string (204 bytes) was a "syntax error" and a longer line was
 * cut, its tail read as a junk key of its own. */
static void test_long_lines(void **state)
{
	static const char conn[] =
		"DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey="
		"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOt"
		"r/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
	static const char sas[] =
		"sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2031-01-01T00:00:00Z"
		"&st=2024-01-01T00:00:00Z&spr=https&sig=ZmFrZS1zaWduYXR1cmUtZm9yLWEtdGVzdC1"
		"vZi1sb25nLWxpbmVzLXRoYXQtbGliaW5paC1jdXRzLWF0LTE5OS1ieXRlcw%3D%3D&x=1;y=2"
		"&sr=c&sip=127.0.0.1-127.0.0.255&rscc=no-cache";
	size_t big = 8192;
	char *text, *value, got[9000];
	nv_config *cfg;

	(void)state;
	assert_true(strlen("connection_string = ") + strlen(conn) >= 204);
	assert_true(strlen("sas_token = ") + strlen(sas) >= 231);
	text = malloc(2 * big + 1024);
	value = malloc(big + 1);
	assert_non_null(text);
	assert_non_null(value);
	/* 8 KiB holding every '=' and ';' a SAS token or connection string may */
	for (size_t i = 0; i < big; i++)
		value[i] = "a=b;c%3D"[i % 8];
	value[big] = '\0';
	snprintf(text, 2 * big + 1024, "[az]\ntype = azure\nconnection_string = %s\n"
		 "sas_token = %s\nregion = after\n[big]\ntype = s3\nsession_token = %s\n"
		 "region = tail\n", conn, sas, value);
	cfg = load_text(text);
	assert_string_equal(remote_key(cfg, "az", "connection_string", got, sizeof(got)), conn);
	assert_string_equal(remote_key(cfg, "az", "sas_token", got, sizeof(got)), sas);
	assert_string_equal(remote_key(cfg, "az", "region", got, sizeof(got)), "after");
	assert_string_equal(remote_key(cfg, "big", "session_token", got, sizeof(got)), value);
	assert_string_equal(remote_key(cfg, "big", "region", got, sizeof(got)), "tail");
	/* nothing else: no tail of a cut line taken as a key */
	assert_string_equal(nv_config_remote_name(cfg, 0), "az");
	assert_string_equal(nv_config_remote_name(cfg, 1), "big");
	assert_null(nv_config_remote_name(cfg, 2));
	nv_config_free(cfg);
	free(text);
	free(value);
}

/* The comment rules of conf/navette.conf.example and the README: a line whose first
 * non-blank byte is ; or # is a comment; in a [section] line or a value, a ;
 * after a space or a tab starts a comment; any other ; or # is data. */
static void test_comments(void **state)
{
	nv_config *cfg;
	char got[128];

	(void)state;
	cfg = load_text("\xEF\xBB\xBF; leading comment\n# another\n\n"
			"[navette]   ; the global section\n"
			"identity = /k/owner.key          ; inline comment\n"
			"[r]\r\ntype = azure\r\n"
			"connection_string = A=1;B=2;C=3==\n"
			"sas_token = sv=1&sig=abc%3D;x\t; tab then comment\n"
			"password = p#ss;w=rd#\n"
			"\t  key_passphrase  =  spaced value  \n"
			"   ; indented comment\n"
			"empty =\n"
			"only_comment = ; nothing\n");
	assert_string_equal(nv_config_global(cfg, "identity", NULL), "/k/owner.key");
	assert_string_equal(remote_key(cfg, "r", "type", got, sizeof(got)), "azure");
	assert_string_equal(remote_key(cfg, "r", "connection_string", got, sizeof(got)),
			    "A=1;B=2;C=3==");
	assert_string_equal(remote_key(cfg, "r", "sas_token", got, sizeof(got)),
			    "sv=1&sig=abc%3D;x");
	assert_string_equal(remote_key(cfg, "r", "password", got, sizeof(got)), "p#ss;w=rd#");
	assert_string_equal(remote_key(cfg, "r", "key_passphrase", got, sizeof(got)),
			    "spaced value");
	assert_string_equal(remote_key(cfg, "r", "empty", got, sizeof(got)), "");
	assert_string_equal(remote_key(cfg, "r", "only_comment", got, sizeof(got)), "");
	nv_config_free(cfg);
}

/* Every line that is not blank, a comment, a [section] or key = value is an
 * error naming the file and the line: never skipped, never cut. */
static void test_syntax_lines(void **state)
{
	static const struct {
		const char *text;
		const char *line;
	} bad[] = {
		{ "type = s3\n", "line 1:" },               /* outside any section */
		{ "[a]\ntype = s3\n[b\n", "line 3:" },      /* unclosed section */
		{ "[]\ntype = s3\n", "line 1:" },            /* empty name */
		{ "[a] junk\ntype = s3\n", "line 1:" },      /* after the ] */
		{ "[a]\ntype = s3\n = v\n", "line 3:" },    /* no key */
		{ "[a]\ntype = s3\nkey ; = v\n", "line 3:" },/* comment before = */
		{ "[a]\ntype: s3\n", "line 2:" },           /* ':' is not '=' */
	};
	nv_config *cfg = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i].text, 0600);
		assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
		assert_null(cfg);
		if (!strstr(nv_error_msg(), bad[i].line) || !strstr(nv_error_msg(), nv_path))
			fail_msg("case %zu: %s", i, nv_error_msg());
		unlink(nv_path);
	}
	/* a NUL byte would end the line early: refused, not cut */
	write_bytes("[a]\ntype = s3\nregion = g\0ra\n", 28, 0600);
	assert_int_equal(nv_config_load(&cfg, nv_path), NV_EINVAL);
	assert_non_null(strstr(nv_error_msg(), "line 3:"));
	unlink(nv_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_lookup_order),
		cmocka_unit_test(test_private_file),
		cmocka_unit_test(test_lookup_threads),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_syntax_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
