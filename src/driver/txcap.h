/* txcap.h: --max-transfer, a cap on the bytes written to stores by the whole
 * process (an egress cap). Once a write would pass it, the run is over: that
 * write and every later read, write or new file through the nv_drv_* wrappers
 * is refused with NV_ELIMIT (the pools stop the run, exit 3); what was
 * committed stays, what was in flight is aborted, and the next run resumes.
 * Set by the command line before a run; called by driver.c and tests. */
#ifndef NV_TXCAP_H
#define NV_TXCAP_H

#include <stdint.h>

/* The cap in bytes (0: none), and no byte counted yet. */
void nv_txcap_set(uint64_t max);
/* Before n bytes are written: 0, or NV_ELIMIT with the message set when they
 * would pass the cap (nothing of them is then counted) or the cap was reached. */
int nv_txcap_take(uint64_t n);
/* 0 until the cap was reached; then NV_ELIMIT with the message set. */
int nv_txcap_reached(void);
/* Bytes counted so far (with or without a cap). */
uint64_t nv_txcap_sent(void);

#endif
