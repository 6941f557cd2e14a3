#!/bin/sh
# example_conf.sh - docs/examples/oauthmail.conf, installed as
# documentation, is a config that works: it parses as it stands
# (`oauthmail -c EXAMPLE list`), each commented-out setting parses when
# uncommented on its own (a path to a file we do not have may only say
# "no such file"), the commented Gmail account parses, and every key the
# config parser knows (common/token/oauthmail_conf.c) is in it.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init example_conf
EX=$top_srcdir/docs/examples/oauthmail.conf
[ -f "$EX" ] || t_skip "no $EX"

oauthmail -c "$EX" list >"$T/out" 2>"$T/err"
t_eq "$?" 0 "the example parses as it stands"
t_grep '^support +microsoft ' "$T/out" "its account is listed"

# try NAME FILE - FILE parses, or fails only for a file we lack (never
# under valgrind: one run above is, and fuzz_config covers the parser)
try() {
	"$OAUTHMAIL_BIN" -c "$2" list >/dev/null 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 0 ] || { [ "$rc" -eq 2 ] && grep -q 'no such file' "$T/err"; }; then
		t_pass "$1"
	else
		t_fail "$1: exit $rc"; t_show "$T/err"
	fi
}

gmail=$(grep -n '^# \[account gmail\]' "$EX" | cut -d: -f1)
[ -n "$gmail" ] || { t_fail "no commented [account gmail] in the example"; gmail=100000; }
grep -n -E '^# [a-z0-9_]+ = ' "$EX" >"$T/commented"
n=0
while IFS=: read -r lineno line; do
	[ "$lineno" -lt "$gmail" ] || continue
	sed "${lineno}s/^# //" "$EX" >"$T/one.conf"
	try "uncommented: ${line#\# }" "$T/one.conf"
	n=$((n + 1))
done <"$T/commented"
[ "$n" -ge 20 ] || t_fail "only $n commented settings found in the example"
sed -e "${gmail},\$s/^# //" -e '/^client_secret_file = .*gmail/d' "$EX" >"$T/gmail.conf"
try "the Gmail account uncommented" "$T/gmail.conf"

keys=$(sed -n -E 's/^[ \t]*[A-Z_]+\("([a-z0-9_]+)",.*/\1/p' \
	"$top_srcdir/common/token/oauthmail_conf.c")
[ -n "$keys" ] || t_fail "found no keys in common/token/oauthmail_conf.c"
missing=""
for k in $keys; do
	grep -q -E "^(# )?$k = " "$EX" || missing="$missing $k"
done
t_eq "$missing" "" "every key of the parser is in the example"
t_done
