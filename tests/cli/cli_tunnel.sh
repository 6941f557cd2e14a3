#!/bin/sh
# cli_tunnel.sh - oauthmail test and tunnel against a scripted TLS mail
# server: the XOAUTH2 / OAUTHBEARER messages the plugin builds (through
# libsasl2), SASL-IR, POP3 split AUTH, STARTTLS, the answer to an error
# challenge, relaying, and the failures (untrusted certificate, revoked
# grant) with their exit codes and fixes.  No token may reach any output.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_tunnel
. "$srcdir/sasl-lib.sh"
t_need openssl
sasl_env
sasl_make_ca "$T/ca" || t_fail "test CA"
TOK=EwBtest.Token-value_0123456789+/abc=
USER=support@contoso.test
sasl_token_file "$T/tokens" support "$USER" "$TOK"

conf() {	# conf PROTO PORT TLS [extra line]
	cat >"$T/oauthmail.conf" <<EOT
token_dir = $T/tokens
ca_file = $T/ca/ca.pem
[account support]
provider = microsoft
tenant = common
client_id = 00000000-0000-0000-0000-0000000000a1
user = $USER
${1}_host = 127.0.0.1
${1}_port = $2
${1}_tls = $3
${4:-}
EOT
}

om() { oauthmail -c "$T/oauthmail.conf" "$@"; }

# IMAP, implicit TLS, SASL-IR: the XOAUTH2 message of the reference
fake_mail_start imap imap --user "$USER" --token "$TOK"
conf imap "$FAKE_PORT" implicit
om test support imap >"$T/out" 2>"$T/err"
t_eq "$?" 0 "test imap exit code"
t_grep 'INBOX: 2 messages, 1 unread' "$T/out" "INBOX counts"
t_grep "AUTHENTICATE XOAUTH2 [A-Za-z0-9+/=]+$" "$FAKE_LOG" "SASL-IR initial response"
t_grep "SASL XOAUTH2: user=$USER\^Aauth=Bearer <TOKEN>\^A\^A" "$FAKE_LOG" "XOAUTH2 message"
om test support imap --mech OAUTHBEARER >"$T/out" 2>"$T/err"
t_eq "$?" 0 "test imap OAUTHBEARER"
t_grep "SASL OAUTHBEARER: n,a=$USER,\^Ahost=127.0.0.1\^Aauth=Bearer <TOKEN>\^A\^A" "$FAKE_LOG" "OAUTHBEARER GS2 message"

# tunnel: PREAUTH, then a relayed session
printf 'x1 NOOP\r\nx2 LOGOUT\r\n' | om tunnel imap support >"$T/out" 2>"$T/err"
t_eq "$?" 0 "tunnel imap exit code"
t_grep '^\* PREAUTH oauthmail tunnel: authenticated as support@contoso.test' "$T/out" "PREAUTH greeting"
t_grep '^x1 OK noop authed' "$T/out" "relayed after authentication"
t_grep '^x2 OK' "$T/out" "relay until LOGOUT"
# a client that goes away without LOGOUT: the tunnel ends soon, without
# spinning on the closed stdin (poll reports POLLHUP for ever)
start=$(date +%s)
(
	printf 'x1 NOOP\r\n' | timeout 20 "$OAUTHMAIL_BIN" -c "$T/oauthmail.conf" \
		tunnel imap support >"$T/out" 2>"$T/err"
	echo "rc=$?"
	times | tail -n 1	# CPU time of the children: "0m0.01s 0m0.00s"
) >"$T/gone"
t_grep '^rc=0' "$T/gone" "client gone: tunnel exits by itself"
t_eq "$(( $(date +%s) - start < 10 ))" 1 "within seconds (not at the timeout)"
t_grep '^0m0\.[0-4][0-9]*s 0m0\.[0-4]' "$T/gone" "no CPU burnt while draining"

