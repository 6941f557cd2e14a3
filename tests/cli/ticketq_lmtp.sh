#!/bin/sh
# ticketq_lmtp.sh - `ticketq lmtp`, the LMTP server, against an LMTP
# client that behaves as Postfix's lmtp(8) does (tests/mock/lmtp_client.py):
# a reply per recipient after DATA; concurrent sessions store every
# message once (a resend is a duplicate); the malformed sessions get
# their codes (bare LF, oversized lines, DATA before RCPT, HELO, a
# client vanishing mid-DATA) and cost nothing; size limit 552 5.3.4;
# --queues (550 5.1.1 for a recipient without a queue); session cap,
# idle timeout, a UNIX socket with its mode, SIGTERM.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_lmtp
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
CLIENT="$PYTHON3 $srcdir/mock/lmtp_client.py"
C=$srcdir/data/ticketq/corpus
Q=$T/q
N=10 PER=20
[ -n "${OAUTHMAIL_VALGRIND:-}" ] && N=4 PER=5

tq() { ticketq --queue "$Q" "$@"; }
count() { find "$1" -type f | wc -l | tr -d ' '; }
rows() { "$PYTHON3" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1/tickets.db" "$2"; }

# start_server NAME ARGS... - ticketq lmtp in the background; its port
# (inet:127.0.0.1:0) in $PORT, its pid in $SPID
start_server() {
	name=$1; shift
	rm -f "$T/$name.out"
	(ticketq_exec "$@") >"$T/$name.out" 2>"$T/$name.err" &
	SPID=$!
	t_bg "$SPID"
	t_keep_log "$T/$name.err"
	case "$*" in
	*inet:*) t_wait_grep "^listening on port" "$T/$name.out" 60 ||
		{ t_fail "$name: server did not start"; t_show "$T/$name.err"; t_done; }
		PORT=$(sed -n 's/^listening on port //p' "$T/$name.out") ;;
	*) t_wait_grep "LMTP: listening" "$T/$name.err" 60 ||
		{ t_fail "$name: server did not start"; t_show "$T/$name.err"; t_done; } ;;
	esac
}
# sockets - how many sockets the server has open (its sessions + 1)
sockets() {
	find "/proc/$SPID/fd" -lname 'socket:*' 2>/dev/null | wc -l | tr -d ' '
}
stop_server() {
	kill -TERM "$SPID"
	wait "$SPID"
	t_eq $? 0 "$1: SIGTERM stops the server, exit 0"
}
# msgs DIR COUNT TAG - COUNT distinct messages in DIR
msgs() {
	mkdir -p "$1"
	i=1
	while [ "$i" -le "$2" ]; do
		printf 'From: customer%d@example.org\nTo: support@tickets.test\nSubject: %s %d\nMessage-ID: <%s-%d@client.test>\n\nLine one.\n.leading dot\n..two dots\n' \
			"$i" "$3" "$i" "$3" "$i" >"$1/m$i.eml"
		i=$((i + 1))
	done
}

tq init --address support@tickets.test >/dev/null || t_fail "init"
start_server main --queue "$Q" lmtp --listen inet:127.0.0.1:0 --timeout 3 --max-sessions 12
A=127.0.0.1:$PORT

