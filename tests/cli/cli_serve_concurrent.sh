#!/bin/sh
# cli_serve_concurrent.sh - the broker on a listening socket serves many
# connections at once: 100 concurrent clients are all answered while 10
# idle clients hold connections open the whole time; idle clients are
# dropped after the per-request deadline with a BAD line; over the
# connection cap a client gets "TEMP broker busy", never a silent drop;
# an overlong request gets BAD; and a refresh that hangs at the identity
# provider does not hold the answers for another account; and a
# pipelined request that starts a refresh while the last one's answer
# is handed out costs no other waiter its answer.
# (Speed is measured by bench/broker-bench.sh, not here: the only time
# bound is a sanity one.)
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_serve_concurrent
mock_idp_start || exit 1
om_conf support
om_authorize support || { t_fail "authorize"; cat "$T/authorize.out"; t_done; }
sed -n '/^\[account support\]/,$p' "$OAUTHMAIL_CONF" | sed 's/^\[account support\]/[account slow]/' >>"$OAUTHMAIL_CONF"
om_authorize slow || { t_fail "authorize slow"; cat "$T/authorize.out"; t_done; }

oauthmail serve --listen "$T/broker.sock" 2>"$T/broker.log" &
t_bg $!
n=0; while [ ! -S "$T/broker.sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
t_eq "$(stat -c %a "$T/broker.sock")" 600 "socket mode 0600 by default"

# 10 idle holders (one has sent half a request), then 100 clients at once
"$PYTHON3" - "$T/broker.sock" >"$T/concurrent.out" <<'PY'
import select, socket, sys, threading, time
path = sys.argv[1]
idle = []
for i in range(10):
    s = socket.socket(socket.AF_UNIX); s.connect(path); idle.append(s)
idle[0].sendall(b"TOKEN sup")
def alive(s):  # no data and no EOF yet: the broker still holds it
    return not select.select([s], [], [], 0)[0]
t0 = time.monotonic()
answers = []
def client():
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(60)
    s.sendall(b"TOKEN support\n")
    answers.append(s.makefile("rb").readline().split(b" ")[0])
    s.close()
threads = [threading.Thread(target=client) for i in range(100)]
for t in threads: t.start()
for t in threads: t.join()
took = time.monotonic() - t0
print("answered", len(answers), "ok", answers.count(b"OK"))
# the idle ones are dropped after 10 s: only meaningful when faster
print("idle held", sum(alive(s) for s in idle) if took < 9 else 10)
print("sane", int(took < 20))
# now wait for the idle holders to be dropped, each with a last word
words = []
for s in idle:
    s.settimeout(60)
    words.append(s.makefile("rb").readline().strip().decode())
print("dropped", words.count("BAD no complete request in time"))
PY
t_eq "$(sed -n 1p "$T/concurrent.out")" "answered 100 ok 100" "100 concurrent clients all answered OK"
t_eq "$(sed -n 2p "$T/concurrent.out")" "idle held 10" "10 idle clients held open meanwhile"
t_eq "$(sed -n 3p "$T/concurrent.out")" "sane 1" "within a generous bound (20 s)"
t_eq "$(sed -n 4p "$T/concurrent.out")" "dropped 10" "idle clients dropped after the deadline, with BAD"

# the connection cap: more than it, and every one over it hears why
"$PYTHON3" - "$T/broker.sock" >"$T/cap.out" <<'PY'
import select, socket, sys
path, socks = sys.argv[1], []
for i in range(300):
    s = socket.socket(socket.AF_UNIX); s.connect(path); socks.append(s)
s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(60)
last = s.makefile("rb").readline().decode().strip()  # the 301st
# connections are accepted in order: every earlier answer is in by now
said = select.select(socks, [], [], 0)[0]
busy = sum(x.recv(200).startswith(b"TEMP broker busy") for x in said)
print("busy", int(busy == len(said) and busy > 0),
      "held", int(len(socks) - len(said) >= 100), "last", last.split(":")[0])
PY
t_eq "$(cat "$T/cap.out")" "busy 1 held 1 last TEMP broker busy" "over the cap: TEMP broker busy, not a silent drop"
t_grep 'connections open \(the limit\)' "$T/broker.log" "the cap is logged"

# overlong request: BAD, then the connection ends
"$PYTHON3" - "$T/broker.sock" >"$T/long.out" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(60)
s.sendall(b"TOKEN " + b"a" * 400 + b"\n")
f = s.makefile("rb")
print(f.readline().decode().strip()); print(repr(f.read()))
PY
t_grep '^BAD request line too long' "$T/long.out" "overlong request: BAD"
t_eq "$(sed -n 2p "$T/long.out")" "b''" "and the connection ends"

# a refresh that hangs at the identity provider (account slow) holds
# nobody else: support is answered while slow still waits
om_edit_token "$T/tokens/slow.json" access_expires=now-10
mock_ctl reset_stats >/dev/null
mock_ctl fail '{"kind": "delay_process", "endpoint": "token", "seconds": 10}' >/dev/null
"$PYTHON3" - "$T/broker.sock" >"$T/slow.out" <<'PY'
import socket, sys, time
def ask(account):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(120)
    s.sendall(b"TOKEN " + account + b"\n"); return s
slow = ask(b"slow")
time.sleep(0.5)  # not a synchronisation: slow is asked first either way
fast = ask(b"support").makefile("rb").readline().split(b" ")[0]
slow.setblocking(False)
try:
    pending = slow.recv(100) == b""
except BlockingIOError:
    pending = True
print("support", fast.decode(), "while slow pending", int(pending))
slow.setblocking(True)
print("slow", slow.makefile("rb").readline().split(b" ")[0].decode())
PY
t_eq "$(sed -n 1p "$T/slow.out")" "support OK while slow pending 1" "a hanging refresh holds no other account"
t_eq "$(sed -n 2p "$T/slow.out")" "slow OK" "the slow refresh is answered when it is done"
t_eq "$(mock_stat grant.refresh_token)" 1 "one refresh"
# two clients wait for one refresh (slow, held 3 s at the identity
# provider); the first has pipelined a second request that needs a
# refresh too (support): answering it must not cost the second client
# its answer (a regression: it waited 60 s and got TEMP)
om_edit_token "$T/tokens/slow.json" access_expires=now-10
om_edit_token "$T/tokens/support.json" access_expires=now-10
mock_ctl reset_stats >/dev/null
mock_ctl fail '{"kind": "delay_process", "endpoint": "token", "seconds": 3}' >/dev/null
"$PYTHON3" - "$T/broker.sock" >"$T/pipelined.out" <<'PY'
import socket, sys, time
def ask(lines):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(120)
    s.sendall(lines); return s.makefile("rb")
first = ask(b"TOKEN slow\nTOKEN support\n")
second = ask(b"TOKEN slow\n")
t0 = time.monotonic()
word = lambda f: f.readline().split(b" ")[0].decode()
print("first", word(first), word(first), "second", word(second))
print("prompt", int(time.monotonic() - t0 < 50))
PY
t_eq "$(sed -n 1p "$T/pipelined.out")" "first OK OK second OK" "a pipelined refresh does not take the other waiter's answer"
t_eq "$(sed -n 2p "$T/pipelined.out")" "prompt 1" "and nobody waits for the refresh deadline (60 s)"
t_eq "$(mock_stat grant.refresh_token)" 2 "one refresh per account"
t_keep_log "$T/broker.log"
t_done
