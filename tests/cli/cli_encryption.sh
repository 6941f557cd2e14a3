#!/bin/sh
# cli_encryption.sh - token files sealed with key_file (AES-256-GCM):
# no token readable on disk, everything works, tampering and a wrong key
# are errors with the fix, a world-readable key is refused.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_encryption
mock_idp_start || exit 1
openssl rand -hex 32 >"$T/token.key"
chmod 600 "$T/token.key"
om_conf support "global:key_file=$T/token.key"
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
# sealed_only FILE WHAT - FILE holds only version, account and the sealed
# blob, and none of the secrets the mock issued.  (Not a grep for token
# prefixes such as EwB: a random base64 blob of 3000 characters contains
# "EwB" about once in a hundred files.)
sealed_only() {
	if "$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(sorted(d) != ["account", "sealed", "version"])' "$1"; then
		t_pass "$2: only version, account, sealed"
	else
		t_fail "$2: fields other than version, account, sealed"; t_show "$1"
	fi
	if awk 'length($0) >= 16' "$MOCK_ISSUED_FILE" | grep -F -q -f - "$1"; then
		t_fail "$2: an issued token is readable in $1"
	else
		t_pass "$2: no issued token on disk"
	fi
}
sealed_only "$T/tokens/support.json" "after authorize"
tok=$(oauthmail token support 2>"$T/err")
case $tok in EwB*) t_pass "token from a sealed file" ;; *) t_fail "no token: $(cat "$T/err")" ;; esac
oauthmail refresh support --force >/dev/null 2>"$T/err"
t_eq "$?" 0 "refresh writes a sealed file"
sealed_only "$T/tokens/support.json" "after refresh"

cp "$T/tokens/support.json" "$T/good.json"
"$PYTHON3" - "$T/tokens/support.json" <<'EOP'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
s = d["sealed"]
d["sealed"] = s[:40] + ("A" if s[40] != "A" else "B") + s[41:]
json.dump(d, open(p, "w"))
EOP
oauthmail token support >/dev/null 2>"$T/err"
t_eq "$?" 3 "tampered file: exit 3"
t_grep 'does not open with key_file' "$T/err" "tampering detected"
cp "$T/good.json" "$T/tokens/support.json"
openssl rand -hex 32 >"$T/token.key"
oauthmail token support >/dev/null 2>"$T/err"
t_grep 'does not open with key_file' "$T/err" "wrong key detected"
chmod 644 "$T/token.key"
oauthmail token support >/dev/null 2>"$T/err"
t_eq "$?" 2 "world-readable key: exit 2"
t_grep 'readable by group or others \(fix: chmod 600' "$T/err" "says chmod 600"
t_done
