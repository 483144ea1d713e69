/* main.c: entry point; hands argv to the command dispatcher.
 * Nothing else lives here so tests can link every command from the library. */
#include "cli.h"

int main(int argc, char **argv)
{
	return nv_cli_main(argc, argv);
}