# 1. the corpus through one session, two recipients each: a reply per
# recipient, every message stored once
ls "$C"/*.eml | head -n "$PER" >"$T/corpus.list"
$CLIENT "$A" send --rcpt support@tickets.test --rcpt other@tickets.test \
	$(cat "$T/corpus.list") >"$T/one.out" 2>&1
t_eq $? 0 "the corpus over one session: every recipient got 2xx"
t_eq "$(grep -c ' 250 2\.0\.0 ' "$T/one.out")" $((2 * PER)) "a reply for each recipient of each message"
t_eq "$(count "$Q/new")" "$PER" "each message once in the Maildir (two recipients, one queue: one copy)"
t_eq "$(count "$Q/tmp")" 0 "nothing left in tmp/"

# 2. N concurrent sessions, PER messages each; then all again
msgs "$T/par" $((N * PER)) parallel
$CLIENT "$A" send --sessions "$N" "$T"/par/*.eml >"$T/par.out" 2>&1
t_eq $? 0 "$N concurrent sessions: every message got 250"
t_eq "$(rows "$Q" "SELECT count(*) FROM messages WHERE subject LIKE 'parallel %'")" $((N * PER)) "every message indexed once"
$CLIENT "$A" send --sessions "$N" "$T"/par/*.eml >"$T/par2.out" 2>&1
t_eq $? 0 "the same messages again: 250 too"
t_eq "$(grep -c 'Duplicate, already stored' "$T/par2.out")" $((N * PER)) "each one a duplicate"
t_eq "$(count "$Q/new")" $((PER + N * PER)) "no second copy in the Maildir"
f=$(grep -l "^Subject: parallel 1$" "$Q"/new/*)
t_grep "^\.leading dot$" "$f" "dot-stuffing undone: one dot"
t_grep "^\.\.two dots$" "$f" "two dots"
t_grep "^Delivered-To: support@tickets.test$" "$f" "the recipient as Delivered-To"
t_grep "^Return-Path: <sender@client.test>$" "$f" "the sender as Return-Path"

# 3. malformed sessions
printf 'LHLO x\r\nMAIL FROM:<a@b>\nRCPT TO:<support@tickets.test>\r\n' |
	$CLIENT "$A" raw >"$T/bare.out"
t_grep "^500 5\.5\.2 Bare LF" "$T/bare.out" "bare LF in a command: 500 5.5.2"
t_nogrep "^250 2\.1\.5" "$T/bare.out" "and the session ends there"
{ printf 'LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<support@tickets.test>\r\nDATA\r\n'
  printf 'Subject: bare\r\n\r\nsmuggled\n.\r\nMAIL FROM:<evil@b>\r\n.\r\n'; } |
	$CLIENT "$A" raw >"$T/bare2.out"
t_grep "^500 5\.5\.2 Bare LF" "$T/bare2.out" "bare LF in the message: 500 5.5.2"
t_nogrep "smuggled" "$(ls -t "$Q"/new/* | head -n 1)" "nothing of it stored"
head -c 5000 /dev/zero | tr '\0' 'x' >"$T/long"
{ printf 'LHLO x\r\nNOOP '; cat "$T/long"; printf '\r\nNOOP\r\n'; } |
	$CLIENT "$A" raw >"$T/long.out"
t_grep "^500 5\.5\.2 Command line too long" "$T/long.out" "oversized command line: 500 5.5.2"
printf 'LHLO x\r\nDATA\r\nMAIL FROM:<a@b>\r\nDATA\r\nRSET\r\nRCPT TO:<x@y>\r\nHELO x\r\nQUIT\r\n' |
	$CLIENT "$A" raw >"$T/order.out"
t_eq "$(grep -c '^503 5\.5\.1 MAIL first' "$T/order.out")" 2 "DATA and RCPT before MAIL: 503 5.5.1"
t_grep "^503 5\.5\.1 RCPT first" "$T/order.out" "DATA before RCPT: 503 5.5.1"
t_grep "^500 5\.5\.1 This is an LMTP server" "$T/order.out" "HELO: told to say LHLO"
t_grep "^221 " "$T/order.out" "QUIT: 221"
printf 'MAIL FROM:<a@b>\r\n' | $CLIENT "$A" raw >"$T/nolhlo.out"
t_grep "^503 5\.5\.1 LHLO first" "$T/nolhlo.out" "MAIL before LHLO: 503 5.5.1"
before=$(count "$Q/new")
$CLIENT "$A" hold-data >"$T/hold.out" 2>&1
t_grep "^354 " "$T/hold.out" "a client vanishing mid-DATA got as far as 354"
sleep 0.5
t_eq "$(count "$Q/new")" "$before" "and nothing of its message is stored"
t_eq "$(count "$Q/tmp")" 0 "nothing in tmp/ either"

# 4. idle timeout; session cap (its own server: 3 held open, the 4th
# refused)
# (the client's stdin stays open 7 s: its start may take a second)
sleep 7 | $CLIENT "$A" raw >"$T/idle.out"
t_grep "^421 4\.4\.2 Idle too long" "$T/idle.out" "an idle session is told 421 4.4.2 and closed"
stop_server main
start_server cap --queue "$Q" lmtp --listen inet:127.0.0.1:0 --max-sessions 3
socks0=$(sockets)
held=""
for i in 1 2 3; do
	"$PYTHON3" -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(100)
time.sleep(60)' "$PORT" &
	held="$held $!"
	t_bg $!
done
n=0
while [ "$(($(sockets) - socks0))" -lt 3 ] && [ "$n" -lt 400 ]; do
	sleep 0.05
	n=$((n + 1))
done
t_eq "$(($(sockets) - socks0))" 3 "3 sessions open at the server (--max-sessions 3)"
printf 'QUIT\r\n' | $CLIENT "127.0.0.1:$PORT" raw >"$T/cap.out"
t_grep "^421 4\.3\.2 Too many LMTP sessions" "$T/cap.out" "one session more: 421 4.3.2"
kill $held
for p in $held; do wait "$p" 2>/dev/null; done
$CLIENT "127.0.0.1:$PORT" send "$T/par/m1.eml" >/dev/null 2>&1
t_eq $? 0 "the server still delivers afterwards"
stop_server cap

# 5. size limit, --queues, UNIX socket
sed -i 's/^# max_message_size = .*/max_message_size = 2K/' "$Q/ticketq.conf"
Q2=$T/q2
ticketq --queue "$Q2" init --address sales@tickets.test >/dev/null || t_fail "init q2"
printf 'support@tickets.test %s\nsales@tickets.test %s\n' "$Q" "$Q2" >"$T/queues"
start_server map --queue "$Q" lmtp --queues "$T/queues" --listen "unix:$T/lmtp.sock" --mode 0600
t_eq "$(stat -c %a "$T/lmtp.sock")" 600 "the UNIX socket has --mode"
msgs "$T/map" 2 mapped
$CLIENT "unix:$T/lmtp.sock" send --rcpt support@tickets.test --rcpt sales@tickets.test "$T/map/m1.eml" >"$T/map.out" 2>&1
t_eq $? 0 "two recipients, two queues: both 250"
t_eq "$(rows "$Q2" "SELECT count(*) FROM messages")" 1 "the sales copy is in the sales queue"
printf 'LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<nobody@elsewhere.test>\r\nQUIT\r\n' |
	$CLIENT "unix:$T/lmtp.sock" raw >"$T/nomap.out"
