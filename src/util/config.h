/* config.h: the INI config file (remotes), command-line overrides and the
 * environment, seen by drivers through one lookup. Everyone may call. */
#ifndef NV_CONFIG_H
#define NV_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct nv_config nv_config;     /* parsed file + overrides */
typedef struct nv_settings nv_settings; /* one location's view of it */

/* Loads path, or the default ~/.config/navette/navette.conf (or
 * $XDG_CONFIG_HOME/navette/navette.conf, or $NAVETTE_CONFIG) when path is NULL.
 * A missing default file gives an empty config; a missing explicit file is an
 * error. A file readable or writable by group or others is refused (NV_EINVAL):
 * it holds secrets. */
int nv_config_load(nv_config **out, const char *path);
nv_config *nv_config_new(void);
void nv_config_free(nv_config *cfg);

/* Command-line settings (--fsync, --timeout, ...): win over everything. */
int nv_config_set_override(nv_config *cfg, const char *key, const char *value);
const char *nv_config_override(const nv_config *cfg, const char *key);
/* Copies every override of from into to. */
int nv_config_merge_overrides(nv_config *to, const nv_config *from);
/* Parses a size with an optional K, M or G suffix (binary); what names it in errors. */
int nv_parse_size(const char *what, const char *text, uint64_t *out);

/* The [navette] section holds settings that are not about a remote (identity,
 * signing_key, recipients_file, ...). Looked up after the environment variable
 * env (when not NULL). */
#define NV_CONFIG_GLOBAL "navette"
const char *nv_config_global(const nv_config *cfg, const char *key, const char *env);

/* The "type" of remote name, or NULL when the config has no such remote. */
const char *nv_config_remote_type(const nv_config *cfg, const char *name);
/* Iterates remote names: 0..n-1; NULL past the end. */
const char *nv_config_remote_name(const nv_config *cfg, unsigned i);

/* remote is NULL for URL/path-form locations. */
nv_settings *nv_settings_new(const nv_config *cfg, const char *remote);
void nv_settings_free(nv_settings *s);
const char *nv_settings_remote(const nv_settings *s);

/* Looks a key up, first match wins:
 *   1. a command-line override of that key;
 *   2. named remote: $NAVETTE_REMOTE_<NAME>_<KEY> (upper case, '-' -> '_'),
 *      then the remote's own key in the file;
 *      URL form: $NAVETTE_<KEY>;
 *   3. the ecosystem variable env_fallback (e.g. "AWS_ACCESS_KEY_ID"), if not NULL.
 * Returned strings live as long as the settings and the config. */
const char *nv_settings_get(const nv_settings *s, const char *key, const char *env_fallback);
/* Parsed forms; return def when unset, NV_EINVAL (and a message naming the
 * key) when set but malformed. */
int nv_settings_get_bool(const nv_settings *s, const char *key, const char *env_fallback,
			 int def, int *out);
int nv_settings_get_u64(const nv_settings *s, const char *key, const char *env_fallback,
			uint64_t def, uint64_t *out);
/* Sizes accept K, M, G suffixes (binary: 1K = 1024). */
int nv_settings_get_size(const nv_settings *s, const char *key, const char *env_fallback,
			 uint64_t def, uint64_t *out);

/* Reads a secret-bearing file (key, identity, password), refusing it when
 * group or others may read it. *out is malloc'd and NUL-terminated; wipe and free. */
int nv_read_private_file(const char *path, char **out, size_t *len);

#endif
