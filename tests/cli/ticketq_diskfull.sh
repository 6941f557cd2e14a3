#!/bin/sh
# ticketq_diskfull.sh - a full disk (a small tmpfs): `ticketq deliver`
# exits 75 so the MTA retries, nothing is half visible (no temp file,
# no half ticket, no stray attachment), the queue stays readable, and
# after space is freed the retry stores the message exactly once - also
# when the Maildir copy was made and only the index step ran out.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_diskfull
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
. "$srcdir/diskfull-lib.sh"
small_disk ticketq-diskfull
t_on_exit small_disk_unmount
Q=$M/q
C=$srcdir/data/ticketq/corpus

tq() { ticketq --queue "$Q" "$@"; }
count() { ls "$Q/$1" | wc -l | tr -d ' '; }
rows() { "$PYTHON3" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$Q/tickets.db" "$1"; }
# message NAME TEXT_KB ATTACH_KB - sized_message to the queue
message() { sized_message "$@" help@tickets.test; }

tq init --address help@tickets.test >/dev/null || t_fail "init on the tmpfs"
tq deliver <"$C/001-new-plain.eml" >/dev/null
t_eq $? 0 "a first message fits"

# 1. the message itself does not fit: nothing in new/, nothing in tmp/
message big 2500 0 >"$T/big.eml"
tq deliver <"$T/big.eml" >"$T/out"
t_eq $? 75 "no room for the message: 75"
t_grep "^4\.3\.0 ticketq: .*No space left on device" "$T/out" "says the disk is full"
t_eq "$(count new)" 1 "nothing new in the Maildir"
t_eq "$(count tmp)" 0 "no temp file left"

# 2. the Maildir copy fits, the index does not: 75, the raw copy stays
# (durable, invisible to the index), the retry finds it
message text 120 0 >"$T/text.eml"
fill_to 200
tq deliver <"$T/text.eml" >"$T/out"
t_eq $? 75 "room for the copy, not for the index: 75"
t_grep "^4\.3\.0 ticketq: " "$T/out" "a 4.3.0 deferral"
t_eq "$(count new)" 2 "the raw copy is durable"
t_eq "$(rows "SELECT count(*) FROM messages WHERE message_id = 'text@diskfull.test'")" 0 "no half-stored message"
t_eq "$(rows "SELECT count(*) FROM tickets")" 1 "no half-made ticket"
tq list >/dev/null
t_eq $? 0 "the queue stays readable"

# 3. the attachment does not fit: 75, no stray files, no rows
rm -f "$M/filler"
message att 1 150 >"$T/att.eml"
fill_to 300
tq deliver <"$T/att.eml" >"$T/out"
t_eq $? 75 "no room for the attachment: 75"
t_eq "$(find "$Q/files" -type f | wc -l | tr -d ' ')" 0 "no half-saved attachment"
t_eq "$(rows "SELECT count(*) FROM attachments")" 0 "no attachment rows"
t_eq "$(rows "PRAGMA integrity_check")" ok "index intact"
tq show "$(rows "SELECT id FROM tickets")" >/dev/null
t_eq $? 0 "show works on a full disk"

# space again: the retries store each message once
rm -f "$M/filler"
tq deliver <"$T/text.eml" >"$T/out"
t_eq $? 0 "retry after freeing space"
t_grep "raw copy kept from an earlier attempt" "$T/out" "the retry used the earlier copy"
tq deliver <"$T/att.eml" >"$T/out"
t_eq $? 0 "attachment retry"
tq deliver <"$T/text.eml" >"$T/out"
t_grep "duplicate" "$T/out" "a third delivery is a duplicate"
t_eq "$(grep -l 'text@diskfull.test' "$Q"/new/* | wc -l | tr -d ' ')" 1 "one copy in the Maildir"
t_eq "$(rows "SELECT count(*) FROM messages WHERE message_id = 'text@diskfull.test'")" 1 "one row in the index"
t_eq "$(find "$Q/files" -name 'dump*.bin' | wc -l | tr -d ' ')" 1 "one attachment file"
t_eq "$(rows "SELECT count(*) FROM tickets")" 3 "three tickets"
t_done
