# sasl-lib.sh - helpers for the SASL plugin / tunnel / broker tests.
# Source after lib.sh and t_init:
#   sasl_env                 SASL_PATH = the built plugin (and libsasl2's own)
#   sasl_make_ca DIR         DIR/ca.pem, DIR/srv.pem, DIR/srv.key (127.0.0.1)
#   sasl_token_file DIR ACCOUNT USER TOKEN [EXPIRES] [REAUTH]
#                            a token file as the cache writes it (fixture)
#   fake_mail_start NAME PROTO ARGS...   tests/mock/fake_mail.py in the background;
#                            sets FAKE_PORT and FAKE_LOG (its transcript)
#   sasl_plugin_sanitized    true when the plugin needs an ASan host process
#   sasl_need_rig            rig_need, or skip when tests/rig/rig.sh is absent

PLUGIN_DIR=$top_builddir/sasl-xoauth2/.libs

sasl_env() {
	SASL_PATH=$PLUGIN_DIR:${SASL_SYSTEM_PLUGINDIR:-/usr/lib/x86_64-linux-gnu/sasl2}
	OAUTHMAIL_NO_SYSLOG=1
	export SASL_PATH OAUTHMAIL_NO_SYSLOG
}

sasl_plugin_sanitized() {
	nm -D "$PLUGIN_DIR/libxoauth2.so" 2>/dev/null | grep -q __asan_
}

sasl_make_ca() {
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/ca.key" \
		-out "$1/ca.pem" -days 2 -subj "/CN=oauthmail test CA" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout "$1/srv.key" \
		-out "$1/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$1/ext.cnf" &&
	openssl x509 -req -in "$1/srv.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
		-CAcreateserial -out "$1/srv.pem" -days 2 \
		-extfile "$1/ext.cnf" 2>/dev/null
}

# sasl_token_file DIR ACCOUNT USER TOKEN [EXPIRES] [REAUTH] - the token
# file format of common/token_store.c, for tests that need no IdP
sasl_token_file() {
	now=$(date +%s)
	mkdir -p "$1"
	chmod 700 "$1"
	cat >"$1/$2.json" <<EOT
{"version":1,"account":"$2","provider":"microsoft","client_id":"00000000-0000-0000-0000-0000000000a1","user":"$3","scope":"https://outlook.office.com/IMAP.AccessAsUser.All offline_access","access_token":"$4","refresh_token":"rt-never-used","access_expires":${5:-$((now + 3600))},"refresh_issued":$now,"authorized":$now,"last_refresh":$now,"reauth_needed":${6:-false},"failures":0}
EOT
	chmod 600 "$1/$2.json"
}

fake_mail_start() {
	name=$1
	shift
	rm -f "$T/$name.port"
	FAKE_LOG=$T/$name.transcript
	: >"$FAKE_LOG"
	"$PYTHON3" "$srcdir/mock/fake_mail.py" --port-file "$T/$name.port" \
		--cert "$T/ca/srv.pem" --key "$T/ca/srv.key" \
		--transcript "$FAKE_LOG" --watch-pid $$ --max-lifetime 300 \
		--proto "$@" >"$T/$name.err" 2>&1 &
	t_bg $!
	t_wait_file "$T/$name.port" 20 || { cat "$T/$name.err"; return 1; }
	FAKE_PORT=$(cat "$T/$name.port")
}

# sasl_rig_conf FILE TOKEN_DIR [LINES...] - oauthmail.conf for the rig:
# the mock as identity provider, Dovecot as IMAP/POP3 server, the rig's
# Postfix server as SMTP server (call after rig_pf_server_start), the
# rig CA as trust anchor.  Extra global lines (e.g. token_socket = ...)
# go before the account.
sasl_rig_conf() {
	src_file=$1
	src_dir=$2
	shift 2
	mkdir -p "$src_dir"
	{
		echo "token_dir = $src_dir"
		echo "ca_file = $RIG_CA"
		for l in "$@"; do echo "$l"; done
		cat <<EOT
[account support]
provider = microsoft
tenant = common
authority = $MOCK_URL
client_id = $MOCK_PUBLIC_CLIENT
user = $RIG_USER
scope = offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send
redirect_uri = http://localhost:8765/
imap_host = 127.0.0.1
imap_port = ${RIG_IMAP_PORT:-993}
pop3_host = 127.0.0.1
pop3_port = ${RIG_POP3_PORT:-995}
pop3_split_auth = yes
smtp_host = 127.0.0.1
smtp_port = ${RIG_SMTP_PORT:-587}
smtp_tls = starttls
EOT
	} >"$src_file"
	chmod 644 "$src_file"
}

# sasl_authorize CONF - the device flow at the mock (auto-approved)
sasl_authorize() {
	mock_ctl config '{"device_interval": 1}' >/dev/null &&
		oauthmail -c "$1" authorize support --device >"$T/authorize.out" 2>&1 ||
		{ cat "$T/authorize.out"; return 1; }
}

# sasl_send DIR N [SUBJECT] - N messages into instance DIR with sendmail
sasl_send() {
	ss_i=1
	while [ "$ss_i" -le "$2" ]; do
		printf 'From: %s\nTo: someone@example.test\nSubject: %s %d\nMessage-ID: <%s.%d@rig.test>\n\nmessage %d\n' \
			"$RIG_USER" "${3:-rig}" "$ss_i" "${3:-rig}" "$ss_i" "$ss_i" |
			pf_sendmail "$1" -f "$RIG_USER" someone@example.test || return 1
		ss_i=$((ss_i + 1))
	done
}

# sasl_need_rig - the real-peer rig (tests/rig/rig.sh) and its packages
sasl_need_rig() {
	command -v rig_need >/dev/null 2>&1 ||
		t_skip "tests/rig/rig.sh (the real-peer rig) is not in this tree"
	rig_need
}