t_grep "^550 5\.1\.1 " "$T/nomap.out" "a recipient without a queue: 550 5.1.1"
head -c 4000 /dev/zero | tr '\0' 'y' | fold -w 70 >"$T/bigbody"
{ printf 'From: a@b.example\nSubject: big\nMessage-ID: <big@client.test>\n\n'; cat "$T/bigbody"; } >"$T/big.eml"
$CLIENT "unix:$T/lmtp.sock" send --rcpt support@tickets.test --rcpt sales@tickets.test "$T/big.eml" >"$T/big.out" 2>&1
t_eq "$(sed -n 's/.*big.eml \(552 5\.3\.4\) Message too big .*limit 2048 bytes.*/\1/p;s/.*big.eml \(250 2\.0\.0\) Stored.*/\1/p' "$T/big.out" | tr '\n' ,)" "552 5.3.4,250 2.0.0," \
	"over one queue's max_message_size: 552 5.3.4 for it, 250 from the other (100M)"
# the server keeps its queues between messages and lets them go when
# quiet: a reindex gets the queue while it runs, and the next message
# goes into the rebuilt index
echo "lock_timeout = 5" >>"$Q2/ticketq.conf"
ticketq --queue "$Q2" reindex >"$T/reindex.out" 2>&1
t_eq $? 0 "reindex while the server runs: the queue is free once it is quiet"
msgs "$T/after" 1 after-reindex
$CLIENT "unix:$T/lmtp.sock" send --rcpt sales@tickets.test "$T/after/m1.eml" >"$T/after.out" 2>&1
t_eq $? 0 "a message after the reindex: 250"
t_eq "$(rows "$Q2" "SELECT count(*) FROM messages")" 3 "and it is in the rebuilt index (with the two before)"
stop_server map
t_nogrep "ERROR|LeakSanitizer|==[0-9]+==" "$T/main.err" "no error in the server's log"

# 6. messages that end in the same round share one commit round (one
# fsync of new/), each with its own reply: four new ones, a duplicate
# of one of them, one over the size limit
Q3=$T/q3
ticketq --queue "$Q3" init --address support@tickets.test >/dev/null || t_fail "init q3"
sed -i 's/^# max_message_size = .*/max_message_size = 2K/' "$Q3/ticketq.conf"
msgs "$T/grp" 4 grouped
cp "$T/grp/m1.eml" "$T/grp/m5.eml"
cp "$T/big.eml" "$T/grp/m6.eml"
start_server grp --queue "$Q3" lmtp --listen inet:127.0.0.1:0
$CLIENT "127.0.0.1:$PORT" group "$SPID" "$T"/grp/m*.eml >"$T/grp.out" 2>&1
t_eq "$(sed 's/.*m\([0-9]\)\.eml \([0-9.]* [0-9.]*\) \([A-Za-z]*\).*/\1 \2 \3/' "$T/grp.out" | tr '\n' ,)" \
	"1 250 2.0.0 Stored,2 250 2.0.0 Stored,3 250 2.0.0 Stored,4 250 2.0.0 Stored,5 250 2.0.0 Duplicate,6 552 5.3.4 Message," \
	"one round of six sessions: a reply each (stored, duplicate, too big)"
t_eq "$(count "$Q3/new")" 4 "four copies in the Maildir"
t_eq "$(rows "$Q3" "SELECT count(*) FROM messages")" 4 "four messages indexed"
t_eq "$(count "$Q3/tmp")" 0 "nothing left in tmp/"
stop_server grp
t_grep "LMTP: stopped .5 messages in 1 commit rounds" "$T/grp.err" "the five copies in one commit round"

# 7. refused set-ups
ticketq --queue "$Q" lmtp --listen inet:0.0.0.0:0 >"$T/any.out" 2>&1
t_eq $? 1 "a non-loopback address without --any-address: usage error"
t_grep "any-address" "$T/any.out" "and the message names --any-address"
ticketq --queue "$Q" lmtp >"$T/nolisten.out" 2>&1
t_eq $? 1 "no --listen and no systemd socket: usage error"
t_grep "give --listen" "$T/nolisten.out" "which says what to give"
t_done
