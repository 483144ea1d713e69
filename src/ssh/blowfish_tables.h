/* blowfish_tables.h: Blowfish's initial P-array and S-boxes (pi's digits), in
 * blowfish_tables.c. Only bcrypt_pbkdf.c includes it. */
#ifndef NV_BLOWFISH_TABLES_H
#define NV_BLOWFISH_TABLES_H

#include <stdint.h>

extern const uint32_t nv_blowfish_p_init[18];
extern const uint32_t nv_blowfish_s_init[4][256];

#endif
