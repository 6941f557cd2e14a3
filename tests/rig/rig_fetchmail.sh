#!/bin/sh
# rig_fetchmail.sh - fetchmail 6.4 (no OAuth of its own) fetches a Dovecot
# mailbox that only takes XOAUTH2, through `oauthmail tunnel imap` and
# `oauthmail tunnel pop3` (Microsoft's split AUTH on), with the rc file of
# docs/fetchmail.md; every message reaches the MDA, and is counted.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init rig_fetchmail
. "$srcdir/sasl-lib.sh"
sasl_need_rig
t_need fetchmail
rig_plugin_built || t_skip "plugin not built"
sasl_env
rig_dovecot_start || t_fail "dovecot"
sasl_rig_conf "$T/oauthmail.conf" "$T/tokens"
sasl_authorize "$T/oauthmail.conf" || t_fail "authorize"
cat >"$T/mda" <<EOT
#!/bin/sh
cat >"$T/delivered/\$\$.\$(date +%s%N)"
EOT
chmod 755 "$T/mda"
mkdir -p "$T/delivered"

# rcfile PROTO - docs/fetchmail.md's configuration, pointed at the rig
rcfile() {
	cat >"$T/fetchmailrc" <<EOT
set no syslog
poll 127.0.0.1 proto $1 auth ssh
  plugin "$OAUTHMAIL_BIN -c $T/oauthmail.conf tunnel $1 support"
  user "$RIG_USER" is root here
  sslproto ''
  mda "$T/mda"
EOT
	chmod 600 "$T/fetchmailrc"
}
fetch() {
	HOME=$T fetchmail -f "$T/fetchmailrc" --nodetach -v --pidfile "$T/fetchmail.pid" \
		>"$T/fetchmail.$1.log" 2>&1
}

rig_seed 5 "imap message" >/dev/null
rcfile imap
fetch imap
t_eq "$?" 0 "fetchmail (IMAP) exit status"
t_eq "$(ls "$T/delivered" | wc -l)" 5 "5 messages to the MDA over IMAP"
t_grep 'IMAP< \* PREAUTH oauthmail tunnel: authenticated as support@contoso.test' "$T/fetchmail.imap.log" "PREAUTH greeting"
t_grep 'imap-login: Info: Login: user=<support@contoso.test>, method=XOAUTH2' "$RIG_DOVECOT_LOG" "Dovecot saw XOAUTH2 (IMAP)"
t_eq "$(rig_maildir_count "$RIG_MAILDIR")" 0 "fetched mail removed from the server"

rig_seed 4 "pop3 message" >/dev/null
rcfile pop3
fetch pop3
t_eq "$?" 0 "fetchmail (POP3) exit status"
t_eq "$(ls "$T/delivered" | wc -l)" 9 "4 more messages to the MDA over POP3"
t_grep 'POP3< \+OK oauthmail tunnel: authenticated' "$T/fetchmail.pop3.log" "POP3 greeting"
t_grep 'pop3-login: Info: Login: user=<support@contoso.test>, method=XOAUTH2' "$RIG_DOVECOT_LOG" "Dovecot saw XOAUTH2 (POP3, split AUTH)"

# nothing to fetch, and a refused login: fetchmail reports the reason
fetch pop3
t_eq "$?" 1 "nothing new: fetchmail exit 1"
# a grant revoked at the provider, and a token that must be refreshed
mock_ctl config '{"access_lifetime": 2}' >/dev/null
sasl_authorize "$T/oauthmail.conf" || t_fail "authorize"
mock_ctl revoke '{}' >/dev/null
sleep 3
rcfile imap
fetch imap
t_eq "$?" 2 "revoked grant: fetchmail fails (socket error)"
t_grep 'AADSTS50173' "$T/fetchmail.imap.log" "fetchmail's log names the AADSTS code"
t_grep 'oauthmail authorize support' "$T/fetchmail.imap.log" "and the fix"
t_done
