#!/bin/sh
# ticketq_lmtp_diskfull.sh - a full disk (a small tmpfs) under `ticketq
# lmtp`: a message that does not fit gets 452 4.3.1 (Postfix retries),
# the server and the session go on, nothing is half visible (no temp
# file, no ticket without its message, no attachment file without its
# row); when only the index or the attachments run out of room a 4xx
# too; once space is freed the resend stores each message exactly once;
# two sessions at once on the full disk both get 4xx; SIGTERM, exit 0.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_lmtp_diskfull
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
. "$srcdir/diskfull-lib.sh"
small_disk ticketq-lmtp-diskfull
CLIENT="$PYTHON3 $srcdir/mock/lmtp_client.py"
Q=$M/q
SPID=""

# the server first (it has the queue open), then the tmpfs; a failed
# run keeps a copy of the queue in $T/queue
unmount() {
	if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
	[ "$t_failed" -eq 0 ] || cp -a "$Q" "$T/queue" 2>/dev/null
	small_disk_unmount
}
t_on_exit unmount

tq() { ticketq --queue "$Q" "$@"; }
# state NAME... - the queue as it is, one python3 for all (a start
# costs 0.2 s on a busy machine), into $T/state; st KEY reads it:
#   copies.NAME  Maildir files (new/, cur/) with its Message-ID, index rows
#   new cur tmp files  files in those folders (files/: attachments)
#   tickets messages attachments  rows
#   half  what would be half visible: tickets without a message,
#         messages without their Maildir file, files under files/
#         without their attachments row
#   integrity  PRAGMA integrity_check
state() {
	"$PYTHON3" - "$Q" "$@" >"$T/state" <<'PY' || echo "state failed" >>"$T/state"
import os, sqlite3, sys
q = sys.argv[1]
db = sqlite3.connect(os.path.join(q, "tickets.db"), timeout=20)
one = lambda sql, *a: db.execute(sql, a).fetchone()[0]
def files(d):
    return [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(q, d)) for f in fs]
maildir = files("new") + files("cur")
for name in sys.argv[2:]:
    mid = "<%s@diskfull.test>" % name
    n = 0
    for f in maildir:
        with open(f, "rb") as fh:
            n += any(ln.strip() == b"Message-ID: " + mid.encode() for ln in fh)
    print("copies.%s %d,%d" % (name, n, one("SELECT count(*) FROM messages"
                                          " WHERE message_id = ?", mid[1:-1])))
for d in ("new", "cur", "tmp", "files"):
    print(d, len(files(d)))
for t in ("tickets", "messages", "attachments"):
    print(t, one("SELECT count(*) FROM " + t))
half = one("SELECT count(*) FROM tickets WHERE id NOT IN"
           " (SELECT ticket FROM messages WHERE ticket IS NOT NULL)")
half += sum(not os.path.exists(os.path.join(q, f))
            for (f,) in db.execute("SELECT file FROM messages"))
paths = set(p for (p,) in db.execute("SELECT path FROM attachments"))
half += sum(os.path.relpath(f, q) not in paths for f in files("files"))
print("half", half)
print("integrity", one("PRAGMA integrity_check"))
PY
}
st() { sed -n "s/^$1 //p" "$T/state"; }
# messages NAME:TEXT_KB:ATTACH_KB... - $T/NAME.eml for each (sized_message)
messages() {
	for spec in "$@"; do
		IFS=: read -r name text att <<EOS
$spec
EOS
		sized_message "$name" "$text" "$att" support@tickets.test >"$T/$name.eml" || return 1
	done
}
# session NAME - one LMTP session, pipelined: the message NAME, then
# NOOP, RSET, QUIT; the replies from DATA's 354 on, codes only, in a
# line ("250 2.0.0,250 2.0.0,250 2.0.0,221 2.0.0,": stored, NOOP, RSET)
session() {
	{ printf 'LHLO client.test\r\nMAIL FROM:<sender@client.test>\r\n'
	  printf 'RCPT TO:<support@tickets.test>\r\nDATA\r\n'
	  sed -e 's/^\./../' -e 's/$/\r/' "$T/$1.eml"
	  printf '.\r\nNOOP\r\nRSET\r\nQUIT\r\n'; } |
		$CLIENT "$A" raw >"$T/$1.out"
	sed '1,/^354 /d' "$T/$1.out" | cut -c 1-9 | tr '\n' ,
}
# deferred NAME WHAT - session NAME: 452 or 451 4.3.x for the message,
# and the session goes on (NOOP, RSET 250)
deferred() {
	r=$(session "$1")
	case $r in
	"45"[12]" 4.3."?",$AFTER") t_pass "$2: ${r%%,*}" ;;
	*) t_fail "$2: got '$r' want 452/451 4.3.x, then $AFTER"; t_show "$T/$1.out" ;;
	esac
}

