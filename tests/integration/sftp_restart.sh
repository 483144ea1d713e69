# sftp_restart.sh: the server dies mid-transfer. Killed then restarted: the run
# reconnects and completes. Frozen (SIGSTOP): every operation times out, the run
# fails in bounded time. Either way nothing partial appears under a target name.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/leftovers.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
nv_start_sshd
export NAVETTE_CONFIG=$NV_SSHD_CONF
R=$NV_SSHD_DIR/remote
S=$NV_TMP/src
mkdir -p "$S" "$R"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$S/big"
echo small >"$S/small"

# Each run holds itself still (NAVETTE_FAULT=...=stop) mid-transfer, so the
# server dies or freezes while the run is surely in the middle of the file,
# however fast the transport; it goes on once that is done.
# tmp_in DIR: a temporary file of a write is there.
tmp_in() { [ -n "$(find "$1" -name '.navette-tmp.*' 2>/dev/null)" ]; }

# Upload: sshd and all its sessions killed while the temp file is being written.
NAVETTE_FAULT=write@8=stop "$NAVETTE" copy --retries 6 --transfers 1 "$S" "ssh:$R/up" \
	>"$NV_TMP/up.out" 2>"$NV_TMP/up.err" &
pid=$!
nv_at_exit "kill -CONT $pid; kill $pid"
check "the upload holds still mid-file" stopped "$pid"
check "upload started writing its temp file" tmp_in "$R/up"
nv_stop_sshd KILL
check "no partial file under the target name" [ ! -e "$R/up/big" ]
kill -CONT "$pid"
sleep 1
nv_start_sshd
wait "$pid"; rc=$?
check "upload completed after the restart (exit $rc)" [ "$rc" = 0 ]
check "uploaded file is whole" cmp -s "$S/big" "$R/up/big"
check "the dead session's temp file was cleaned up" \
	[ -z "$(find "$R/up" -name '.navette-tmp.*')" ]

# Download: killed mid-read, resumed after reconnecting. The local temp file,
# named here (driver test hook: an O_TMPFILE has no name), shows it started.
NAVETTE_LOCAL_NO_TMPFILE=1 NAVETTE_FAULT=write@8=stop "$NAVETTE" copy --retries 6 --transfers 1 \
	"ssh:$R/up" "$NV_TMP/down" >"$NV_TMP/dn.out" 2>"$NV_TMP/dn.err" &
pid=$!
nv_at_exit "kill -CONT $pid; kill $pid"
check "the download holds still mid-file" stopped "$pid"
check "download started writing its temp file" tmp_in "$NV_TMP/down"
nv_stop_sshd KILL
kill -CONT "$pid"
sleep 1
nv_start_sshd
wait "$pid"; rc=$?
check "download completed after the restart (exit $rc)" [ "$rc" = 0 ]
check "downloaded file is whole" cmp -s "$S/big" "$NV_TMP/down/big"

# Frozen server: connections stay open but nothing answers. Bounded by --timeout.
# A long lease TTL: its renewal (every TTL/3) never falls in this run, whose
# outcome is then the file's alone (exit 3), not a lost lease (4).
NAVETTE_LEASE_TTL=600 NAVETTE_FAULT=write@8=stop "$NAVETTE" copy --timeout 2 --retries 1 \
	--transfers 1 "$S" "ssh:$R/frozen" >"$NV_TMP/fz.out" 2>"$NV_TMP/fz.err" &
pid=$!
nv_at_exit "kill -CONT $pid; kill $pid"
if stopped "$pid"; then
	for p in $(nv_sshd_descendants "$NV_SSHD_PID") "$NV_SSHD_PID"; do kill -STOP "$p"; done
	start=$(date +%s)
	kill -CONT "$pid"
	wait "$pid"; rc=$?
	took=$(( $(date +%s) - start ))
	check "frozen server: the file fails (exit $rc, wanted 3)" [ "$rc" = 3 ]
	grep -q "^failed big: sftp root@127\.0\.0\.1:$NV_SSHD_PORT: " "$NV_TMP/fz.err" &&
		ok "frozen server: the file and the server are named" ||
		{ not_ok "frozen server: the file and the server are named"; sed 's/^/    /' "$NV_TMP/fz.err" | head; }
	check "frozen server: it gave up in bounded time (${took}s)" [ "$took" -lt 90 ]
	check "frozen server: no partial file under the target name" [ ! -e "$R/frozen/big" ]
	grep -qi "timed out" "$NV_TMP/fz.err" && ok "frozen server: message says it timed out" ||
		{ not_ok "frozen server: message says it timed out"; sed 's/^/    /' "$NV_TMP/fz.err" | head; }
else
	not_ok "frozen-server upload never started"
fi
nv_stop_sshd KILL
nv_done
