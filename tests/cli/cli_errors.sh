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
90002|2|AADSTS90002 \(invalid_request\): the tenant does not exist
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
oauthmail -c "$T/cu.conf" check >/dev/null 2>"$T/cu.err"
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
t_done
