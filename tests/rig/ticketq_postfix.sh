#!/bin/sh
# ticketq_postfix.sh - a real Postfix delivering into `ticketq deliver`
# through a pipe(8) transport, the way ticketq(1) tells admins to set it
# up: a private instance (postfix -c DIR, own queue and data directory,
# maillog_file, loopback only, port chosen now), mail submitted over
# SMTP.  Checks what the admin sees in the Postfix log and in the queue:
# new ticket, threaded reply, out-of-office with no ticket, a null-sender
# bounce, a deferral (75) that Postfix retries once the queue is fixed,
# and a 5.3.4 bounce for mail over the size limit.  The instance comes
# from tests/rig/rig.sh (pf_create ...).
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_postfix
type pf_need >/dev/null 2>&1 || t_skip "tests/rig/rig.sh not found"
pf_need
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"

PF=$T/pf
Q=$T/queue
PORT=$(t_free_port)

# tqpf_wait PATTERN [SECONDS] - wait for a line in the instance's log
tqpf_wait() {
	n=0
	while ! grep -E -q -- "$1" "$LOG" 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt $((${2:-30} * 10)) ] && return 1
		sleep 0.1
	done
}

# smtp_send FROM RCPT FILE - submit a message over SMTP
smtp_send() {
	"$PYTHON3" - "$PORT" "$1" "$2" "$3" <<'PY'
import smtplib, sys
port, sender, rcpt, path = sys.argv[1:]
with smtplib.SMTP("127.0.0.1", int(port), timeout=30) as s:
    s.sendmail(sender, [rcpt], open(path, "rb").read())
PY
}

# A private instance (tests/rig/rig.sh) with the listener and the transport
# of ticketq(1)'s EXAMPLES; bounces to the outside world are discarded.
pf_ticketq_create "$PF" "$Q" ticketq: \
	ticketq_destination_recipient_limit=1 maximal_backoff_time=2s
pf_master "$PF" "127.0.0.1:$PORT inet n - n - - smtpd" \
	"ticketq   unix  -       n       n       -       4       pipe" \
	"  flags=R user=nobody null_sender=" \
	"  argv=$TICKETQ_BIN deliver --queue $Q --sender \${sender} --recipient \${recipient}" ||
	t_fail "pf_master"
pf_start "$PF" || { t_fail "postfix start"; t_done; }
n=0
until "$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do
	n=$((n + 1)); [ $n -gt 50 ] && break; sleep 0.1
done

C=$srcdir/data/ticketq/corpus

# 1. a customer's message becomes a ticket
smtp_send alice@customer.example help@tickets.test "$C/001-new-plain.eml"
tqpf_wait "to=<help@tickets.test>.*relay=ticketq.*status=sent" ||
	t_fail "no delivery through the ticketq transport"
t_grep "status=sent \(delivered via ticketq service \(ticketq: ticket [0-9]{6,} \(new, customer\)" "$LOG" \
	"Postfix logs the new ticket"
A=$(sed -n 's/.*ticketq: ticket \([0-9]*\) (new, customer).*/\1/p' "$LOG" | head -n 1)
ticketq --queue "$Q" show "$A" >"$T/show"
t_eq $? 0 "ticket $A exists"
raw=$(grep -l "a1.printer@customer.example" "$Q"/new/* | head -n 1)
t_grep "^Return-Path: <alice@customer.example>" "$raw" "pipe flag R: Return-Path in the raw copy"

# 2. the reply threads onto it
smtp_send alice@customer.example help@tickets.test "$C/023-reply-references.eml"
tqpf_wait "ticketq: ticket $A \(References, customer\)" || t_fail "reply not threaded"
t_pass "reply threaded onto $A"

# 3. an out-of-office opens nothing
sed "s/@MID:A@/a1.printer@customer.example/" "$C/038-auto-submitted-gmail.eml" >"$T/ooo.eml"
smtp_send alice@customer.example help@tickets.test "$T/ooo.eml"
tqpf_wait "ticketq: ticket $A \(References, auto-reply\)" || t_fail "auto-reply"
t_pass "auto-reply recorded on $A without a new ticket"
t_eq "$(ticketq --queue "$Q" list --status open --json | grep -c '"id"')" 1 "still one ticket"

# 4. a bounce (null sender, null_sender= gives Return-Path: <>) opens nothing
smtp_send "" help@tickets.test "$C/053-bounce-plain-mailer-daemon.eml"
tqpf_wait "ticketq: stored, no ticket \(bounce" || t_fail "null-sender bounce"
t_pass "null-sender bounce stored without a ticket"

# 5. a broken queue: 75, Postfix defers (4.3.5 with our reason) and
# delivers once the admin fixed it
mv "$Q/ticketq.conf" "$Q/ticketq.conf.off"
smtp_send bob@customer.example help@tickets.test "$C/004-alternative.eml"
tqpf_wait "dsn=4\.3\.5, status=deferred \(ticketq: .*not a ticket queue" ||
	t_fail "no deferral with the 4.3.5 reason"
t_grep "status=deferred \(.*ticketq init" "$LOG" "the deferral says how to fix it"
mv "$Q/ticketq.conf.off" "$Q/ticketq.conf"
# The flush can come while the message is still in the active queue
# (the deferral is logged first), and a busy machine slows every retry:
# wait up to 120 s, flushing every 5 s, which costs nothing when it works.
end=$(($(date +%s) + 120))
next_flush=0
while [ "$(grep -c "status=sent.*ticketq: ticket [0-9]* (new, customer)" "$LOG")" -lt 2 ] &&
	[ "$(date +%s)" -lt "$end" ]; do
	if [ "$(date +%s)" -ge "$next_flush" ]; then
		pf_flush "$PF"
		next_flush=$(($(date +%s) + 5))
	fi
	sleep 0.2
done
n=$(grep -c "status=sent.*ticketq: ticket [0-9]* (new, customer)" "$LOG")
t_eq "$n" 2 "retried and delivered after the fix"

# 6. over the queue's size limit: a 5.3.4 bounce, nothing kept
echo "max_message_size = 2K" >>"$Q/ticketq.conf"
"$PYTHON3" -c 'print("From: big@customer.example\nTo: help@tickets.test\nSubject: big\nMessage-ID: <big@x>\n\n" + "x" * 8000)' >"$T/big.eml"
smtp_send big@customer.example help@tickets.test "$T/big.eml"
tqpf_wait "dsn=5\.3\.4, status=bounced \(ticketq: message too big" ||
	t_fail "no 5.3.4 bounce"
t_pass "over the size limit: bounced with 5.3.4"
t_eq "$(grep -l 'Message-ID: <big@x>' "$Q"/new/* 2>/dev/null | wc -l | tr -d ' ')" 0 "nothing kept of it"
t_eq "$(find "$Q" -user root | wc -l | tr -d ' ')" 0 "the queue stays owned by the pipe user"
t_done
