/* main.c: entry point; sets the allocator up and hands argv to the command
 * dispatcher. Nothing else lives here so tests can link every command from the library. */
#include "cli.h"

#include <malloc.h>

int main(int argc, char **argv)
{
	/* glibc returns the top of each thread's heap to the kernel as soon as
	 * 128 KiB lie free there. libssh2 and libcurl allocate and free a packet
	 * buffer per message, so every worker paid a page fault per 4 KiB received
	 * (SFTP download: 120,000 faults and twice the CPU per GiB). Keeping up
	 * to 64 MiB per heap changes no peak: memory stays bounded by what the
	 * workers hold at once. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	return nv_cli_main(argc, argv);
}
