/* txcap.c: the --max-transfer count (txcap.h): lock-free, one compare-and-swap
 * per write. Called by driver.c, the command line and tests. */
#include "txcap.h"
#include "util/error.h"

#include <stdatomic.h>

static atomic_uint_fast64_t nv_cap_max, nv_cap_sent;
static atomic_int nv_cap_hit;

void nv_txcap_set(uint64_t max)
{
	atomic_store(&nv_cap_max, max);
	atomic_store(&nv_cap_sent, 0);
	atomic_store(&nv_cap_hit, 0);
}

static int nv_txcap_refuse(void)
{
	return nv_error_set(NV_ELIMIT, "--max-transfer reached (%llu bytes sent, at most %llu): "
			    "stopping here; what was not sent is left for the next run",
			    (unsigned long long)atomic_load(&nv_cap_sent),
			    (unsigned long long)atomic_load(&nv_cap_max));
}

int nv_txcap_take(uint64_t n)
{
	uint_fast64_t max = atomic_load(&nv_cap_max), sent;

	if (!max) {
		atomic_fetch_add(&nv_cap_sent, n);
		return 0;
	}
	sent = atomic_load(&nv_cap_sent);
	do {
		if (atomic_load(&nv_cap_hit) || n > max - sent) {
			atomic_store(&nv_cap_hit, 1);
			return nv_txcap_refuse();
		}
	} while (!atomic_compare_exchange_weak(&nv_cap_sent, &sent, sent + n));
	return 0;
}

int nv_txcap_reached(void)
{
	return atomic_load(&nv_cap_hit) ? nv_txcap_refuse() : 0;
}

uint64_t nv_txcap_sent(void)
{
	return atomic_load(&nv_cap_sent);
}
