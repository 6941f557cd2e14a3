#!/bin/sh
# cli_invalidate.sh - a server refuses a token that still looks valid.
# INVALIDATE names the refused token by fingerprint: only the current
# token is marked, once, in the token file (so the refusal reaches every
# process, also a broker spawned per connection); a token replaced
# already costs nothing, and refusal-driven refreshes are rate-limited
# per account.  Counted at the mock identity provider:
#   - 20 stale INVALIDATEs of one token: exactly 1 refresh;
#   - 50 INVALIDATE+TOKEN pairs (an old client, no fingerprint, and a
#     client that reports every new token refused): 1 refresh;
#   - the plugin's direct path (no broker): 5 refused logins, 1 refresh.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_invalidate
. "$srcdir/sasl-lib.sh"
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
mock_ctl reset_stats >/dev/null
fp() { printf '%s' "$1" | sha256sum | cut -c1-6; }
rejected() {	# the fingerprint in the token file's rejected_token
	"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("rejected_token", ""))' \
		"$T/tokens/support.json"
}
tok1=$(printf 'TOKEN support\n' | oauthmail serve 2>"$T/err" | cut -d' ' -f2)
fp1=$(fp "$tok1")
printf 'INVALIDATE support %s\n' "$fp1" | oauthmail serve >"$T/out" 2>>"$T/err"
t_eq "$(cat "$T/out")" "OK" "INVALIDATE with a fingerprint, in its own broker process"
t_eq "$(rejected)" "$fp1" "the refusal is in the token file"
t_grep "token $fp1 refused by the server; the next use refreshes it" "$T/err" "logged by fingerprint"
t_eq "$(mock_stat grant.refresh_token)" 0 "no refresh yet"
tok2=$(oauthmail token support 2>>"$T/err")
t_eq "$(mock_stat grant.refresh_token)" 1 "another process refreshes on its next use"
[ -n "$tok2" ] && [ "$tok1" != "$tok2" ] && t_pass "a new token" || t_fail "same token after the refusal"
t_eq "$(rejected)" "$fp1" "after the refresh the mark names the old token only"

# 20 stale INVALIDATEs of the first token, between TOKEN requests, in
# spawned brokers (two connections of 10 requests each)
for c in 1 2; do
	i=0
	while [ $i -lt 5 ]; do
		printf 'INVALIDATE support %s\nTOKEN support\n' "$fp1"
		i=$((i + 1))
	done | oauthmail serve >"$T/out.$c" 2>>"$T/err"
done
t_eq "$(grep -c "^OK $tok2 " "$T/out.1" "$T/out.2" | cut -d: -f2 | tr '\n' ' ')" "5 5 " \
	"every TOKEN answered with the current token"
oauthmail token support >/dev/null 2>>"$T/err"
t_eq "$(mock_stat grant.refresh_token)" 1 "20 stale INVALIDATEs of one token: exactly 1 refresh"
t_grep "token $fp1 refused by the server, but it was replaced already" "$T/err" "stale refusal logged"

# a listening broker and 50 INVALIDATE+TOKEN pairs on one connection
# each: an old client (no fingerprint), then one that reports every new
# token refused
om_authorize support || t_fail "authorize again"
mock_ctl reset_stats >/dev/null
"$OAUTHMAIL_BIN" serve --listen "$T/broker.sock" 2>"$T/broker.log" &
t_bg $!
n=0; while [ ! -S "$T/broker.sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
pairs() {	# pairs MODE: 50 pairs, prints the distinct tokens received
	"$PYTHON3" - "$T/broker.sock" "$1" <<'PY'
import hashlib, socket, sys
path, mode = sys.argv[1], sys.argv[2]
seen, fp = [], ""
for i in range(50):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rwb")
    line = "INVALIDATE support" + (" " + fp if mode == "fp" and fp else "")
    f.write((line + "\nTOKEN support\n").encode()); f.flush()
    assert f.readline() == b"OK\n"
    tok = f.readline().decode().split(" ")[1]
    fp = hashlib.sha256(tok.encode()).hexdigest()[:6]
    if tok not in seen:
        seen.append(tok)
    s.close()
print(len(seen))
PY
}
t_eq "$(pairs old)" 1 "old client: one new token for all 50 pairs"
t_eq "$(mock_stat grant.refresh_token)" 1 "50 INVALIDATE+TOKEN pairs (no fingerprint): 1 refresh"
t_eq "$(pairs fp)" 1 "every new token reported refused: no second new token"
t_eq "$(mock_stat grant.refresh_token)" 1 "50 more pairs with fingerprints: still 1 refresh"
t_grep "and an earlier token too: not refreshing again so soon" "$T/broker.log" "the rate limit is logged with its reason"
t_nogrep "$tok1|$tok2" "$T/broker.log" "no token in the broker's log"

# the plugin's direct path: the server refuses every token
t_need openssl
sasl_env
sasl_make_ca "$T/ca" || t_fail "test CA"
fake_mail_start imap imap --user support@contoso.test --token EwBnot.the-token
om_conf support "global:ca_file=$T/ca/ca.pem" imap_host=127.0.0.1 "imap_port=$FAKE_PORT"
om_authorize support || t_fail "authorize for the plugin"
mock_ctl reset_stats >/dev/null
i=0
while [ $i -lt 5 ]; do
	oauthmail test support imap >>"$T/plugin.out" 2>>"$T/plugin.err"
	i=$((i + 1))
done
t_eq "$(grep -Ec 'server refused token [0-9a-f]{6} for' "$T/plugin.err")" 5 "5 refused logins"
t_eq "$(mock_stat grant.refresh_token)" 1 "plugin, no broker: 5 refusals, 1 refresh"
t_keep_log "$T/err" "$T/broker.log" "$T/plugin.err"
t_done
