# install_units.sh: `make install DESTDIR=` of the scheduling files (conf/conf.am),
# then, on the installed copies: systemd-analyze verify (silent, or it failed) and
# security --offline=yes under a stated exposure threshold, the dedicated user through
# systemd-sysusers --root, the alert script's log line, hook and report, the completion.
# Needs no running systemd (CI's PID 1 is not systemd): every check reads files.
. "$NV_SRCDIR/tests/lib/common.sh"

# The exposure `systemd-analyze security` may report for each service, in its own
# scale of 0.0 (locked down) to 10.0 (nothing restricted). The units score 1.0 to
# 1.3 (the network they need, a journal group for the alert); 2.0 lets a small
# change through and fails the loss of any one big protection.
threshold=2.0

[ "$NV_UNITDIR" != no ] || nv_skip "configured with --without-systemdsystemunitdir"
command -v systemd-analyze >/dev/null || nv_need "systemd-analyze (Debian package systemd)"
command -v bash >/dev/null || nv_need "bash"

# quiet COMMAND...: runs it, showing its output only when it fails
quiet() { "$@" >"$NV_TMP/quiet" 2>&1 || { sed 's/^/    /' "$NV_TMP/quiet"; return 1; }; }

root=$NV_TMP/root
unitdir=$root$NV_UNITDIR
if make -C "$NV_BUILDDIR" install DESTDIR="$root" >"$NV_TMP/install.log" 2>&1; then
	ok "make install DESTDIR="
else
	not_ok "make install DESTDIR="; tail -20 "$NV_TMP/install.log"; nv_done; exit 1
fi
units="navette-replicate@.service navette-verify@.service navette-alert@.service
	navette-replicate@.timer navette-verify@.timer navette-drill@.service navette-drill@.timer"
for u in $units; do
	check "installed $u" test -f "$unitdir/$u"
done
alert=$root$NV_PKGLIBEXECDIR/navette-alert
check "installed the alert script, executable" test -x "$alert"
check "installed the program the units run" test -x "$root$NV_BINDIR/navette"
if grep -rlE '@(bindir|sysconfdir|pkglibexecdir)@' "$root" >"$NV_TMP/left"; then
	not_ok "no @dir@ left unsubstituted"; cat "$NV_TMP/left"
else
	ok "no @dir@ left unsubstituted"
fi

# What the units promise, read from the installed files.
for u in navette-replicate@.service navette-verify@.service navette-drill@.service; do
	f=$unitdir/$u
	for line in "User=navette" "NoNewPrivileges=yes" "ProtectSystem=strict" \
		"ReadWritePaths=%S/navette" "StateDirectory=navette" \
		"Environment=NAVETTE_STATE_DIR=%S/navette" \
		"Environment=NAVETTE_CONFIG=$NV_SYSCONFDIR/navette/navette.conf" \
		"OnFailure=navette-alert@%n.service"; do
		grep -qxF "$line" "$f" && ok "$u: $line" || not_ok "$u: $line"
	done
	grep -qE "^EnvironmentFile=$NV_SYSCONFDIR/navette/(replicate|verify|drill)-%i\.env$" "$f" &&
		ok "$u: its secrets come from an EnvironmentFile named by the instance" ||
		not_ok "$u: its secrets come from an EnvironmentFile named by the instance"
	exec_line=$(grep '^ExecStart=' "$f")
	case $exec_line in
	"ExecStart=$NV_BINDIR/navette "*) ok "$u: runs the installed navette" ;;
	*) not_ok "$u: runs the installed navette ($exec_line)" ;;
	esac
	if echo "$exec_line" | grep -qiE 'key|secret|password|token|passphrase'; then
		not_ok "$u: no secret on the command line ($exec_line)"
	else
		ok "$u: no secret on the command line"
	fi
done
grep -qxF "ExecStart=$NV_BINDIR/navette verify --level hash --max-age 26h \$OPTIONS \${VAULT}" \
	"$unitdir/navette-verify@.service" && ok "verify: --level hash --max-age 26h" ||
	not_ok "verify: --level hash --max-age 26h"

