# lib.sh - shared shell helpers for test scripts.  Source it first:
#   . "$srcdir/lib.sh"; t_init my-test
#
# Gives every test a private directory $T, a cleanup trap that stops
# every process the test registered (t_bg), and checks that print
# got/want.  Exit codes: 0 pass, 1 fail, 77 skip.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${srcdir:=$top_srcdir/tests}"
: "${builddir:=$top_builddir/tests}"
: "${PYTHON3:=python3}"

OAUTHMAIL_BIN="$top_builddir/postfix-tool/oauthmail"
TICKETQ_BIN="$top_builddir/postfix-tool/ticketq"
t_failed=0
t_pids=""

t_init() {
	t_name=$1
	t_started=$(date +%s)
	mkdir -p "$builddir/tmp/logs" "$builddir/tmp/secrets"
	T=$(mktemp -d "$builddir/tmp/$t_name.XXXXXX") || exit 99
	chmod 755 "$T"
	# Every secret a mock issues in this test is listed here, and the
	# logs kept with t_keep_log are copied to tmp/logs: leak_check.sh
	# greps every log for every secret.
	MOCK_ISSUED_FILE=$builddir/tmp/secrets/$t_name.issued
	rm -f "$MOCK_ISSUED_FILE" "$builddir/tmp/logs/$t_name".*
	export MOCK_ISSUED_FILE
	OAUTHMAIL_NO_SYSLOG=1
	export OAUTHMAIL_NO_SYSLOG
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

# t_keep_log FILE... - copy FILE to tmp/logs at the end (for leak_check)
t_keep_log() {
	t_kept_logs="${t_kept_logs:-} $*"
}

# t_bg PID - stop this process (and its group) when the test ends
t_bg() {
	t_pids="$t_pids $1"
}

t_cleanup() {
	rc=$?
	for f in ${t_cleanup_hooks:-}; do "$f" || :; done
	for p in $t_pids; do kill "$p" 2>/dev/null; done
	for p in $t_pids; do wait "$p" 2>/dev/null; done
	for f in ${t_kept_logs:-}; do
		[ -f "$f" ] && cp "$f" "$builddir/tmp/logs/$t_name.$(basename "$f")"
	done
	if { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; } && [ "$t_failed" -eq 0 ] && [ -z "${T_KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "test files kept in $T"
	fi
	if [ "$rc" -eq 0 ] && [ "$t_failed" -ne 0 ]; then rc=1; fi
	exit "$rc"
}

# t_on_exit FUNC - run FUNC at cleanup (stop daemons, etc.)
t_on_exit() {
	t_cleanup_hooks="${t_cleanup_hooks:-} $1"
}

t_fail() {
	echo "FAIL: $*"
	t_failed=$((t_failed + 1))
}

t_pass() {
	echo "ok: $*"
}

t_skip() {
	echo "SKIP: $*"
	exit 77
}

# t_eq GOT WANT WHAT
t_eq() {
	if [ "$1" = "$2" ]; then t_pass "$3"; else t_fail "$3: got '$1' want '$2'"; fi
}

# t_show FILE - the end of FILE for a failure report, long token-like
# strings masked so a failing test cannot leak a secret into its log
t_show() {
	tail -n 20 "$1" | sed -E 's#[A-Za-z0-9+/=._~-]{40,}#<long string>#g; s/^/  | /'
}

# t_grep PATTERN FILE WHAT - FILE must contain PATTERN (extended regexp)
t_grep() {
	if grep -E -q -- "$1" "$2"; then t_pass "$3"; else
		t_fail "$3: no /$1/ in $2"; t_show "$2"; fi
}

# t_nogrep PATTERN FILE WHAT - FILE must not contain PATTERN
t_nogrep() {
	if grep -E -q -- "$1" "$2"; then t_fail "$3: /$1/ found in $2";
		grep -E -- "$1" "$2" | head -n 5 >"$T/.nogrep"; t_show "$T/.nogrep"
	else t_pass "$3"; fi
}

# t_done - end of test: exit with the tally
t_done() {
	t_secs=$(($(date +%s) - ${t_started:-$(date +%s)}))
	if [ "$t_failed" -ne 0 ]; then echo "$t_name: $t_failed failed (${t_secs} s)"; exit 1; fi
	echo "$t_name: passed (${t_secs} s)"
	exit 0
}

# t_need CMD... - skip when a program is genuinely missing
t_need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null 2>&1 ||
			t_skip "$c not installed (scripts/install-deps installs it)"
	done
}

# t_need_reachable - Postfix, Dovecot and pipe(8) drop to unprivileged
# users that must reach the test directory and the built binaries.  A
# build tree under a 0700 directory (/root, say) cannot work: say so and
# how to fix it, instead of a "Permission denied" deep in a daemon log.
t_need_reachable() {
	[ "$(id -u)" -eq 0 ] || return 0
	command -v runuser >/dev/null 2>&1 || return 0
	runuser -u nobody -- test -x "$T" && return 0
	echo "FAIL: $T is out of reach of unprivileged users (a parent" \
		"directory is not searchable, e.g. /root is 0700)."
	echo "  Postfix, Dovecot and pipe(8) run parts of this test as such" \
		"users.  Fix: build outside it (scripts/check does that by" \
		"itself), or chmod o+x the parent directories."
	exit 1
}

# t_wait_grep PATTERN FILE [SECONDS] - wait until FILE holds PATTERN
t_wait_grep() {
	n=0
	lim=$(( ${3:-20} * 10 ))
	until grep -E -q -- "$1" "$2" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -gt "$lim" ] && return 1
		sleep 0.1
	done
	return 0
}

