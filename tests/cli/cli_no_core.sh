#!/bin/sh
# cli_no_core.sh - DESIGN.md rule 6: no core file of ours holds a secret.
# A running `oauthmail serve` and a running `ticketq deliver` have a core
# size limit of 0 (soft and hard: /proc/PID/limits) and are not dumpable:
# another process of the same user, without CAP_SYS_PTRACE, cannot read
# their /proc/PID/environ (a plain `sleep` alongside shows it could).
# Run as root, every process here drops all capabilities (setpriv), so
# root's CAP_SYS_PTRACE does not hide the difference.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_no_core
[ "$(uname -s)" = Linux ] || t_skip "dumpable is Linux's (prctl)"
NOCAPS=""
if [ "$(id -u)" -eq 0 ]; then
	t_need setpriv
	NOCAPS="setpriv --bounding-set=-all --inh-caps=-all --"
fi

# hidden PID - its core limit is 0 (soft and hard) and its environ cannot
# be read without CAP_SYS_PTRACE
hidden() {
	grep -E -q '^Max core file size +0 +0 ' "/proc/$1/limits" &&
		! $NOCAPS cat "/proc/$1/environ" >/dev/null 2>&1
}

# no_core WHAT PID - PID gets there (once its main() has run: wait for
# it, 30 s at most) and is still running
no_core() {
	n=0
	until hidden "$2"; do
		n=$((n + 1)); [ $n -gt 300 ] && break; sleep 0.1
	done
	t_grep '^Max core file size +0 +0 ' "/proc/$2/limits" "$1: core size 0, soft and hard"
	if $NOCAPS cat "/proc/$2/environ" >/dev/null 2>&1; then
		t_fail "$1: dumpable: its environ is readable without CAP_SYS_PTRACE"
	else
		t_pass "$1: not dumpable"
	fi
	kill -0 "$2" 2>/dev/null || t_fail "$1 ended early"
}

# the control: an ordinary process of the same user is readable
$NOCAPS sleep 600 &
CONTROL=$!
t_bg $CONTROL
t_wait_grep sleep "/proc/$CONTROL/comm" 30 || t_fail "control process did not start"
if $NOCAPS cat "/proc/$CONTROL/environ" >/dev/null 2>&1; then
	t_pass "control: an ordinary process's environ is readable"
else
	t_skip "this system hides every process's environ: cannot tell dumpable apart"
fi

mkdir -p "$T/tokens" && chmod 700 "$T/tokens"
printf 'token_dir = %s\n[account a]\nclient_id = c\nuser = a@x.test\n' \
	"$T/tokens" >"$T/oauthmail.conf"
$NOCAPS "$OAUTHMAIL_BIN" -c "$T/oauthmail.conf" serve --listen "$T/broker.sock" \
	2>"$T/serve.log" &
BROKER=$!
t_bg $BROKER
n=0
while [ ! -S "$T/broker.sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
[ -S "$T/broker.sock" ] || { t_fail "serve did not start"; t_show "$T/serve.log"; }
no_core "oauthmail serve" $BROKER

# ticketq deliver, waiting for the end of its message (fd 9 holds the
# fifo's write end open)
"$TICKETQ_BIN" --queue "$T/q" init >/dev/null || t_fail "ticketq init"
mkfifo "$T/fifo"
exec 9<>"$T/fifo"
$NOCAPS "$TICKETQ_BIN" --queue "$T/q" deliver <"$T/fifo" >"$T/deliver.out" 2>&1 9>&- &
DELIVER=$!
t_bg $DELIVER
printf 'Subject: x\n' >&9
no_core "ticketq deliver" $DELIVER
exec 9>&-
wait $DELIVER
t_eq "$?" 0 "ticketq deliver stores the message at end of input"
t_done
