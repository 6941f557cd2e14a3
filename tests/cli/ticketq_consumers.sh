#!/bin/sh
# ticketq_consumers.sh - consumers lose no event (issue 12, item 4):
# 300 events, 3 consumer loops each doing `next --lease 2` (the text
# form: "event N claim TOKEN ..."), recording the event as processed,
# then `ack N --claim TOKEN`, while a chaos loop kill -9s a consumer
# (the loop and its running ticketq) after every few acks plus a random
# few ms - wherever it is: in next, between claim and ack, in ack - and
# starts it again.  In the end every event is acknowledged and was
# processed at least once; an event processed twice always has a claim
# of a killed consumer (or one refused with 5) among its records; each
# killed consumer left at most one unacknowledged record.  Kills follow
# progress (acks), not the clock, so the run does not depend on speed.
# Under OAUTHMAIL_VALGRIND=1: 15 events, an 8 s lease, and an exit 99
# (a valgrind error) of next or ack fails the test.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_consumers
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
N=300 LEASE=2 KMAX=10 LIMIT=120
[ -n "${OAUTHMAIL_VALGRIND:-}" ] && N=15 LEASE=8 KMAX=3 LIMIT=600
CONSUMERS="1 2 3"
Q=$T/q
L=$T/log
mkdir -p "$L" "$T/pids"
: >"$L/acked"
"$TICKETQ_BIN" --queue "$Q" init --address help@tickets.test >/dev/null || t_fail "init"

# N new tickets: N events.  The setup is not under test: the plain binary.
i=0
while [ "$i" -lt "$N" ]; do
	printf 'From: user%d@customer.example\nTo: help@tickets.test\nMessage-ID: <consumer-%d@test>\nSubject: question %d\n\nmessage %d\n' \
		"$i" "$i" "$i" "$i" | "$TICKETQ_BIN" --queue "$Q" deliver >/dev/null || t_fail "deliver $i"
	i=$((i + 1))
done

pending() {
	"$PYTHON3" 2>/dev/null -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=60).execute("SELECT count(*) FROM events WHERE acked IS NULL").fetchone()[0])' "$Q/tickets.db"
}

# tq C ARGS... - ticketq for consumer C (generation $g), its pid in
# pids/child.C (for the chaos loop), its output in $T/out.C.G (a file
# per generation: an orphan of a killed one may still write); the exit
# code
tq() {
	c=$1
	shift
	(ticketq_exec --queue "$Q" "$@" --consumer "c$c" >"$T/out.$c.$g" 2>>"$L/err.$c") &
	echo $! >"$T/pids/child.$c"
	wait $!
}

# consumer C G - consumer C, generation G (G+1 after each kill).
# Every line it logs: "event claim C.G".
consumer() {
	c=$1 g=$2
	while :; do
		tq "$c" next --lease "$LEASE"
		rc=$?
		if [ "$rc" -eq 3 ]; then
			[ "$(pending)" -eq 0 ] && break
			sleep 0.1 # leases of killed consumers still running
			continue
		fi
		[ "$rc" -eq 0 ] || { echo "next $rc" >>"$L/retries"; continue; }
		read -r _ ev _ claim _ <"$T/out.$c.$g"
		echo "$ev $claim $c.$g" >>"$L/processed"
		sleep 0.002 # the work
		while :; do # an ack that failed (busy, killed) is tried again
			tq "$c" ack "$ev" --claim "$claim"
			rc=$?
			[ "$rc" -eq 0 ] && { echo "$ev $claim $c.$g" >>"$L/acked"; break; }
			[ "$rc" -eq 5 ] && { echo "$ev $claim $c.$g" >>"$L/refused"; break; }
			echo "ack $rc" >>"$L/retries"
			[ "$rc" -eq 1 ] && break # a bad line from next: the check fails
		done
	done
	: >"$T/exit.$c.$g"
}

start() {
	consumer "$1" "$2" &
	echo "$! $2" >"$T/pids/shell.$1"
}

lines() { cat "$@" 2>/dev/null | wc -l | tr -d ' '; }
acks() { wc -l <"$L/acked"; } # one process: the chaos loop polls it
rand() { echo $(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1)); }

# kill_consumer C - kill -9 consumer C's loop and its ticketq, start
# the next generation (only our own processes, checked in /proc)
kill_consumer() {
	read -r shell g <"$T/pids/shell.$1"
	[ -e "$T/exit.$1.$g" ] && return # done already
	child=$(cat "$T/pids/child.$1")
	kill -9 "$shell" 2>/dev/null || return
	if { tr '\0' ' ' <"/proc/$child/cmdline"; } 2>/dev/null | grep -q -- "--consumer c$1 "; then
		kill -9 "$child" 2>/dev/null
	fi
	echo "$1.$g" >>"$L/killed"
	start "$1" $((g + 1))
}

