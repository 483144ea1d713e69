/* config.c: loads the INI config file (remotes), holds command-line overrides
 * and answers drivers' key lookups through nv_settings (see config.h). */
#include "config.h"
#include "error.h"
#include "ini.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define NV_PRIVATE_FILE_MAX (1 << 20)

typedef struct nv_kv {
	char *key;
	char *value;
} nv_kv;

typedef struct nv_section {
	char *name;
	nv_kv *kv;
	size_t n;
} nv_section;

struct nv_config {
	char *path;           /* file it came from, NULL if none */
	nv_section *sections;
	size_t nsections;
	nv_section overrides; /* command line */
};

struct nv_settings {
	const nv_config *cfg;
	char *remote;
};

/* Keys whose values are secrets: they make a group/other-readable file unsafe. */
static const char *const nv_secret_keys[] = {
	"password", "secret_access_key", "session_token", "key", "sas_token",
	"connection_string", "key_passphrase", "passphrase", NULL,
};

static int nv_kv_set(nv_section *sec, const char *key, const char *value)
{
	char *v = strdup(value);
	nv_kv *grown;

	if (!v)
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < sec->n; i++) {
		if (strcmp(sec->kv[i].key, key) == 0) {
			OPENSSL_clear_free(sec->kv[i].value, strlen(sec->kv[i].value));
			sec->kv[i].value = v;
			return 0;
		}
	}
	grown = realloc(sec->kv, (sec->n + 1) * sizeof(*grown));
	if (!grown) {
		free(v);
		return nv_error_set(NV_ERR, "out of memory");
	}
	sec->kv = grown;
	sec->kv[sec->n].key = strdup(key);
	sec->kv[sec->n].value = v;
	if (!sec->kv[sec->n].key) {
		free(v);
		return nv_error_set(NV_ERR, "out of memory");
	}
	sec->n++;
	return 0;
}

static const char *nv_kv_get(const nv_section *sec, const char *key)
{
	for (size_t i = 0; i < sec->n; i++)
		if (strcmp(sec->kv[i].key, key) == 0)
			return sec->kv[i].value;
	return NULL;
}

static void nv_section_clear(nv_section *sec)
{
	for (size_t i = 0; i < sec->n; i++) {
		free(sec->kv[i].key);
		OPENSSL_clear_free(sec->kv[i].value, strlen(sec->kv[i].value));
	}
	free(sec->kv);
	free(sec->name);
	memset(sec, 0, sizeof(*sec));
}

static nv_section *nv_config_section(const nv_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsections; i++)
		if (strcmp(cfg->sections[i].name, name) == 0)
			return &cfg->sections[i];
	return NULL;
}

nv_config *nv_config_new(void)
{
	return calloc(1, sizeof(nv_config));
}

void nv_config_free(nv_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nsections; i++)
		nv_section_clear(&cfg->sections[i]);
	free(cfg->sections);
	nv_section_clear(&cfg->overrides);
	free(cfg->path);
	free(cfg);
}

/* nv_ini_parse callback: 0 to go on. */
static int nv_config_on_entry(void *user, const char *section, const char *name,
			      const char *value)
{
	nv_config *cfg = user;
	nv_section *sec = nv_config_section(cfg, section);

	if (!sec) {
		nv_section *grown = realloc(cfg->sections,
					    (cfg->nsections + 1) * sizeof(*grown));
		if (!grown)
			return nv_error_set(NV_ERR, "out of memory");
		cfg->sections = grown;
		sec = &cfg->sections[cfg->nsections++];
		memset(sec, 0, sizeof(*sec));
		sec->name = strdup(section);
		if (!sec->name)
			return nv_error_set(NV_ERR, "out of memory");
	}
	return nv_kv_set(sec, name, value);
}

/* Reads all of fd; the bytes may hold secrets, so every copy is wiped. */
static int nv_config_slurp(int fd, const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *grown;
	ssize_t r;

	*out = NULL;
	while (buf) {
		if (n == cap) {
			grown = malloc(cap * 2);
			if (grown)
				memcpy(grown, buf, n);
			OPENSSL_clear_free(buf, cap);
			buf = grown;
			cap *= 2;
			continue;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			OPENSSL_clear_free(buf, cap);
			return nv_error_set(NV_EINVAL, "config file %s: %s", path, strerror(e));
		}
		if (r == 0) {
			*out = buf;
			*len = n;
			return 0;
		}
		n += (size_t)r;
	}
	return nv_error_set(NV_ERR, "out of memory");
}

static int nv_config_has_secret(const nv_config *cfg)
{
	for (size_t i = 0; i < cfg->nsections; i++)
		for (const char *const *k = nv_secret_keys; *k; k++)
			if (nv_kv_get(&cfg->sections[i], *k))
				return 1;
	return 0;
}

