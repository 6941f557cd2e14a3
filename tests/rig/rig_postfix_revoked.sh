#!/bin/sh
# rig_postfix_revoked.sh - the refresh token is revoked at the identity
# provider: Postfix defers (4.x.x, mail stays queued), the mail log names
# the AADSTS code and the command that fixes it; after
# `oauthmail authorize` the queue flushes and nothing is lost.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init rig_postfix_revoked
. "$srcdir/sasl-lib.sh"
sasl_need_rig
rig_plugin_built || t_skip "plugin not built"
sasl_plugin_sanitized && t_skip "sanitizer build: Postfix cannot load the plugin"
N=3
rig_pf_server_start sink || t_fail "server"
sasl_rig_conf "$T/oauthmail.conf" "$T/tokens" "refresh_margin = 10"
chown -R postfix "$T/tokens"
# a token that must be refreshed 2 s after it is issued
mock_ctl config '{"access_lifetime": 12}' >/dev/null
sasl_authorize "$T/oauthmail.conf" || t_fail "authorize"
mock_ctl revoke '{}' >/dev/null
mock_ctl config '{"access_lifetime": 3600}' >/dev/null
sleep 3
rig_pf_client_create -m xoauth2 -c "$T/oauthmail.conf"
pf_set "$RIG_PF_CLIENT" 'smtp_sasl_security_options=noplaintext, noanonymous'
pf_start "$RIG_PF_CLIENT" || t_fail "client start"
sasl_send "$RIG_PF_CLIENT" "$N" revoked
LOG=$(pf_log "$RIG_PF_CLIENT")
# Postfix retries after 1 s (rig backoff), so a message may be deferred
# more than once before all are: count messages, not log lines.
deferred_count() {
	sed -n 's/.*: \([0-9A-F]*\): to=.*status=deferred.*/\1/p' "$LOG" | sort -u | wc -l
}
n=0
while [ "$(deferred_count)" -lt "$N" ] && [ $n -lt 600 ]; do
	sleep 0.2
	n=$((n + 1))
done
t_eq "$(deferred_count)" "$N" "all $N deferred"
t_grep 'dsn=4\.7\.0, status=deferred \(SASL authentication failed' "$LOG" "a 4xx deferral, not a bounce"
t_grep 'SASL authentication (problem|failure): oauthmail: .*AADSTS50173' "$LOG" "log names the AADSTS code"
t_grep 'SASL authentication (problem|failure): oauthmail: .*oauthmail authorize support' "$LOG" "log names the fix"
t_eq "$(pf_queue_count "$RIG_PF_CLIENT")" "$N" "mail stays queued"
t_eq "$(rig_maildir_count "$RIG_SINK")" 0 "nothing delivered meanwhile"
t_eq "$(mock_stat errors.50173)" 1 "the cache asked once, then remembered (reauth_needed)"

sasl_authorize "$T/oauthmail.conf" || t_fail "re-authorize"
pf_flush "$RIG_PF_CLIENT"
pf_wait_queue_empty "$RIG_PF_CLIENT" 60 || t_fail "queue not flushed"
rig_wait_maildir "$RIG_SINK" "$N"
t_eq "$(rig_maildir_count "$RIG_SINK")" "$N" "after authorize: all $N delivered"
t_nogrep 'status=bounced' "$LOG" "nothing bounced"
t_done
