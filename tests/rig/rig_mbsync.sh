#!/bin/sh
# rig_mbsync.sh - mbsync (isync 1.4) syncs a Dovecot mailbox with
# AuthMechs XOAUTH2 through the oauthmail plugin (Pass oauthmail:ACCOUNT,
# answered through SASL interaction prompts), with docs/mbsync.md's
# configuration; and through `Tunnel` as the alternative.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init rig_mbsync
. "$srcdir/sasl-lib.sh"
sasl_need_rig
t_need mbsync
rig_plugin_built || t_skip "plugin not built"
sasl_plugin_sanitized && t_skip "sanitizer build: mbsync cannot load the plugin"
sasl_env
rig_dovecot_start || t_fail "dovecot"
sasl_rig_conf "$T/oauthmail.conf" "$T/tokens"
sasl_authorize "$T/oauthmail.conf" || t_fail "authorize"
rig_seed 6 "mbsync message" >/dev/null
mkdir -p "$T/Mail/support" "$T/Mail/tunnel"
cat >"$T/mbsyncrc" <<EOT
IMAPAccount support
Host localhost
Port $RIG_IMAP_PORT
User $RIG_USER
Pass oauthmail:support
AuthMechs XOAUTH2
SSLType IMAPS
CertificateFile $RIG_CA

IMAPStore support-remote
Account support

MaildirStore support-local
Path $T/Mail/support/
Inbox $T/Mail/support/INBOX

Channel support
Far :support-remote:
Near :support-local:
Patterns INBOX
Create Near
SyncState *
EOT
OAUTHMAIL_CONF=$T/oauthmail.conf mbsync -c "$T/mbsyncrc" -V support >"$T/mbsync.log" 2>&1
t_eq "$?" 0 "mbsync exit status"
t_eq "$(rig_maildir_count "$T/Mail/support/INBOX")" 6 "6 messages synced"
t_grep 'Authenticating with SASL mechanism XOAUTH2' "$T/mbsync.log" "mbsync used XOAUTH2"
t_grep 'imap-login: Info: Login: user=<support@contoso.test>, method=XOAUTH2' "$RIG_DOVECOT_LOG" "Dovecot saw XOAUTH2"

# the Tunnel alternative
sed -e '/^Host\|^Port\|^SSLType\|^CertificateFile\|^AuthMechs\|^Pass/d' \
	-e "s|^User .*|Tunnel \"$OAUTHMAIL_BIN -c $T/oauthmail.conf tunnel imap support\"|" \
	-e "s|$T/Mail/support|$T/Mail/tunnel|g" "$T/mbsyncrc" >"$T/mbsyncrc.tunnel"
rig_seed 2 "more" >/dev/null
mbsync -c "$T/mbsyncrc.tunnel" support >"$T/mbsync.tunnel.log" 2>&1
t_eq "$?" 0 "mbsync through the tunnel"
t_eq "$(rig_maildir_count "$T/Mail/tunnel/INBOX")" 8 "8 messages synced through the tunnel"
t_done
