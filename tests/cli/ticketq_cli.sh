#!/bin/sh
# ticketq_cli.sh - the ticketq command line: init, deliver's sysexits
# (0 / 75 / 65 with 5.3.4), the DB-failure retry that must not make a
# second copy, list/show/next/reply/close/reopen/reindex and their exit
# codes, `reply --auto` refusing robots, a failing sendmail, privileges.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_cli
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
Q=$T/q
C=$srcdir/data/ticketq/corpus

tq() { ticketq --queue "$Q" "$@"; }
# tq_plain - never under valgrind: for runs of usage errors and loops
# that repeat one path (each call costs a second or two under memcheck)
tq_plain() { "$TICKETQ_BIN" --queue "$Q" "$@"; }
rows() { "$PYTHON3" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$Q/tickets.db" "$1"; }
newcount() { ls "$Q/new" | wc -l | tr -d ' '; }
# envelope - the recipients the captured sendmail call had: with -t
# (the default command) those of the To, Cc and Bcc headers, plus any
# address arguments
envelope() { "$PYTHON3" -c '
import email, email.utils, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"))
args = open(sys.argv[1] + ".args").read().split()
rcpt = [a for a in args if not a.startswith("-")]
if "-t" in args:
    rcpt = [a for _, a in email.utils.getaddresses(
        msg.get_all("To", []) + msg.get_all("Cc", []) +
        msg.get_all("Bcc", []))] + rcpt
print(" ".join(rcpt))' "$T/sent.eml"; }

# --- init
tq init --address help@tickets.test >"$T/out" 2>&1
t_eq $? 0 "init"
t_grep "created queue" "$T/out" "init says so"
t_eq "$(stat -c %a "$Q/ticketq.conf")" 640 "config 0640"
t_eq "$(stat -c %a "$Q/new")" 750 "Maildir 0750"
key1=$(grep hmac_key "$Q/ticketq.conf")
tq init --address other@tickets.test >"$T/out" 2>&1
t_grep "config kept" "$T/out" "second init keeps the config"
t_eq "$(grep hmac_key "$Q/ticketq.conf")" "$key1" "same key"
cat >>"$Q/ticketq.conf" <<EOF
sendmail = $srcdir/mock/capture-sendmail $T/sent.eml -t -i
max_message_size = 20K
busy_timeout = 1
lock_timeout = 1
EOF

# --- deliver: sysexits only
tq deliver <"$C/001-new-plain.eml" >"$T/out"
t_eq $? 0 "deliver stores"
t_grep "^ticketq: ticket [0-9]{6,} \(new, customer\)" "$T/out" "says which ticket"
A=$(sed -n 's/^ticketq: ticket \([0-9]*\).*/\1/p' "$T/out")
tq deliver <"$C/001-new-plain.eml" >"$T/out"
t_eq $? 0 "duplicate exits 0"
t_grep "duplicate" "$T/out" "duplicate said"
t_eq "$(newcount)" 1 "stored once"
: | tq deliver >"$T/out"
t_eq $? 0 "empty input exits 0"
t_eq "$(newcount)" 1 "nothing stored for empty input"
head -c 30000 /dev/zero | tr '\0' x | sed 's/^/Subject: big\n\n/' | tq deliver >"$T/out"
t_eq $? 65 "over max_message_size exits 65"
t_grep "^5\.3\.4 " "$T/out" "with 5.3.4 first"
t_eq "$(newcount)" 1 "nothing kept of it"
t_eq "$(ls "$Q/tmp" | wc -l | tr -d ' ')" 0 "tmp/ empty"
ticketq --queue "$T/nowhere" deliver <"$C/002-latin1-qp.eml" >"$T/out"
t_eq $? 75 "no queue: 75, the MTA retries"
t_grep "^4\.3\.5 ticketq: .*not a ticket queue.*ticketq init" "$T/out" "says how to fix"
tq_plain deliver --bogus <"$C/002-latin1-qp.eml" >"$T/out"
t_eq $? 75 "bad deliver options: 75, never a bounce"
t_grep "^4\.3\.5 " "$T/out" "with 4.3.5"
ticketq --bogus deliver <"$C/002-latin1-qp.eml" >"$T/out" 2>/dev/null
t_eq $? 75 "bad global options before deliver: 75"
# --help on an MTA's command line must not drop the mail with exit 0
tq deliver --help <"$C/002-latin1-qp.eml" >"$T/out" 2>"$T/err"
t_eq $? 75 "deliver --help: 75, the mail stays queued"
t_grep "^4\.3\.5 " "$T/out" "deliver --help: with 4.3.5"
t_grep "^usage: ticketq deliver" "$T/err" "deliver --help: usage on stderr"
ticketq --help deliver <"$C/002-latin1-qp.eml" >"$T/out" 2>"$T/err"
t_eq $? 75 "--help before deliver: 75"
t_eq "$(newcount)" 1 "nothing stored by --help"
tq list --help >/dev/null
t_eq $? 0 "list --help: 0"

# --- the index fails after the Maildir copy: 75, and the retry finds
# the copy instead of making a second one
"$PYTHON3" -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(30)' "$Q/tickets.db" "$T/locked" &
holder=$!
t_bg $holder
t_wait_file "$T/locked" 10 || :
sleep 0.2
tq deliver <"$C/002-latin1-qp.eml" >"$T/out"
t_eq $? 75 "database busy: 75"
t_grep "^4\.3\.0 ticketq: tickets.db" "$T/out" "says the index was busy"
t_eq "$(newcount)" 2 "the raw copy is already durable"
kill $holder; wait $holder 2>/dev/null
tq deliver <"$C/002-latin1-qp.eml" >"$T/out"
t_eq $? 0 "retry stores"
t_grep "ticket [0-9]+ \(new" "$T/out" "and files it"
t_eq "$(newcount)" 2 "no second copy in the Maildir"
t_eq "$(rows "SELECT count(*) FROM messages WHERE message_id = 'c1.invoice@kunde.example'")" 1 "one message row"
B=$(sed -n 's/^ticketq: ticket \([0-9]*\).*/\1/p' "$T/out")

# --- queue lock held (a reindex): 75 after lock_timeout
"$PYTHON3" -c '
import fcntl, sys, time
f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(30)' "$Q/ticketq.lock" "$T/flocked" &
holder=$!
t_bg $holder
t_wait_file "$T/flocked" 10 || :
tq deliver <"$C/004-alternative.eml" >"$T/out"
t_eq $? 75 "queue locked: 75"
t_grep "^4\.3\.0 ticketq: queue locked" "$T/out" "says the queue was locked"
kill $holder; wait $holder 2>/dev/null
tq deliver <"$C/004-alternative.eml" >/dev/null
t_eq $? 0 "then stores"

# --- list, show
tq list >"$T/out"
t_eq $? 0 "list"
t_grep "^$A +open .*alice@customer.example +Printer jams" "$T/out" "list row"
tq list --status closed --json >"$T/out"
t_eq "$(cat "$T/out")" "[]" "status filter"
tq show 123 >/dev/null 2>&1
t_eq $? 1 "bad ticket number: usage"
tq show 999999 >/dev/null 2>&1
t_eq $? 3 "unknown ticket: 3"
tq show "$A" >"$T/out"
t_grep "^--- 1\. customer" "$T/out" "show text"
tq frobnicate >/dev/null 2>&1
t_eq $? 1 "unknown command: 1"

# --- next: each event once, in order; an event that cannot be read
# (here: its messages table gone) stays unclaimed
"$PYTHON3" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("ALTER TABLE messages RENAME TO messages_away"); c.commit()' "$Q/tickets.db"
tq next --json --consumer lost >/dev/null 2>&1
t_eq $? 4 "next, event unreadable: 4"
"$PYTHON3" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("ALTER TABLE messages_away RENAME TO messages"); c.commit()' "$Q/tickets.db"
t_eq "$(rows "SELECT count(*) FROM events WHERE claimed IS NOT NULL")" 0 "and not claimed"
tq next --json --consumer one >"$T/ev1"
t_eq $? 0 "next"
tq next --json --consumer two >"$T/ev2"
"$PYTHON3" - "$T/ev1" "$T/ev2" "$A" "$B" >"$T/out" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = {"event", "type", "ticket", "message_id", "kind", "from", "subject",
        "auto_answer", "created", "claim", "lease_until"}
assert set(a) == keys, sorted(a)
assert a["type"] == "ticket" and a["ticket"] == sys.argv[3], a
assert b["ticket"] == sys.argv[4] and b["event"] > a["event"], b
assert a["auto_answer"] is True and a["message_id"].startswith("<")
assert len(a["claim"]) == 16 and a["claim"] != b["claim"], (a, b)
assert a["lease_until"].endswith("Z"), a
print("events ok")
EOF
t_grep "events ok" "$T/out" "events in order, JSON shape"
tq next >"$T/out"
read -r word ev3 word2 claim3 until3 rest <"$T/out"
t_eq "$word $word2 $until3" "event claim until" "next's text form: event N claim TOKEN until TIME"
tq next >/dev/null
t_eq $? 3 "nothing pending: 3"

# --- ack: with the claim, idempotent, a stale claim refused (5)
ev1=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["event"])' "$T/ev1")
c1=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["claim"])' "$T/ev1")
tq ack "$ev1" --claim "$c1" >"$T/out"
t_eq $? 0 "ack"
t_grep "^event $ev1 acknowledged" "$T/out" "ack says so"
t_eq "$(rows "SELECT acked_by FROM events WHERE id = $ev1")" one "acked by the claim's consumer"
tq ack "$ev1" --claim "$c1" >"$T/out"
t_eq $? 0 "ack again: 0"
t_grep "already acknowledged \(by one at " "$T/out" "ack again: a note"
tq ack "$ev1" --claim 0123456789abcdef >/dev/null 2>"$T/err"
t_eq $? 5 "ack with another claim: 5"
t_grep "went to claim $c1" "$T/err" "names the claim that has it"
tq ack "$ev3" --claim "$claim3" --consumer robot >/dev/null
t_eq "$(rows "SELECT acked_by FROM events WHERE id = $ev3")" robot "ack --consumer"
tq ack 999999 >/dev/null 2>&1
t_eq $? 3 "ack of no such event: 3"
for bad in "x" "0" "1 --claim 0123" "1 --claim 0123456789ABCDEF" "1 --consumer="; do
	# shellcheck disable=SC2086
	tq_plain ack $bad >/dev/null 2>&1
	t_eq $? 1 "ack $bad: usage"
