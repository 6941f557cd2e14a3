# sasl-lib.sh - helpers for the SASL plugin / tunnel / broker tests.
# Source after lib.sh and t_init:
#   sasl_env                 SASL_PATH = the built plugin (and libsasl2's own)
#   sasl_make_ca DIR         DIR/ca.pem, DIR/srv.pem, DIR/srv.key (127.0.0.1)
#   sasl_token_file DIR ACCOUNT USER TOKEN [EXPIRES] [REAUTH]
#                            a token file as the cache writes it (fixture)
#   fake_mail_start NAME PROTO ARGS...   tests/fake_mail.py in the background;
#                            sets FAKE_PORT and FAKE_LOG (its transcript)
#   sasl_plugin_sanitized    true when the plugin needs an ASan host process

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
	"$PYTHON3" "$srcdir/fake_mail.py" --port-file "$T/$name.port" \
		--cert "$T/ca/srv.pem" --key "$T/ca/srv.key" \
		--transcript "$FAKE_LOG" --watch-pid $$ --max-lifetime 300 \
		--proto "$@" >"$T/$name.err" 2>&1 &
	t_bg $!
	t_wait_file "$T/$name.port" 20 || { cat "$T/$name.err"; return 1; }
	FAKE_PORT=$(cat "$T/$name.port")
}
