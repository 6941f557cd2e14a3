#!/bin/sh
# cli_export.sh - moving accounts between hosts: export without and with
# secrets, import into a second "host" (another config and token_dir),
# --overwrite, same-named accounts only, client_id must match; a move in
# two commands: the config sections travel, secrets only with
# --with-secrets, and the new host's oauthmail token works.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_export
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }

oauthmail export >"$T/plain.json" 2>"$T/err"
t_eq "$?" 0 "export"
t_nogrep 'EwB|0\.AY' "$T/plain.json" "export without --with-secrets has no tokens"
oauthmail export support --with-secrets >"$T/full.json" 2>"$T/err"
t_eq "$?" 0 "export --with-secrets"
t_grep '"refresh_token":[[:space:]]*"0\.AY' "$T/full.json" "with secrets: the refresh token"
t_grep '"client_id":[[:space:]]*"00000000-0000-0000-0000-0000000000a1"' "$T/full.json" "config exported"
t_nogrep '"client_secret"' "$T/full.json" "a public client: no client secret"

# host B: same account name, its own token_dir, plus an account the
# export does not have and one with another client_id
mkdir -p "$T/b/tokens" && chmod 700 "$T/b/tokens"
cat >"$T/b.conf" <<EOC
token_dir = $T/b/tokens
[account support]
authority = $MOCK_URL
tenant = contoso.test
client_id = $MOCK_PUBLIC_CLIENT
[account other]
authority = $MOCK_URL
client_id = $MOCK_PUBLIC_CLIENT
EOC
oauthmail -c "$T/b.conf" import "$T/plain.json" >"$T/out" 2>"$T/err"
t_eq "$?" 2 "import without secrets: exit 2"
t_grep 'no refresh token in the export' "$T/err" "says to export --with-secrets"
oauthmail -c "$T/b.conf" import "$T/full.json" >"$T/out" 2>"$T/err"
t_eq "$?" 0 "import"
t_grep '^support: imported' "$T/out" "support imported"
t_eq "$(stat -c %a "$T/b/tokens/support.json")" 600 "imported file mode 0600"
n=$(mock_stat grant.refresh_token)
oauthmail -c "$T/b.conf" refresh support --force >/dev/null 2>"$T/err"
t_eq "$?" 0 "host B refreshes with the imported grant"
t_eq "$(mock_stat grant.refresh_token)" $((n + 1)) "one refresh on host B"
oauthmail -c "$T/b.conf" import "$T/full.json" >"$T/out" 2>"$T/err"
t_eq "$?" 2 "import again: exit 2"
t_grep 'a token file exists \(--overwrite replaces it\)' "$T/err" "existing file kept"
cat "$T/full.json" | oauthmail -c "$T/b.conf" import - --overwrite >"$T/out" 2>"$T/err"
t_eq "$?" 0 "import - --overwrite"

# only same-named accounts, and only for the same app registration
"$PYTHON3" - "$T/full.json" >"$T/renamed.json" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
for a in d["accounts"]:
    a["account"] = "nosuch"
    del a["section"]
print(json.dumps(d))
EOP
oauthmail -c "$T/b.conf" import "$T/renamed.json" >"$T/out" 2>"$T/err"
t_grep 'nosuch: skipped: no \[account nosuch\] in .*, and no section for it in the export' "$T/err" "unknown account without a section skipped"
sed "s/client_id = $MOCK_PUBLIC_CLIENT/client_id = 11111111-0000-0000-0000-000000000000/" \
	"$T/b.conf" >"$T/c.conf"
oauthmail -c "$T/c.conf" import "$T/full.json" >"$T/out" 2>"$T/err"
t_grep 'support: kept \[account support\] of .*c.conf: it differs from the export' "$T/err" "a differing section is kept without --overwrite"
t_grep 'issued to client_id .* but the config has' "$T/err" "other client_id skipped"
t_eq "$(ls "$T/b/tokens" | grep -c other)" 0 "no file for the other account"
oauthmail -c "$T/b.conf" import /nonexistent >/dev/null 2>"$T/err"
t_eq "$?" 1 "missing file: exit 1"
echo 'not json' | oauthmail -c "$T/b.conf" import - >/dev/null 2>"$T/err"
t_grep 'not an oauthmail export' "$T/err" "garbage import refused"
for doc in '{}' '[]' '"x"' '{"oauthmail_export":1,"accounts":"str"}'; do
	echo "$doc" | oauthmail -c "$T/b.conf" import - >"$T/out" 2>"$T/err"
	t_eq "$?" 1 "import of $doc: exit 1"
	t_grep 'not an oauthmail export' "$T/err" "import of $doc: refused"
