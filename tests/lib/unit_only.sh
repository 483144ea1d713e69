# unit_only.sh: the SH_LOG_COMPILER of a build configured NV_CHECK=unit (what
# make distcheck configures): reports each shell test as skipped. Makefile.am runs it.
echo "$1: not run: this build was configured NV_CHECK=unit (compiled tests only)"
exit 77