# systemd-analyze verify and security, on the installed files under --root: they
# resolve ExecStart= programs in the staged tree, and need systemd's own targets
# there (sysinit.target...), which it takes from the host. Units are named, not
# given as paths (under --root a path is looked up inside the root); a unit dir
# off systemd's search path (make distcheck's prefix) is linked from
# /etc/systemd/system as `systemctl link` would.
hostunits=
for d in /usr/lib/systemd/system /lib/systemd/system; do
	[ -f "$d/sysinit.target" ] && { hostunits=$d; break; }
done
[ -n "$hostunits" ] || nv_need "systemd's own units (sysinit.target; Debian package systemd)"
etcunits=$root/etc/systemd/system
mkdir -p "$root/usr/lib/systemd/system" "$etcunits"
cp -n "$hostunits"/*.target "$root/usr/lib/systemd/system/"
[ "$unitdir" = "$etcunits" ] || for u in $units; do ln -sr "$unitdir/$u" "$etcunits/$u"; done
# Documentation=man:navette(1) is checked with man(1) on the staged man page; a
# machine without man-db checks only that the page is installed.
check "installed the man page the units name" test -f "$root$NV_MANDIR/man1/navette.1"
man=yes
command -v man >/dev/null || { man=no; echo "# no man(1) here: Documentation= not run"; }
analyze_verify() {
	MANPATH="$root$NV_MANDIR" systemd-analyze verify --man="$man" --root="$root" "$@" \
		>"$NV_TMP/verify" 2>&1
	# a bad key or value is only a warning to it (exit 0): any output is a failure
	[ $? -eq 0 ] && [ ! -s "$NV_TMP/verify" ]
}
# the instances that `systemctl enable navette-replicate@ovh-to-sftp.timer` and the
# OnFailure= handler make
for u in navette-replicate@ovh-to-sftp.timer navette-replicate@ovh-to-sftp.service \
	navette-verify@sftp-archive.timer navette-verify@sftp-archive.service \
	navette-drill@photos.timer navette-drill@photos.service \
	navette-alert@navette-replicate@ovh-to-sftp.service.service; do
	if analyze_verify "$u"; then ok "systemd-analyze verify $u"; else
		not_ok "systemd-analyze verify $u"; sed 's/^/    /' "$NV_TMP/verify"; fi
done
# ...and it does see a fault: a misspelt key, and a program that is not there
broken=$etcunits/navette-broken@.service
sed 's/^ProtectSystem=/ProtectSystm=/' "$unitdir/navette-verify@.service" >"$broken"
analyze_verify navette-broken@x.service && not_ok "verify flags a misspelt key" ||
	ok "verify flags a misspelt key"
sed "s|^ExecStart=$NV_BINDIR/navette|ExecStart=$NV_BINDIR/navette-absent|" \
	"$unitdir/navette-verify@.service" >"$broken"
analyze_verify navette-broken@x.service && not_ok "verify flags a missing program" ||
	ok "verify flags a missing program"

# systemd-analyze security --offline=yes: exposure at most $threshold for each service
t10=$(echo "$threshold" | awk '{ printf "%d", $1 * 10 }')
security() {
	systemd-analyze security --offline=yes --root="$root" --threshold="$t10" "$1" \
		>"$NV_TMP/security" 2>&1
}
for s in navette-replicate@x.service navette-verify@x.service navette-drill@x.service \
	navette-alert@x.service; do
	security "$s"; rc=$?
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$NV_TMP/security")
	if [ "$rc" -eq 0 ] && [ -n "$level" ]; then
		ok "security $s: exposure $level <= $threshold"
	else
		not_ok "security $s: exposure '$level' <= $threshold (exit $rc)"
		sed 's/^/    /' "$NV_TMP/security" | grep -vF '✓'
	fi
done
# ...and the threshold bites: the same unit without its hardening block is refused
sed '/^# Hardening/,$d' "$unitdir/navette-verify@.service" >"$broken"
security navette-broken@x.service; rc=$?
grep -q 'Overall exposure level for navette-broken@x.service' "$NV_TMP/security" &&
	[ "$rc" -ne 0 ] && ok "an unhardened unit exceeds $threshold" ||
	not_ok "an unhardened unit exceeds $threshold (exit $rc)"

# The units' command lines, run as systemd would run them (an EnvironmentFile's
# variables; $VAR split at blanks, ${VAR} one word) with the staged program, on local
# vaults: a replication, a verification of the replica, then a stale heartbeat; a
# drill of the replica (its reports where %S/navette, the state, would be).
exec_of() { sed -n "s|^ExecStart=$NV_BINDIR/navette ||p" "$unitdir/$1"; }
# run_unit UNIT ENVFILE: the unit's ExecStart with the variables of ENVFILE
run_unit() (
	set -a; . "$2"; set +a
	args=()
	for w in $(exec_of "$1"); do
		case $w in
		'${'*'}') n=${w:2:${#w}-3}; args+=("${!n:-}") ;;
		'$'*) n=${w:1}; args+=(${!n:-}) ;;
		*) w=${w//'%S'/$NV_TMP/S}; args+=("${w//'%i'/x}") ;;
		esac
	done
	export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_CONFIG="$NV_TMP/navette.conf"
	"$root$NV_BINDIR/navette" "${args[@]}"
)
v=$NV_TMP/vaults
mkdir -p "$v/data" && echo "photo" >"$v/data/a.jpg"
printf '[backup]\ntype = local\n' >"$NV_TMP/navette.conf"
chmod 600 "$NV_TMP/navette.conf"
(export NAVETTE_STATE_DIR="$NV_TMP/pusher"
 "$NAVETTE" keygen -o "$v/owner.key" >"$v/owner.pub" 2>/dev/null &&
 "$NAVETTE" keygen --signing -o "$v/push.key" >/dev/null 2>&1 &&
 "$NAVETTE" init "$v/src" --recipients-file "$v/owner.pub" --signing-key "$v/push.key" &&
 "$NAVETTE" push "$v/data" "$v/src" --signing-key "$v/push.key") >"$NV_TMP/vault.log" 2>&1 ||
	{ cat "$NV_TMP/vault.log"; nv_die "could not make a vault to replicate"; }
printf 'SRC=%s\nDST=backup:%s\nOPTIONS="--wait-lock 10s --signing-pubkey %s"\n' \
	"$v/src" "$v/replica" "$v/push.key.pub" >"$NV_TMP/replicate-x.env"
printf 'VAULT=backup:%s\n' "$v/replica" >"$NV_TMP/verify-x.env"
expect_exit 0 "replicate unit's command line" run_unit navette-replicate@.service "$NV_TMP/replicate-x.env"
expect_exit 0 "verify unit's command line, on the replica" run_unit navette-verify@.service "$NV_TMP/verify-x.env"
expect_err "verify \(hash, heartbeat max-age 26h\)" "...at --level hash --max-age 26h"
sleep 2
printf 'OPTIONS="--max-age 1s"\n' >>"$NV_TMP/verify-x.env"
expect_exit 1 "a stale heartbeat fails it (exit 1; OPTIONS override the age)" \
	run_unit navette-verify@.service "$NV_TMP/verify-x.env"
expect_err "stale heartbeat" "...and says so"
mkdir -p "$NV_TMP/S/navette"
printf 'VAULT=backup:%s\nNAVETTE_IDENTITY=%s\n' "$v/replica" "$v/owner.key" >"$NV_TMP/drill-x.env"
expect_exit 0 "drill unit's command line, on the replica" run_unit navette-drill@.service "$NV_TMP/drill-x.env"
check "...its JSON report where the unit says, passed" \
	grep -q '"result":"passed"' "$NV_TMP/S/navette/drill-x.json"
check "...and its Markdown report" grep -qx "# navette disaster-recovery drill: PASSED" \
	"$NV_TMP/S/navette/drill-x.md"

# The dedicated user: systemd-sysusers creates it in the staged tree.
if [ "$NV_SYSUSERSDIR" = no ]; then
	echo "# sysusers.d file not installed (configured so)"
elif command -v systemd-sysusers >/dev/null; then
	mkdir -p "$root/etc"
	check "systemd-sysusers reads the installed navette.conf" quiet \
		systemd-sysusers --root="$root" "$root$NV_SYSUSERSDIR/navette.conf"
	grep -qE '^navette:x:[0-9]+:[0-9]+:[^:]*:/var/lib/navette:' "$root/etc/passwd" &&
		ok "user navette, home /var/lib/navette (the units' state dir)" ||
		not_ok "user navette, home /var/lib/navette (the units' state dir)"
else
	nv_need "systemd-sysusers (Debian package systemd)"
fi

# The alert script: one err line through logger, then the hook with a report. Stand-ins
# for logger and journalctl record what they were given.
bin=$NV_TMP/stub-bin
mkdir -p "$bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s/logger.out"\n' "$NV_TMP" >"$bin/logger"
printf '#!/bin/sh\necho "journalctl $*"\necho "navette: stale heartbeat"\n' >"$bin/journalctl"
printf '#!/bin/sh\necho "args: $*" >"%s/hook.out"\ncat >>"%s/hook.out"\nexit ${HOOK_RC:-0}\n' \
	"$NV_TMP" "$NV_TMP" >"$NV_TMP/hook"
chmod +x "$bin/logger" "$bin/journalctl" "$NV_TMP/hook"
run_alert() {
	env PATH="$bin:$PATH" MONITOR_UNIT=navette-verify@sftp-archive.service \
		MONITOR_EXIT_STATUS=1 MONITOR_SERVICE_RESULT=exit-code MONITOR_INVOCATION_ID=0123abcd \
		"$@" "$alert" navette-verify@sftp-archive.service
}
expect_exit 0 "alert without a hook" run_alert NAVETTE_ALERT_HOOK="$NV_TMP/no-such-hook"
grep -q -- '-p daemon.err' "$NV_TMP/logger.out" && grep -q 'navette-verify@sftp-archive.service failed (exit-code, exit status 1): verification failed.*stale heartbeat' "$NV_TMP/logger.out" &&
	ok "alert logs the unit, its status and what it means at priority err" ||
	{ not_ok "alert logs the unit, its status and what it means"; cat "$NV_TMP/logger.out"; }
expect_exit 0 "alert with a hook" run_alert NAVETTE_ALERT_HOOK="$NV_TMP/hook"
grep -qx 'args: navette-verify@sftp-archive.service 1' "$NV_TMP/hook.out" &&
	grep -q '_SYSTEMD_INVOCATION_ID=0123abcd' "$NV_TMP/hook.out" &&
	grep -q 'navette: stale heartbeat' "$NV_TMP/hook.out" &&
	ok "the hook gets the unit, the status and a report with the run's journal" ||
	{ not_ok "the hook gets the unit, the status and the report"; cat "$NV_TMP/hook.out"; }
expect_exit 3 "a failing hook fails the alert unit (so it shows)" \
	run_alert NAVETTE_ALERT_HOOK="$NV_TMP/hook" HOOK_RC=3
printf '#!/bin/sh\nexit 1\n' >"$bin/logger"  # as logger does with no syslog socket
expect_exit 0 "alert when logger fails" env PATH="$bin:$PATH" MONITOR_EXIT_STATUS=4 \
	NAVETTE_ALERT_HOOK=/nonexistent "$alert" navette-replicate@x.service
grep -q '^<3>navette-replicate@x.service failed (failed, exit status 4): fatal' "$NV_TMP/err" &&
	ok "...says it on stderr with the err priority prefix" ||
	{ not_ok "...says it on stderr with the err priority prefix"; cat "$NV_TMP/err"; }

# The completion is installed where bash-completion looks, under the command's name.
if [ "$NV_BASHCOMPLETIONDIR" = no ]; then
	echo "# bash completion not installed (configured so)"
else
	out=$(bash -c '. "$1" && complete -p navette' _ "$root$NV_BASHCOMPLETIONDIR/navette" 2>&1)
	[ "$out" = "complete -F _navette navette" ] && ok "installed completion registers _navette" ||
		not_ok "installed completion registers _navette ($out)"
fi
cron=$(find "$root" -name navette.cron)
[ -n "$cron" ] && grep -q "^30 .* navette .*$NV_BINDIR/navette -q replicate" "$cron" &&
	ok "cron example installed, with the installed program" || not_ok "cron example installed"
[ -n "$cron" ] && grep -q "^0 .* 1 .* navette .*$NV_BINDIR/navette -q drill --max-age 26h" "$cron" &&
	ok "cron example: the monthly drill" || not_ok "cron example: the monthly drill"
nv_done
