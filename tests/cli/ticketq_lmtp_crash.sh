#!/bin/sh
# ticketq_lmtp_crash.sh - kill -9 of `ticketq lmtp` at random points
# while four sessions deliver (the client retries as Postfix does, until
# every recipient got its 250): in the end every message is stored
# exactly once, none whose 250 was sent is missing, and the index
# agrees with the Maildir.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_lmtp_crash
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
CLIENT="$PYTHON3 $srcdir/mock/lmtp_client.py"
Q=$T/q
S=$T/lmtp.sock
# The server is killed after every STEP..2*STEP more 250s plus a random
# 0-40 ms, so the number of kills follows the progress, not the speed of
# the machine, and the kills fall anywhere in a session.
N=200 STEP=15
[ -n "${OAUTHMAIL_VALGRIND:-}" ] && N=30 STEP=4

rows() { "$PYTHON3" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$Q/tickets.db" "$1"; }
ticketq --queue "$Q" init --address support@tickets.test >/dev/null || t_fail "init"
mkdir -p "$T/m"
i=1
while [ "$i" -le "$N" ]; do
	printf 'From: c%d@example.org\nTo: support@tickets.test\nSubject: crash %d\nMessage-ID: <crash-%d@client.test>\n\nbody %d\n' \
		"$i" "$i" "$i" "$i" >"$T/m/$i.eml"
	i=$((i + 1))
done

start() {
	(ticketq_exec --queue "$Q" lmtp --listen "unix:$S") >>"$T/server.out" 2>>"$T/server.err" &
	SPID=$!
}
start
t_keep_log "$T/server.err"
$CLIENT "unix:$S" send --sessions 4 --retry-until 240 --log "$T/acked" \
	"$T"/m/*.eml >"$T/client.out" 2>&1 &
CPID=$!
t_bg "$CPID"
acked() { [ -f "$T/acked" ] && wc -l <"$T/acked" || echo 0; }
kills=0
next=0
while kill -0 "$CPID" 2>/dev/null; do
	next=$((next + STEP + $(od -An -N1 -tu1 /dev/urandom) % (STEP + 1)))
	while [ "$(acked)" -lt "$next" ] && kill -0 "$CPID" 2>/dev/null; do
		sleep 0.02
	done
	sleep "0.0$(($(od -An -N1 -tu1 /dev/urandom) % 5))"
	kill -0 "$CPID" 2>/dev/null || break
	kill -9 "$SPID" 2>/dev/null && kills=$((kills + 1))
	wait "$SPID" 2>/dev/null
	start
done
wait "$CPID"
t_eq $? 0 "the client got a 250 for every message in the end ($kills kill -9s of the server)"
[ "$kills" -ge 3 ] && t_pass "the server was killed at least 3 times" ||
	t_fail "only $kills kills: the run was too short to show anything"
# the last server may have just been started: a session first (its 220
# comes from the poll loop, after the SIGTERM handler is set), so the
# TERM cannot land in the shell before exec and be lost
printf 'QUIT\r\n' | $CLIENT "unix:$S" raw >/dev/null
kill -TERM "$SPID"
wait "$SPID"
t_eq "$(rows "SELECT count(*) FROM messages")" "$N" "every message indexed exactly once"
t_eq "$(rows "SELECT count(DISTINCT message_id) FROM messages")" "$N" "no Message-ID twice"
t_eq "$(ls "$Q/new" "$Q/cur" 2>/dev/null | grep -c '^[0-9a-f]')" "$N" "every message once in the Maildir"
# one query for all (a python3 start per message took 20 s)
missing=$(sed -n 's|.*/\([0-9]*\)\.eml 250$|crash-\1@client.test|p' "$T/acked" | sort -u |
	"$PYTHON3" -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
print(sum(1 for m in sys.stdin.read().split()
          if c.execute("SELECT count(*) FROM messages WHERE message_id = ?", (m,)).fetchone()[0] != 1))' "$Q/tickets.db")
[ "$(sort -u "$T/acked" | wc -l)" -ge "$N" ] || t_fail "the client logged fewer 250s than messages"
t_eq "$missing" 0 "no message whose 250 was sent is missing"
t_done
