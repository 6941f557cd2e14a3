#!/bin/sh
# cli_errors.sh - the AADSTS (and Google) error table through the real
# binary: each provider error gives the right exit code and a one-line
# message with the account, the code, the meaning and the fix.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_errors
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
t_keep_log "$T/all.err"

# code | exit | text the message must hold
while IFS='|' read -r code want text; do
	mock_ctl error "{\"code\": \"$code\"}" >/dev/null
	oauthmail refresh support --force >/dev/null 2>"$T/err"
	rc=$?
	cat "$T/err" >>"$T/all.err"
	t_eq "$rc" "$want" "$code: exit $want"
	t_grep "account support: .*$text" "$T/err" "$code: message"
	# put the account back into a working state for the next code
	om_edit_token "$T/tokens/support.json" reauth_needed=false failures=0 \
		backoff_until=0 access_expires=0
done <<'EOT'
50076|3|AADSTS50076 \(invalid_grant\): multi-factor authentication is required.*oauthmail authorize support
50079|3|AADSTS50079 \(interaction_required\).*aka.ms/mfasetup
50173|3|AADSTS50173 \(invalid_grant\): the grant was revoked.*oauthmail authorize support
65001|3|AADSTS65001 \(invalid_grant\): nobody has consented.*Grant admin consent
70000|3|AADSTS70000 \(invalid_grant\)
70008|3|AADSTS70008 \(invalid_grant\): the refresh token expired because it was not used
700016|2|AADSTS700016 \(unauthorized_client\): no app with this client_id.*Application \(client\) ID
700082|3|AADSTS700082 \(invalid_grant\): the refresh token expired after 90 days
7000215|2|AADSTS7000215 \(invalid_client\): the client secret is wrong.*Secret ID
7000218|2|AADSTS7000218 \(invalid_client\).*Allow public client flows
7000222|2|AADSTS7000222 \(invalid_client\): the client secret has expired
90002|2|AADSTS90002 \(invalid_request\): the tenant 'contoso.test' does not exist.*set tenant in
28000|2|AADSTS28000 \(invalid_scope\): the scope names more than one resource
54005|3|AADSTS54005 \(invalid_grant\): the authorization code was already used
invalid_scope|2|\(invalid_scope\)
google|3|\(invalid_grant\): Token has been expired or revoked.*oauthmail authorize support
EOT

# no message may carry Microsoft's trace ids or a token
t_nogrep 'Trace ID|Correlation ID|EwB|0\.AY' "$T/all.err" "messages carry no trace ids or tokens"
# with the real token endpoint down for good, `status` still tells
oauthmail status support >"$T/status"
t_grep 'last error' "$T/status" "status shows the last error"
# --- messages that used to mislead (issue 9, defect 6) ---
reset_support() {
	om_edit_token "$T/tokens/support.json" reauth_needed=false failures=0 \
		backoff_until=0 access_expires=0
}
# refresh_err WHAT: a forced refresh; its exit code in $rc, stderr in $T/err
refresh_err() {
	oauthmail "$@" refresh support --force >/dev/null 2>"$T/err"
	rc=$?
	cat "$T/err" >>"$T/all.err"
	reset_support
}
# a 503 whose body carries Microsoft's error: the error is reported
mock_ctl fail '{"kind": "503", "retry_after": 1}' >/dev/null
refresh_err
t_eq "$rc" 4 "503 with an AADSTS body: temporary"
t_grep 'AADSTS90033 \(temporarily_unavailable\): .*\(HTTP 503 from the endpoint, Retry-After given\)' \
	"$T/err" "503: the body's code and text, and the status"
t_nogrep 'no OAuth error' "$T/err" "503: not 'no OAuth error'"
# an AADSTS code we do not know: no Google advice for a Microsoft account
mock_ctl error '{"code": "custom", "aadsts": 5000611, "status": 400, "error": "invalid_grant", "text": "Something new."}' >/dev/null
refresh_err
t_eq "$rc" 3 "unknown AADSTS code with invalid_grant: re-authorize"
t_grep 'AADSTS5000611 \(invalid_grant\): AADSTS5000611: Something new.*error\?code=5000611' \
	"$T/err" "unknown code: the provider's text and the lookup link"
t_nogrep 'Google|Testing|In production' "$T/err" "unknown code: no Google hint"
# a 404: the URL (without its query) and the status
OM_CONF_FILE=$T/nf.conf om_conf support "token_url=$MOCK_URL/nowhere/token?x=querysecret"
refresh_err -c "$T/nf.conf"
t_eq "$rc" 2 "404 endpoint: config error"
t_grep "account support: $MOCK_URL/nowhere/token answered HTTP 404 with error not_found: no such endpoint. Fix: the URL is wrong" \
	"$T/err" "404: names the URL and the status"
t_nogrep 'querysecret|no description' "$T/err" "404: no query, no 'no description'"
# -v: each request's method, URL without the query, status and time
refresh_err -v -c "$T/nf.conf"
t_grep "debug: HTTP POST $MOCK_URL/nowhere/token: 404 in [0-9]+ ms" "$T/err" "-v: method, URL, status, time"
t_nogrep 'querysecret|refresh_token=|client_id=' "$T/err" "-v: no query, no body"
refresh_err -v
t_grep "debug: HTTP POST $MOCK_URL/contoso.test/oauth2/v2.0/token: 200 in [0-9]+ ms" "$T/err" "-v: a good refresh too"
# an empty scope in a token answer: said as such
mock_ctl fail '{"kind": "empty_scope"}' >/dev/null
refresh_err
t_grep 'its scope is empty .*the provider granted none of the requested scopes' "$T/err" \
	"empty scope: says so"
