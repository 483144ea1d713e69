/* main.c: entry point; keeps the process's memory out of core dumps, sets the allocator
 * up and hands argv to the command dispatcher. Nothing else lives here so tests can
 * link every command from the library. */
#include "cli.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* navette's memory holds age identities, signing keys, passphrases and store
 * credentials: a crash must not write them to a core file. Not dumpable stops every
 * core while fs.suid_dumpable is 0 (and ptrace attachment by other processes of the
 * same user); RLIMIT_CORE also stops it where suid_dumpable is 2. The limit is 1 byte,
 * not 0: below any core's size, and the one value the kernel takes for "no core" when
 * core_pattern pipes cores to a handler (it ignores 0 there). Both soft and hard, so
 * nothing this process starts raises it again. NAVETTE_ALLOW_COREDUMP=1 keeps cores
 * for debugging. */
static void nv_no_core_dumps(void)
{
	const char *allow = getenv("NAVETTE_ALLOW_COREDUMP");
	struct rlimit rl;

	if (allow && strcmp(allow, "1") == 0)
		return;
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		rl.rlim_max = rl.rlim_max < 1 ? rl.rlim_max : 1;
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_CORE, &rl);
	}
}

int main(int argc, char **argv)
{
	nv_no_core_dumps();
	/* glibc returns the top of each thread's heap to the kernel as soon as
	 * 128 KiB lie free there. libssh2 and libcurl allocate and free a packet
	 * buffer per message, so every worker paid a page fault per 4 KiB received
	 * (SFTP download: 120,000 faults and twice the CPU per GiB). Keeping up
	 * to 64 MiB per heap changes no peak: memory stays bounded by what the
	 * workers hold at once. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	return nv_cli_main(argc, argv);
}
