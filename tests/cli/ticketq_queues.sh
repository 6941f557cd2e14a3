#!/bin/sh
# ticketq_queues.sh - `ticketq deliver --queues FILE --recipient ADDR`:
# two queues and a domain catch-all in one map; mail to each address
# (any case, with a +extension) lands in its queue and only there; an
# unknown recipient exits 67 with 5.1.1; a missing or broken map, or
# --queues without --recipient, exits 75 (the MTA keeps the mail) with
# the map's FILE:LINE; as root, each delivery runs as its queue's owner.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_queues
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
M=$T/queues
n=0
umask 022 # as root, deliver refuses a map that others than root may edit

# msg RCPT - message number $n to RCPT on stdout (callers count n up:
# a pipeline runs msg in a subshell)
msg() {
	printf 'From: Customer <customer%s@example.net>\nTo: %s\n' "$n" "$1"
	printf 'Subject: question %s\nMessage-ID: <q%s.%s@example.net>\n' \
		"$n" "$n" "$$"
	printf 'Date: Wed, 2 Dec 2026 08:00:00 +0000\n\nHello, %s.\n' "$n"
}
# deliver RCPT [ARGS...] - one message to RCPT through the map $M;
# deliver_map MAP RCPT [ARGS...] - the same through MAP
deliver_map() {
	map=$1
	r=$2
	shift 2
	n=$((n + 1))
	msg "$r" | ticketq deliver --queues "$map" --sender customer@example.net \
		--recipient "$r" "$@" >"$T/out" 2>"$T/err"
}
deliver() { deliver_map "$M" "$@"; }
count() { ls "$T/$1/new" | wc -l | tr -d ' '; }
counts() { echo "$(count support) $(count sales) $(count other)"; }

for q in support sales other; do
	ticketq --queue "$T/$q" init --address "$q@tickets.test" >"$T/out" 2>&1
	t_eq $? 0 "init $q"
done
cat >"$M" <<EOF
# the queue map: ADDRESS DIRECTORY
support@tickets.test   $T/support
Sales@Tickets.Test     $T/sales

@tickets.test          $T/other
EOF

# --- each address to its queue, and only there
deliver support@tickets.test
t_eq $? 0 "support@ stored"
t_grep "^ticketq: ticket [0-9]{6,} \(new" "$T/out" "says which ticket"
t_eq "$(counts)" "1 0 0" "support@ into support only"
deliver SUPPORT@Tickets.TEST
t_eq $? 0 "upper case stored"
t_eq "$(counts)" "2 0 0" "case does not matter"
deliver support+urgent@tickets.test
t_eq $? 0 "+extension stored"
t_eq "$(counts)" "3 0 0" "support+urgent@ into support"
deliver sales@tickets.test
t_eq $? 0 "sales@ stored"
t_eq "$(counts)" "3 1 0" "sales@ (map in mixed case) into sales"
deliver sales+eu@TICKETS.test
t_eq "$(counts)" "3 2 0" "sales+eu@ into sales"
deliver billing@tickets.test
t_eq $? 0 "catch-all stored"
t_eq "$(counts)" "3 2 1" "billing@ into the catch-all"
# --queues wins over $TICKETQ_QUEUE and --queue
TICKETQ_QUEUE=$T/other
export TICKETQ_QUEUE
deliver sales@tickets.test --queue "$T/other"
unset TICKETQ_QUEUE
t_eq "$(counts)" "3 3 1" "the map chooses, not --queue or \$TICKETQ_QUEUE"
ticketq --queue "$T/support" list >"$T/list"
t_eq "$(grep -c 'question' "$T/list")" 3 "support lists its three"

# --- unknown recipient: 67 with 5.1.1, nothing stored
deliver help@example.org
t_eq $? 67 "unknown domain: 67 (EX_NOUSER)"
t_grep "^5\.1\.1 <help@example\.org>: no ticket queue for this recipient \(add it to $M\)$" \
	"$T/out" "says 5.1.1 and where to add it"
deliver nobody
t_eq $? 67 "not an address: 67"
t_eq "$(counts)" "3 3 1" "nothing stored for them"

# --- usage and map faults: 75, the mail stays with the MTA
n=$((n + 1))
msg support@tickets.test | ticketq deliver --queues "$M" >"$T/out" 2>"$T/err"
t_eq $? 75 "--queues without --recipient: 75"
t_grep "^4\.3\.5 " "$T/out" "with 4.3.5"
t_grep "needs --recipient" "$T/err" "says what is missing"
deliver_map "$T/missing" support@tickets.test
t_eq $? 75 "missing map: 75"
t_grep "^4\.3\.5 ticketq: $T/missing: no such file" "$T/out" "names the map"
printf 'support@tickets.test %s\nsales@tickets.test sales\n' "$T/support" >"$T/bad"
deliver_map "$T/bad" support@tickets.test
t_eq $? 75 "bad map: 75"
t_grep "^4\.3\.5 ticketq: $T/bad:2: the queue directory must be an absolute path" \
	"$T/out" "with FILE:LINE and why"
printf 'support@tickets.test %s\nSUPPORT@tickets.test %s\n' "$T/support" \
	"$T/sales" >"$T/bad"
deliver_map "$T/bad" support@tickets.test
t_eq $? 75 "address twice: 75"
t_grep "$T/bad:2: 'support@tickets\.test' is already mapped on line 1" \
	"$T/out" "names both lines"
printf 'support@tickets.test %s\n' "$T/nowhere" >"$T/gone"
deliver_map "$T/gone" support@tickets.test
t_eq $? 75 "mapped queue missing: 75"
t_grep "^4\.3\.5 ticketq: .*not a ticket queue" "$T/out" "says the queue is missing"
t_eq "$(counts)" "3 3 1" "nothing stored by any of them"

# --- the shipped example map is valid (67: parsed, no queue for this)
deliver_map "$top_srcdir/docs/examples/ticketq-queues" help@example.org
t_eq $? 67 "docs/examples/ticketq-queues parses"
t_grep "^5\.1\.1 <help@example\.org>" "$T/out" "and has no queue for example.org"

# --- as root: each delivery runs as the owner of the queue it chose
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	t_need_reachable
	chown -R nobody "$T/sales"
	chmod 0644 "$M"
	deliver sales+root@tickets.test
	t_eq $? 0 "root delivers into a queue owned by nobody"
	t_eq "$(counts)" "3 4 1" "into sales"
	t_eq "$(find "$T/sales" -user root | wc -l | tr -d ' ')" 0 \
		"nothing in sales owned by root"
	t_eq "$(find "$T/sales/new" -user nobody -type f | wc -l | tr -d ' ')" 4 \
		"the new message belongs to nobody"
	deliver support+root@tickets.test
	t_eq $? 0 "root delivers into support (owned by root)"
	t_eq "$(find "$T/support" -user nobody | wc -l | tr -d ' ')" 0 \
		"nothing in support owned by nobody"
	# whoever may edit the map chooses the queue, and so the user
	chmod 0664 "$M"
	deliver support+root@tickets.test
	t_eq $? 75 "root refuses a group-writable map: 75"
	t_grep "^4\.3\.5 ticketq: $M: writable by others than root.*chmod go-w" \
		"$T/out" "says so and the fix"
	chmod 0644 "$M"
	chown nobody "$M"
	deliver support+root@tickets.test
	t_eq $? 75 "root refuses a map owned by another user: 75"
	chown root "$M"
fi
t_done