# the server refuses: XOAUTH2 answers its challenge with an empty line,
# OAUTHBEARER with ^A (AQ==)
fake_mail_start imapno imap --user "$USER" --token "$TOK" --challenge --no-sasl-ir
conf imap "$FAKE_PORT" implicit
om test support imap >"$T/out" 2>"$T/err"
t_eq "$?" 4 "refused: exit 4"
t_grep "ANSWER-TO-CHALLENGE: ''" "$FAKE_LOG" "XOAUTH2 empty answer to the challenge"
t_grep "AUTHENTICATE XOAUTH2$" "$FAKE_LOG" "no SASL-IR: response after the continuation"
t_grep 'refused the authentication: oa[0-9]+ NO \[AUTHENTICATIONFAILED\]' "$T/err" "server's answer printed"
t_grep 'fix: .*IMAP.AccessAsUser.All' "$T/err" "fix printed"
t_grep 'server refused token [0-9a-f]{6} .*status 401' "$T/err" "plugin logs the challenge with a fingerprint"
t_grep '"rejected_token"' "$T/tokens/support.json" "the refusal is recorded in the token file"
# the token file of this test cannot be refreshed (no provider): undo the
# recorded refusal before each further use of the same token
sasl_token_file "$T/tokens" support "$USER" "$TOK"
om test support imap --mech OAUTHBEARER >"$T/out" 2>"$T/err"
t_grep "ANSWER-TO-CHALLENGE: 'AQ=='" "$FAKE_LOG" "OAUTHBEARER answers ^A"
sasl_token_file "$T/tokens" support "$USER" "$TOK"
printf 'x1 NOOP\r\n' | om tunnel imap support >"$T/out" 2>"$T/err"
t_eq "$?" 4 "tunnel refused: exit 4"
t_grep '^\* BYE \[UNAVAILABLE\] oauthmail tunnel: .*refused' "$T/out" "client told why (IMAP BYE)"

# POP3: STARTTLS (STLS), Microsoft's split AUTH
sasl_token_file "$T/tokens" support "$USER" "$TOK"
fake_mail_start pop3 pop3 --user "$USER" --token "$TOK" --starttls
conf pop3 "$FAKE_PORT" starttls "pop3_split_auth = yes"
om test support pop3 >"$T/out" 2>"$T/err"
t_eq "$?" 0 "test pop3 exit code"
t_grep 'mailbox: 2 messages, 320 bytes' "$T/out" "POP3 STAT"
t_grep '^C: STLS' "$FAKE_LOG" "STLS before AUTH"
t_grep '^POP3-AUTH-SPLIT' "$FAKE_LOG" "split AUTH XOAUTH2"
printf 'STAT\r\nQUIT\r\n' | om tunnel pop3 support >"$T/out" 2>"$T/err"
t_grep '^\+OK oauthmail tunnel: authenticated' "$T/out" "POP3 tunnel greeting"
t_grep '^\+OK 2 320' "$T/out" "POP3 tunnel relays STAT"
conf pop3 "$FAKE_PORT" starttls "pop3_split_auth = no"
om test support pop3 >"$T/out" 2>"$T/err"
t_grep '^POP3-AUTH-INLINE' "$FAKE_LOG" "pop3_split_auth = no: one line"

# SMTP: STARTTLS, EHLO, AUTH
fake_mail_start smtp smtp --user "$USER" --token "$TOK" --starttls
conf smtp "$FAKE_PORT" starttls
om test support smtp >"$T/out" 2>"$T/err"
t_eq "$?" 0 "test smtp exit code"
t_grep '^AUTH: 235 2.7.0 Authentication successful' "$T/out" "SMTP AUTH result"
t_grep '^C: STARTTLS' "$FAKE_LOG" "SMTP STARTTLS"
t_grep '^C: AUTH XOAUTH2 ' "$FAKE_LOG" "SMTP AUTH with initial response"

# certificate not trusted (no ca_file): TLS error and the fix
conf smtp "$FAKE_PORT" starttls
sed -i '/^ca_file/d' "$T/oauthmail.conf"
om test support smtp >"$T/out" 2>"$T/err"
t_eq "$?" 4 "untrusted certificate: exit 4"
t_grep 'not trusted: .*ca_file' "$T/err" "certificate error names ca_file"

# a grant that needs re-authorization: exit 3 before connecting
sasl_token_file "$T/tokens" support "$USER" "$TOK" $(( $(date +%s) - 10 )) true
conf imap 1 implicit
om test support imap >"$T/out" 2>"$T/err"
t_eq "$?" 3 "reauth needed: exit 3"
t_grep 'oauthmail authorize support' "$T/err" "names the command to run"

t_nogrep "$TOK" "$T/out" "no token on stdout"
for f in "$T"/err "$T"/*.transcript "$T"/*.err; do
	t_nogrep "EwBtest" "$f" "no token in $(basename "$f")"
done
t_done