done
# an export with secrets into a file others could read becomes 0600
(umask 022; oauthmail export --with-secrets >"$T/loose.json" 2>"$T/err")
t_eq "$(stat -c %a "$T/loose.json")" 600 "export --with-secrets: file made 0600"
t_grep 'now mode 0600' "$T/err" "and the admin told"
# a token file that cannot be read is not exported as if absent
cp "$T/tokens/support.json" "$T/support.json.bak"
echo garbage >"$T/tokens/support.json"
oauthmail export --with-secrets >"$T/out" 2>"$T/err"
t_eq "$?" 2 "unreadable token file: exit 2"
t_grep 'support: .*its token is left out of the export' "$T/err" "says which and why"
cp "$T/support.json.bak" "$T/tokens/support.json"

# A move in two commands.  Host A: the delegated account and an app-only
# one whose secret is in a client_secret_file.
mkdir -p "$T/keys"
cp "$MOCK_CLIENT_SECRET_FILE" "$T/keys/app.secret"
chmod 600 "$T/keys/app.secret"
secret=$(cat "$T/keys/app.secret")
cat >>"$T/oauthmail.conf" <<EOC
[account app]
grant = client_credentials   # app-only
authority = $MOCK_URL
tenant = contoso.test
client_id = $MOCK_CONF_CLIENT
client_secret_file = $T/keys/app.secret
client_secret_expires = 2099-01-01
EOC
oauthmail authorize app >/dev/null 2>&1
t_eq "$?" 0 "host A: app-only account has its token"
oauthmail refresh support --force >/dev/null 2>&1   # a refresh token of its own
oauthmail export >"$T/move-plain.json" 2>/dev/null
oauthmail export --with-secrets >"$T/move.json" 2>/dev/null
t_eq "$?" 0 "host A: export --with-secrets"
if grep -qF -- "$secret" "$T/move-plain.json"; then t_fail "the client secret is in the export without --with-secrets"; else t_pass "no client secret without --with-secrets"; fi
if grep -qF -- "$secret" "$T/move.json"; then t_pass "--with-secrets: the client secret is in the export"; else t_fail "--with-secrets: no client secret in the export"; fi
t_grep '"client_secret_file":[[:space:]]*"[^"]*/keys/app.secret"' "$T/move-plain.json" "the section as written: client_secret_file"
t_grep '"grant":[[:space:]]*"client_credentials"' "$T/move-plain.json" "the section as written: grant (comment dropped)"
rm "$T/keys/app.secret"    # host A is gone

# host C gets the export without secrets: the sections, not the grants
mkdir -p "$T/hc/tokens" && chmod 700 "$T/hc/tokens"
echo "token_dir = $T/hc/tokens" >"$T/hc.conf"
oauthmail -c "$T/hc.conf" import "$T/move-plain.json" >"$T/out" 2>"$T/err"
t_eq "$?" 2 "host C, no secrets: exit 2"
t_grep 'app: not imported: its client_secret_file .*app.secret does not exist on this host; copy the secret from the old host' "$T/err" "a missing secret file is named"
t_grep '^support: \[account support\] added to .*hc.conf' "$T/out" "support's section added"
t_grep 'support: skipped: no refresh token in the export \(export with --with-secrets, or run: oauthmail authorize support\)' "$T/err" "support: sign in again"
oauthmail -c "$T/hc.conf" list >"$T/out" 2>"$T/err"
t_eq "$?" 0 "host C's config loads"
t_grep '^support .*not_authorized' "$T/out" "host C: support, not authorized yet"
t_eq "$(ls "$T"/hc.conf.*.bak | wc -l)" 1 "host C: a backup of the old config"

