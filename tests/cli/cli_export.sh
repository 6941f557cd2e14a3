#!/bin/sh
# cli_export.sh - moving accounts between hosts: export without and with
# secrets, import into a second "host" (another config and token_dir),
# --overwrite, same-named accounts only, client_id must match.
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
t_nogrep 'client_secret"' "$T/full.json" "client secret never exported"

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
sed 's/"account":\([[:space:]]*\)"support"/"account":\1"nosuch"/' "$T/full.json" >"$T/renamed.json"
oauthmail -c "$T/b.conf" import "$T/renamed.json" >"$T/out" 2>"$T/err"
t_grep 'nosuch: skipped: no \[account nosuch\]' "$T/err" "unknown account skipped"
sed "s/client_id = $MOCK_PUBLIC_CLIENT/client_id = 11111111-0000-0000-0000-000000000000/" \
	"$T/b.conf" >"$T/c.conf"
oauthmail -c "$T/c.conf" import "$T/full.json" --overwrite >"$T/out" 2>"$T/err"
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
t_done
