#!/bin/sh
# cli_version.sh - `oauthmail --version` and `ticketq --version` print
# "NAME VERSION" (the version configure was given) and exit 0; --version
# anywhere else is a usage error, and on a ticketq deliver line exits 75
# (an MTA line must never exit 0 without reading the mail).  And the
# default config path oauthmail names is configure's (--sysconfdir).
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_version
want=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/oauthmail-config.h")
[ -n "$want" ] || t_fail "no PACKAGE_VERSION in $top_builddir/oauthmail-config.h"

for prog in oauthmail ticketq; do
	"$prog" --version >"$T/out" 2>"$T/err"
	t_eq "$?" 0 "$prog --version exits 0"
	t_eq "$(cat "$T/out")" "$prog $want" "$prog --version prints its name and version"
	t_eq "$(wc -c <"$T/err" | tr -d ' ')" 0 "$prog --version: nothing on stderr"
done

oauthmail --version list >"$T/out" 2>&1
t_eq "$?" 1 "oauthmail --version with more words: usage error"
echo "Subject: kept" | ticketq --queue "$T/none" --version deliver >"$T/out" 2>&1
t_eq "$?" 75 "ticketq --version on a deliver line: 75, the MTA keeps the mail"

conf=$(sed -n 's/^#define OAUTHMAIL_CONFIG_PATH "\(.*\)"$/\1/p' "$top_builddir/oauthmail-config.h")
case $conf in
/*/oauthmail/oauthmail.conf) t_pass "configure's default config path: $conf" ;;
*) t_fail "no OAUTHMAIL_CONFIG_PATH SYSCONFDIR/oauthmail/oauthmail.conf in oauthmail-config.h: '$conf'" ;;
esac
(unset OAUTHMAIL_CONF; oauthmail --help) >"$T/out" 2>&1
t_grep "or $conf\.\$" "$T/out" "oauthmail --help names the configured default"
t_done
