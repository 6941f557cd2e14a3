#!/bin/sh
# broker-bench.sh - the token broker (oauthmail serve --listen) under
# load, printed as a table: N clients at once, each one connection and
# one TOKEN request, while M idle clients hold connections open (and,
# in the last row, while another account's refresh hangs 5 s at the
# identity provider).  Latency = connect to reply, per client.
# Target (issue 9): every normal request answered in under 1 s.
# usage: broker-bench.sh BUILDDIR SRCDIR
top_builddir=$1
top_srcdir=$2
builddir=$top_builddir/bench
srcdir=$top_srcdir/tests
export top_builddir top_srcdir builddir srcdir
. "$srcdir/lib.sh"
t_init broker-bench
mock_idp_start >/dev/null || exit 1
om_conf bench
om_authorize bench || { cat "$T/authorize.out"; exit 1; }
sed -n '/^\[account bench\]/,$p' "$OAUTHMAIL_CONF" | sed 's/^\[account bench\]/[account slow]/' >>"$OAUTHMAIL_CONF"
om_authorize slow || { cat "$T/authorize.out"; exit 1; }
"$OAUTHMAIL_BIN" serve --listen "$T/broker.sock" 2>"$T/broker.log" &
t_bg $!
n=0; while [ ! -S "$T/broker.sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done

echo "## token broker (oauthmail serve --listen)"
echo
echo "| clients at once | idle holders | other account refreshing | median | p99 | max | all OK | target: max < 1 s |"
echo "|---|---|---|---|---|---|---|---|"
row() {	# row CLIENTS IDLE SLOW(0|1)
	if [ "$3" = 1 ]; then
		om_edit_token "$T/tokens/slow.json" access_expires=now-10
		mock_ctl fail '{"kind": "delay_process", "endpoint": "token", "seconds": 5}' >/dev/null
	fi
	"$PYTHON3" - "$T/broker.sock" "$@" <<'EOP'
import socket, statistics, sys, threading, time
path, clients, idle, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
holders = []
for i in range(idle):
    s = socket.socket(socket.AF_UNIX); s.connect(path); holders.append(s)
if slow:
    hung = socket.socket(socket.AF_UNIX); hung.connect(path)
    hung.sendall(b"TOKEN slow\n"); time.sleep(0.2)
lat, ok, go = [], [], threading.Event()
def client():
    go.wait()
    t = time.perf_counter()
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(60)
    s.sendall(b"TOKEN bench\n")
    ok.append(s.makefile("rb").readline().startswith(b"OK "))
    lat.append(time.perf_counter() - t); s.close()
threads = [threading.Thread(target=client) for i in range(clients)]
for t in threads: t.start()
go.set()
for t in threads: t.join()
lat.sort()
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
print("| %d | %d | %s | %.1f ms | %.1f ms | %.1f ms | %d/%d | %s |" % (
    clients, idle, "yes (hangs 5 s)" if slow else "no",
    statistics.median(lat) * 1e3, p99 * 1e3, lat[-1] * 1e3, sum(ok), clients,
    "met" if lat[-1] < 1 and all(ok) else "MISSED"))
if slow:
    hung.settimeout(60); hung.makefile("rb").readline()
EOP
}
row 1 0 0
row 100 0 0
row 100 10 0
row 200 10 0
row 100 10 1
echo