# host B gets the full export: config and grants, then tokens work
mkdir -p "$T/hb/tokens" && chmod 700 "$T/hb/tokens"
echo "token_dir = $T/hb/tokens" >"$T/hb.conf"
chmod 640 "$T/hb.conf"
oauthmail -c "$T/hb.conf" import "$T/move.json" >"$T/out" 2>"$T/err"
t_eq "$?" 0 "host B: import of the full export"
t_grep '^support: \[account support\] added to ' "$T/out" "host B: support added"
t_grep "^app: client_secret_file is $T/app.secret here \\(.*/keys/app.secret on the old host\\)" "$T/out" "host B: the secret goes beside the config"
t_grep "^app: client secret written to $T/app.secret \\(mode 0600\\)" "$T/out" "host B: the secret file written"
t_eq "$(stat -c %a "$T/app.secret")" 600 "host B: secret file mode 0600"
t_eq "$(cat "$T/app.secret")" "$secret" "host B: the secret in it"
t_nogrep 'keys/app.secret' "$T/hb.conf" "host B: no path from the export in the config"
t_eq "$(stat -c %a "$T/hb.conf")" 640 "host B: config keeps its mode"
if grep -qF -- "$secret" "$T/hb.conf"; then t_fail "the secret went into oauthmail.conf"; else t_pass "no secret in oauthmail.conf"; fi
t_grep '^imported 2, skipped 0' "$T/out" "host B: both grants imported"
oauthmail -c "$T/hb.conf" token support >/dev/null 2>"$T/err"
t_eq "$?" 0 "host B: oauthmail token support"
n=$(mock_stat grant.refresh_token)
# with strict rotation, the first host to refresh breaks the other
mock_ctl config '{"invalidate_used_refresh_tokens": true}' >/dev/null
oauthmail -c "$T/hb.conf" refresh support --force >/dev/null 2>"$T/err"
t_eq "$?" 0 "host B: refresh with the moved grant"
t_eq "$(mock_stat grant.refresh_token)" $((n + 1)) "host B: one refresh at the provider"
cp "$T/app.secret" "$T/keys/app.secret"   # host A (same machine here) loads again
oauthmail refresh support --force >/dev/null 2>"$T/err"
t_eq "$?" 3 "host A, still running: its refresh token is void (exit 3)"
t_grep 'account support: AADSTS70000 \(invalid_grant\)' "$T/err" "host A: invalid_grant, as the man page says"
mock_ctl config '{"invalidate_used_refresh_tokens": false}' >/dev/null
oauthmail -c "$T/hb.conf" refresh app --force >/dev/null 2>"$T/err"
t_eq "$?" 0 "host B: app-only token with the moved secret"
oauthmail -c "$T/hb.conf" token app >/dev/null 2>"$T/err"
t_eq "$?" 0 "host B: oauthmail token app"
# again: nothing to change in the config, token files kept
oauthmail -c "$T/hb.conf" import "$T/move.json" >"$T/out" 2>"$T/err"
t_eq "$?" 2 "host B: the same import again: exit 2 (token files exist)"
t_nogrep 'added to|replaced in' "$T/out" "the same sections: config untouched"
# a section changed on host B is kept, unless --overwrite
sed -i 's/^user = support@contoso.test/user = someone@contoso.test/' "$T/hb.conf"
oauthmail -c "$T/hb.conf" import "$T/move.json" >"$T/out" 2>"$T/err"
t_grep 'support: kept \[account support\]' "$T/err" "host B: a changed section is kept"
oauthmail -c "$T/hb.conf" import "$T/move.json" --overwrite >"$T/out" 2>"$T/err"
t_eq "$?" 0 "host B: --overwrite"
t_grep '^support: \[account support\] replaced in ' "$T/out" "host B: section replaced"
t_grep '^user = support@contoso.test' "$T/hb.conf" "host B: the export's user back"
t_grep '^\[account app\]' "$T/hb.conf" "host B: the other section intact"
oauthmail -c "$T/hb.conf" token support >/dev/null 2>"$T/err"
t_eq "$?" 0 "host B: the config still loads after the replace"
# a secret inline on the old host goes to a file on the new one
cat >"$T/inline.conf" <<EOC
token_dir = $T/tokens
[account app]
grant = client_credentials
authority = $MOCK_URL
tenant = contoso.test
client_id = $MOCK_CONF_CLIENT
client_secret = $secret
EOC
chmod 600 "$T/inline.conf"
oauthmail -c "$T/inline.conf" export app --with-secrets >"$T/inline.json" 2>/dev/null
mkdir -p "$T/hd/tokens" && chmod 700 "$T/hd/tokens"
echo "token_dir = $T/hd/tokens" >"$T/hd/oauthmail.conf"
oauthmail -c "$T/hd/oauthmail.conf" import "$T/inline.json" >"$T/out" 2>"$T/err"
t_eq "$?" 0 "host D: import of an inline secret"
t_grep "^$T/hd/oauthmail.conf: updated \\(the old one is " "$T/out" "host D: config updated, backup named"
t_grep "^app: client secret written to $T/hd/app.secret \\(mode 0600\\)" "$T/out" "host D: secret beside the config"
t_grep "^client_secret_file = $T/hd/app.secret\$" "$T/hd/oauthmail.conf" "host D: the section names the file"
t_nogrep '^client_secret =' "$T/hd/oauthmail.conf" "host D: no inline secret"
t_eq "$(stat -c %a "$T/hd/app.secret")" 600 "host D: secret file 0600"
oauthmail -c "$T/hd/oauthmail.conf" refresh app --force >/dev/null 2>"$T/err"
t_eq "$?" 0 "host D: app-only token with the moved secret"

