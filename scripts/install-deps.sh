#!/usr/bin/env bash
# install-deps.sh: installs what navette needs on Debian 12, as root.
#   scripts/install-deps.sh          build dependencies only
#   scripts/install-deps.sh --test   also the stock tools and real servers the tests use
#                                    (systemd for systemd-analyze and systemd-sysusers,
#                                    which check the installed units offline: no running
#                                    systemd needed), jscpd for scripts/check-structure.sh,
#                                    clang with libFuzzer for make fuzz, and Slurm
#                                    (slurm-wlm, munge) for tests/integration/slurm.sh
set -euo pipefail
build_pkgs=(build-essential autoconf automake pkg-config
	libssl-dev libcurl4-openssl-dev libssh2-1-dev libjansson-dev libexpat1-dev
	libcmocka-dev)
# prometheus: its promtool checks what --metrics-file writes (tests/integration/metrics.sh)
# clang + libclang-rt-14-dev: make fuzz (libFuzzer's runtime is in the second, which
# clang only recommends)
# slurm-wlm + munge: a one-node Slurm cluster that tests/servers/slurm.sh starts
# (tests/integration/slurm.sh); python3-yaml: the Kubernetes manifest's check
test_pkgs=(age openssh-server openssh-client rclone restic nodejs npm time valgrind
	openssl ca-certificates procps iproute2 python3 jq util-linux systemd prometheus
	clang libclang-rt-14-dev slurm-wlm munge python3-yaml)
# Packages that bring a daemon: the tests start their own, so none is started
# while they install (policy-rc.d) nor left enabled at boot.
daemon_pkgs=(prometheus slurm-wlm munge)
pkgs=("${build_pkgs[@]}")
[ "${1:-}" = --test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node may come from elsewhere than Debian's package (it is on these machines)
if command -v node >/dev/null && command -v npm >/dev/null; then
	missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	others=() daemons=()
	for p in "${missing[@]}"; do
		case " ${daemon_pkgs[*]} " in
		*" $p "*) daemons+=("$p") ;;
		*) others+=("$p") ;;
		esac
	done
	[ "${#others[@]}" -eq 0 ] || apt-get install -y -qq --no-install-recommends "${others[@]}" >/dev/null
	# The tests want promtool, not a Prometheus server, and start munged,
	# slurmctld and slurmd themselves, under their own configuration.
	if [ "${#daemons[@]}" -gt 0 ]; then
		own_policy=0
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
			chmod 755 /usr/sbin/policy-rc.d
			own_policy=1
		fi
		apt-get install -y -qq --no-install-recommends "${daemons[@]}" >/dev/null
		[ "$own_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
		if command -v systemctl >/dev/null; then
			for unit in prometheus munge slurmctld slurmd; do
				systemctl disable --now "$unit" >/dev/null 2>&1 || true
			done
		fi
	fi
fi
if [ "${1:-}" = --test ]; then
	here=$(cd "$(dirname "$0")/.." && pwd)
	if [ ! -d "$here/tests/servers/node_modules/@20minutes/s3rver" ] ||
	   [ ! -d "$here/tests/servers/node_modules/azurite" ]; then
		echo "installing the test servers from the npm registry (tests/servers)"
		(cd "$here/tests/servers" && npm install --no-audit --no-fund --loglevel=error)
	fi
	# jscpd for scripts/check-structure.sh, pinned: 5.4.1 installs but does not run here
	if [ "$(cd "$here/tests/tools" && node -p 'require("jscpd/package.json").version' \
		2>/dev/null)" != 5.3.2 ]; then
		echo "installing jscpd 5.3.2 from the npm registry (tests/tools)"
		(cd "$here/tests/tools" && npm install --no-audit --no-fund --loglevel=error)
	fi
fi
