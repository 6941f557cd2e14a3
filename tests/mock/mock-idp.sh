# mock-idp.sh - shell helpers for the mock identity provider (mock_idp.py).
# tests/lib.sh sources this file automatically; tests/mock/mock-idp.md documents
# the mock itself.
#
#   mock_idp_start [ARGS...]    start the mock for this test (extra ARGS go to
#                               mock_idp.py, e.g. --config '{"access_lifetime":5}')
#   mock_ctl PATH [JSON]        /_control/PATH: GET without JSON, POST with it;
#                               prints the JSON answer, fails on HTTP >= 400
#   mock_stat KEY               one number from the stats, e.g. token,
#                               grant.refresh_token, errors.50173
#   mock_json KEY               read JSON on stdin, print one (dotted) field
#   mock_mint [USER] [LIFETIME] mint an access token at the mock, print it
#   mock_idp_stop               ask the mock to stop and wait for it
#
# After mock_idp_start these are set and exported:
#   MOCK_PORT, MOCK_URL (= the `authority`, http://127.0.0.1:PORT),
#   MOCK_DIR (its state dir: mock.log, port, client-secret),
#   MOCK_LOG, MOCK_PID, MOCK_PUBLIC_CLIENT, MOCK_CONF_CLIENT,
#   MOCK_GOOGLE_CLIENT, MOCK_CLIENT_SECRET_FILE (secret of the confidential
#   and the Google client), MOCK_INTROSPECT_URL.
# Set MOCK_ISSUED_FILE before mock_idp_start to have every secret the mock
# issues appended to that file (for leak greps after the mock has gone).
# MOCK_LIFETIME (default 900) bounds the mock's life in seconds.

MOCK_PUBLIC_CLIENT=00000000-0000-0000-0000-0000000000a1
MOCK_CONF_CLIENT=00000000-0000-0000-0000-0000000000c2
MOCK_GOOGLE_CLIENT=000000000000-mock.apps.googleusercontent.com
export MOCK_PUBLIC_CLIENT MOCK_CONF_CLIENT MOCK_GOOGLE_CLIENT

mock_idp_start() {
	MOCK_DIR=$T/mock-idp
	mkdir -p "$MOCK_DIR"
	rm -f "$MOCK_DIR/port"
	set -- --port-file "$MOCK_DIR/port" --state-dir "$MOCK_DIR" \
		--watch-pid $$ --max-lifetime "${MOCK_LIFETIME:-900}" \
		--client-secret-file "$MOCK_DIR/client-secret" \
		${MOCK_ISSUED_FILE:+--issued-file "$MOCK_ISSUED_FILE"} "$@"
	"${PYTHON3:-python3}" "$srcdir/mock/mock_idp.py" "$@" \
		</dev/null >>"$MOCK_DIR/mock.stderr" 2>&1 &
	MOCK_PID=$!
	t_bg "$MOCK_PID"
	if ! t_wait_file "$MOCK_DIR/port" 20; then
		echo "mock_idp_start: the mock did not start:"
		cat "$MOCK_DIR/mock.stderr" "$MOCK_DIR/mock.log" 2>/dev/null
		return 1
	fi
	MOCK_PORT=$(cat "$MOCK_DIR/port")
	mock_idp_started=1
	MOCK_URL=http://127.0.0.1:$MOCK_PORT
	MOCK_INTROSPECT_URL=$MOCK_URL/introspect
	MOCK_LOG=$MOCK_DIR/mock.log
	MOCK_CLIENT_SECRET_FILE=$MOCK_DIR/client-secret
	export MOCK_DIR MOCK_PORT MOCK_URL MOCK_INTROSPECT_URL MOCK_LOG \
		MOCK_PID MOCK_CLIENT_SECRET_FILE
	# leak_check greps it too (it never holds a secret by design)
	if command -v t_keep_log >/dev/null 2>&1; then t_keep_log "$MOCK_LOG"; fi
}

# mock_ctl PATH [JSON] - GET /_control/PATH, or POST JSON to it
mock_ctl() {
	if [ $# -ge 2 ]; then
		curl -sS --max-time 60 --fail-with-body -X POST \
			-H 'Content-Type: application/json' --data-binary "$2" \
			"$MOCK_URL/_control/$1"
	else
		curl -sS --max-time 60 --fail-with-body "$MOCK_URL/_control/$1"
	fi
}

# mock_stat KEY - one counter (0 when never counted)
mock_stat() {
	curl -sS --max-time 60 --fail-with-body \
		"$MOCK_URL/_control/stat?key=$1"
}

# mock_json KEY - print one field of the JSON object on stdin (a.b.c for
# nested members); prints nothing and fails when it is missing
mock_json() {
	"${PYTHON3:-python3}" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    if isinstance(v, list):
        v = v[int(k)]
    elif isinstance(v, dict) and k in v:
        v = v[k]
    else:
        sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

# mock_mint [USER] [LIFETIME] - print a fresh access token for USER
mock_mint() {
	mock_ctl mint "{\"user\": \"${1:-support@contoso.test}\"${2:+, \"lifetime\": $2}, \"refresh_token\": false}" |
		mock_json access_token
}

# mock_idp_stop - stop the mock now (it also stops by itself at test end)
mock_idp_stop() {
	[ -n "${MOCK_PID:-}" ] || return 0
	mock_ctl shutdown '{}' >/dev/null 2>&1 || :
	n=0
	while kill -0 "$MOCK_PID" 2>/dev/null && [ "$n" -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill "$MOCK_PID" 2>/dev/null || :
	wait "$MOCK_PID" 2>/dev/null || :
	MOCK_PID=
}