# a section from an export is outside input
"$PYTHON3" - "$T/move.json" >"$T/evil.json" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
d["accounts"] = [a for a in d["accounts"] if a["account"] == "support"]
a = d["accounts"][0]
a["account"] = "evil"
a["section"]["user"] = "x\n[account injected]\nclient_id = y"
print(json.dumps(d))
EOP
oauthmail -c "$T/hb.conf" import "$T/evil.json" >"$T/out" 2>"$T/err"
t_eq "$?" 2 "a section with a newline in a value: refused"
t_grep 'evil: not imported: its section holds a setting that is not KEY = one printable line' "$T/err" "says why"
t_nogrep 'injected' "$T/hb.conf" "nothing injected"
# no path from an export is used: a client_secret_file naming another
# file is written beside the config instead, never there
"$PYTHON3" - "$T/move.json" "$T/victim" >"$T/evil2.json" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
d["accounts"] = [a for a in d["accounts"] if a["account"] == "app"]
a = d["accounts"][0]
a["account"] = "app2"
a["section"]["client_secret_file"] = sys.argv[2]
a["token"] = None
print(json.dumps(d))
EOP
echo "precious" >"$T/victim"
oauthmail -c "$T/hb.conf" import "$T/evil2.json" >"$T/out" 2>"$T/err"
t_eq "$(cat "$T/victim")" precious "a client_secret_file from the export is not written"
t_grep "^app2: client secret written to $T/app2.secret " "$T/out" "it goes beside the config"
t_grep "^client_secret_file = $T/app2.secret\$" "$T/hb.conf" "the section names that file"
t_nogrep "victim" "$T/hb.conf" "the export's path is not in the config"
# an account name that is not one, and a secret of several lines
"$PYTHON3" - "$T/move.json" >"$T/evil3.json" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
d["accounts"] = [a for a in d["accounts"] if a["account"] == "app"]
a = d["accounts"][0]
b = json.loads(json.dumps(a))
a["account"] = "x]\nclient_id = y\n[account z"
b["account"] = "app3"
b["client_secret"] = "* * * * * root sh\nline two"
d["accounts"].append(b)
print(json.dumps(d))
EOP
oauthmail -c "$T/hb.conf" import "$T/evil3.json" >"$T/out" 2>"$T/err"
t_eq "$?" 2 "a bad account name and a multi-line secret: refused"
t_grep 'not imported: not an account name' "$T/err" "a bad account name is named as such"
t_grep 'app3: not imported: its client secret is not one line' "$T/err" "a multi-line secret is refused"
t_nogrep '^\[account (z|app3)\]' "$T/hb.conf" "neither is added"
# an inline secret left out of the export: import wants ACCOUNT.secret
oauthmail -c "$T/inline.conf" export app >"$T/inline-plain.json" 2>/dev/null
t_grep '"client_secret_needed":[[:space:]]*true' "$T/inline-plain.json" "the export says a secret is needed"
mkdir -p "$T/he/tokens" && chmod 700 "$T/he/tokens"
echo "token_dir = $T/he/tokens" >"$T/he/oauthmail.conf"
oauthmail -c "$T/he/oauthmail.conf" import "$T/inline-plain.json" >"$T/out" 2>"$T/err"
t_eq "$?" 2 "host E: an inline secret not exported: not imported"
t_grep "app: not imported: its client_secret_file $T/he/app.secret does not exist on this host" "$T/err" "host E: says where the secret must go"
t_nogrep '^\[account app\]' "$T/he/oauthmail.conf" "host E: not added as a public client"
t_done
