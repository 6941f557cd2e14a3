#!/bin/sh
# cli_identity.sh - authorize checks who signed in (issue 9, defect 2):
# the id_token's user against the account's `user`, in every flow
# (--device, --paste, the browser with the loopback listener).  The
# right user: saved, recorded as signed_in_as, shown by status.  Another
# mailbox: exit 3 with the fix, the token file not written or changed,
# unless --allow-other-user.  No id_token (custom providers): a warning,
# saved.  The mock's knob signin_user plays a browser signed in to
# another account; knob id_token: false a provider without OpenID Connect.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_identity
t_need curl
mock_idp_start || exit 1
om_conf support
mock_ctl config '{"device_interval": 1}' >/dev/null
TOK=$T/tokens/support.json
t_keep_log "$T/out" "$T/status"

AUTH_URL_RE='http://127.0.0.1:[0-9]*/([^ ]*/oauth2/v2.0/authorize|o/oauth2/v2/auth)\?[^ ]*'

# device ARGS... - oauthmail authorize ARGS --device; exit code in $rc
device() {
	oauthmail authorize "$@" --device >"$T/out" 2>&1
	rc=$?
}

# paste ARGS... - authorize --paste, curl playing the browser
paste() {
	rm -f "$T/paste"
	mkfifo "$T/paste"
	rm -f "$T/out"	# else the wait below may read the last flow's URL
	oauthmail authorize "$@" --paste <"$T/paste" >"$T/out" 2>&1 &
	apid=$!
	exec 7>"$T/paste"
	t_wait_grep 'paste it here' "$T/out" 60 || t_fail "paste: no URL shown"
	url=$(grep -E -o "$AUTH_URL_RE" "$T/out")
	curl -s -o /dev/null -w '%{redirect_url}\n' --max-time 60 "$url" >&7
	exec 7>&-
	wait $apid
	rc=$?
}

# browser ARGS... - authorize with the loopback listener; curl follows
# (the config: $OAUTHMAIL_CONF, or -c $BROWSER_CONF when set)
browser() {
	rm -f "$T/out"	# else the wait below may read the last flow's URL
	oauthmail ${BROWSER_CONF:+-c "$BROWSER_CONF"} authorize "$@" --timeout 120 >"$T/out" 2>&1 &
	apid=$!
	t_wait_grep '^Waiting up to' "$T/out" 60 || t_fail "browser: no URL shown"
	url=$(grep -E -o "$AUTH_URL_RE" "$T/out")
	curl -s -L --max-time 60 "$url" >"$T/page.html"
	wait $apid
	rc=$?
}

# field KEY [FILE] - one field of a token file ("None" when absent)
field() {
	"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' \
		"${2:-$TOK}" "$1"
}

# sum - the token file's checksum, or "absent"
sum() {
	if [ -e "$TOK" ]; then cksum <"$TOK"; else echo absent; fi
}

signin_as() {
	mock_ctl config "{\"signin_user\": \"$1\"}" >/dev/null
}

WRONG='signed in as bob@contoso.test, but account support is for support@contoso.test'
FIX='open a private browser window, sign in as support@contoso.test, and run oauthmail authorize support'

# --- the right user: saved, recorded, shown --------------------------------
device support
t_eq "$rc" 0 "device, right user: exits 0"
t_grep 'account support: authorized as support@contoso.test\.' "$T/out" "device: authorized as the signed-in user"
t_grep 'Sign in as support@contoso.test' "$T/out" "device: says whom to sign in as"
t_eq "$(field signed_in_as)" support@contoso.test "device: signed_in_as in the token file"
oauthmail status support >"$T/status" 2>&1
t_grep '^  signed in as   support@contoso.test$' "$T/status" "status shows who signed in"
oauthmail status support --json >"$T/status.json" 2>&1
t_eq "$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["signed_in_as"])' "$T/status.json")" \
	support@contoso.test "status --json: signed_in_as"

# --- another mailbox: refused, nothing saved -------------------------------
before=$(sum)
signin_as bob@contoso.test
device support
t_eq "$rc" 3 "device, wrong user: exits 3"
t_grep "$WRONG" "$T/out" "device, wrong user: says who signed in and for whom the account is"
t_grep "$FIX --device again" "$T/out" "device, wrong user: the fix"
t_grep 'grant was not saved' "$T/out" "device, wrong user: says nothing was saved"
t_grep 'add --allow-other-user' "$T/out" "device, wrong user: names the override"
t_grep 'set user = bob@contoso.test in \[account support\] instead' "$T/out" "device, wrong user: the UPN case"
t_nogrep 'authorized as' "$T/out" "device, wrong user: no success line"
t_eq "$(sum)" "$before" "device, wrong user: token file unchanged"
oauthmail token support >/dev/null 2>&1
t_eq "$?" 0 "the earlier grant still serves"

paste support
t_eq "$rc" 3 "paste, wrong user: exits 3"
t_grep "$WRONG" "$T/out" "paste, wrong user: says so"
t_grep "$FIX --paste again" "$T/out" "paste, wrong user: the fix"
t_eq "$(sum)" "$before" "paste, wrong user: token file unchanged"

browser support
t_eq "$rc" 3 "browser, wrong user: exits 3"
t_grep "$WRONG" "$T/out" "browser, wrong user: says so"
t_grep "$FIX again" "$T/out" "browser, wrong user: the fix"
t_eq "$(sum)" "$before" "browser, wrong user: token file unchanged"

