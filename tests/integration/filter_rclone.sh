# filter_rclone.sh: the table of filter patterns (tests/fixtures/filter_cases.tsv)
# through the command line on a real tree: `navette copy --dry-run` with the
# rules as --include/--exclude keeps exactly the table's keys, and
# `rclone lsf --include/--exclude` on the same tree keeps the same ones, except
# in the cases the table marks as differing (each with its reason there).
. "$NV_SRCDIR/tests/lib/common.sh"

table="$NV_SRCDIR/tests/fixtures/filter_cases.tsv"
T="$NV_TMP/tree"
tab=$(printf '\t')
while IFS="$tab" read -r kind key _; do
	[ "$kind" = key ] || continue
	mkdir -p "$T/$(dirname "$key")" && printf '%s\n' "$key" >"$T/$key"
done <"$table"
check "the tree is built" test "$(find "$T" -type f | wc -l)" -ge 10

have_rclone=0
if command -v rclone >/dev/null; then
	have_rclone=1
	: >"$NV_TMP/rclone.conf"
elif [ "${NAVETTE_REQUIRE_SERVERS:-0}" = 1 ]; then
	not_ok "rclone is required for the comparison (apt-get install rclone)"
else
	echo "# rclone not installed: only navette's side is checked"
fi

# rule_args RULES: one --include/--exclude argument per rule, NUL-separated.
rule_args() {
	local r
	printf '%s\n' "$1" | tr '|' '\n' | while IFS= read -r r; do
		case "$r" in
		+*) printf -- '--include\0%s\0' "${r#+}" ;;
		-*) printf -- '--exclude\0%s\0' "${r#-}" ;;
		esac
	done
}
joined() { LC_ALL=C sort | paste -sd'|' | sed 's/^$/(none)/'; }

n=0; differ=0
while IFS="$tab" read -r kind rules kept rclone_kept; do
	[ "$kind" = case ] || continue
	n=$((n + 1))
	args=()
	while IFS= read -r -d '' a; do args+=("$a"); done < <(rule_args "$rules")
	"$NAVETTE" copy --dry-run "${args[@]}" "$T" "$NV_TMP/none" 2>"$NV_TMP/err"
	got=$(sed -n 's/^would copy //p' "$NV_TMP/err" | joined)
	check "navette $rules" test "$got" = "$kept"
	[ "$got" = "$kept" ] || printf '    want %s\n    got  %s\n' "$kept" "$got"
	[ "$have_rclone" = 1 ] || continue
	want=${rclone_kept:-$kept}
	[ -n "$rclone_kept" ] && differ=$((differ + 1))
	got=$(rclone --config "$NV_TMP/rclone.conf" -q lsf -R --files-only "${args[@]}" "$T" 2>/dev/null | joined)
	check "rclone $rules${rclone_kept:+ (differs, see the table)}" test "$got" = "$want"
	[ "$got" = "$want" ] || printf '    want %s\n    got  %s\n' "$want" "$got"
done <"$table"
check "every case ran ($n)" test "$n" -ge 30
[ "$have_rclone" = 1 ] && echo "# $differ of $n cases differ from rclone, as the table says"
nv_done
