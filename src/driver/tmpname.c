/* tmpname.c: temporary names and the run id (tmpname.h). Called by the local and
 * sftp drivers, the lease and the clean-up of leftovers. */
#include "tmpname.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t nv_run_once = PTHREAD_ONCE_INIT;
static char nv_run[NV_RUN_ID_LEN + 1];

static void nv_run_draw(void)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* No entropy at all: mix what differs between two processes. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		r = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&r;
	}
	snprintf(nv_run, sizeof(nv_run), "%016llx", (unsigned long long)r);
}

const char *nv_run_id(void)
{
	pthread_once(&nv_run_once, nv_run_draw);
	return nv_run;
}

void nv_tmp_name(char out[NV_TMP_NAME_SIZE], uint64_t unique)
{
	snprintf(out, NV_TMP_NAME_SIZE, "%s%s.%016llx", NV_TMP_PREFIX, nv_run_id(),
		 (unsigned long long)unique);
}

/* 1 when s[0..16) are lower-case hex digits. */
static int nv_hex16(const char *s)
{
	for (int i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

enum nv_tmp_kind nv_tmp_parse(const char *leaf, char run[NV_RUN_ID_LEN + 1])
{
	const char *p;
	size_t n;

	if (!nv_tmp_reserved(leaf))
		return NV_TMP_NOT_OURS;
	p = leaf + NV_TMP_PREFIX_LEN;
	n = strlen(p);
	if (n == 16 && nv_hex16(p))
		return NV_TMP_OLD;
	if (n != 33 || p[16] != '.' || !nv_hex16(p) || !nv_hex16(p + 17))
		return NV_TMP_NOT_OURS;
	if (run) {
		memcpy(run, p, NV_RUN_ID_LEN);
		run[NV_RUN_ID_LEN] = '\0';
	}
	return NV_TMP_RUN;
}

int nv_tmp_reserved(const char *leaf)
{
	return strncmp(leaf, NV_TMP_PREFIX, NV_TMP_PREFIX_LEN) == 0;
}
