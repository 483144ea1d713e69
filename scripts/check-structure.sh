#!/usr/bin/env bash
# check-structure.sh: the one entry point of the structure rules of issue 10.
# Called by scripts/test.sh after the build, and by tests/structure/run.sh.
#   scripts/check-structure.sh BUILDDIR [TOP]
# BUILDDIR holds the built libnavette.a; TOP is the source tree (default: this
# checkout). Exits 0 when every rule holds, 1 on a violation, 2 when a rule
# could not look. The rules, and how to keep them, are in scripts/structure.py
# and in docs/ARCHITECTURE.md ("Structure checks").
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null || {
	echo "ERROR: no python3 (scripts/install-deps.sh --test installs it)"; exit 2; }
exec python3 "$here/structure.py" "$@"
