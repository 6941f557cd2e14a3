#!/bin/sh
# cli_single_flight.sh - token-cache rule 3 (docs/internals.md): 50
# concurrent `oauthmail token` processes on an expired token cause
# exactly one token request, and all 50 print the same valid token
# (10 under valgrind, where each process costs a second of CPU).
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_single_flight
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }

# Expire the stored access token: it now has less than refresh_margin left.
om_edit_token "$T/tokens/support.json" access_expires=now-10
mock_ctl reset_stats >/dev/null
mkdir "$T/out"
P=50
[ -n "${OAUTHMAIL_VALGRIND:-}" ] && P=10
i=0
pids=""
while [ $i -lt $P ]; do
	oauthmail token support >"$T/out/$i" 2>"$T/out/$i.err" &
	pids="$pids $!"
	i=$((i + 1))
done
wait $pids
t_eq "$(mock_stat grant.refresh_token)" 1 "$P processes, one refresh request"
t_eq "$(cat "$T/out"/[0-9]* | sort -u | wc -l)" 1 "all $P print the same token"
t_eq "$(cat "$T/out"/[0-9]* | wc -l)" "$P" "all $P printed a token"
t_eq "$(cat "$T/out"/*.err | wc -c)" 0 "no errors"
tok=$(head -n 1 "$T/out/0")
introspect=$(curl -s --data-urlencode "token=$tok" "$MOCK_INTROSPECT_URL")
case $introspect in *'"active":true'*) t_pass "the token is valid at the provider" ;;
*) t_fail "token not active: $introspect" ;; esac
t_done