done
tq next --lease 0 >/dev/null 2>&1
t_eq $? 1 "next --lease 0 under the checker: usage"
for bad in "--lease 0" "--lease 86401" "--lease 5s" "--lease 5 --at-most-once" "extra"; do
	# shellcheck disable=SC2086
	tq_plain next $bad >/dev/null 2>&1
	t_eq $? 1 "next $bad: usage"
done
t_eq "$(rows "SELECT count(*) FROM events WHERE acked IS NULL")" 1 "one event leased, not acknowledged"

# --- reply
printf 'Hello Alice,\nplease try tray 2.\n' | tq reply "$A" >"$T/out"
t_eq $? 0 "reply"
t_grep "^sent <tq\.$A\." "$T/out" "reply says its Message-ID"
t_grep "^From: help@tickets.test" "$T/sent.eml" "From the queue"
t_grep "^To: alice@customer.example" "$T/sent.eml" "To the customer"
t_grep "^Subject: Re: \[#$A\] Printer jams" "$T/sent.eml" "tagged subject"
t_grep "^In-Reply-To: <a1.printer@customer.example>" "$T/sent.eml" "In-Reply-To"
t_grep "^References: <a1.printer@customer.example>" "$T/sent.eml" "References"
t_grep "^X-Ticketq-Loop: help@tickets.test" "$T/sent.eml" "loop header"
t_nogrep "^X-Ticketq-Sent" "$T/sent.eml" "private header stays home"
t_nogrep "^Auto-Submitted" "$T/sent.eml" "a person's reply is not auto-submitted"
t_grep "^-t -i$" "$T/sent.eml.args" "sendmail arguments"
t_grep "^Cc: bob@customer.example$" "$T/sent.eml" "the other participant on Cc"
t_nogrep "^(To|Cc):.*help@tickets.test" "$T/sent.eml" "never the queue itself"
t_eq "$(envelope)" "alice@customer.example bob@customer.example" "envelope: the requester and the Cc"
t_grep "^sent <[^>]+> to alice@customer.example cc bob@customer.example on ticket $A$" "$T/out" "says to whom"
t_eq "$(rows "SELECT status FROM tickets WHERE id = $A")" answered "status answered"
t_eq "$(rows "SELECT count(*) FROM messages WHERE ticket = $A AND kind = 'reply'")" 1 "reply recorded"
echo x | tq reply 999999 >/dev/null 2>&1
t_eq $? 3 "reply to unknown ticket: 3"
before=$(newcount)
sed -i "s|^sendmail = .*|sendmail = /bin/false|" "$Q/ticketq.conf"
echo x | tq reply "$A" >"$T/out" 2>&1
t_eq $? 4 "sendmail fails: 4"
t_grep "not sent" "$T/out" "says so"
t_eq "$(newcount)" "$before" "no copy kept of an unsent reply"
t_eq "$(rows "SELECT count(*) FROM messages WHERE ticket = $A AND kind = 'reply'")" 1 "nothing recorded"
sed -i "s|^sendmail = .*|sendmail = $srcdir/mock/capture-sendmail $T/sent.eml -t -i|" "$Q/ticketq.conf"
# the twin waits in tmp/ while sendmail runs (a crash or a concurrent
# reindex --missing must not record an unsent reply); an index failure
# after the send is a warning and exit 0: 4 would send it twice
cat >"$T/break-index.py" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TRIGGER tq_test_fail BEFORE INSERT ON messages "
	  "BEGIN SELECT RAISE(ABORT, 'test: the index fails'); END")
