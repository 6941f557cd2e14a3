#!/bin/sh
# cli_check.sh - `oauthmail check` looks ahead: client secret and
# refresh-token expiry warnings weeks before, CRITICAL when expired or
# never authorized, the fix in each message, Nagios exit codes.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_check
mock_idp_start || exit 1
soon=$(date -u -d '+10 days' +%Y-%m-%d)
later=$(date -u -d '+200 days' +%Y-%m-%d)
past=$(date -u -d '-1 days' +%Y-%m-%d)
om_conf support "client_secret_expires=$later"
oauthmail check >"$T/out"
t_eq "$?" 2 "never authorized: CRITICAL"
t_grep 'support: not authorized yet; run: oauthmail authorize support' "$T/out" "says how"
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
oauthmail check >"$T/out"
t_eq "$?" 0 "fresh: OK"
t_grep 'support_client_secret_days=(199|200);14;0' "$T/out" "secret days in perfdata"

om_conf support "client_secret_expires=$soon"
oauthmail check >"$T/out"
t_eq "$?" 1 "secret expires in 10 days: WARNING"
t_grep "OAUTHMAIL WARNING - support: client secret expires in (9|10)d.*Certificates & secrets.*client_secret_expires" "$T/out" "secret warning with the fix"
oauthmail check --warn-days 5 >/dev/null
t_eq "$?" 0 "--warn-days 5: OK"
om_conf support "client_secret_expires=$past"
oauthmail check >"$T/out"
t_eq "$?" 2 "secret expired: CRITICAL"

# the refresh token has not been used for 80 / 95 days
om_conf support
age() {	# age DAYS - the refresh token was issued DAYS ago
	om_edit_token "$T/tokens/support.json" "refresh_issued=now-$(($1 * 86400))"
}
age 80
oauthmail check >"$T/out"
t_eq "$?" 1 "refresh token 80 days old: WARNING"
t_grep 'support: refresh token expires in (9|10)d .* unless used; run: oauthmail refresh support --force' "$T/out" "refresh warning with the fix"
oauthmail refresh support --force >/dev/null 2>&1
oauthmail check >/dev/null
t_eq "$?" 0 "after a refresh: OK again"
age 95
oauthmail check >"$T/out"
t_eq "$?" 2 "95 days unused: CRITICAL"
t_grep 'refresh token expired on .*run: oauthmail authorize support' "$T/out" "expired: authorize"
t_eq "$(wc -l <"$T/out")" 1 "one line"
# two problems on one account: both named
oauthmail refresh support --force >/dev/null 2>&1
om_conf support "client_secret_expires=$soon"
age 80
oauthmail check >"$T/out"
t_eq "$?" 1 "secret and refresh token expiring: WARNING"
t_grep 'refresh token expires in .*; support: client secret expires in' "$T/out" "both problems named"
# a window longer than a third of the horizon is honoured
om_conf support
age 50
oauthmail check --warn-days 60 >"$T/out"
t_eq "$?" 1 "40 days left, --warn-days 60: WARNING"
t_grep 'support_refresh_token_days=(39|40);60;0' "$T/out" "perfdata shows the window used"
oauthmail check --warn-days 10x >/dev/null 2>&1
t_eq "$?" 1 "--warn-days 10x: usage error"
om_conf support client_secret=inline-secret-value
chmod 644 "$T/oauthmail.conf"
oauthmail list >/dev/null 2>"$T/err"
t_grep 'client_secret is in .* which everybody can read; fix: move it to client_secret_file' "$T/err" "inline secret in a readable config: warned"
chmod 600 "$T/oauthmail.conf"
oauthmail list >/dev/null 2>"$T/err"
t_eq "$(wc -c <"$T/err")" 0 "mode 600: no warning"
echo 'bogus' >"$T/oauthmail.conf"
oauthmail check >"$T/out" 2>/dev/null
t_eq "$?" 2 "broken config: CRITICAL"
t_done
