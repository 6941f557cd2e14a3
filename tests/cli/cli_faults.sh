#!/bin/sh
# cli_faults.sh - token-cache rule 5 (docs/internals.md) through the
# real binary: every kind of token-endpoint failure gives a clear error
# while the still-valid token keeps being served and the token file
# stays intact; invalid_grant exits 3 with the AADSTS code and the
# command that fixes it.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_faults
mock_idp_start || exit 1
# refresh_margin (at most 1800) above the token lifetime (20 minutes
# here): every use tries a refresh, while the access token itself is
# still valid
mock_ctl config '{"access_lifetime": 1200}' >/dev/null
om_conf support global:refresh_margin=1800
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
good=$(oauthmail token support 2>"$T/first.err")
t_keep_log "$T/all.err"

state() {	# the fields that must survive a fault, as one line
	"$PYTHON3" -c 'import json,sys,hashlib
d = json.load(open(sys.argv[1]))
print(hashlib.sha256((d["access_token"] + d["refresh_token"]).encode()).hexdigest(),
      d.get("reauth_needed"))' "$T/tokens/support.json"
}

clear_backoff() {
	om_edit_token "$T/tokens/support.json" backoff_until=0 failures=0
}

fault() {	# fault KIND JSON-EXTRA WANT-IN-STDERR
	before=$(state)
	faults=$(mock_stat faults)
	mock_ctl fail "{\"kind\": \"$1\", \"endpoint\": \"token\" $2}" >/dev/null
	got=$(OAUTHMAIL_HTTP_TIMEOUT=2 oauthmail token support 2>"$T/err")
	rc=$?
	cat "$T/err" >>"$T/all.err"
	t_eq "$rc" 0 "$1: exit 0 (still-valid token served)"
	[ "$got" = "$good" ] && t_pass "$1: the old token" || t_fail "$1: another token"
	t_eq "$(mock_stat faults)" $((faults + 1)) "$1: the fault was hit"
	t_grep "$3" "$T/err" "$1: the error says what happened"
	t_grep 'still using token [0-9a-f]{6}' "$T/err" "$1: says it keeps the token"
	t_eq "$(state)" "$before" "$1: token file intact"
	clear_backoff
}

fault 503 ', "retry_after": 1' 'HTTP 503'
fault 429 ', "retry_after": 1' 'HTTP 429 .*Retry-After given'
fault 500 '' 'HTTP 500'
fault delay ', "seconds": 5' 'no answer within 2 seconds'
fault garbage '' 'HTTP 200 with something that is not a token'
fault empty '' 'HTTP 200 with something that is not a token'
fault html ', "status": 502' 'HTTP 502 with an HTML page'
fault big ', "size": 10485760' 'larger than 1048576 bytes'
fault reset '' 'token endpoint unreachable'
fault close '' 'token endpoint unreachable'

# back-off: after a transient failure the next use does not hammer
mock_ctl fail '{"kind": "503", "endpoint": "token", "retry_after": 120}' >/dev/null
oauthmail token support >/dev/null 2>>"$T/all.err"
n=$(mock_stat token)
oauthmail token support >/dev/null 2>"$T/err"
t_eq "$(mock_stat token)" "$n" "back-off: no request during the back-off"
t_grep 'next try in [0-9]+s' "$T/err" "back-off is reported"
clear_backoff

# the access token expires while the provider is down: exit 4
om_edit_token "$T/tokens/support.json" access_expires=now-5
mock_ctl fail '{"kind": "503", "endpoint": "token"}' >/dev/null
oauthmail token support >"$T/out" 2>"$T/err"
t_eq "$?" 4 "expired token and provider down: exit 4"
t_eq "$(wc -c <"$T/out")" 0 "nothing on stdout"
clear_backoff

# a revoked grant (invalid_grant): exit 3, code, meaning and fix
mock_ctl error '{"code": "700082"}' >/dev/null
oauthmail token support >"$T/out" 2>"$T/err"
t_eq "$?" 3 "invalid_grant: exit 3"
t_grep 'account support: AADSTS700082 \(invalid_grant\): the refresh token expired after 90 days without use' "$T/err" "invalid_grant: code and meaning"
t_grep 'run: oauthmail authorize support' "$T/err" "invalid_grant: the fix"
t_eq "$(state | cut -d' ' -f2)" True "token file marked reauth_needed"
n=$(mock_stat token)
oauthmail token support >/dev/null 2>"$T/err2"
t_eq "$?" 3 "still exit 3"
t_eq "$(mock_stat token)" "$n" "no further refresh attempts until authorize"
oauthmail check >"$T/check"
t_eq "$?" 2 "check: CRITICAL"
t_grep 'OAUTHMAIL CRITICAL - account support: AADSTS700082' "$T/check" "check names the code"
oauthmail status support >"$T/status"
t_grep 'state +reauth_needed' "$T/status" "status: reauth_needed"
om_authorize support
t_eq "$?" 0 "authorize again"
oauthmail token support >/dev/null 2>>"$T/all.err"
t_eq "$?" 0 "working again after authorize"
oauthmail check >/dev/null
t_eq "$?" 0 "check OK again"

# a corrupt token file is an error, not a token
echo '{"version":1,"access_token":' >"$T/tokens/support.json"
oauthmail token support >"$T/out" 2>"$T/err"
t_eq "$?" 3 "corrupt file: exit 3"
t_grep 'invalid JSON.*oauthmail authorize support' "$T/err" "corrupt file: says so and the fix"
cat "$T/err" >>"$T/all.err"
t_done