t_nogrep 'no usable access_token' "$T/err" "empty scope: not 'no usable access_token'"
# a tenant that does not exist: the tenant, by key and value
OM_CONF_FILE=$T/bt.conf om_conf bt tenant=bogus_tenant
oauthmail -c "$T/bt.conf" authorize bt --device </dev/null >/dev/null 2>"$T/err"
t_eq "$?" 2 "unknown tenant: config error"
t_grep "AADSTS90002 \(invalid_request\): the tenant 'bogus_tenant' does not exist.*set tenant in \[account bt\]" \
	"$T/err" "unknown tenant: names tenant and its value"
OM_CONF_FILE=$T/bt.conf om_conf bt "tenant=contoso onmicrosoft.com"
oauthmail -c "$T/bt.conf" list >/dev/null 2>"$T/err"
t_grep 'bt.conf:[0-9]+: tenant: expected common, organizations' "$T/err" \
	"a tenant with a space: the tenant's line, not authorize_url"
t_nogrep 'authorize_url' "$T/err" "bad tenant: not blamed on authorize_url"
# exit codes (oauthmail(1) EXIT STATUS): an expired device code, by the
# provider or by the local clock, is 3 (sign in again), like consent
OM_CONF_FILE=$T/dv.conf om_conf dv
mock_ctl config '{"device_interval": 1, "device_outcome": "expire"}' >/dev/null
oauthmail -c "$T/dv.conf" authorize dv --device </dev/null >/dev/null 2>"$T/err"
t_eq "$?" 3 "device code expired at the provider (expired_token): exit 3"
t_grep 'the device code expired before sign-in finished' "$T/err" "expired_token: message"
mock_ctl config '{"device_outcome": "approve", "device_expires_in": 2}' >/dev/null
mock_ctl fail '{"kind": "503", "count": 100, "grant": "device_code"}' >/dev/null
oauthmail -c "$T/dv.conf" authorize dv --device </dev/null >/dev/null 2>"$T/err"
t_eq "$?" 3 "device code expired by the local clock: exit 3"
t_grep 'the device code expired before sign-in finished' "$T/err" "local timeout: message"
mock_ctl fail '{"clear": true}' >/dev/null
mock_ctl config '{"device_expires_in": 900}' >/dev/null

# provider = custom: every key a flow needs is checked when the config
# loads (without scope, authorize --device and --paste used to segfault)
mkdir -p "$T/cu" && chmod 700 "$T/cu"
cu_conf() {
	printf 'token_dir = %s\n[account cu]\nprovider = custom\ntoken_url = %s\nclient_id = x\n%s\n' \
		"$T/cu" "$MOCK_URL/common/oauth2/v2.0/token" "$1" >"$T/cu.conf"
}
cu_conf "authorize_url = $MOCK_URL/common/oauth2/v2.0/authorize
device_url = $MOCK_URL/common/oauth2/v2.0/devicecode"
for flow in --paste --device; do
	oauthmail -c "$T/cu.conf" authorize cu $flow </dev/null >/dev/null 2>"$T/cu.err"
	t_eq "$?" 2 "custom without scope ($flow): config error, no crash"
	t_grep 'cu.conf:2: \[account cu\]: provider = custom needs scope' "$T/cu.err" \
		"names the file, line and key ($flow)"
done
cu_conf "scope = mail"
oauthmail -c "$T/cu.conf" check >"$T/cu.err" 2>&1
t_eq "$?" 3 "custom without a sign-in endpoint: check says UNKNOWN"
t_grep 'needs authorize_url \(browser sign-in\) or device_url' "$T/cu.err" \
	"custom without a sign-in endpoint: says which keys"
# with one endpoint, the other flow says which key is missing
cu_conf "scope = mail
authorize_url = $MOCK_URL/common/oauth2/v2.0/authorize"
oauthmail -c "$T/cu.conf" authorize cu --device </dev/null >/dev/null 2>"$T/cu.err"
t_eq "$?" 2 "custom without device_url (--device): config error"
t_grep 'no device_url for this provider; set' "$T/cu.err" "names device_url"
cu_conf "scope = mail
device_url = $MOCK_URL/common/oauth2/v2.0/devicecode"
oauthmail -c "$T/cu.conf" authorize cu --paste </dev/null >/dev/null 2>"$T/cu.err"
t_eq "$?" 2 "custom without authorize_url (--paste): config error"
t_grep 'no authorize_url for this provider; set' "$T/cu.err" "names authorize_url"
# a token_dir that does not exist: oauthmail test names the account, the
# config file and the fix (as the SASL plugin does), not only the lock file
printf 'token_dir = %s/missing\n[account nodir]\nprovider = microsoft\nclient_id = x\nuser = a@example.com\nimap_host = 127.0.0.1\nimap_port = 1\n' \
	"$T" >"$T/nodir.conf"
oauthmail -c "$T/nodir.conf" test nodir imap </dev/null >/dev/null 2>"$T/nodir.err"
t_eq "$?" 4 "test with a missing token_dir fails"
t_grep "account nodir \\(config $T/nodir.conf\\): .*token_dir $T/missing does not exist. Fix: " \
	"$T/nodir.err" "test with a missing token_dir: account, config file and fix"
t_done
