/* key_check.c: what makes a key safe: relative, no "..", "." or empty
 * component, no control byte, bounded. Called by driver.c before every slot
 * and by drivers for the names they list (a leaf: it calls nothing back). */
#include "driver.h"

#include <string.h>

#define NV_KEY_MAX 1024

int nv_key_check(const char *key)
{
	size_t len = strlen(key);
	const char *c = key;

	if (len == 0)
		return nv_error_set(NV_EINVAL, "empty key");
	if (len > NV_KEY_MAX)
		return nv_error_set(NV_EINVAL, "key too long (%zu bytes, at most %d)", len,
				    NV_KEY_MAX);
	if (key[0] == '/')
		return nv_error_set(NV_EINVAL, "key '%s' is absolute: keys are relative", key);
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return nv_error_set(NV_EINVAL, "key '%s' holds a control character", key);
	while (*c) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if (n == 0)
			return nv_error_set(NV_EINVAL, "key '%s' has an empty path component", key);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return nv_error_set(NV_EINVAL, "key '%s' has a '%.*s' component: refusing "
					    "a path that could escape its root", key, (int)n, c);
		if (!slash)
			break;
		c = slash + 1;
		if (!*c)
			return nv_error_set(NV_EINVAL, "key '%s' ends with '/'", key);
	}
	return 0;
}
