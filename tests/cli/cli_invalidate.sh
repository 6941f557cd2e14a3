#!/bin/sh
# cli_invalidate.sh - a server refuses a token that still looks valid:
# the refusal, reported to a broker spawned per connection (Postfix
# spawn(8)), reaches every process through the token file; the next
# request anywhere refreshes once, and only once.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_invalidate
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
mock_ctl reset_stats >/dev/null
tok1=$(printf 'TOKEN support\n' | oauthmail serve 2>"$T/err" | cut -d' ' -f2)
printf 'INVALIDATE support\n' | oauthmail serve >"$T/out" 2>>"$T/err"
t_eq "$(cat "$T/out")" "OK" "INVALIDATE in its own broker process"
t_grep '"rejected_token"' "$T/tokens/support.json" "the refusal is in the token file"
t_eq "$(mock_stat grant.refresh_token)" 0 "no refresh yet"
tok2=$(oauthmail token support 2>>"$T/err")
t_eq "$(mock_stat grant.refresh_token)" 1 "another process refreshes on its next use"
[ -n "$tok2" ] && [ "$tok1" != "$tok2" ] && t_pass "a new token" || t_fail "same token after the refusal"
t_nogrep '"rejected_token"' "$T/tokens/support.json" "the mark is gone after the refresh"
oauthmail token support >/dev/null 2>>"$T/err"
printf 'TOKEN support\n' | oauthmail serve >/dev/null 2>>"$T/err"
t_eq "$(mock_stat grant.refresh_token)" 1 "only once"
t_keep_log "$T/err"
t_done
