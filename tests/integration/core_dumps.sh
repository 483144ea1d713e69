# core_dumps.sh: a running navette cannot dump core (its memory holds identities and
# store secrets): not dumpable, RLIMIT_CORE 1, unless NAVETTE_ALLOW_COREDUMP=1.
# The process is inspected through /proc while it waits on a fifo, never crashed.
. "$NV_SRCDIR/tests/lib/common.sh"

command -v python3 >/dev/null || nv_skip "python3 missing"
[ -r /proc/self/limits ] || nv_skip "no /proc"
# ASan lowers RLIMIT_CORE itself unless told not to; the test must see navette's doing.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0"
ulimit -S -c "$(ulimit -H -c)"

# A directory the unprivileged user below may read (NV_TMP is private).
pub=$(mktemp -d /tmp/navette-core.XXXXXX)
nv_at_exit "rm -rf '$pub'"
chmod 755 "$pub"
mkdir -p "$pub/a" "$pub/b" "$pub/home"
echo x >"$pub/a/f"
chmod -R a+rX "$pub"

# inspect [ENV=VALUE...]: starts `navette check --exclude-from FIFO` (as nobody when
# root: the owner of /proc/PID then tells a non-dumpable process apart), waits until
# it has opened the fifo (so main() is behind it), prints its uid, the owner of
# /proc/PID/status and its core limits, then lets it finish and prints its exit code.
inspect() {
	env "$@" python3 - "$NAVETTE" "$pub" <<'PY'
import errno, os, subprocess, sys, time
navette, pub = sys.argv[1], sys.argv[2]
fifo = os.path.join(pub, "rules")
if os.path.exists(fifo):
    os.unlink(fifo)
os.mkfifo(fifo, 0o666)
drop = {}
if os.geteuid() == 0:
    os.chown(os.path.join(pub, "home"), 65534, 65534)
    drop = dict(user=65534, group=65534, extra_groups=[])
env = dict(os.environ, HOME=os.path.join(pub, "home"))
p = subprocess.Popen([navette, "check", "--exclude-from", fifo, pub + "/a", pub + "/a"],
                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **drop)
fd, deadline = None, time.monotonic() + 300
while fd is None:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno != errno.ENXIO or p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            sys.exit("navette never opened the fifo: %s" % p.communicate()[1])
        time.sleep(0.02)
st = os.stat("/proc/%d/status" % p.pid)
uid = [l.split()[1] for l in open("/proc/%d/status" % p.pid) if l.startswith("Uid:")][0]
core = [l for l in open("/proc/%d/limits" % p.pid) if l.startswith("Max core file size")][0]
print("uid", uid)
print("proc_owner", st.st_uid)
print("core", " ".join(core.split()[4:6]))
os.close(fd)
err = p.communicate()[1]
print("exit", p.returncode)
sys.stderr.write(err.decode(errors="replace"))
PY
}

hard=$(ulimit -H -c)
want_core="1 1"
[ "$hard" = 0 ] && want_core="0 0"

inspect >"$NV_TMP/out" 2>"$NV_TMP/err" || { cat "$NV_TMP/err"; nv_die "inspect failed"; }
uid=$(awk '$1 == "uid" { print $2 }' "$NV_TMP/out")
[ -n "$uid" ] && [ "$uid" != 0 ] || nv_die "navette ran as uid '$uid': the owner test needs another uid than root"
grep -qx "proc_owner 0" "$NV_TMP/out" && ok "navette is not dumpable (/proc/PID owned by root, navette uid $uid)" ||
	{ not_ok "navette is not dumpable"; cat "$NV_TMP/out"; }
grep -qx "core $want_core" "$NV_TMP/out" && ok "RLIMIT_CORE is $want_core (was $hard)" ||
	{ not_ok "RLIMIT_CORE is $want_core"; cat "$NV_TMP/out"; }
grep -qx "exit 0" "$NV_TMP/out" && ok "the run goes on and exits 0" ||
	{ not_ok "the run goes on and exits 0"; cat "$NV_TMP/out" "$NV_TMP/err"; }

# NAVETTE_ALLOW_COREDUMP=1 leaves both alone, for debugging
inspect NAVETTE_ALLOW_COREDUMP=1 >"$NV_TMP/out" 2>"$NV_TMP/err" || { cat "$NV_TMP/err"; nv_die "inspect failed"; }
grep -qx "proc_owner $uid" "$NV_TMP/out" && ok "NAVETTE_ALLOW_COREDUMP=1: dumpable" ||
	{ not_ok "NAVETTE_ALLOW_COREDUMP=1: dumpable"; cat "$NV_TMP/out"; }
[ "$hard" = unlimited ] && want="unlimited unlimited" || want="$hard $hard"
grep -qx "core $want" "$NV_TMP/out" && ok "NAVETTE_ALLOW_COREDUMP=1: RLIMIT_CORE untouched" ||
	{ not_ok "NAVETTE_ALLOW_COREDUMP=1: RLIMIT_CORE untouched"; cat "$NV_TMP/out"; }
nv_done
