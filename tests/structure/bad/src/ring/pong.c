/* pong.c: fixture of tests/structure/run.sh, replacing fixture/src/ring/pong.c:
 * it calls ping.c and includes ping.h, so both a call and an include cycle. */
#include "pong.h"
#include "ring/ping.h"

int nv_pong(int n)
{
	return n > 1 ? nv_ping(n - 2) : n;
}
