#!/bin/sh
# cli_perms.sh - a token_dir others can write is refused by token,
# refresh and status (check: CRITICAL); a token file open to group or
# others, or a token_dir its group can write, is warned about on stderr
# (check: WARNING); each message names the path and the chmod fix.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_perms
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
tok=$T/tokens/support.json

# the modes oauthmail makes itself: not a word
for cmd in "token support" "refresh support" "status" "status support"; do
	oauthmail $cmd >/dev/null 2>"$T/err"
	t_eq "$?" 0 "$cmd: 0700 dir, 0600 file"
	t_eq "$(wc -c <"$T/err")" 0 "$cmd: no warning"
done
chmod 755 "$T/tokens"
oauthmail token support >/dev/null 2>"$T/err"
t_eq "$(wc -c <"$T/err")" 0 "a 0755 token_dir (files still 0600): no warning"

# a token file others can read: warned, still served
chmod 700 "$T/tokens"
chmod 644 "$tok"
for cmd in "token support" "refresh support" "status" "status support"; do
	oauthmail $cmd >/dev/null 2>"$T/err"
	t_eq "$?" 0 "$cmd: a 0644 token file still works"
	t_grep "token file $tok is open to its group and others \\(mode 0644\\).*Fix: chmod 600 $tok\$" "$T/err" "$cmd: 0644 file warned with the fix"
done
oauthmail check >"$T/out"
t_eq "$?" 1 "check: 0644 token file is a WARNING"
t_grep "^OAUTHMAIL WARNING - support: token file $tok is open to .*Fix: chmod 600 $tok" "$T/out" "check: the chmod on the status line"
chmod 600 "$tok"

# a token_dir its group can write: warned
chmod 770 "$T/tokens"
oauthmail token support >/dev/null 2>"$T/err"
t_eq "$?" 0 "group-writable token_dir: served"
t_grep "token_dir $T/tokens is writable by its group \\(mode 0770\\).*Fix: chmod g-w $T/tokens" "$T/err" "g+w dir warned with the fix"
oauthmail check >"$T/out"
t_eq "$?" 1 "check: group-writable token_dir is a WARNING"

# a token_dir others can write (sticky or not): refused
for mode in 777 1777; do
	chmod "$mode" "$T/tokens"
	for cmd in "token support" "refresh support" "status" "status support"; do
		oauthmail $cmd >"$T/out" 2>"$T/err"
		t_eq "$?" 2 "$cmd: token_dir mode $mode refused (exit 2)"
		t_grep "token_dir $T/tokens is writable by others \\(mode 0?$mode\\).*Fix: chmod o-w $T/tokens" "$T/err" "$cmd: mode $mode: says chmod o-w"
		t_eq "$(wc -c <"$T/out")" 0 "$cmd: mode $mode: nothing on stdout"
	done
	oauthmail check >"$T/out"
	t_eq "$?" 2 "check: token_dir mode $mode is CRITICAL"
	t_grep "^OAUTHMAIL CRITICAL - support: token_dir .*Fix: chmod o-w $T/tokens" "$T/out" "check: mode $mode: the chmod on the status line"
done
chmod 700 "$T/tokens"
oauthmail check >/dev/null
t_eq "$?" 0 "after the chmod: OK"
t_done
