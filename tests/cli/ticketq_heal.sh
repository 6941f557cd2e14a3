#!/bin/sh
# ticketq_heal.sh - `deliver` commits the index without fsync; an index
# that lost its last commits in an OS crash is healed by the next
# process of another boot, unasked (common/ticket/ticket_heal.c).  The
# crash is simulated: an older copy of tickets.db put back (the lost
# commits), a damaged tickets.db, and another boot id in ticketq.boot.
# Healed means every message of the Maildir indexed exactly once, the
# same tickets, the record naming this boot; a retry stays a duplicate.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_heal
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
[ -r /proc/sys/kernel/random/boot_id ] || t_skip "no boot id (/proc)"
Q=$T/q
BOOT=$(cat /proc/sys/kernel/random/boot_id)
OTHER=00000000-1111-2222-3333-444444444444

tq() { ticketq --queue "$Q" "$@"; }
sql() { "$PYTHON3" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$Q/tickets.db" "$1"; }
# indexed: messages rows / distinct dedup keys / files in new/ and cur/
indexed() {
	echo "$(sql 'SELECT count(*) FROM messages')/$(sql 'SELECT count(DISTINCT dkey) FROM messages')/$(find "$Q/new" "$Q/cur" -type f | wc -l | tr -d ' ')"
}
reboot() { echo "$OTHER" >"$Q/ticketq.boot"; }

# messages 1..12: questions, every third a reply to the one before it
"$PYTHON3" - "$T" <<'PY'
import sys
for i in range(1, 13):
    h = ["From: user%d@customer.example" % i, "To: help@tickets.test",
         "Message-ID: <heal-%d@test>" % i]
    h += (["Subject: Re: question %d" % (i - 1), "References: <heal-%d@test>" % (i - 1)]
          if i % 3 == 0 else ["Subject: question %d" % i])
    open("%s/%d.eml" % (sys.argv[1], i), "w").write("\n".join(h) + "\n\nmessage %d\n" % i)
PY
deliver() { tq deliver <"$T/$1.eml" >"$T/out.$1" 2>&1; }

tq init --address help@tickets.test >/dev/null || t_fail "init"
t_eq "$(cat "$Q/ticketq.boot")" "$BOOT" "init records this boot"
t_eq "$(stat -c %a "$Q/ticketq.boot")" 640 "record 0640"

# --- the index commit makes no fsync once the queue heals (the Maildir
# copy keeps its two: the file, then new/)
if command -v strace >/dev/null 2>&1; then
	# LeakSanitizer cannot run under ptrace: no leak check for this one
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -o "$T/trace" -e trace=fsync,fdatasync "$TICKETQ_BIN" --queue "$Q" deliver <"$T/1.eml" >"$T/out.1" 2>&1
	t_eq $? 0 "deliver under strace"
	t_eq "$(grep -c 'fdatasync(' "$T/trace")/$(grep -c 'fsync(' "$T/trace")" "0/2" "no index sync: two Maildir fsyncs only"
else
	deliver 1
fi
for i in 2 3 4; do deliver $i || t_fail "deliver $i"; done
t_eq "$(indexed)" "4/4/4" "four delivered"

# --- lost commits: put an older index back, as an OS crash would leave it
cp "$Q/tickets.db" "$T/old.db"
for i in 5 6 7; do deliver $i || t_fail "deliver $i"; done
tickets=$(sql 'SELECT count(*) FROM tickets')
cp "$T/old.db" "$Q/tickets.db"
rm -f "$Q/tickets.db-journal"
t_eq "$(indexed)" "4/4/7" "the index lost three commits"
reboot
deliver 8
t_eq $? 0 "first delivery after the reboot"
t_grep "^ticketq: ticket [0-9]+ \(new" "$T/out.8" "it is reported as a new ticket, not as a duplicate"
t_eq "$(indexed)" "8/8/8" "healed: every message once"
t_eq "$(sql 'SELECT count(*) FROM tickets')" "$((tickets + 1))" "the same tickets, plus the new one"
t_eq "$(sql "SELECT count(DISTINCT ticket) FROM messages WHERE message_id IN ('heal-5@test', 'heal-6@test')")" 1 "a healed reply threads"
t_eq "$(sql "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message WHERE m.message_id = 'heal-7@test'")" 1 "a healed message has its event for next"
t_eq "$(cat "$Q/ticketq.boot")" "$BOOT" "the record names this boot again"
deliver 6
t_eq $? 0 "an MTA retry of a healed message"
t_grep "duplicate" "$T/out.6" "is a duplicate"
t_eq "$(indexed)" "8/8/8" "not stored twice"

# --- any command heals, not only deliver
cp "$T/old.db" "$Q/tickets.db"
reboot
tq list >"$T/list" 2>&1
t_eq $? 0 "list after a reboot"
t_eq "$(indexed)" "8/8/8" "list healed the index first"

# --- a damaged index is rebuilt
head -c 16384 /dev/urandom >"$Q/tickets.db"
reboot
tq list >"$T/list" 2>&1
t_eq $? 0 "list with a damaged index after a reboot"
t_grep "rebuilding it from the Maildir" "$T/list" "says it rebuilds"
t_eq "$(indexed)" "8/8/8" "rebuilt: every message once"
t_eq "$(sql 'PRAGMA integrity_check')" ok "rebuilt index intact"
t_eq "$(cat "$Q/ticketq.boot")" "$BOOT" "recorded"

# --- same boot: the record is current, nothing is replayed (the older
# index stays as it is until the next reboot; no crash without one)
cp "$Q/tickets.db" "$T/now.db"
deliver 9 || t_fail "deliver 9"
t_eq "$(indexed)" "9/9/9" "same boot: a plain delivery"

# --- two first processes of a boot at once: one heals, the other waits
cp "$T/now.db" "$Q/tickets.db"
rm -f "$Q/tickets.db-journal"
reboot
deliver 10 &
p1=$!
deliver 11 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
t_eq "$r1/$r2" "0/0" "both deliveries of the new boot"
t_eq "$(indexed)" "11/11/11" "healed once, nothing twice"

# --- a record that is not a boot id counts as another boot
echo "garbage" >"$Q/ticketq.boot"
deliver 12 || t_fail "deliver 12"
t_eq "$(cat "$Q/ticketq.boot")" "$BOOT" "a bad record is replaced"
t_eq "$(indexed)" "12/12/12" "all twelve once"
t_done
