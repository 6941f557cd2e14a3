#!/bin/sh
# cli_ownership.sh - the admin runs oauthmail as root, the MTA reads and
# refreshes as its own user: files created in token_dir take token_dir's
# owner and group, stay 0600, and that user can refresh them.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_ownership
[ "$(id -u)" -eq 0 ] || t_skip "needs root (CI runs as root)"
t_need runuser
mock_idp_start || exit 1
om_conf support
chmod 755 "$T"
chown nobody:nogroup "$T/tokens"
chmod 644 "$T/oauthmail.conf"
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
t_eq "$(stat -c '%U:%G %a' "$T/tokens/support.json")" "nobody:nogroup 600" "token file owned like token_dir"
t_eq "$(stat -c '%U:%G' "$T/tokens/support.lock")" "nobody:nogroup" "lock file owned like token_dir"
# the binary and its directory must be reachable for nobody
if runuser -u nobody -- test -x "$OAUTHMAIL_BIN"; then
	runuser -u nobody -- "$OAUTHMAIL_BIN" refresh support --force >"$T/out" 2>"$T/err"
	t_eq "$?" 0 "nobody refreshes the token root created"
	t_eq "$(stat -c '%U:%G %a' "$T/tokens/support.json")" "nobody:nogroup 600" "still nobody's after the refresh"
	chown root:root "$T/tokens/support.json"
	chmod 600 "$T/tokens/support.json"
	om_edit_token "$T/tokens/support.json" access_expires=0
	runuser -u nobody -- "$OAUTHMAIL_BIN" token support >/dev/null 2>"$T/err"
	t_eq "$?" 2 "a file nobody cannot read: exit 2"
	t_grep 'not accessible to uid [0-9]+. Fix: .*chown -R postfix:postfix' "$T/err" "says whose it must be"
else
	echo "build tree not reachable for nobody: ownership checked, refresh as nobody not run"
fi
t_done