c.commit()
PY
cat >"$T/peek-sendmail" <<SH
#!/bin/sh
ls "$Q/new" | wc -l | tr -d ' ' >"$T/peek.new"
ls "$Q/tmp" | wc -l | tr -d ' ' >"$T/peek.tmp"
"$PYTHON3" "$T/break-index.py" "$Q/tickets.db" || exit 1
cat >"$T/sent.eml"
SH
chmod +x "$T/peek-sendmail"
sed -i "s|^sendmail = .*|sendmail = $T/peek-sendmail|" "$Q/ticketq.conf"
echo "Second answer." | tq reply "$A" >"$T/out" 2>"$T/err"
t_eq $? 0 "sent, index fails: 0, never 'try again'"
t_eq "$(cat "$T/peek.new")" "$before" "no copy in new/ while sendmail runs"
t_eq "$(cat "$T/peek.tmp")" 1 "the copy waits in tmp/"
t_grep "^sent <" "$T/out" "says it was sent"
t_grep "reindex --missing" "$T/err" "warns how the index gets it"
t_eq "$(newcount)" $((before + 1)) "the sent reply's copy is in new/"
t_eq "$(ls "$Q/tmp" | wc -l | tr -d ' ')" 0 "tmp/ empty after"
"$PYTHON3" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DROP TRIGGER tq_test_fail"); c.commit()' "$Q/tickets.db"
tq reindex --missing >/dev/null
t_eq "$(rows "SELECT count(*) FROM messages WHERE ticket = $A AND kind = 'reply'")" 2 "reindex --missing records it"
sed -i "s|^sendmail = .*|sendmail = $srcdir/mock/capture-sendmail $T/sent.eml -t -i|" "$Q/ticketq.conf"

