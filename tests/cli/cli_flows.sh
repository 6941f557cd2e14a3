#!/bin/sh
# cli_flows.sh - every way to authorize, end to end through the real
# oauthmail binary against the mock identity provider: device code,
# browser (auth code + PKCE, loopback listener), --paste, client
# credentials, Google; then token, refresh, status, list, check.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_flows
t_need curl
mock_idp_start || exit 1
om_conf support
t_keep_log "$T/authorize.out" "$T/err"

# device code: one pending poll, then tokens
if om_authorize support; then t_pass "authorize --device"; else
	t_fail "authorize --device"; cat "$T/authorize.out"; fi
t_grep 'enter the code [A-Z0-9]{9}' "$T/authorize.out" "device message shown"
t_grep 'account support: authorized as support@contoso.test' "$T/authorize.out" "summary"
t_eq "$(mock_stat grant.device_code)" 2 "one pending poll, then success"
t_eq "$(stat -c %a "$T/tokens/support.json")" 600 "token file mode 0600"

tok=$(oauthmail token support 2>"$T/err")
t_eq "$?" 0 "token exits 0"
case $tok in EwB*) t_pass "token printed" ;; *) t_fail "token printed: ${#tok} chars" ;; esac
t_eq "$(mock_stat grant.refresh_token)" 0 "token served from the file, no refresh"
oauthmail refresh support >"$T/out" 2>>"$T/err"
t_grep 'valid until' "$T/out" "refresh (not due) reports"
t_eq "$(mock_stat grant.refresh_token)" 0 "refresh not due: no request"
oauthmail refresh support --force >"$T/out" 2>>"$T/err"
t_eq "$(mock_stat grant.refresh_token)" 1 "refresh --force: one request"
tok2=$(oauthmail token support)
[ "$tok" != "$tok2" ] && t_pass "new token after --force" || t_fail "same token after --force"
t_nogrep 'EwB|0\.AY' "$T/out" "refresh prints no token"

# browser flow: curl plays the browser and follows the redirect
mock_ctl reset_stats >/dev/null
oauthmail authorize support --timeout 120 >"$T/browser.out" 2>&1 &
apid=$!
t_wait_grep '^Waiting up to' "$T/browser.out" 60
url=$(grep -o 'http://127.0.0.1:[0-9]*/contoso.test/oauth2/v2.0/authorize?[^ ]*' "$T/browser.out")
curl -s -L --max-time 60 "$url" >"$T/page.html"
wait $apid
t_eq "$?" 0 "browser flow exits 0"
t_grep 'Sign-in complete' "$T/page.html" "browser sees the success page"
t_grep 'code_challenge_method=S256' "$T/browser.out" "PKCE S256 in the URL"
t_eq "$(mock_stat grant.authorization_code)" 1 "code redeemed once"

# browser flow where the user declines: the provider redirects with an error
mock_ctl config '{"authorize_deny": true}' >/dev/null
oauthmail authorize support --timeout 120 >"$T/deny.out" 2>&1 &
apid=$!
t_wait_grep '^Waiting up to' "$T/deny.out" 60
url=$(grep -o 'http://127.0.0.1:[0-9]*/contoso.test/oauth2/v2.0/authorize?[^ ]*' "$T/deny.out")
curl -s -L --max-time 60 "$url" >"$T/page.html"
wait $apid
t_eq "$?" 3 "declined sign-in exits 3"
t_grep 'AADSTS65004 \(access_denied\)' "$T/deny.out" "declined: code and error named"
t_grep 'oauthmail authorize support' "$T/deny.out" "declined: the command to run"
mock_ctl config '{"authorize_deny": false}' >/dev/null

# a redirect URI that is not registered: Microsoft shows an error page
om_conf support redirect_uri=http://localhost/not-registered
oauthmail authorize support --timeout 4 >"$T/bad.out" 2>&1 &
apid=$!
t_wait_grep '^Waiting up to' "$T/bad.out" 60
url=$(grep -o 'http://127.0.0.1:[0-9]*/contoso.test/oauth2/v2.0/authorize?[^ ]*' "$T/bad.out")
curl -s --max-time 60 "$url" >"$T/page.html"
wait $apid
t_eq "$?" 4 "no redirect: exits 4 after the timeout"
t_grep 'AADSTS50011' "$T/page.html" "the browser shows AADSTS50011"
t_grep 'no redirect from the browser within 4 seconds' "$T/bad.out" "says what happened"
t_grep 'paste or --device' "$T/bad.out" "and what else to try"

