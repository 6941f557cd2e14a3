#!/bin/sh
# cli_sasl_plugin.sh - libxoauth2.so as libsasl2 sees it: saslpluginviewer
# lists XOAUTH2 and OAUTHBEARER with honest security flags; a broken
# oauthmail.conf disables both (never a silent success); only
# sasl_client_plug_init is exported.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_sasl_plugin
. "$srcdir/sasl-lib.sh"
PATH=$PATH:/usr/sbin:/sbin
t_need saslpluginviewer nm
sasl_env
sasl_plugin_sanitized && t_skip "plugin built with sanitizers: it loads only into sanitized programs (cli_tunnel covers it there)"
unset OAUTHMAIL_CONF

nm -D --defined-only "$PLUGIN_DIR/libxoauth2.so" | awk '$2 == "T" {print $3}' >"$T/exports"
t_eq "$(cat "$T/exports")" "sasl_client_plug_init" "only sasl_client_plug_init exported"
ldd "$PLUGIN_DIR/libxoauth2.so" >"$T/ldd"
t_nogrep 'gmime|sqlite' "$T/ldd" "plugin links neither GMime nor SQLite"

cat >"$T/good.conf" <<EOT
token_dir = $T
[account support]
provider = microsoft
tenant = common
client_id = 00000000-0000-0000-0000-0000000000a1
user = support@contoso.test
EOT
OAUTHMAIL_CONF=$T/good.conf saslpluginviewer -c >"$T/out" 2>&1
t_grep 'SASL mechanism: XOAUTH2, best SSF: 0' "$T/out" "XOAUTH2 listed"
t_grep 'SASL mechanism: OAUTHBEARER, best SSF: 0' "$T/out" "OAUTHBEARER listed"
t_grep 'security flags: NO_ANONYMOUS\|PASS_CREDENTIALS$' "$T/out" "no NOPLAINTEXT claim"
OAUTHMAIL_CONF=$T/good.conf saslpluginviewer -c -m XOAUTH2 >"$T/out" 2>&1
t_eq "$?" 0 "saslpluginviewer -c -m XOAUTH2"

printf 'token_dir = %s\nbogus_key = 1\n' "$T" >"$T/bad.conf"
OAUTHMAIL_CONF=$T/bad.conf saslpluginviewer -c >"$T/out" 2>&1
t_nogrep 'XOAUTH2|OAUTHBEARER' "$T/out" "broken config: mechanisms unavailable"
t_done
