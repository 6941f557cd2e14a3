#!/bin/sh
# cli_rotation.sh - token-cache rule 4 (docs/internals.md): with the
# provider invalidating every refresh token once used, 20 rounds of
# concurrent forced refreshes never leave the store holding a dead
# refresh token.  Under valgrind 4 rounds (each refresh costs a second
# there; the race itself is tested by the plain and sanitizer runs).
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_rotation
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
mock_ctl config '{"invalidate_used_refresh_tokens": true}' >/dev/null
mock_ctl reset_stats >/dev/null
ROUNDS=20
[ -n "${OAUTHMAIL_VALGRIND:-}" ] && ROUNDS=4
round=0
bad=0
while [ $round -lt $ROUNDS ]; do
	i=0
	pids=""
	while [ $i -lt 5 ]; do
		{ oauthmail refresh support --force >/dev/null 2>>"$T/err" ||
			echo x >>"$T/failed"; } &
		pids="$pids $!"
		i=$((i + 1))
	done
	wait $pids
	# the store must hold a live refresh token after every round
	"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["refresh_token"])' \
		"$T/tokens/support.json" >"$T/rt"
	grep -q . "$T/rt" || bad=$((bad + 1))
	round=$((round + 1))
done
t_eq "$bad" 0 "a refresh token on disk after every round"
t_eq "$(cat "$T/failed" 2>/dev/null | wc -l)" 0 "all $((ROUNDS * 5)) refreshes succeeded"
t_eq "$(mock_stat errors.70000)" 0 "never presented a used refresh token"
t_eq "$(mock_stat grant.refresh_token)" $((ROUNDS * 5)) "$((ROUNDS * 5)) refreshes, one after another"
oauthmail refresh support --force >/dev/null 2>>"$T/err"
t_eq "$?" 0 "the stored refresh token still works"
t_keep_log "$T/err"
t_done