# --- reply --auto never answers a robot
sed "s/@MID:A@/$(sed -n 's/^sent <\(.*\)>.*/\1/p' "$T/out" | head -1)/" "$C/038-auto-submitted-gmail.eml" |
	sed "s/^In-Reply-To: .*/In-Reply-To: <a1.printer@customer.example>/; /^References/d" | tq deliver >"$T/out"
t_grep "ticket $A .*auto-reply" "$T/out" "auto-reply filed on A"
rm -f "$T/sent.eml"
echo "We got your mail." | tq reply "$A" --auto >"$T/out"
t_eq $? 0 "reply --auto to a robot exits 0"
t_grep "no automatic answer" "$T/out" "and says why"
[ ! -e "$T/sent.eml" ] && t_pass "nothing sent" || t_fail "an automatic answer went to a robot"
echo "We got your mail." | tq reply "$B" --auto >"$T/out"
t_eq $? 0 "reply --auto to a person"
t_grep "^Auto-Submitted: auto-replied" "$T/sent.eml" "marked auto-replied"
t_grep "^X-Auto-Response-Suppress: All" "$T/sent.eml" "asks robots to stay quiet"

# --- reply --to / --cc replace the recipients (repeatable, comma lists)
echo x | tq reply "$A" --to carol@customer.example,dave@customer.example \
	--cc erin@customer.example --cc 'Frank <Frank@customer.example>' >"$T/out"