static int nv_config_default_path(char *buf, size_t cap)
{
	const char *env = getenv("NAVETTE_CONFIG"), *xdg, *home;

	if (env && *env)
		return snprintf(buf, cap, "%s", env) < (int)cap ? 1 : -1;
	xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg)
		return snprintf(buf, cap, "%s/navette/navette.conf", xdg) < (int)cap ? 0 : -1;
	home = getenv("HOME");
	if (!home || !*home)
		return -1;
	return snprintf(buf, cap, "%s/.config/navette/navette.conf", home) < (int)cap ? 0 : -1;
}

int nv_config_load(nv_config **out, const char *path)
{
	char defpath[4096], origin[4200], *text;
	int explicit = path != NULL, rc, fd;
	struct stat st;
	nv_config *cfg;
	size_t len;

	*out = NULL;
	if (!path) {
		rc = nv_config_default_path(defpath, sizeof(defpath));
		if (rc < 0) {
			*out = nv_config_new();
			return *out ? 0 : nv_error_set(NV_ERR, "out of memory");
		}
		explicit = rc == 1; /* $NAVETTE_CONFIG names a file that must exist */
		path = defpath;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !explicit) {
			*out = nv_config_new();
			return *out ? 0 : nv_error_set(NV_ERR, "out of memory");
		}
		return nv_error_set(NV_EINVAL, "config file %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return nv_error_set(NV_EINVAL, "config file %s is not a regular file", path);
	}
	rc = nv_config_slurp(fd, path, &text, &len);
	close(fd);
	if (rc)
		return rc;
	cfg = nv_config_new();
	if (!cfg || !(cfg->path = strdup(path))) {
		nv_config_free(cfg);
		OPENSSL_clear_free(text, len);
		return nv_error_set(NV_ERR, "out of memory");
	}
	snprintf(origin, sizeof(origin), "config file %s", path);
	rc = nv_ini_parse(text, len, origin, nv_config_on_entry, cfg);
	OPENSSL_clear_free(text, len);
	if (rc) {
		nv_config_free(cfg);
		return rc;
	}
	if (st.st_mode & 022) {
		nv_config_free(cfg);
		return nv_error_set(NV_EINVAL, "config file %s is writable by group or others "
				    "(mode %04o): refusing it; run chmod 600 %s", path,
				    (unsigned)(st.st_mode & 07777), path);
	}
	if ((st.st_mode & 044) && nv_config_has_secret(cfg)) {
		nv_config_free(cfg);
		return nv_error_set(NV_EINVAL, "config file %s holds secrets and is readable by "
				    "group or others (mode %04o): refusing it; run chmod 600 %s",
				    path, (unsigned)(st.st_mode & 07777), path);
	}
	for (size_t i = 0; i < cfg->nsections; i++) {
		if (strcmp(cfg->sections[i].name, NV_CONFIG_GLOBAL) == 0)
			continue;
		if (!nv_kv_get(&cfg->sections[i], "type")) {
			nv_error_set(NV_EINVAL, "config file %s: remote [%s] has no type "
				     "(local, sftp, s3 or azure)", path, cfg->sections[i].name);
			nv_config_free(cfg);
			return NV_EINVAL;
		}
	}
	*out = cfg;
	return 0;
}

int nv_config_set_override(nv_config *cfg, const char *key, const char *value)
{
	return nv_kv_set(&cfg->overrides, key, value);
}

int nv_config_merge_overrides(nv_config *to, const nv_config *from)
{
	for (size_t i = 0; i < from->overrides.n; i++) {
		int rc = nv_kv_set(&to->overrides, from->overrides.kv[i].key,
				   from->overrides.kv[i].value);
		if (rc)
			return rc;
	}
	return 0;
}

const char *nv_config_override(const nv_config *cfg, const char *key)
{
	return cfg ? nv_kv_get(&cfg->overrides, key) : NULL;
}

const char *nv_config_global(const nv_config *cfg, const char *key, const char *env)
{
	nv_section *sec = cfg ? nv_config_section(cfg, NV_CONFIG_GLOBAL) : NULL;
	const char *v = env ? getenv(env) : NULL;

	if (v && *v)
		return v;
	return sec ? nv_kv_get(sec, key) : NULL;
}

const char *nv_config_remote_type(const nv_config *cfg, const char *name)
{
	if (name && strcmp(name, NV_CONFIG_GLOBAL) == 0)
		return NULL;
	nv_section *sec = cfg ? nv_config_section(cfg, name) : NULL;

	return sec ? nv_kv_get(sec, "type") : NULL;
}

const char *nv_config_remote_name(const nv_config *cfg, unsigned i)
{
	return cfg && i < cfg->nsections ? cfg->sections[i].name : NULL;
}