# --paste: the user copies the address the browser ends on
om_conf support
mkfifo "$T/paste"
oauthmail authorize support --paste <"$T/paste" >"$T/paste.out" 2>&1 &
apid=$!
exec 7>"$T/paste"
t_wait_grep 'paste it here' "$T/paste.out" 60
url=$(grep -o 'http://127.0.0.1:[0-9]*/contoso.test/oauth2/v2.0/authorize?[^ ]*' "$T/paste.out")
loc=$(curl -s -o /dev/null -w '%{redirect_url}' --max-time 60 "$url")
echo "$loc" >&7
exec 7>&-
wait $apid
t_eq "$?" 0 "--paste exits 0"
t_grep 'authorized as support@contoso.test' "$T/paste.out" "--paste authorized"

# client credentials (app-only): confidential client, tenant-specific
OM_CONF_FILE=$T/app.conf om_conf app grant=client_credentials \
	"client_id=$MOCK_CONF_CLIENT" "client_secret_file=$MOCK_CLIENT_SECRET_FILE"
chmod 600 "$MOCK_CLIENT_SECRET_FILE"
oauthmail -c "$T/app.conf" authorize app >"$T/app.out" 2>&1
t_eq "$?" 0 "client credentials authorize"
oauthmail -c "$T/app.conf" token app >/dev/null 2>>"$T/err"
t_eq "$?" 0 "client credentials token"
t_eq "$(mock_stat grant.client_credentials)" 1 "one app-only token request"
rm -f "$T/tokens/app.json"
oauthmail -c "$T/app.conf" token app >/dev/null 2>>"$T/err"
t_eq "$?" 0 "client credentials: no file yet, fetched on first use"
t_eq "$(mock_stat grant.client_credentials)" 2 "fetched once more"

# Google: browser flow against the mock's Google endpoints
cat >"$T/google.conf" <<EOC
token_dir = $T/tokens
[account gmail]
provider = google
authority = $MOCK_URL
client_id = $MOCK_GOOGLE_CLIENT
client_secret_file = $MOCK_CLIENT_SECRET_FILE
user = someone@gmail.test
EOC
oauthmail -c "$T/google.conf" authorize gmail --timeout 120 >"$T/google.out" 2>&1 &
apid=$!
t_wait_grep '^Waiting up to' "$T/google.out" 60
url=$(grep -o 'http://127.0.0.1:[0-9]*/o/oauth2/v2/auth?[^ ]*' "$T/google.out")
curl -s -L --max-time 60 "$url" >/dev/null
wait $apid
t_eq "$?" 0 "Google authorize"
t_grep 'access_type=offline' "$T/google.out" "Google: offline access asked"
oauthmail -c "$T/google.conf" refresh gmail --force >/dev/null 2>>"$T/err"
t_eq "$?" 0 "Google refresh (no rotation)"
oauthmail -c "$T/google.conf" status gmail >"$T/gstatus" 2>>"$T/err"
t_grep 'refresh token +issued' "$T/gstatus" "Google refresh token kept"

# status, list, check
oauthmail status support --json >"$T/status.json" 2>>"$T/err"
t_eq "$("$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[0]["state"], d[0]["provider"], d[0]["refresh_token_expires"] is not None)' "$T/status.json")" \
	"ok microsoft True" "status --json"
t_nogrep 'EwB|0\.AY' "$T/status.json" "status shows no token"
oauthmail list >"$T/list" 2>>"$T/err"
t_grep '^support +microsoft +ok +support@contoso.test' "$T/list" "list"
oauthmail check >"$T/check"
t_eq "$?" 0 "check OK"
t_grep "^OAUTHMAIL OK - support ok \\| 'support_token_s'=[0-9]+s;;; 'support_refresh_days'=(89|90);14:;0:;;" "$T/check" "check line with perfdata"
oauthmail status nosuch >/dev/null 2>"$T/nosuch"
t_eq "$?" 2 "unknown account exits 2"
t_grep "account 'nosuch' is not in" "$T/nosuch" "unknown account named"
oauthmail token >/dev/null 2>&1
t_eq "$?" 1 "usage error exits 1"
oauthmail token --help | grep -q 'usage: oauthmail token ACCOUNT' && t_pass "--help" || t_fail "--help"
t_done
