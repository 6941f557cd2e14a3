#!/bin/sh
# ticketq_fsize.sh - `ticketq deliver` under a file-size limit (`ulimit
# -f`, as Postfix local(8) sets it from mailbox_size_limit): not killed
# by SIGXFSZ (exit 153) but 75 with the limit and the file named, and
# nothing half visible - no stray file in tmp/, no ticket without its
# message - whether the limit hits the Maildir copy or the SQLite index.
# After the limit is lifted the retry stores the message exactly once.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_fsize
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
Q=$T/q
C=$srcdir/data/ticketq/corpus

tq() { ticketq --queue "$Q" "$@"; }
count() { ls "$Q/$1" | wc -l | tr -d ' '; }
rows() { "$PYTHON3" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$Q/tickets.db" "$1"; }

# The unit of this shell's `ulimit -f` (dash: 512-byte blocks, bash:
# 1024): write 1500 bytes under a limit of 2 units and see what stayed.
(ulimit -f 2 && head -c 1500 /dev/zero >"$T/probe"; true) 2>/dev/null
BLOCK=$(($(wc -c <"$T/probe") / 2))
[ "$BLOCK" -eq 512 ] || [ "$BLOCK" -eq 1024 ] || t_skip "ulimit -f unit unknown ($BLOCK)"
# limited BYTES FILE: ticketq deliver < FILE with a file-size limit of
# BYTES, output in $T/out, the exit status in $T/rc (the binary itself:
# valgrind would run into the limit first)
limited() {
	(
		ulimit -f $(($1 / BLOCK)) || exit 99
		"$TICKETQ_BIN" --queue "$Q" deliver --recipient help@tickets.test <"$2" >"$T/out" 2>&1
		echo $? >"$T/rc"
	) 2>/dev/null
	cat "$T/rc"
}
message() { # NAME KB: a plain message of about KB kilobytes
	"$PYTHON3" - "$@" <<'PY'
import sys
name, kb = sys.argv[1], int(sys.argv[2])
sys.stdout.write("From: carla@customer.example\nTo: help@tickets.test\n"
                 "Subject: fsize %s\nMessage-ID: <%s@fsize.test>\n\n%s"
                 % (name, name, ("text " * 20 + "\n") * (kb * 10)))
PY
}

tq init --address help@tickets.test >/dev/null || t_fail "init"
tq deliver <"$C/001-new-plain.eml" >/dev/null
t_eq $? 0 "a first message, no limit"

# 1. the Maildir copy runs into the limit: 75, its temp file removed
message big 64 >"$T/big.eml"
t_eq "$(limited 16384 "$T/big.eml")" 75 "limit hits the Maildir copy: 75, not killed by SIGXFSZ"
t_grep "^4\.3\.0 ticketq: write $Q/tmp/[^:]+: File too large: over this process's file-size limit of 16384 bytes \(ulimit -f" "$T/out" "names the file and the limit"
t_eq "$(count tmp)" 0 "no partial file left in tmp/"
t_eq "$(count new)" 1 "nothing new in the Maildir"

# 2. the copy fits, the index (tickets.db and its journal, bigger than
# the limit) does not: 75, the raw copy durable in new/, no rows
message small 2 >"$T/small.eml"
size=$(wc -c <"$Q/tickets.db")
[ "$size" -gt 8192 ] || t_fail "tickets.db is only $size bytes: the test needs more"
t_eq "$(limited 8192 "$T/small.eml")" 75 "limit hits the index: 75"
t_grep "^4\.3\.0 ticketq: tickets\.db: .*File too large: over this process's file-size limit of 8192 bytes" "$T/out" "says the index ran into the limit"
t_eq "$(count tmp)" 0 "no stray file in tmp/"
t_eq "$(count new)" 2 "the raw copy is durable"
t_eq "$(rows "PRAGMA integrity_check")" ok "index intact"
t_eq "$(rows "SELECT count(*) FROM messages WHERE message_id = 'small@fsize.test'")" 0 "no half-stored message"
t_eq "$(rows "SELECT count(*) FROM tickets")" 1 "no ticket without its message"
tq list >/dev/null
t_eq $? 0 "the queue stays readable"

# the limit lifted: each retry stores its message once
tq deliver <"$T/small.eml" >"$T/out"
t_eq $? 0 "retry without the limit"
t_grep "raw copy kept from an earlier attempt" "$T/out" "the retry used the earlier copy"
tq deliver <"$T/big.eml" >/dev/null
t_eq $? 0 "the big one too"
t_eq "$(rows "SELECT count(*) FROM messages WHERE message_id = 'small@fsize.test'")" 1 "one row in the index"
t_eq "$(count new)" 3 "one copy each in the Maildir"
t_eq "$(rows "SELECT count(*) FROM tickets")" 3 "three tickets"
# reindex under a limit its new index does not fit: an error, not
# SIGXFSZ (153), and the old index untouched
(
	ulimit -f $((8192 / BLOCK)) || exit 99
	"$TICKETQ_BIN" --queue "$Q" reindex >"$T/out" 2>&1
	echo $? >"$T/rc"
) 2>/dev/null
rc=$(cat "$T/rc")
t_eq "$([ "$rc" -ne 0 ] && [ "$rc" -ne 153 ] && echo error)" error "reindex over the limit: an error (exit $rc), not killed"
t_eq "$(rows "SELECT count(*) FROM tickets")" 3 "reindex over the limit: the index is as it was"
t_eq "$(rows "PRAGMA integrity_check")" ok "reindex over the limit: index intact"
t_done