nv_settings *nv_settings_new(const nv_config *cfg, const char *remote)
{
	nv_settings *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = cfg;
	if (remote && !(s->remote = strdup(remote))) {
		free(s);
		return NULL;
	}
	return s;
}

void nv_settings_free(nv_settings *s)
{
	if (!s)
		return;
	free(s->remote);
	free(s);
}

const char *nv_settings_remote(const nv_settings *s)
{
	return s->remote;
}

/* Builds PREFIX + upper-cased parts with '-' and '.' turned into '_' in buf
 * (the caller's: worker threads look settings up at the same time). */
static const char *nv_env_name(char buf[256], const char *prefix, const char *a,
			       const char *b)
{
	size_t n = 0, cap = 255;
	const char *parts[3] = { prefix, a, b };

	for (int p = 0; p < 3; p++) {
		if (!parts[p])
			continue;
		if (p == 2 && n < cap)
			buf[n++] = '_';
		for (const char *c = parts[p]; *c && n < cap; c++) {
			unsigned char ch = (unsigned char)*c;
			buf[n++] = (ch == '-' || ch == '.') ? '_' : (char)toupper(ch);
		}
	}
	buf[n] = '\0';
	return buf;
}

const char *nv_settings_get(const nv_settings *s, const char *key, const char *env_fallback)
{
	const char *v = nv_config_override(s->cfg, key);
	char name[256];
	nv_section *sec;

	if (v)
		return v;
	if (s->remote) {
		v = getenv(nv_env_name(name, "NAVETTE_REMOTE_", s->remote, key));
		if (v)
			return v;
		sec = s->cfg ? nv_config_section(s->cfg, s->remote) : NULL;
		if (sec && (v = nv_kv_get(sec, key)))
			return v;
	} else {
		v = getenv(nv_env_name(name, "NAVETTE_", key, NULL));
		if (v)
			return v;
	}
	return env_fallback ? getenv(env_fallback) : NULL;
}

int nv_settings_get_bool(const nv_settings *s, const char *key, const char *env_fallback,
			 int def, int *out)
{
	const char *v = nv_settings_get(s, key, env_fallback);

	*out = def;
	if (!v)
		return 0;
	if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		*out = 1;
	else if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
		 !strcasecmp(v, "off"))
		*out = 0;
	else
		return nv_error_set(NV_EINVAL, "setting %s: '%s' is not a boolean (yes/no)",
				    key, v);
	return 0;
}

static int nv_parse_u64(const char *key, const char *v, int with_suffix, uint64_t *out)
{
	char *end;
	unsigned long long n;
	uint64_t mult = 1;

	errno = 0;
	if (!*v || *v == '-')
		goto bad;
	n = strtoull(v, &end, 10);
	if (errno)
		goto bad;
	if (with_suffix && *end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		default: goto bad;
		}
		end++;
		if (toupper((unsigned char)*end) == 'I')
			end++;
		if (toupper((unsigned char)*end) == 'B')
			end++;
	}
	if (*end || (n && mult > UINT64_MAX / n))
		goto bad;
	*out = (uint64_t)n * mult;
	return 0;
bad:
	return nv_error_set(NV_EINVAL, "setting %s: '%s' is not a %s", key, v,
			    with_suffix ? "size (e.g. 8M)" : "number");
}

int nv_parse_size(const char *what, const char *text, uint64_t *out)
{
	return nv_parse_u64(what, text, 1, out);
}

int nv_settings_get_u64(const nv_settings *s, const char *key, const char *env_fallback,
			uint64_t def, uint64_t *out)
{
	const char *v = nv_settings_get(s, key, env_fallback);

	*out = def;
	return v ? nv_parse_u64(key, v, 0, out) : 0;
}

int nv_settings_get_size(const nv_settings *s, const char *key, const char *env_fallback,
			 uint64_t def, uint64_t *out)
{
	const char *v = nv_settings_get(s, key, env_fallback);

	*out = def;
	return v ? nv_parse_u64(key, v, 1, out) : 0;
}

int nv_read_private_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t r;
	int fd;

	*out = NULL;
	if (len)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return nv_error_errno(errno, "%s", path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return nv_error_set(NV_EINVAL, "%s is not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return nv_error_set(NV_EINVAL, "%s is accessible by group or others (mode %04o): "
				    "refusing a secret file others can read; run chmod 600 %s",
				    path, (unsigned)(st.st_mode & 07777), path);
	}
	if (st.st_size > NV_PRIVATE_FILE_MAX) {
		close(fd);
		return nv_error_set(NV_EINVAL, "%s is too large for a key file", path);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return nv_error_set(NV_ERR, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}