tq init --address support@tickets.test >/dev/null || t_fail "init on the tmpfs"
(ticketq_exec --queue "$Q" lmtp --listen inet:127.0.0.1:0 --timeout 20) \
	>"$T/server.out" 2>"$T/server.err" &
SPID=$!
t_keep_log "$T/server.err"
t_wait_grep "^listening on port" "$T/server.out" 60 ||
	{ t_fail "server did not start"; t_show "$T/server.err"; t_done; }
A=127.0.0.1:$(sed -n 's/^listening on port //p' "$T/server.out")

messages first:1:0 nofit:60:40 text:120:0 att:1:150 conc1:40:0 conc2:30:10 ||
	t_fail "messages"
ALL="first nofit text att conc1 conc2"
AFTER="250 2.0.0,250 2.0.0,221 2.0.0," # NOOP, RSET, QUIT after the reply

# 1. a message that fits
t_eq "$(session first)" "250 2.0.0,$AFTER" "a message that fits: 250"
state first
t_eq "$(st copies.first)" 1,1 "stored"

# 2. the disk full, the message does not fit: 452 4.3.1, nothing of it
# anywhere, the session goes on
fill_to 16
t_eq "$(session nofit)" "452 4.3.1,$AFTER" "no room: 452 4.3.1, then NOOP and RSET 250"
t_grep "^452 4\.3\.1 ticketq: .*No space left on device" "$T/nofit.out" \
	"the reply says the disk is full"
state nofit
t_eq "$(st new),$(st cur),$(st tmp)" 1,0,0 "nothing new in new/ or cur/, nothing left in tmp/"
t_eq "$(st copies.nofit)" 0,0 "no copy, no row"
t_eq "$(st files),$(st attachments)" 0,0 "no attachment file, no attachment row"
t_eq "$(st tickets),$(st messages)" 1,1 "the index as before"

# 3. room for the Maildir copy, not for the index (a: the text) or the
# attachment files (b): a 4xx; the raw copy durable in new/ for the
# retry, not indexed; no file under files/, no half-made ticket
rm -f "$M/filler"
fill_to 200
deferred text "room for the copy, not for the index"
rm -f "$M/filler"
fill_to 300
deferred att "room for the copy, not for the attachment"
state text att
t_eq "$(st copies.text)" 1,0 "text: the raw copy is in new/, not in the index"
t_eq "$(st copies.att)" 1,0 "att: likewise"
t_eq "$(st files),$(st attachments)" 0,0 "no half-saved attachment, no attachment row"
t_eq "$(st tickets),$(st messages),$(st tmp)" 1,1,0 "no half-made ticket, nothing in tmp/"
t_eq "$(st half)" 0 "nothing half visible"
t_eq "$(st integrity)" ok "index intact"

# 4. two sessions at once on the full disk: a 4xx each, the server goes on
fill_to 8
$CLIENT "$A" send --sessions 2 "$T/conc1.eml" "$T/conc2.eml" >"$T/conc.out" 2>&1
t_eq $? 1 "two sessions on a full disk: not delivered"
t_eq "$(grep -c -E '\.eml 4[0-9][0-9] 4\.[0-9]\.[0-9] ' "$T/conc.out")" 2 "a 4xx for each"
state conc1 conc2
t_eq "$(st copies.conc1),$(st copies.conc2),$(st tmp)" 0,0,0,0,0 \
	"nothing of them stored, nothing in tmp/"
t_eq "$(st tickets),$(st files),$(st half)" 1,0,0 "nothing half visible"
kill -0 "$SPID" 2>/dev/null
t_eq $? 0 "the server survives"

# 5. space again: every message resent in a new session, 250 each,
# each stored exactly once (the raw copies from 3. reused)
rm -f "$M/filler"
$CLIENT "$A" send $(for n in $ALL; do echo "$T/$n.eml"; done) >"$T/resend.out" 2>&1
t_eq $? 0 "the resend after freeing space: every message 250"
t_eq "$(grep -c '\.eml 250 2\.0\.0 ' "$T/resend.out")" 6 "a 250 for each"
t_grep "first\.eml 250 2\.0\.0 Duplicate" "$T/resend.out" "the first one a duplicate"
state $ALL
for n in $ALL; do
	t_eq "$(st "copies.$n")" 1,1 "$n: one copy in the Maildir, one row"
done
t_eq "$(st files),$(st attachments)" 3,3 "one file and one row per attachment (nofit, att, conc2)"
t_eq "$(st tickets),$(st messages),$(st tmp),$(st half)" 6,6,0,0 "six tickets, nothing half visible"

kill -TERM "$SPID"
wait "$SPID"
t_eq $? 0 "SIGTERM stops the server, exit 0"
SPID=""
t_nogrep "LeakSanitizer|AddressSanitizer|runtime error|==[0-9]+==" "$T/server.err" \
	"no sanitizer or valgrind report in the server's log"
t_done
