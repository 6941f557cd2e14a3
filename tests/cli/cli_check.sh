#!/bin/sh
# cli_check.sh - `oauthmail check` looks ahead: client secret and
# refresh-token expiry warnings weeks before, CRITICAL when expired or
# never authorized, the fix in each message, Nagios exit codes (3
# UNKNOWN for a command line or config it cannot use), perfdata in the
# plugin format, one account per service, --json.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_check
mock_idp_start || exit 1
soon=$(date -u -d '+10 days' +%Y-%m-%d)
later=$(date -u -d '+200 days' +%Y-%m-%d)
past=$(date -u -d '-1 days' +%Y-%m-%d)
om_conf support "client_secret_expires=$later"
oauthmail check >"$T/out"
t_eq "$?" 2 "never authorized: CRITICAL"
t_grep 'support: not authorized yet; run: oauthmail authorize support' "$T/out" "says how"
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
oauthmail check >"$T/out"
t_eq "$?" 0 "fresh: OK"
t_grep "'support_secret_days'=(199|200);14:;0:;;" "$T/out" "secret days in perfdata"

om_conf support "client_secret_expires=$soon"
oauthmail check >"$T/out"
t_eq "$?" 1 "secret expires in 10 days: WARNING"
t_grep "OAUTHMAIL WARNING - support: client secret expires in (9|10)d.*Certificates & secrets.*client_secret_expires" "$T/out" "secret warning with the fix"
oauthmail check --warn-days 5 >/dev/null
t_eq "$?" 0 "--warn-days 5: OK"
om_conf support "client_secret_expires=$past"
oauthmail check >"$T/expired.out"
t_eq "$?" 2 "secret expired: CRITICAL"
# days are rounded down: a secret valid through yesterday (expired 0 to
# 24 hours ago) has -1 days, not 0, which the range 0: would let pass
t_grep "'support_secret_days'=-1;14:;0:;;" "$T/expired.out" "an expired secret's days, rounded down"

# the refresh token has not been used for 80 / 95 days
om_conf support
age() {	# age DAYS - the refresh token was issued DAYS ago
	om_edit_token "$T/tokens/support.json" "refresh_issued=now-$(($1 * 86400))"
}
age 80
oauthmail check >"$T/out"
t_eq "$?" 1 "refresh token 80 days old: WARNING"
t_grep 'support: refresh token expires in (9|10)d .* unless used; run: oauthmail refresh support --force' "$T/out" "refresh warning with the fix"
oauthmail refresh support --force >/dev/null 2>&1
oauthmail check >/dev/null
t_eq "$?" 0 "after a refresh: OK again"
age 95
oauthmail check >"$T/out"
t_eq "$?" 2 "95 days unused: CRITICAL"
t_grep 'refresh token expired on .*run: oauthmail authorize support' "$T/out" "expired: authorize"
t_eq "$(wc -l <"$T/out")" 1 "one line"
# two problems on one account: both named
oauthmail refresh support --force >/dev/null 2>&1
om_conf support "client_secret_expires=$soon"
age 80
oauthmail check >"$T/out"
t_eq "$?" 1 "secret and refresh token expiring: WARNING"
t_grep 'refresh token expires in .*; support: client secret expires in' "$T/out" "both problems named"
# a window longer than a third of the horizon is honoured
om_conf support
age 50
oauthmail check --warn-days 60 >"$T/out"
t_eq "$?" 1 "40 days left, --warn-days 60: WARNING"
t_grep "'support_refresh_days'=(39|40);60:;0:;;" "$T/out" "perfdata shows the window used"
oauthmail check --warn-days 10x >"$T/out" 2>/dev/null
t_eq "$?" 3 "--warn-days 10x: UNKNOWN"
t_grep '^OAUTHMAIL UNKNOWN - usage: --warn-days wants a whole number' "$T/out" "the reason on the status line"
oauthmail check --bogus >"$T/out" 2>"$T/err"
t_eq "$?" 3 "unknown option: UNKNOWN"
t_grep '^OAUTHMAIL UNKNOWN - usage: unknown option --bogus' "$T/out" "names the option"
t_grep '^usage: oauthmail check' "$T/err" "usage on stderr"
oauthmail check --warn-days 5 --crit-days 7 >"$T/out" 2>/dev/null
t_eq "$?" 3 "--crit-days above --warn-days: UNKNOWN"
# --crit-days: CRITICAL that many days ahead, in the perfdata as well
om_conf support "client_secret_expires=$soon"
oauthmail check --crit-days 12 >"$T/out"
t_eq "$?" 2 "secret in 10 days, --crit-days 12: CRITICAL"
t_grep "'support_secret_days'=(9|10);14:;12:;;" "$T/out" "critical threshold in perfdata"
om_conf support client_secret=inline-secret-value
chmod 644 "$T/oauthmail.conf"
oauthmail list >/dev/null 2>"$T/err"
t_grep 'client_secret is in .* which everybody can read; fix: move it to client_secret_file' "$T/err" "inline secret in a readable config: warned"
chmod 600 "$T/oauthmail.conf"
oauthmail list >/dev/null 2>"$T/err"
t_eq "$(wc -c <"$T/err")" 0 "mode 600: no warning"

