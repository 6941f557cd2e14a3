#!/bin/sh
# leak_check - token-cache rule 6 (docs/internals.md): no token, code or
# secret in any output.
# Runs after the other CLI and rig tests (see tests/Makefile.am), adds
# verbose (-v) runs of its own, then greps every test log and every log
# the tests kept (Postfix, Dovecot, mock, oauthmail stderr) for every
# secret any mock issued in this build's test run.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init leak_check
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
t_keep_log "$T/verbose.err" "$T/authorize.out"
{
	oauthmail -v token support >/dev/null
	oauthmail -v refresh support --force
	oauthmail -v status
	oauthmail -v check
	mock_ctl fail '{"kind": "garbage", "endpoint": "token"}' >/dev/null
	oauthmail -v refresh support --force
	mock_ctl error '{"code": "7000215"}' >/dev/null
	oauthmail -v refresh support --force
	oauthmail -v export
} >"$T/verbose.err" 2>&1
# a raw access token passed where a password goes is not echoed either
mock_idp_stop

cat "$builddir"/tmp/secrets/*.issued 2>/dev/null | awk 'length($0) >= 16' |
	sort -u >"$T/secrets"
n=$(wc -l <"$T/secrets")
[ "$n" -gt 0 ] || t_skip "no secrets were issued (run the whole suite)"
echo "checking $n secrets issued by the mocks of $(ls "$builddir"/tmp/secrets | wc -l) tests"

: >"$T/haystack"
for f in "$builddir"/*/*.log "$builddir"/tmp/logs/*; do
	case $f in */leak_check.log | */test-suite.log) continue ;; esac
	[ -f "$f" ] && echo "$f" >>"$T/haystack"
done
echo "in $(wc -l <"$T/haystack") logs"
hits=$(xargs grep -l -F -f "$T/secrets" <"$T/haystack" 2>/dev/null || :)
if [ -z "$hits" ]; then
	t_pass "no secret in any log"
else
	t_fail "secrets found in:"
	echo "$hits"
fi
t_done
