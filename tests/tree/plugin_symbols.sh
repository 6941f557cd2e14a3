#!/bin/sh
# plugin_symbols.sh - the SASL plugin carries only what it runs.
# libxoauth2.so is loaded into every Postfix smtp process: it must hold
# the token-cache path (config, provider, HTTP, refresh grant, token
# store and cache, bearer messages, broker client) and nothing of the
# interactive sign-in (redirect listener, device and auth-code flows),
# the broker's server side, or the ticket queue (ticket_*, GMime,
# SQLite).  Every symbol counts (nm, not only nm -D: the build tree's
# copy is not stripped); the dynamic table exports sasl_client_plug_init
# and nothing else.  And ticketq, started once per message by the MTA,
# loads neither libcrypto nor libcurl (their start-up cost: ticket_id.c).
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init plugin_symbols
t_need nm
so=$top_builddir/sasl-xoauth2/.libs/libxoauth2.so
[ -f "$so" ] || { t_fail "no $so (build first)"; t_done; }

nm "$so" >"$T/all" 2>"$T/nm.err" || { t_fail "nm $so"; cat "$T/nm.err"; t_done; }
[ -s "$T/all" ] || { t_fail "nm found no symbols: is $so stripped?"; t_done; }

# name  pattern (extended regex on the symbol name)
while read -r what pattern; do
	hits=$(awk '{ print $NF }' "$T/all" | grep -E "$pattern" || :)
	if [ -z "$hits" ]; then
		t_pass "no $what symbols"
	else
		t_fail "$what symbols in the plugin:" $hits
	fi
done <<'EOF'
redirect-listener ^oauth_redirect_
device-flow ^oauth_device_
auth-code-flow ^(oauth_redeem_code|oauth_authorize_url)$
broker-server ^(broker_proto_parse_request|broker_proto_format_ok|broker_proto_format_error|broker_server_)
ticket ^ticket_
GMime ^(g_mime_|_?gmime_|internet_address_)
SQLite ^sqlite3
EOF

exports=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sort | tr '\n' ' ')
t_eq "$exports" "sasl_client_plug_init " "exports only sasl_client_plug_init"
echo "$(wc -l <"$T/all") symbols in $(basename "$so")"
tq=$top_builddir/postfix-tool/ticketq
if [ -f "$tq" ] && command -v readelf >/dev/null 2>&1; then
	needed=$(readelf -d "$tq" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	case $needed in
	*libcrypto* | *libssl* | *libcurl*) t_fail "ticketq loads $needed" ;;
	*) t_pass "ticketq loads no libcrypto, libssl or libcurl ($needed)" ;;
	esac
fi
t_done
