# metrics.sh: --metrics-file as node_exporter's textfile collector reads it:
# promtool accepts every file; a sync, a failing sync (the last success time
# survives it), the next success; push, replicate, pull and verify with their
# generation; label values escaped; credentials never in a label.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v promtool >/dev/null || nv_need "promtool (Debian package prometheus)"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"
export NAVETTE_LEASE_SETTLE_MS=50

M="$NV_TMP/textfile"; mkdir -p "$M"
# val FILE METRIC: the value of METRIC's one sample in FILE
val() { awk -v m="$2" 'index($0, m "{") == 1 {print $2}' "$M/$1"; }
# label FILE NAME: the value of label NAME of the file's first sample
label() { grep -m1 '^navette_last_run_exit_code{' "$M/$1" | sed "s/.*$2=\"\\([^\"]*\\)\".*/\\1/"; }
prom_ok() { promtool check metrics <"$M/$1" >"$NV_TMP/prom" 2>&1 || { cat "$NV_TMP/prom"; return 1; }; }

src="$NV_TMP/src"; dst="$NV_TMP/dst"
mkdir -p "$src"
head -c 100000 /dev/urandom >"$src/a"; echo hello >"$src/b"; echo world >"$src/c"

# a sync
expect_exit 0 "sync with --metrics-file" "$NAVETTE" sync "$src" "$dst" --metrics-file "$M/sync.prom"
check "promtool accepts it" prom_ok sync.prom
check "mode 0644" test "$(stat -c %a "$M/sync.prom")" = 644
check "no temporary file left" test "$(ls -A "$M")" = sync.prom
check "labelled by command" test "$(label sync.prom command)" = sync
check "labelled by destination as written" test "$(label sync.prom destination)" = "$dst"
check "3 objects" test "$(val sync.prom navette_last_run_objects)" = 3
check "their bytes" test "$(val sync.prom navette_last_run_bytes)" = 100012
check "no failure" test "$(val sync.prom navette_last_run_failures)" = 0
check "exit code 0" test "$(val sync.prom navette_last_run_exit_code)" = 0
s1=$(val sync.prom navette_last_success_timestamp_seconds)
check "a success time, now" test "$s1" -ge $(($(date +%s) - 60))
check "the run's own time too" test "$(val sync.prom navette_last_run_timestamp_seconds)" = "$s1"
check "no generation for a plain sync" sh -c "! grep -q navette_vault_generation '$M/sync.prom'"

# a failing sync: exit 3 reported, the last success kept
sleep 1
echo new >"$src/new"
# (write_commit@1 is the lease at DST: a file's commit is the second)
expect_exit 3 "a failing sync" env NAVETTE_FAULT=write_commit@2=io "$NAVETTE" sync --retries 0 "$src" "$dst" --metrics-file "$M/sync.prom"
check "promtool accepts it (failure)" prom_ok sync.prom
check "exit code 3" test "$(val sync.prom navette_last_run_exit_code)" = 3
check "one failure" test "$(val sync.prom navette_last_run_failures)" = 1
check "the last success survives the failure" test "$(val sync.prom navette_last_success_timestamp_seconds)" = "$s1"
check "the failed run's time is later" test "$(val sync.prom navette_last_run_timestamp_seconds)" -gt "$s1"
expect_exit 0 "the next sync succeeds" "$NAVETTE" sync "$src" "$dst" --metrics-file "$M/sync.prom"
check "a new success time" test "$(val sync.prom navette_last_success_timestamp_seconds)" -gt "$s1"
check "one object copied" test "$(val sync.prom navette_last_run_objects)" = 1

# a run that stops before any figure still says so
expect_exit 2 "a sync from an unknown remote" "$NAVETTE" sync nosuchremote:x "$dst" --metrics-file "$M/sync.prom"
check "promtool accepts it (usage)" prom_ok sync.prom
check "exit code 2" test "$(val sync.prom navette_last_run_exit_code)" = 2
check "the success before kept" test "$(val sync.prom navette_last_success_timestamp_seconds)" -gt "$s1"

# check: what was found identical
expect_exit 0 "check with --metrics-file" "$NAVETTE" check "$src" "$dst" --metrics-file "$M/check.prom"
check "promtool accepts check's" prom_ok check.prom
check "check counts identical files" test "$(val check.prom navette_last_run_objects)" = 4

# label values escaped: a quote, a backslash, a newline
odd="$NV_TMP/q\"b\\s
nl"
expect_exit 0 "sync to an odd name" "$NAVETTE" sync "$src" "$odd" --metrics-file "$M/odd.prom"
check "promtool accepts the escaped label" prom_ok odd.prom
check "the label is escaped" grep -qF 'q\"b\\s\nnl"}' "$M/odd.prom"