t_eq $? 0 "reply --to --cc"
t_grep "^To: carol@customer.example, dave@customer.example$" "$T/sent.eml" "--to replaces To"
t_grep "^Cc: erin@customer.example, frank@customer.example$" "$T/sent.eml" "--cc replaces Cc"
t_eq "$(envelope)" "carol@customer.example dave@customer.example erin@customer.example frank@customer.example" "envelope follows"
echo x | tq reply "$A" --cc '' >"$T/out"
t_eq $? 0 "reply --cc ''"
t_nogrep "^Cc:" "$T/sent.eml" "--cc '': no Cc"
t_eq "$(envelope)" "alice@customer.example" "envelope: the requester only"
echo x | tq reply "$A" --to 'not an address' >"$T/out" 2>&1
t_eq $? 1 "--to garbage: usage"
t_grep "\-\-to: not an address list" "$T/out" "says which option"
echo x | tq_plain reply "$A" --cc HELP@tickets.test >"$T/out" 2>&1
t_eq $? 1 "--cc the queue itself: usage"
t_grep "queue's own address" "$T/out" "says it would loop"
echo x | tq_plain reply "$A" --to help >"$T/out" 2>&1
t_eq $? 1 "--to a bare name: usage"
t_grep "\-\-to: help: not a full address" "$T/out" "says why"
echo x | tq_plain reply "$A" --cc staff,bob@customer.example >"$T/out" 2>&1
t_eq $? 1 "--cc a bare name: usage"
echo x | tq reply "$A" --cc "$(seq -f 'u%g@customer.example' 1 101 | paste -sd, -)" >"$T/out" 2>&1
t_eq $? 1 "--cc 101 addresses: usage"
t_grep "\-\-cc: more than 100 addresses" "$T/out" "says so"
many=$(seq -f 'p%02g@customer.example' 1 25 | paste -sd, - | sed 's/,/, /g')
printf 'From: zoe@customer.example\nTo: help@tickets.test\nCc: help, staff, %s\nSubject: Many people\nMessage-ID: <many1@customer.example>\n\nHi.\n' "$many" |
	tq deliver >"$T/out"
M=$(sed -n 's/^ticketq: ticket \([0-9]*\).*/\1/p' "$T/out")
echo x | tq reply "$M" >"$T/out" 2>"$T/err"
t_eq $? 0 "reply to many participants"
t_nogrep "^Cc:.*(help|staff)(,|$)" "$T/sent.eml" "no bare names on the default Cc"
t_eq "$(envelope | wc -w | tr -d ' ')" 21 "envelope: the requester and 20 on the Cc"
t_eq "$(envelope | tr ' ' '\n' | grep '^p' | sed -n '1p;$p' | paste -sd' ' -)" \
	"p06@customer.example p25@customer.example" "the newest 20 participants"
