#!/bin/sh
# ticketq_lmtp_postfix.sh - a real Postfix delivering through lmtp(8)
# into `ticketq lmtp` over a UNIX socket (transport_maps with
# lmtp:unix:PATH), with up to 10 lmtp clients at once.  A private
# instance from tests/rig/rig.sh (pf_create ...); mail is submitted over
# SMTP onto the hold queue and then released in one go, so that the
# queue manager has every message at hand and runs its 10 lmtp clients
# in parallel whatever the speed of the submission.
#   1. 500 messages: all sent (250 "Stored, ticket" in the Postfix log),
#      each once in the Maildir and once in tickets.db, several lmtp
#      sessions open at the server at the same moment.
#   2. 200 messages while the server is killed (kill -9) at random
#      points, at least 3 times, and restarted: Postfix retries, every
#      message is present exactly once in the end, none bounced.
# OAUTHMAIL_VALGRIND=1 runs the server under valgrind with fewer
# messages.  The kill points are printed (a failing run shows them).
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_lmtp_postfix
type pf_need >/dev/null 2>&1 || t_skip "tests/rig/rig.sh not found"
pf_need
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"

N=500 KN=200 KILLS=3 KMIN=5 KMAX=25
[ -n "${OAUTHMAIL_VALGRIND:-}" ] && N=40 KN=40 KMIN=2 KMAX=5

PF=$T/pf
Q=$T/queue
PORT=$(t_free_port)
# A short directory for the socket (UNIX socket names: 107 bytes), which
# postfix's lmtp(8) must reach.
SOCKDIR=$(mktemp -d /tmp/tq-lmtp.XXXXXX) || exit 99
chmod 755 "$SOCKDIR"
SOCK=$SOCKDIR/lmtp.sock
tqlp_rm_sockdir() { rm -rf "$SOCKDIR"; }
t_on_exit tqlp_rm_sockdir

# rnd LO HI - a random number in LO..HI
rnd() {
	echo $(($(od -An -N2 -tu2 /dev/urandom) % ($2 - $1 + 1) + $1))
}

# sent - lines of the log that say a message went through the lmtp transport
sent() {
	grep -c "relay=[^ ]*\[$SOCK\].*status=sent" "$LOG"
}

# rows SQL - one number from the queue's index
rows() {
	"$PYTHON3" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
		"$Q/tickets.db" "$1"
}

# server_start - ticketq lmtp on $SOCK (root binds it, group postfix,
# then becomes the queue's owner); its pid in $SPID
server_start() {
	ss_before=$(cat "$T/server.err" 2>/dev/null | grep -c "LMTP: listening")
	(ticketq_exec --queue "$Q" lmtp --listen "unix:$SOCK" --group postfix) \
		>>"$T/server.out" 2>>"$T/server.err" &
	SPID=$!
	t_bg "$SPID"
	n=0
	until [ "$(grep -c "LMTP: listening" "$T/server.err")" -gt "$ss_before" ]; do
		n=$((n + 1))
		if [ "$n" -gt 600 ] || ! kill -0 "$SPID" 2>/dev/null; then
			t_fail "ticketq lmtp did not start"
			t_show "$T/server.err"
			t_done
		fi
		sleep 0.05
	done
}

# inject PREFIX COUNT - COUNT messages over one SMTP session onto the
# hold queue (Message-ID <PREFIX-I@client.test>, Subject "PREFIX I")
inject() {
	"$PYTHON3" - "$PORT" "$1" "$2" <<'PY' || t_fail "submission over SMTP"
import smtplib, sys
port, prefix, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
    for i in range(1, n + 1):
        s.sendmail("customer%d@example.org" % i, ["help@tickets.test"],
                   ("From: customer%d@example.org\r\nTo: help@tickets.test\r\n"
                    "Subject: %s %d\r\nMessage-ID: <%s-%d@client.test>\r\n\r\n"
                    "Message %d.\r\n.leading dot\r\n" % (i, prefix, i, prefix, i, i)).encode())
PY
	t_eq "$(find "$PF/queue/hold" -type f | wc -l | tr -d ' ')" "$2" "$2 messages submitted and held"
}

# release - hold queue to the deferred queue, then deliver it all now
release() {
	postsuper -c "$PF/etc" -H ALL 2>>"$T/postsuper.out" && pf_flush "$PF"
}

# check_stored PREFIX COUNT - each message once in the Maildir and the index
check_stored() {
	t_eq "$(grep -l -s "^Message-ID: <$1-[0-9]*@client.test>" "$Q"/new/* "$Q"/cur/* | wc -l | tr -d ' ')" \
		"$2" "$2 $1 files in the Maildir"
	t_eq "$(grep -h -s "^Message-ID: <$1-[0-9]*@client.test>" "$Q"/new/* "$Q"/cur/* | sort -u | wc -l | tr -d ' ')" \
		"$2" "$2 distinct $1 Message-IDs among them (each once)"
	t_eq "$(rows "SELECT count(*) FROM messages WHERE subject LIKE '$1 %'")" "$2" "$2 $1 messages in tickets.db"
	t_eq "$(rows "SELECT count(DISTINCT message_id) FROM messages WHERE subject LIKE '$1 %'")" \
		"$2" "$2 distinct $1 Message-IDs in tickets.db"
}

