#!/bin/sh
# rig_postfix_expiry.sh - 200 messages through 10 parallel Postfix smtp
# processes while the access token runs out: every message is delivered
# and the identity provider sees exactly one refresh (the shared cache's
# single-flight refresh across processes: docs/internals.md, "The shared
# token-refresh cache", rule 3).
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init rig_postfix_expiry
. "$srcdir/sasl-lib.sh"
sasl_need_rig
rig_plugin_built || t_skip "plugin not built"
sasl_plugin_sanitized && t_skip "sanitizer build: Postfix cannot load the plugin"
N=200
rig_pf_server_start sink || t_fail "server"
# every server session takes a second, so the run lasts ~20 s
pf_set "$RIG_PF_SERVER" 'smtpd_client_restrictions=sleep 1, permit'
postfix -c "$(pf_conf "$RIG_PF_SERVER")" reload >/dev/null 2>&1

sasl_rig_conf "$T/oauthmail.conf" "$T/tokens" "refresh_margin = 10"
chown -R postfix "$T/tokens"
rig_pf_client_create -m xoauth2 -c "$T/oauthmail.conf"
ETC=$(pf_conf "$RIG_PF_CLIENT")
# new mail waits in the hold queue until the token is there
echo '/^Subject: expiry/ HOLD' >"$ETC/hold"
pf_set "$RIG_PF_CLIENT" 'smtp_sasl_security_options=noplaintext, noanonymous' \
	smtp_connection_cache_on_demand=no \
	smtp_destination_concurrency_limit=10 \
	smtp_initial_destination_concurrency=10 \
	"header_checks=regexp:$ETC/hold"
pf_start "$RIG_PF_CLIENT" || t_fail "client start"
sasl_send "$RIG_PF_CLIENT" "$N" expiry
n=0
while [ "$(find "$RIG_PF_CLIENT/queue/hold" -type f | wc -l)" -lt "$N" ] && [ $n -lt 900 ]; do
	sleep 0.2
	n=$((n + 1))
done
t_eq "$(find "$RIG_PF_CLIENT/queue/hold" -type f | wc -l)" "$N" "$N messages queued"
# the first token lives 20 s (refresh due after 10 s); the refreshed one 1 h
mock_ctl config '{"access_lifetime": 20}' >/dev/null
sasl_authorize "$T/oauthmail.conf" || t_fail "authorize"
mock_ctl config '{"access_lifetime": 3600}' >/dev/null
mock_ctl reset_stats >/dev/null
start=$(date +%s)
postsuper -c "$ETC" -H ALL 2>/dev/null
pf_wait_queue_empty "$RIG_PF_CLIENT" 180 || t_fail "queue not empty"
took=$(($(date +%s) - start))
rig_wait_maildir "$RIG_SINK" "$N"
t_eq "$(rig_maildir_count "$RIG_SINK")" "$N" "all $N delivered"
t_eq "$(mock_stat grant.refresh_token)" 1 "exactly one refresh at the identity provider"
t_eq "$([ "$took" -gt 12 ] && echo yes || echo "no: ${took}s")" yes "the token ran out during the run (${took}s)"
procs=$(grep -o 'postfix-pf-client/smtp\[[0-9]*\]' "$(pf_log "$RIG_PF_CLIENT")" | sort -u | wc -l)
t_eq "$([ "$procs" -ge 10 ] && echo yes || echo "no: $procs")" yes "10 or more smtp processes ($procs)"
t_nogrep 'status=(deferred|bounced)' "$(pf_log "$RIG_PF_CLIENT")" "nothing deferred or bounced"
t_done
