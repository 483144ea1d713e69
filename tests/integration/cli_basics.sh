# cli_basics.sh: help, version, usage errors and their exit codes, config refusal.
. "$NV_SRCDIR/tests/lib/common.sh"

expect_exit 0 "--help exits 0" "$NAVETTE" --help
grep -q "navette sync SRC DST" "$NV_TMP/out" && ok "--help lists commands" || not_ok "--help lists commands"
expect_exit 0 "--version exits 0" "$NAVETTE" --version
for d in local sftp s3 azure; do
	grep -q "drivers:.* $d" "$NV_TMP/out" && ok "--version lists $d" || not_ok "--version lists $d"
done
expect_exit 0 "help sync" "$NAVETTE" help sync
grep -q -- "--delete" "$NV_TMP/out" && ok "help sync names --delete" || not_ok "help sync names --delete"
for o in max-delete allow-empty-source backup-dir delete-excluded exclude include exclude-from \
	files-from min-age max-age wait-lock; do
	grep -q -- " --$o\b" "$NV_TMP/out" && ok "help sync names --$o" || not_ok "help sync names --$o"
done
expect_exit 0 "help check" "$NAVETTE" help check
grep -q -- " --exclude .* --max-age" "$NV_TMP/out" && ok "help check names the filters" ||
	not_ok "help check names the filters"
grep -q -- "--wait-lock\|--backup-dir\|--max-delete" "$NV_TMP/out" &&
	not_ok "check takes no lock, backup or guard options" || ok "check takes no lock, backup or guard options"
expect_exit 2 "copy takes no --delete-excluded" "$NAVETTE" copy --delete-excluded a b
expect_exit 2 "no command is a usage error" "$NAVETTE"
expect_exit 2 "unknown command" "$NAVETTE" frobnicate
expect_err "unknown command: frobnicate" "unknown command is named"
expect_exit 2 "unknown option" "$NAVETTE" sync --no-such-option a b
expect_exit 2 "option of another command" "$NAVETTE" copy --delete a b
expect_exit 2 "missing argument" "$NAVETTE" sync only-one
expect_exit 2 "help for unknown command" "$NAVETTE" help frobnicate
expect_exit 2 "bad --fsync" "$NAVETTE" sync --fsync sometimes a b
expect_exit 2 "bad --transfers" "$NAVETTE" sync --transfers 0 a b
expect_exit 2 "unknown scheme" "$NAVETTE" ls gopher://x/y
expect_err "unknown scheme" "unknown scheme is named"
expect_exit 2 "unknown remote" "$NAVETTE" ls nosuch:x
expect_err "no remote named 'nosuch'" "unknown remote is named"

# config file refused when others can read its secrets; the secret is never printed
conf="$NV_TMP/navette.conf"
printf '[s]\ntype = s3\nsecret_access_key = TOPSECRET123\n' >"$conf"
chmod 644 "$conf"
mkdir -p "$NV_TMP/empty"
expect_exit 2 "world-readable config with a secret is refused" "$NAVETTE" --config "$conf" ls "$NV_TMP/empty"
expect_err "readable by group or others" "refusal says why"
grep -q TOPSECRET123 "$NV_TMP/err" && not_ok "secret not printed" || ok "secret not printed"
chmod 600 "$conf"
expect_exit 0 "private config accepted" "$NAVETTE" --config "$conf" ls "$NV_TMP/empty"
# a line the config parser cannot read is a configuration error naming file and line
printf '[s]\ntype = local\nfsync none\n' >"$conf"
expect_exit 2 "config line without = is refused" "$NAVETTE" --config "$conf" ls "$NV_TMP/empty"
expect_err "config file $conf, line 3: expected key = value" "the refusal names the file and line"
# a long line (an Azure connection string, a SAS token) is read whole, never cut
long=$(printf 'A=%0400d;B=x' 0)
printf '[s]\ntype = local\nconnection_string = %s\n' "$long" >"$conf"
chmod 600 "$conf"
expect_exit 0 "a 420-byte config line is read" "$NAVETTE" --config "$conf" ls "s:$NV_TMP/empty"
# the default location is read too
mkdir -p "$HOME/.config/navette"
printf '[here]\ntype = local\n' >"$HOME/.config/navette/navette.conf"
chmod 600 "$HOME/.config/navette/navette.conf"
echo x >"$NV_TMP/empty/f"
expect_exit 0 "remote from the default config" "$NAVETTE" ls "here:$NV_TMP/empty"
grep -q " f$" "$NV_TMP/out" && ok "named local remote lists" || not_ok "named local remote lists"
expect_exit 4 "ls of a missing directory is an error" "$NAVETTE" ls "$NV_TMP/nope"
nv_done