# one service per account: only the accounts named are checked
om_conf support
oauthmail refresh support --force >/dev/null 2>&1
cat >>"$T/oauthmail.conf" <<EOC
[account sales]
authority = $MOCK_URL
tenant = contoso.test
client_id = $MOCK_PUBLIC_CLIENT
user = sales@contoso.test
client_secret_expires = $later
EOC
oauthmail check support >"$T/out"
t_eq "$?" 0 "check support: OK (sales is not asked about)"
t_nogrep 'sales' "$T/out" "sales not in support's line"
t_eq "$(wc -l <"$T/out")" 1 "one account: one line"
oauthmail check sales >"$T/out"
t_eq "$?" 2 "check sales: CRITICAL (never authorized)"
t_grep '^OAUTHMAIL CRITICAL - sales: not authorized yet' "$T/out" "sales' own line"
t_grep "\| 'sales_secret_days'=(199|200);14:;0:;;\$" "$T/out" "sales' perfdata only"
oauthmail check >"$T/out"
t_eq "$?" 2 "all accounts: the worst"
t_eq "$(wc -l <"$T/out")" 3 "status line, then one line per account"
t_grep '^support: OK: support ok$' "$T/out" "long output: support"
t_grep '^sales: CRITICAL: sales: not authorized yet' "$T/out" "long output: sales"
oauthmail check nosuch >"$T/out" 2>/dev/null
t_eq "$?" 3 "unknown account: UNKNOWN"
t_grep "^OAUTHMAIL UNKNOWN - account 'nosuch' is not in " "$T/out" "says which"

# perfdata in the plugin format: 'label'=value[UOM];warn;crit;min;max
oauthmail check support >"$T/out"
"$PYTHON3" - "$T/out" >"$T/perf" <<'EOP'
import re, sys
line = open(sys.argv[1]).readline().rstrip("\n")
status, sep, perf = line.partition(" | ")
assert sep and "|" not in status, "one | between text and perfdata"
item = re.compile(r"'([^']+)'=(-?[0-9]+(?:\.[0-9]+)?)([a-zA-Z%]*)"
                  r"((?:;[0-9:~@.-]*){0,4})$")
for word in perf.split(" "):
    m = item.match(word)
    assert m, "not perfdata: %r" % word
    fields = (m.group(4)[1:].split(";") + ["", ""])[:2]
    print(m.group(1), m.group(2), m.group(3), *fields)
EOP
t_eq "$?" 0 "perfdata parses"
t_grep '^support_token_s [0-9]+ s  $' "$T/perf" "token seconds, unit s, no thresholds"
t_grep '^support_refresh_days (89|90)  14: 0:$' "$T/perf" "refresh days with warn/crit ranges"
t_eq "$(wc -l <"$T/perf")" 2 "two metrics for support (no client_secret_expires)"

# --json for scripts
oauthmail check support sales --json >"$T/json"
t_eq "$?" 2 "--json: same exit code"
"$PYTHON3" -m json.tool "$T/json" >/dev/null
t_eq "$?" 0 "--json is valid JSON"
"$PYTHON3" - "$T/json" >"$T/jout" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
print(d["status"], d["exit"], d["warn_days"], d["crit_days"])
for a in d["accounts"]:
    print(a["account"], a["status"], len(a["problems"]),
          a["token_seconds_left"] is not None, a["refresh_token_days_left"],
          a["client_secret_days_left"])
EOP
t_grep '^CRITICAL 2 14 0$' "$T/jout" "--json: status, exit, thresholds"
t_grep '^support OK 0 True (89|90) None$' "$T/jout" "--json: support"
t_grep '^sales CRITICAL 1 False None (199|200)$' "$T/jout" "--json: sales"
oauthmail check --json --bogus >"$T/json" 2>/dev/null
t_eq "$?" 3 "--json with a bad option: UNKNOWN"
"$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"] == "UNKNOWN" and d["exit"] == 3 and "bogus" in d["summary"]' "$T/json"
t_eq "$?" 0 "--json UNKNOWN names the reason"

echo "token_dir = $T/tokens" >"$T/empty.conf"
oauthmail -c "$T/empty.conf" check >"$T/out" 2>/dev/null
t_eq "$?" 3 "no accounts: UNKNOWN"
t_grep '^OAUTHMAIL UNKNOWN - no accounts in .*empty.conf' "$T/out" "says so"
echo 'bogus' >"$T/oauthmail.conf"
oauthmail check >"$T/out" 2>/dev/null
t_eq "$?" 3 "broken config: UNKNOWN"
t_grep '^OAUTHMAIL UNKNOWN - configuration error: .*oauthmail.conf:1' "$T/out" "the config error on the status line"
t_done