# credentials never in a label
expect_exit 4 "sync to sftp with a password in the URL" "$NAVETTE" sync "$src" 'sftp://bob:s3cret@127.0.0.1:1/x?token=t0ken' --metrics-file "$M/sftp.prom" --timeout 2
check "promtool accepts the failed run's file" prom_ok sftp.prom
check "user:password@ stripped" test "$(label sftp.prom destination)" = "sftp://127.0.0.1:1/x"
check "no secret in the file" sh -c "! grep -q 's3cret\|t0ken' '$M/sftp.prom'"
expect_exit 2 "sync to azure with a SAS in the URL" env -u AZURE_STORAGE_CONNECTION_STRING -u AZURE_STORAGE_KEY "$NAVETTE" sync "$src" 'az://acct/cont/p?sv=2022-11-02&sig=S3CRETSIG' --metrics-file "$M/az.prom"
check "SAS token stripped" test "$(label az.prom destination)" = "az://acct/cont/p"
check "no SAS in the file" sh -c "! grep -q S3CRETSIG '$M/az.prom'"

# vaults: push, replicate, pull, verify, with the generation
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
V="$NV_TMP/vault"; R="$NV_TMP/replica"
export NAVETTE_STATE_DIR="$NV_TMP/state"
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
expect_exit 0 "push with --metrics-file" "$NAVETTE" push "$src" "$V" --signing-key "$K/sign" --metrics-file "$M/push.prom"
check "promtool accepts push's" prom_ok push.prom
check "push: generation 1" test "$(val push.prom navette_vault_generation)" = 1
check "push: 4 objects uploaded" test "$(val push.prom navette_last_run_objects)" = 4
expect_exit 0 "replicate with --metrics-file" env NAVETTE_STATE_DIR="$NV_TMP/rhost" "$NAVETTE" replicate "$V" "$R" --signing-pubkey "$K/sign.pub" --metrics-file "$M/replicate.prom"
check "promtool accepts replicate's" prom_ok replicate.prom
check "replicate: labelled" test "$(label replicate.prom command)/$(label replicate.prom destination)" = "replicate/$R"
check "replicate: generation 1" test "$(val replicate.prom navette_vault_generation)" = 1
n_obj=$(find "$V/objects" -type f | wc -l)
check "replicate: every object" test "$(val replicate.prom navette_last_run_objects)" = "$n_obj"
check "replicate: their bytes" test "$(val replicate.prom navette_last_run_bytes)" = "$(find "$V/objects" -type f -printf '%s\n' | awk '{s += $1} END {print s}')"
check "replicate: exit 0" test "$(val replicate.prom navette_last_run_exit_code)" = 0
r1=$(val replicate.prom navette_last_success_timestamp_seconds)
sleep 1
echo more >"$src/more"
"$NAVETTE" push "$src" "$V" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "push 2"
obj=$(tail -n +2 "$V/manifests/00000000000000000002.json" | jq -r .name | while read -r o; do [ -e "$R/$o" ] || echo "$o"; done | head -n 1)
nv_flip_byte "$V/$obj" 40
expect_exit 1 "replicate refuses a tampered object" env NAVETTE_STATE_DIR="$NV_TMP/rhost" "$NAVETTE" replicate "$V" "$R" --metrics-file "$M/replicate.prom"
check "promtool accepts the refusal's" prom_ok replicate.prom
check "replicate: exit 1 reported" test "$(val replicate.prom navette_last_run_exit_code)" = 1
check "replicate: a failure counted" test "$(val replicate.prom navette_last_run_failures)" -ge 1
check "replicate: the last success survives" test "$(val replicate.prom navette_last_success_timestamp_seconds)" = "$r1"
expect_exit 0 "verify with --metrics-file" env NAVETTE_STATE_DIR="$NV_TMP/vhost" "$NAVETTE" verify "$R" --signing-pubkey "$K/sign.pub" --metrics-file "$M/verify.prom"
check "promtool accepts verify's" prom_ok verify.prom
check "verify: the replica's generation 1" test "$(val verify.prom navette_vault_generation)" = 1
expect_exit 0 "pull with --metrics-file" env NAVETTE_STATE_DIR="$NV_TMP/rhost2" "$NAVETTE" pull "$R" "$NV_TMP/restored" --identity "$K/id.txt" --signing-pubkey "$K/sign.pub" --metrics-file "$M/pull.prom"
check "promtool accepts pull's" prom_ok pull.prom
check "pull: 4 files restored" test "$(val pull.prom navette_last_run_objects)" = 4

# an unwritable metrics file: the run says so, exit 4
expect_exit 4 "a metrics file that cannot be written" "$NAVETTE" sync "$src" "$dst" --metrics-file "$NV_TMP/no/such/dir/x.prom"
expect_err "no/such/dir" "the error names it"

nv_done