# t_free_port - a TCP port on 127.0.0.1 that is free right now
t_free_port() {
	"$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# t_wait_file FILE [SECONDS] - wait until FILE exists and is not empty
t_wait_file() {
	n=0
	lim=$(( ${2:-10} * 10 ))
	while [ ! -s "$1" ]; do
		n=$((n + 1))
		[ "$n" -gt "$lim" ] && return 1
		sleep 0.1
	done
	return 0
}

# oauthmail ARGS... - the built binary, under valgrind when asked
oauthmail() {
	if [ -n "${OAUTHMAIL_VALGRIND:-}" ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$OAUTHMAIL_BIN" "$@"
	else
		"$OAUTHMAIL_BIN" "$@"
	fi
}

# ticketq ARGS... - likewise
ticketq() {
	if [ -n "${OAUTHMAIL_VALGRIND:-}" ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$TICKETQ_BIN" "$@"
	else
		"$TICKETQ_BIN" "$@"
	fi
}

# ticketq_exec ARGS... - the same, replacing the shell: for servers run
# in the background, so that $! is the server itself (signals reach it)
ticketq_exec() {
	if [ -n "${OAUTHMAIL_VALGRIND:-}" ]; then
		exec valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$TICKETQ_BIN" "$@"
	fi
	exec "$TICKETQ_BIN" "$@"
}

# om_conf ACCOUNT [KEY=VALUE...] - write an oauthmail.conf with one
# Microsoft account against the mock (token_dir $T/tokens, created).
# KEY=VALUE lines go into the account (replacing a default of the same
# key); "global:KEY=VALUE" into the top.  The file is $OM_CONF_FILE if
# set, else $T/oauthmail.conf, which then becomes OAUTHMAIL_CONF.
om_conf() {
	acct=$1; shift
	conf=${OM_CONF_FILE:-$T/oauthmail.conf}
	mkdir -p "$T/tokens"
	chmod 700 "$T/tokens"
	{
		echo "token_dir = $T/tokens"
		for kv in "$@"; do
			case $kv in global:*) echo "${kv#global:}" | sed 's/=/ = /' ;; esac
		done
		echo "[account $acct]"
		for kv in provider=microsoft tenant=contoso.test "authority=$MOCK_URL" \
			"client_id=$MOCK_PUBLIC_CLIENT" user=support@contoso.test; do
			om_overridden "${kv%%=*}" "$@" || echo "$kv" | sed 's/=/ = /'
		done
		for kv in "$@"; do
			case $kv in global:*) ;; *) echo "$kv" | sed 's/=/ = /' ;; esac
		done
	} >"$conf"
	if [ -z "${OM_CONF_FILE:-}" ]; then
		OAUTHMAIL_CONF=$conf
		export OAUTHMAIL_CONF
	fi
}

om_overridden() {
	om_key=$1; shift
	for om_kv in "$@"; do
		[ "${om_kv%%=*}" = "$om_key" ] && return 0
	done
	return 1
}

# om_edit_token FILE KEY=VALUE... - change fields of a (plain) token
# file as another process would: VALUE is a number, true/false, or
# "now-N" / "now+N" (seconds from now)
om_edit_token() {
	"$PYTHON3" - "$@" <<'EOP'
import json, sys, time
path, changes = sys.argv[1], sys.argv[2:]
d = json.load(open(path))
for kv in changes:
    k, v = kv.split("=", 1)
    if v.startswith("now"):
        d[k] = int(time.time()) + int(v[3:] or 0)
    elif v in ("true", "false"):
        d[k] = v == "true"
    else:
        d[k] = int(v)
json.dump(d, open(path, "w"))
EOP
}

# om_authorize ACCOUNT - device-flow authorization against the mock: a
# test's set-up, so never under valgrind (the flows themselves run under
# it in cli_flows.sh (browser, paste) and cli_identity.sh (device))
om_authorize() {
	mock_ctl config '{"device_interval": 1}' >/dev/null &&
		"$OAUTHMAIL_BIN" authorize "$1" --device >"$T/authorize.out" 2>&1
}

# Optional parts: the mock identity provider and the real-peer rig.
[ -f "$srcdir/mock/mock-idp.sh" ] && . "$srcdir/mock/mock-idp.sh"
[ -f "$srcdir/rig/rig.sh" ] && . "$srcdir/rig/rig.sh"
:
