#!/bin/sh
# ticketq_crash.sh - crash safety: 500 deliveries from 8 parallel
# writers while a chaos loop kill -9s random `ticketq deliver` processes
# (ours, by pid).  A killed delivery is retried, as the MTA would (a
# signal is a deferral for pipe(8)).  In the end every message is
# present exactly once in the Maildir and in the index, the index is
# intact, no ticket is half made, replies are on the right tickets, and
# a reindex agrees.  TICKETQ_CRASH_MESSAGES=N runs fewer.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_crash
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
N=${TICKETQ_CRASH_MESSAGES:-500}
WRITERS=8
Q=$T/q
mkdir -p "$T/msgs" "$T/pids" "$T/log"
"$TICKETQ_BIN" --queue "$Q" init --address help@tickets.test >/dev/null || t_fail "init"

# The messages: new tickets, replies threading on earlier ones (every
# fifth), attachments on every third.
"$PYTHON3" - "$T/msgs" "$N" <<'PY'
import base64, os, sys
out, n = sys.argv[1], int(sys.argv[2])
att = base64.encodebytes(os.urandom(3000)).decode()
for i in range(n):
    h = ["From: user%d <user%d@customer.example>" % (i % 37, i % 37),
         "To: help@tickets.test", "Message-ID: <crash-%d@test>" % i,
         "Date: Mon, 16 Nov 2026 08:00:00 +0000"]
    if i % 5 == 4:
        h += ["Subject: Re: question %d" % (i - 4),
              "References: <crash-%d@test>" % (i - 4)]
    else:
        h += ["Subject: question %d" % i]
    if i % 3 == 0:
        body = ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
                "--b\nContent-Type: text/plain\n\nmessage %d\n--b\n"
                "Content-Type: application/octet-stream\nContent-Disposition: "
                "attachment; filename=\"log-%d.bin\"\nContent-Transfer-Encoding: "
                "base64\n\n%s--b--\n" % (i, i, att))
    else:
        body = "\nmessage %d\n%s\n" % (i, "lorem ipsum " * (i % 50))
    with open(os.path.join(out, "%d.eml" % i), "w") as f:
        f.write("\n".join(h) + "\n" + body)
PY

# writer W: messages W, W+8, ...; each retried until it exits 0.  A
# reply waits until the message it answers is stored (the MTA would
# not see them in another order either).
writer() {
	w=$1
	i=$w
	while [ "$i" -lt "$N" ]; do
		if [ $((i % 5)) -eq 4 ]; then
			while [ ! -e "$T/log/ok.$((i - 4))" ]; do sleep 0.01; done
		fi
		while :; do
			"$TICKETQ_BIN" --queue "$Q" deliver <"$T/msgs/$i.eml" >>"$T/log/out.$w" 2>&1 &
			pid=$!
			echo "$pid" >"$T/pids/$w"
			wait "$pid"
			rc=$?
			[ "$rc" -eq 0 ] && break
			echo "$i $rc" >>"$T/log/retries.$w"
		done
		: >"$T/log/ok.$i"
		i=$((i + WRITERS))
	done
	rm -f "$T/pids/$w"
}

# chaos: every 10 ms, each running delivery has a 1 in 4 chance of a
# kill -9.  Only our own processes, by pid, checked in /proc first.
chaos() {
	while [ ! -e "$T/done" ]; do
		for f in "$T"/pids/*; do
			[ -e "$f" ] || continue
			[ "$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')" -lt 64 ] || continue
			pid=$(cat "$f" 2>/dev/null)
			[ -n "$pid" ] || continue
			grep -q "ticketq" "/proc/$pid/cmdline" 2>/dev/null || continue
			kill -9 "$pid" 2>/dev/null && echo kill >>"$T/log/kills"
		done
		sleep 0.01
	done
}

chaos &
chaos_pid=$!
t_bg $chaos_pid
w=0
pids=""
while [ $w -lt $WRITERS ]; do
	writer $w 2>/dev/null &
	pids="$pids $!"
	w=$((w + 1))
done
for p in $pids; do wait "$p"; done
touch "$T/done"
wait $chaos_pid 2>/dev/null

kills=$(cat "$T/log/kills" 2>/dev/null | wc -l | tr -d ' ')
retries=$(cat "$T"/log/retries.* 2>/dev/null | wc -l | tr -d ' ')
found=$(cat "$T"/log/out.* | grep -c "raw copy kept from an earlier attempt")
echo "chaos: $kills deliveries killed, $retries retried;" \
	"$found retries found the raw copy of a delivery killed before its index step"
if [ "$kills" -gt 0 ]; then t_pass "the chaos loop killed deliveries"; else
	t_fail "no delivery was killed"; fi

"$PYTHON3" - "$Q" "$N" >"$T/check" <<'PY'
import os, re, sqlite3, sys
q, n = sys.argv[1], int(sys.argv[2])
bad = 0
seen = {}
for d in ("new", "cur"):
    for name in os.listdir(os.path.join(q, d)):
        with open(os.path.join(q, d, name), "rb") as f:
            m = re.search(rb"Message-ID: <crash-(\d+)@test>", f.read(4096))
        if m:
            seen[int(m.group(1))] = seen.get(int(m.group(1)), 0) + 1
c = sqlite3.connect(os.path.join(q, "tickets.db"))
rows = dict(c.execute("SELECT message_id, count(*) FROM messages GROUP BY message_id"))
for i in range(n):
    mid = "crash-%d@test" % i
    if seen.get(i, 0) != 1 or rows.get(mid, 0) != 1:
        bad += 1
        print("message %d: %d Maildir copies, %d index rows"
              % (i, seen.get(i, 0), rows.get(mid, 0)))
print("integrity:", c.execute("PRAGMA integrity_check").fetchone()[0])
print("empty tickets:", c.execute(
    "SELECT count(*) FROM tickets t WHERE NOT EXISTS "
    "(SELECT 1 FROM messages m WHERE m.ticket = t.id)").fetchone()[0])
wrong = 0
for mid, t in c.execute("SELECT message_id, ticket FROM messages WHERE subject LIKE 'Re:%'"):
    orig = "crash-%d@test" % (int(mid.split("-")[1].split("@")[0]) - 4)
    wrong += c.execute("SELECT ticket FROM messages WHERE message_id = ?",
                       (orig,)).fetchone()[0] != t
print("replies on the wrong ticket:", wrong)
missing = 0
for (p,) in c.execute("SELECT path FROM attachments WHERE path IS NOT NULL"):
    missing += not os.path.isfile(os.path.join(q, p))
print("missing attachments:", missing)
print("tickets:", c.execute("SELECT count(*) FROM tickets").fetchone()[0])
print("killed deliveries left in tmp/:", len(os.listdir(os.path.join(q, "tmp"))))
print("bad messages:", bad)
PY
tail -n 8 "$T/check"
t_grep "^bad messages: 0$" "$T/check" "every message exactly once in the Maildir and the index"
t_grep "^integrity: ok$" "$T/check" "index intact"
t_grep "^empty tickets: 0$" "$T/check" "no half-made tickets"
t_grep "^replies on the wrong ticket: 0$" "$T/check" "threading held"
t_grep "^missing attachments: 0$" "$T/check" "every attachment on disk"
tickets=$(sed -n 's/^tickets: //p' "$T/check")
t_eq "$tickets" "$((N - N / 5))" "one ticket per new question"

# Deterministic kill points (strace injects SIGKILL at a chosen system
# call): before the link into new/, after the link before new/ is
# synced, at the first index write, at the end of the commit (database
# written, journal not yet reset: the hot journal must be played back;
# deliver's index commit makes no fsync, ticket_heal.c), and at the
# first two syncs of the commit of the first delivery after a reboot
# (another boot id recorded: it heals, then commits synced).  Each
# delivery is retried and must end up exactly once.
if command -v strace >/dev/null 2>&1; then
	k=0
	for point in link fsync:when=2 pwrite64:when=1 ftruncate:when=1 fdatasync:when=1 fdatasync:when=2; do
		k=$((k + 1))
		sed "s/<crash-0@test>/<killpoint-$k@test>/" "$T/msgs/0.eml" >"$T/kill$k.eml"
		case $point in fdatasync*) echo 00000000-1111-2222-3333-444444444444 >"$Q/ticketq.boot" ;; esac
		strace -f -o /dev/null -e "trace=${point%%:*}" -e "inject=${point%%:*}:signal=SIGKILL${point#${point%%:*}}" \
			"$TICKETQ_BIN" --queue "$Q" deliver <"$T/kill$k.eml" >/dev/null 2>&1
		rc=$?
		"$TICKETQ_BIN" --queue "$Q" deliver <"$T/kill$k.eml" >"$T/kill$k.out" 2>&1
		rc2=$?
		copies=$(grep -l "killpoint-$k@test" "$Q"/new/* | wc -l | tr -d ' ')
		rows=$("$PYTHON3" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM messages WHERE message_id = ?", (sys.argv[2],)).fetchone()[0])' "$Q/tickets.db" "killpoint-$k@test")
		echo "kill -9 at $point: first run exit $rc, retry: $(cat "$T/kill$k.out")"
		t_eq "$rc2/$copies/$rows" "0/1/1" "killed at $point, retried: stored once"
	done
	t_grep "raw copy kept from an earlier attempt" "$T/kill2.out" "a retry after the Maildir copy reuses it"
else
	echo "strace not installed: deterministic kill points not run"
fi

"$TICKETQ_BIN" --queue "$Q" reindex >"$T/out" 2>&1
t_eq $? 0 "reindex after the chaos"
t_grep "^reindex: [0-9]+ messages indexed, [0-9]+ new tickets, 0 not filed, 0 already indexed, 0 failed" "$T/out" "reindex indexes everything"
"$PYTHON3" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("SELECT count(*) FROM messages WHERE message_id LIKE ?", ("crash-%",)).fetchone()[0], c.execute("SELECT count(*) FROM tickets").fetchone()[0])' "$Q/tickets.db" >"$T/after"
t_eq "$(cat "$T/after")" "$N $((tickets + ${k:-0}))" "reindex agrees: every message once, same tickets"
t_done