t_grep "5 older participants left off the Cc.*--cc" "$T/err" "warns how many and about --cc"
printf 'From: yves@customer.example\nReply-To: help@tickets.test\nTo: help@tickets.test\nSubject: Loop me\nMessage-ID: <loop1@customer.example>\n\nHi.\n' |
	tq deliver >"$T/out"
L=$(sed -n 's/^ticketq: ticket \([0-9]*\).*/\1/p' "$T/out")
rm -f "$T/sent.eml"
echo x | tq reply "$L" >"$T/out" 2>&1
t_eq $? 2 "default To the queue itself: refused (2)"
t_grep "queue's own address.*--to" "$T/out" "says so and how to send"
[ ! -e "$T/sent.eml" ] && t_pass "nothing sent to the queue" || t_fail "a reply went to the queue itself"

# --- list mail is reported as list (stored kind and JSON: auto-reply)
tq deliver <"$C/042-list-id.eml" >"$T/out"
t_eq $? 0 "list mail stored"
t_grep "^ticketq: stored, no ticket \(list: List-Id: " "$T/out" "reported as list, not auto-reply"
t_eq "$(rows "SELECT kind || ' ' || flags FROM messages WHERE message_id = (SELECT message_id FROM messages ORDER BY id DESC LIMIT 1)")" "auto-reply list no-auto-answer" "stored kind unchanged, flagged list"

# --- close, reopen
tq close "$A" >"$T/out"
t_eq $? 0 "close"
t_eq "$(rows "SELECT status FROM tickets WHERE id = $A")" closed "closed"
tq close "$A" >"$T/out"
t_grep "already closed" "$T/out" "closing twice"
tq reopen "$A" >/dev/null
t_eq "$(rows "SELECT status FROM tickets WHERE id = $A")" open "reopened"
tq close "$A" >/dev/null

# --- reindex rebuilds the same from the Maildir, status included
snap() { "$PYTHON3" -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for r in c.execute("SELECT id, status, subject, flags FROM tickets ORDER BY id"): print(r)
for r in c.execute("SELECT dkey, ticket, kind FROM messages ORDER BY dkey"): print(r)
' "$Q/tickets.db"; }
while tq_plain next >/dev/null; do :; done
snap >"$T/snap1"
tq reindex >"$T/out"
t_eq $? 0 "reindex"
snap >"$T/snap2"
cmp -s "$T/snap1" "$T/snap2" && t_pass "same index after reindex" || {
	t_fail "reindex differs"; diff "$T/snap1" "$T/snap2" | head; }
t_eq "$(rows "SELECT status FROM tickets WHERE id = $A")" closed "status replayed from notes"
tq next >/dev/null
t_eq $? 3 "claimed events stay claimed"
rm -f "$Q/tickets.db" "$Q/tickets.db-journal"
tq reindex >"$T/out" 2>&1
t_eq $? 0 "reindex without an index"
snap >"$T/snap3"
cmp -s "$T/snap1" "$T/snap3" && t_pass "rebuilt from the Maildir alone" || t_fail "rebuild differs"
tq next >/dev/null
t_eq $? 3 "no flood of old events"
# a message in new/ the index never saw (crash between copy and index)
cp "$C/005-html-only.eml" "$Q/new/manually-restored"
tq reindex --missing >"$T/out"
t_grep "1 messages indexed" "$T/out" "reindex --missing picks it up"
tq next --json >"$T/out"
t_grep '"kind":.*"customer"' "$T/out" "and announces it"

# --- root works as the queue owner
t_need_reachable
chown -R nobody "$Q"
sed -i "s|^sendmail = .*|sendmail = /bin/true|" "$Q/ticketq.conf"
tq list >/dev/null
t_eq $? 0 "root lists a queue owned by nobody"
echo "x" | tq reply "$B" >/dev/null
t_eq "$(find "$Q" -user root | wc -l | tr -d ' ')" 0 "nothing in the queue owned by root"
t_done