# chaos: after K more acks (1..KMAX) and 0..99 ms, a kill
chaos() {
	while [ ! -e "$T/stop" ]; do
		want=$(($(acks) + 1 + $(rand "$KMAX")))
		while [ "$(acks)" -lt "$want" ] && [ ! -e "$T/stop" ]; do
			sleep 0.01
		done
		[ -e "$T/stop" ] && break
		sleep "0.0$(rand 10)$(rand 10)"
		kill_consumer "$(($(rand 3) + 1))"
	done
}

started=$(date +%s)
for c in $CONSUMERS; do start "$c" 0; done
chaos &
chaos_pid=$!
t_bg $chaos_pid
# the end: every consumer's last generation has finished
while :; do
	left=0
	for c in $CONSUMERS; do
		read -r _ g <"$T/pids/shell.$c"
		[ -e "$T/exit.$c.$g" ] || left=1
	done
	[ "$left" -eq 0 ] && [ "$(pending)" -eq 0 ] && break
	if [ $(($(date +%s) - started)) -gt "$LIMIT" ]; then
		t_fail "not done after $LIMIT s: $(pending) events unacknowledged"
		break
	fi
	sleep 0.2
done
touch "$T/stop"
wait $chaos_pid 2>/dev/null
for c in $CONSUMERS; do
	read -r shell _ <"$T/pids/shell.$c"
	kill -9 "$shell" 2>/dev/null # only after a timeout
done
secs=$(($(date +%s) - started))

"$PYTHON3" - "$Q/tickets.db" "$L" "$N" >"$T/check" <<'PY'
import collections, os, sqlite3, sys
db, logdir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def records(name):
    path = os.path.join(logdir, name)
    if not os.path.exists(path):
        return []
    return [tuple(l.split()) for l in open(path) if l.strip()]

processed, acked, refused = records("processed"), records("acked"), records("refused")
killed = {r[0] for r in records("killed")}
c = sqlite3.connect(db)
events = {r[0]: r[1:] for r in c.execute(
    "SELECT id, acked, acked_by FROM events")}
bad = []
if len(events) != n:
    bad.append("%d events, not %d" % (len(events), n))
bad += ["event %d not acknowledged" % e for e, (a, _) in events.items() if a is None]
bad += ["event %d acknowledged by %s" % (e, by) for e, (_, by) in events.items()
        if by not in ("c1", "c2", "c3")]
seen = collections.Counter(int(r[0]) for r in processed)
bad += ["event %d never processed" % e for e in events if seen[e] == 0]
done = collections.Counter(int(r[0]) for r in acked)
bad += ["event %d acknowledged twice with a claim" % e for e, k in done.items() if k > 1]
acked_claims = {r[1] for r in acked}
refused_claims = {r[1] for r in refused}
open_by_gen = collections.Counter()
for ev, claim, gen in processed:
    if claim in acked_claims:
        continue
    if claim not in refused_claims and gen not in killed:
        bad.append("event %s: claim %s of %s not acknowledged, not killed" % (ev, claim, gen))
    open_by_gen[gen] += claim not in refused_claims
bad += ["consumer %s left %d records unacknowledged" % (g, k)
        for g, k in open_by_gen.items() if k > 1]
dups = sum(k - 1 for k in seen.values() if k > 1)
print("kills: %d" % len(killed))
print("duplicates: %d (events processed twice: %d)" % (
    dups, sum(1 for k in seen.values() if k > 1)))
print("refused stale acks: %d" % len(refused))
print("records: %d processed, %d acknowledged" % (len(processed), len(acked)))
print("integrity: %s" % c.execute("PRAGMA integrity_check").fetchone()[0])
for b in bad[:20]:
    print("BAD " + b)
print("bad: %d" % len(bad))
PY
cat "$T/check"
echo "retries: $(lines "$L/retries"), $secs s"
t_grep "^bad: 0$" "$T/check" "every event acknowledged, processed at least once, duplicates only for killed claims"
t_grep "^integrity: ok$" "$T/check" "index intact"
kills=$(sed -n 's/^kills: //p' "$T/check")
if [ "${kills:-0}" -gt 0 ]; then t_pass "the chaos loop killed consumers"; else
	t_fail "no consumer was killed"; fi
dups=$(sed -n 's/^duplicates: \([0-9]*\).*/\1/p' "$T/check")
refused=$(sed -n 's/^refused stale acks: //p' "$T/check")
if [ "${dups:-0}" -le $((${kills:-0} + ${refused:-0})) ]; then
	t_pass "no more duplicates than kills and refused acks"
else
	t_fail "$dups duplicates for $kills kills, $refused refused acks"
fi
: >>"$L/retries"
t_nogrep " 99$" "$L/retries" "no valgrind error in next or ack"
t_done
