/* glob.h: one filter pattern, rclone's glob syntax (filter.h says which),
 * checked once and matched against '/'-separated keys. Called by filter.c. */
#ifndef NV_GLOB_H
#define NV_GLOB_H

typedef struct nv_glob nv_glob;

/* NV_EINVAL with a message naming the pattern when it is malformed. */
int nv_glob_compile(nv_glob **out, const char *pattern);
/* 1 when the pattern matches the whole key (from the root when anchored,
 * else from the start of any of its path elements). */
int nv_glob_match(const nv_glob *g, const char *key);
/* Accepts NULL. */
void nv_glob_free(nv_glob *g);

#endif
