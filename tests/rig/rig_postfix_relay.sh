#!/bin/sh
# rig_postfix_relay.sh - mail submitted to a private Postfix arrives at the
# smtp.office365.com stand-in (Postfix + Dovecot SASL, STARTTLS and SASL
# required), authenticated by our plugin:
#   1. XOAUTH2, Debian's chrooted smtp, the token broker run by spawn(8)
#      as in docs/postfix.md (token_socket = private/oauthmail)
#   2. OAUTHBEARER, smtp not chrooted, no broker: the cache directly
# and `oauthmail postfix check` passes both set-ups.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init rig_postfix_relay
. "$srcdir/sasl-lib.sh"
sasl_need_rig
rig_plugin_built || t_skip "plugin not built"
sasl_plugin_sanitized && t_skip "sanitizer build: Postfix cannot load the plugin"
rig_pf_server_start sink || t_fail "server"

# 1. chrooted smtp + broker.  spawn(8) runs the broker as a user that is
# neither root nor postfix and owns token_dir: nobody, here.
sasl_rig_conf "$T/broker.conf" "$T/tokens-broker" "token_socket = private/oauthmail"
chown -R nobody "$T/tokens-broker"
chmod 700 "$T/tokens-broker"
sasl_authorize "$T/broker.conf" || t_fail "authorize"
rig_pf_client_create -m xoauth2 -c "$T/broker.conf"
pf_set "$RIG_PF_CLIENT" 'smtp_sasl_security_options=noplaintext, noanonymous'
postconf -c "$(pf_conf "$RIG_PF_CLIENT")" -F 'smtp/unix/chroot = y'
pf_master "$RIG_PF_CLIENT" "oauthmail unix - n n - - spawn user=nobody argv=$OAUTHMAIL_BIN -c $T/broker.conf serve"
pf_start "$RIG_PF_CLIENT" || t_fail "client start"
sasl_send "$RIG_PF_CLIENT" 1 broker
pf_wait_queue_empty "$RIG_PF_CLIENT" 60 || t_fail "queue not empty"
rig_wait_maildir "$RIG_SINK" 1
t_eq "$(rig_maildir_count "$RIG_SINK")" 1 "XOAUTH2 via the broker: delivered"
t_grep 'sasl_method=XOAUTH2, sasl_username=support@contoso.test' "$(pf_log "$RIG_PF_SERVER")" "server saw XOAUTH2"
t_grep 'postfix-pf-client/smtp\[[0-9]+\]: .*status=sent' "$(pf_log "$RIG_PF_CLIENT")" "client smtp sent it"
# smtp is chrooted in the queue directory, where the token files are not:
# only the broker can have given it the token
t_eq "$(test -e "$RIG_PF_CLIENT/queue$T/tokens-broker" && echo yes || echo no)" no "no token files inside the chroot"
t_eq "$(test -S "$RIG_PF_CLIENT/queue/private/oauthmail" && echo yes || echo no)" yes "broker socket in private/"
# oauthmail-serve(8), SOCKET ACCESS: Postfix's master makes the spawn
# socket 0666; the 0700 private/ directory is what protects it
t_eq "$(stat -c %a "$RIG_PF_CLIENT/queue/private/oauthmail") $(stat -c %a "$RIG_PF_CLIENT/queue/private")" \
	"666 700" "spawn socket 0666 inside the 0700 private/ (as the man page says)"
oauthmail -c "$T/broker.conf" postfix check --config-dir "$(pf_conf "$RIG_PF_CLIENT")" >"$T/check1" 2>&1
t_eq "$?" 0 "postfix check passes the broker set-up"
t_grep '^0 problems' "$T/check1" "no problems (broker)"
pf_stop "$RIG_PF_CLIENT"

# 2. OAUTHBEARER, no chroot, no broker: smtp (as postfix) uses the cache
sasl_rig_conf "$T/direct.conf" "$T/tokens-direct"
chown -R postfix "$T/tokens-direct"
chmod 700 "$T/tokens-direct"
sasl_authorize "$T/direct.conf" || t_fail "authorize"
rm -rf "$RIG_PF_CLIENT"
rig_pf_client_create -m oauthbearer -c "$T/direct.conf"
pf_set "$RIG_PF_CLIENT" 'smtp_sasl_security_options=noplaintext, noanonymous'
pf_start "$RIG_PF_CLIENT" || t_fail "client start"
sasl_send "$RIG_PF_CLIENT" 1 direct
pf_wait_queue_empty "$RIG_PF_CLIENT" 60 || t_fail "queue not empty"
rig_wait_maildir "$RIG_SINK" 2
t_eq "$(rig_maildir_count "$RIG_SINK")" 2 "OAUTHBEARER without the broker: delivered"
t_grep 'sasl_method=OAUTHBEARER, sasl_username=support@contoso.test' "$(pf_log "$RIG_PF_SERVER")" "server saw OAUTHBEARER"
oauthmail -c "$T/direct.conf" postfix check --config-dir "$(pf_conf "$RIG_PF_CLIENT")" >"$T/check2" 2>&1
t_eq "$?" 0 "postfix check passes the direct set-up"
for f in "$(pf_log "$RIG_PF_CLIENT")" "$(pf_log "$RIG_PF_SERVER")" "$T/check1" "$T/check2"; do
	mock_ctl issued | "$PYTHON3" -c '
import json, sys
secrets = json.load(sys.stdin)["all"]
text = open(sys.argv[1], errors="replace").read()
sys.exit(1 if any(s in text for s in secrets if len(s) > 8) else 0)' "$f"
	t_eq "$?" 0 "no token or secret in $(basename "$f")"
done
t_done
