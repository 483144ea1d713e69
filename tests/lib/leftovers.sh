# leftovers.sh: helpers for the tests of what interrupted runs leave (sourced
# after common.sh).

# ours DIR: the temporary files of navette's runs under DIR (the exact form
# .navette-tmp.<run id>.<16 hex>), one per line.
ours() {
	find "$1" -regextype posix-extended -type f \
		-regex '.*/\.navette-tmp\.[0-9a-f]{16}\.[0-9a-f]{16}' 2>/dev/null
}
# unheld FILE: waits until no process holds FILE open (up to 60 s). A killed
# run's ssh child (transport = ssh) still delivers what it had taken, and the
# server's sftp-server writes it, until the session ends.
unheld() {
	local i
	for i in $(seq 1 600); do
		find /proc/[0-9]*/fd -lname "$1" 2>/dev/null | grep -q . || return 0
		sleep 0.1
	done
	return 1
}
# bytes FILE...: their sizes added up.
bytes() { stat -c %s "$@" | awk '{ n += $1 } END { print n + 0 }'; }
# stopped PID: waits until PID stopped itself (NAVETTE_FAULT=...=stop), up to 60 s.
stopped() {
	local i
	for i in $(seq 1 600); do
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# user_files DIR NAME...: writes "user" into each DIR/NAME (names that are
# not exactly ours); user_files_kept DIR NAME...: they are all still there.
user_files() {
	local d=$1 n; shift
	for n in "$@"; do echo user >"$d/$n"; done
}
user_files_kept() {
	local d=$1 n; shift
	for n in "$@"; do [ "$(cat "$d/$n" 2>/dev/null)" = user ] || return 1; done
}