# drain PHASE - wait for Postfix to deliver everything; a failure says
# for each message still queued where it is and why (CI shows FAIL lines)
drain() {
	pf_wait_queue_empty "$PF" 10 >"$T/drain.out" && return 0
	# qmgr puts a queue file it finds locked ("skipped, still being
	# delivered": the agent that deferred it has not closed it yet)
	# back for 60 s; a flush, as an admin would, takes it now
	grep -c "skipped, still being delivered" "$LOG" |
		sed "s/^/$1: flushing after 10 s; queue files found locked: /"
	pf_flush "$PF"
	pf_wait_queue_empty "$PF" 110 >"$T/drain.out" && return 0
	cat "$T/drain.out"
	t_fail "$1: not delivered within 120 s: $(pf_queue_why "$PF" | head -n 3 | tr '\n' ' ')"
	echo "$1: $(($(find "/proc/$SPID/fd" -lname 'socket:*' 2>/dev/null | wc -l) - SESS0)) sessions open at the server"
}

# submitted mail waits on hold until release; 10 lmtp clients at once
# from the first message on (no slow start); retries within 2 s
pf_ticketq_create "$PF" "$Q" "lmtp:unix:$SOCK" \
	'smtpd_client_restrictions=check_client_access inline:{ 127.0.0.1=HOLD }' \
	default_destination_concurrency_limit=10 \
	lmtp_destination_concurrency_limit=10 \
	lmtp_initial_destination_concurrency=10 \
	maximal_backoff_time=2s
pf_master "$PF" "127.0.0.1:$PORT inet n - n - - smtpd" || t_fail "pf_master"
server_start
SESS0=$(find "/proc/$SPID/fd" -lname 'socket:*' | wc -l)
pf_start "$PF" || { t_fail "postfix start"; t_done; }
rig_wait_port "$PORT" || t_fail "postfix smtpd does not listen"

# 1. N messages from 10 parallel lmtp clients
inject lp "$N"
# the most sessions open at the server at one moment (its socket fds)
(
	max=0
	while :; do
		s=$(($(find "/proc/$SPID/fd" -lname 'socket:*' 2>/dev/null | wc -l) - SESS0))
		[ "$s" -gt "$max" ] && max=$s && echo "$max" >"$T/sessions.max"
		sleep 0.02
	done
) &
t_bg $!
SAMPLER=$!
t0=$(date +%s)
release
drain "phase 1"
echo "phase 1: $N messages in $(($(date +%s) - t0)) s"
kill "$SAMPLER"
t_eq "$(sent)" "$N" "$N deliveries through lmtp:unix: logged status=sent"
t_eq "$(grep -c "relay=[^ ]*\[$SOCK\].*status=sent (250 2\.0\.0 Stored, ticket [0-9]*)" "$LOG")" "$N" \
	"each with the server's 250 2.0.0 Stored, ticket N"
t_eq "$(grep -c 'status=deferred' "$LOG")" 0 "no deferral"
t_eq "$(grep -c 'status=bounced' "$LOG")" 0 "no bounce"
check_stored lp "$N"
max=$(cat "$T/sessions.max" 2>/dev/null || echo 0)
pids=$(sed -n "s/.*postfix-pf\/lmtp\[\([0-9]*\)\].*relay=.*status=sent.*/\1/p" "$LOG" | sort -u | wc -l)
echo "phase 1: at most $max sessions at once at the server, $pids lmtp processes delivered"
[ "$max" -ge 2 ] && t_pass "lmtp sessions ran concurrently ($max at once)" ||
	t_fail "lmtp sessions ran concurrently: at most $max at once"
[ "$pids" -ge 2 ] && t_pass "$pids lmtp client processes delivered" ||
	t_fail "only $pids lmtp client process delivered"
f=$(grep -l "^Message-ID: <lp-1@client.test>" "$Q"/new/*)
t_grep "^\.leading dot$" "$f" "dot-stuffing undone"
t_grep "^Delivered-To: help@tickets.test$" "$f" "the recipient as Delivered-To"

# 2. KN messages, the server killed at random points and restarted
inject lk "$KN"
release
kills=0
while [ "$kills" -lt "$KILLS" ]; do
	k=$(rnd "$KMIN" "$KMAX")
	ms=$(rnd 0 20)
	want=$(($(sent) + k))
	n=0
	while [ "$(sent)" -lt "$want" ] && [ "$n" -lt 1200 ]; do
		sleep 0.01
		n=$((n + 1))
	done
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 "$SPID"
	wait "$SPID" 2>/dev/null
	kills=$((kills + 1))
	echo "kill $kills: after $k more sent + $ms ms ($(sent) sent in all, $(pf_queue_count "$PF") queued)"
	server_start
done
t_eq "$kills" "$KILLS" "the server killed -9 $KILLS times during the run"
[ "$(pf_queue_count "$PF")" -gt 0 ] && t_pass "mail still queued after the last kill" ||
	t_fail "the queue ran empty before the last kill: no mail in flight"
drain "phase 2"
t_eq "$(sent)" $((N + KN)) "Postfix retried: every message logged status=sent once"
[ "$(grep -c 'status=deferred' "$LOG")" -gt 0 ] && t_pass "the kills cost deferrals" ||
	t_fail "no deferral: the kills went unnoticed"
t_eq "$(grep -c 'status=bounced' "$LOG")" 0 "no bounce"
check_stored lk "$KN"
echo "Postfix deferrals: $(grep -c 'status=deferred' "$LOG"), duplicates answered: $(grep -c 'Duplicate, already stored' "$LOG"), left in tmp/: $(find "$Q/tmp" -type f | wc -l)"
t_eq "$(find "$Q" -user root | wc -l | tr -d ' ')" 0 "the queue stays owned by its owner"
kill -TERM "$SPID"
wait "$SPID"
t_eq $? 0 "SIGTERM stops the server, exit 0"
t_keep_log "$T/server.err"
t_done