rm -f "$TOK"
device support
t_eq "$rc" 3 "no token file yet, wrong user: exits 3"
t_eq "$(sum)" absent "wrong user: no token file written"

# --- --allow-other-user: saved, the other identity recorded ----------------
device support --allow-other-user
t_eq "$rc" 0 "device --allow-other-user: exits 0"
t_grep 'signed in as bob@contoso.test, not support@contoso.test; saved anyway' "$T/out" "--allow-other-user: warns"
t_grep 'authorized as bob@contoso.test\.' "$T/out" "--allow-other-user: names who signed in"
t_eq "$(field signed_in_as)" bob@contoso.test "--allow-other-user: the other identity recorded"
oauthmail status support >"$T/status" 2>&1
t_grep "^  signed in as   bob@contoso.test \(not the account's user support@contoso.test\)$" "$T/status" \
	"status shows the other identity"
paste support --allow-other-user
t_eq "$rc" 0 "paste --allow-other-user: exits 0"
t_eq "$(field signed_in_as)" bob@contoso.test "paste --allow-other-user: recorded"

# --- the right user again, by every flow; the scope asked for --------------
signin_as ""
paste support
t_eq "$rc" 0 "paste, right user: exits 0"
t_eq "$(field signed_in_as)" support@contoso.test "paste, right user: recorded"
t_grep 'scope=offline_access%20https%3A%2F%2Foutlook.office.com%2F[^&]*%20openid%20profile&' "$T/out" \
	"the configured scope, then openid profile"
browser support
t_eq "$rc" 0 "browser, right user: exits 0"
t_grep 'Sign-in complete' "$T/page.html" "browser sees the success page"
t_eq "$(field signed_in_as)" support@contoso.test "browser, right user: recorded"

# the case of the address does not matter
om_conf support user=Support@Contoso.TEST
device support
t_eq "$rc" 0 "user in other case: exits 0"
# openid already configured: not asked twice
om_conf support "scope=openid offline_access https://outlook.office.com/IMAP.AccessAsUser.All"
paste support
t_eq "$rc" 0 "scope with openid: exits 0"
t_eq "$(grep -E -o "$AUTH_URL_RE" "$T/out" | grep -o 'openid' | wc -l)" 1 "openid asked once"
t_grep 'scope=openid%20offline_access%20[^&]*%20profile&' "$T/out" "profile added after the configured scope"

# --- no id_token: a warning, saved -----------------------------------------
om_conf support
mock_ctl config '{"id_token": false}' >/dev/null
device support
t_eq "$rc" 0 "no id_token: exits 0"
t_grep 'warning: account support: who signed in could not be verified \(the provider sent no id_token\)' "$T/out" \
	"no id_token: warns"
t_grep 'Make sure it was support@contoso.test' "$T/out" "no id_token: says whom it should have been"
t_grep 'authorized as support@contoso.test \(not verified\)' "$T/out" "no id_token: the summary says not verified"
t_eq "$(field signed_in_as)" None "no id_token: no signed_in_as"
t_eq "$(field access_token | cut -c1-3)" EwB "no id_token: the grant is saved"
oauthmail status support >"$T/status" 2>&1
t_grep '^  signed in as   not verified' "$T/status" "status: not verified"
mock_ctl config '{"id_token": true}' >/dev/null

# provider = custom: the scope is the admin's, no openid added
cat >"$T/custom.conf" <<EOC
token_dir = $T/tokens
[account cu]
provider = custom
client_id = $MOCK_PUBLIC_CLIENT
user = support@contoso.test
token_url = $MOCK_URL/contoso.test/oauth2/v2.0/token
device_url = $MOCK_URL/contoso.test/oauth2/v2.0/devicecode
scope = offline_access https://outlook.office.com/IMAP.AccessAsUser.All
EOC
oauthmail -c "$T/custom.conf" authorize cu --device >"$T/out" 2>&1
t_eq "$?" 0 "custom provider: exits 0"
t_grep 'could not be verified \(the provider sent no id_token\).*For provider = custom, add openid' "$T/out" \
	"custom provider: warns, with what to add"
t_eq "$(field signed_in_as "$T/tokens/cu.json")" None "custom provider: saved, not verified"

# --- Google: the email claim (scope openid email) --------------------------
cat >"$T/google.conf" <<EOC
token_dir = $T/tokens
[account gmail]
provider = google
authority = $MOCK_URL
client_id = $MOCK_GOOGLE_CLIENT
client_secret_file = $MOCK_CLIENT_SECRET_FILE
user = someone@gmail.test
EOC
chmod 600 "$MOCK_CLIENT_SECRET_FILE"
BROWSER_CONF=$T/google.conf
browser gmail
t_eq "$rc" 0 "Google, right user: exits 0"
t_grep 'scope=https%3A%2F%2Fmail.google.com%2F%20openid%20email&' "$T/out" "Google: openid email asked for"
t_eq "$(field signed_in_as "$T/tokens/gmail.json")" someone@gmail.test "Google: the email claim recorded"
signin_as other@gmail.test
browser gmail
t_eq "$rc" 3 "Google, wrong user: exits 3"
t_grep 'signed in as other@gmail.test, but account gmail is for someone@gmail.test' "$T/out" "Google, wrong user: says so"
t_eq "$(field signed_in_as "$T/tokens/gmail.json")" someone@gmail.test "Google, wrong user: file unchanged"
t_done
