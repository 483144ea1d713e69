# completion.sh: the bash completion (conf/bash-completion/navette), driven as bash
# drives it (COMP_LINE, COMP_POINT, COMP_WORDS, COMP_CWORD, then _navette), against the
# navette it completes: every command and every option of every command's help is
# offered and nothing else, its list of options taking a value is the binary's own,
# option values, remote names from the config file, paths.
. "$NV_SRCDIR/tests/lib/common.sh"

command -v bash >/dev/null || nv_need "bash"
comp=$NV_SRCDIR/conf/bash-completion/navette
work=$NV_TMP/work
mkdir -p "$work/data" && : >"$work/file.txt"

# complete LINE: what _navette offers for LINE (the cursor at its end), sorted, one a line
complete_line() {
	(cd "$work" && bash -c '
		. "$1" || exit 9
		COMP_LINE=$2 COMP_POINT=${#2}
		read -r -a COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_navette navette "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$1") | sed '/^$/d' | sort
}
# expect_completion DESCRIPTION LINE WORD...: _navette offers exactly these words
expect_completion() {
	local d=$1 line=$2 got want; shift 2
	got=$(complete_line "$line")
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	if [ "$got" = "$want" ]; then ok "$d"; else
		not_ok "$d: '$line' gave [$(echo $got)], wanted [$(echo $want)]"; fi
}

out=$(bash -c '. "$1" && complete -p navette' _ "$comp" 2>&1)
[ "$out" = "complete -F _navette navette" ] && ok "complete -p navette: -F _navette" ||
	not_ok "complete -p navette ($out)"

# What navette's own help says, read here with sed, apart from the completion's reading.
commands=$("$NAVETTE" --help | sed -n '/^commands:/,/^$/s/^  navette \([a-z][a-z-]*\).*/\1/p' | sort -u)
globals=$("$NAVETTE" --help | sed -n '/^global options:/,/^$/s/^  \(-[a-zA-Z], \)\{0,1\}\(--[a-z-]*\).*/\2/p')
[ "$(echo $commands | wc -w)" -ge 10 ] && [ "$(echo $globals | wc -w)" -ge 4 ] &&
	ok "navette --help lists commands and global options" ||
	not_ok "navette --help lists commands ($commands) and global options ($globals)"

C="$NAVETTE "
expect_completion "every command of navette --help, and help" "$C" $commands help
expect_completion "commands by prefix" "${C}re" replicate
expect_completion "global options before the command" "$C--" $globals
expect_completion "help COMMAND" "${C}help " $commands help
all_opts=$globals
for c in $commands; do
	opts=$("$NAVETTE" help "$c" | sed -n 's/^options://p')
	[ -n "$opts" ] || not_ok "navette help $c lists options"
	all_opts="$all_opts $opts"
	# after the command, and after an option with its value and a location
	expect_completion "$c: every option of its help, and the global ones" "$C$c --" \
		$opts $globals
	expect_completion "$c: options after others" "$C--config x $c -v a --" $opts $globals
done

# The options that take a value, as navette itself has them: it says "missing value"
# for OPTION alone and not for OPTION VALUE. Short options are all letters tried.
valued=
for o in $(printf '%s\n' $all_opts | sort -u) $(printf -- '-%s\n' {a..z} {A..Z}); do
	"$NAVETTE" "$o" 2>&1 | grep -q "missing value" || continue
	"$NAVETTE" "$o" x 2>&1 | grep -q "unknown option or missing value" && continue
	valued="$valued $o"
done
listed=$(bash -c '. "$1" && echo $_navette_valued' _ "$comp")
if [ "$(printf '%s\n' $valued | sort)" = "$(printf '%s\n' $listed | sort)" ]; then
	ok "the options taking a value are navette's own ($(echo $valued | wc -w))"
else
	not_ok "the options taking a value: navette has [$(echo $valued)], completion [$listed]"
fi
expect_completion "a value is not a command" "$C--config x -i k --transfers 4 co" copy
expect_completion "--level values" "${C}verify v --level " list hash deep
expect_completion "--fsync values" "${C}sync a b --fsync " each batch none
expect_completion "--verify values for copy" "${C}copy a b --verify " size reread
expect_completion "--verify values for replicate" "${C}replicate a b --verify " size reread hash
expect_completion "a number is not completed" "${C}copy a b --transfers " ""
expect_completion "--config takes a path" "$C--config fi" file.txt
expect_completion "keygen -o takes a path" "${C}keygen -o d" data
expect_completion "keygen takes no location" "${C}keygen " ""

# Locations: without a config file, paths; with one, its remotes as NAME: too.
unset NAVETTE_CONFIG XDG_CONFIG_HOME
expect_completion "no config: paths" "${C}push " data file.txt
expect_completion "no config: paths by prefix" "${C}push d" data
cat >"$NV_TMP/a.conf" <<'EOF'
[navette]
signing_key = /x
[ovh]
type = s3
  [sftp-archive]
type = sftp
# [commented]
[backup-disk]
type = local
EOF
printf '[other]\ntype = local\n' >"$NV_TMP/b.conf"
export NAVETTE_CONFIG=$NV_TMP/a.conf
expect_completion "NAVETTE_CONFIG's remotes (not [navette]), and paths" "${C}copy " \
	ovh: sftp-archive: backup-disk: data/ file.txt
expect_completion "remotes by prefix" "${C}copy data/ s" sftp-archive:
expect_completion "no remote by that prefix: paths" "${C}push d" data
expect_completion "NAME: typed in full offers nothing more" "${C}ls ovh:" ""
expect_completion "--config on the line wins" "$C--config $NV_TMP/b.conf sync " \
	other: data/ file.txt
expect_completion "--config=FILE on the line wins" "$C--config=$NV_TMP/b.conf sync o" other:
unset NAVETTE_CONFIG
mkdir -p "$HOME/.config/navette" "$NV_TMP/xdg/navette"
cp "$NV_TMP/b.conf" "$HOME/.config/navette/navette.conf"
expect_completion "default config under HOME" "${C}ls o" other:
printf '[xdgremote]\ntype = local\n' >"$NV_TMP/xdg/navette/navette.conf"
export XDG_CONFIG_HOME=$NV_TMP/xdg
expect_completion "default config under XDG_CONFIG_HOME" "${C}ls x" xdgremote:
unset XDG_CONFIG_HOME
nv_done
