#!/bin/sh
# ticketq-bench.sh TICKETQ CORPUS_DIR - deliveries per second into a
# fresh ticket queue (full parsing and indexing) side by side with plain
# Maildir delivery on the same mixed corpus in the same run:
#   maildrop             a process per message, raw Maildir copy
#   ticketq deliver      a process per message (pipe(8), fetchmail mda)
#   ticketq lmtp         one server, 1 and 10 concurrent LMTP sessions
#   dovecot-lmtp         Dovecot's lmtp into a Maildir, 10 sessions: the
#                        LMTP reference (a private instance, UNIX socket)
# then the peak RSS (VmHWM) of the 10-session ticketq lmtp server after
# BENCH_LMTP_RSS_MESSAGES (default 10000) more messages, and of maildrop
# and `ticketq deliver` for one 50 MB message.  Prints a table, each
# figure next to its target (issue 12): deliver >= 0.8x maildrop; lmtp
# with 10 sessions >= 3x maildrop and >= 1x dovecot-lmtp; RSS < 32 MB.
#
# The kinds run in alternating rounds so a busy machine slows all alike;
# the rate is messages / wall time summed over the rounds.  The LMTP
# client is tests/mock/lmtp_client.py (a reply per recipient, as
# Postfix's lmtp(8)); its sessions connect anew in each round.
# BENCH_MESSAGES (default 400) and BENCH_ROUNDS (default 8) tune it.
set -u
TQ=${1:?usage: ticketq-bench.sh TICKETQ CORPUS_DIR}
CORPUS=${2:?usage: ticketq-bench.sh TICKETQ CORPUS_DIR}
N=${BENCH_MESSAGES:-400}
ROUNDS=${BENCH_ROUNDS:-8}
RSS_N=${BENCH_LMTP_RSS_MESSAGES:-10000}
PY=${PYTHON3:-python3}
MOCK=$(cd "$(dirname "$0")/../tests/mock" && pwd)
MAILDROP=$(command -v maildrop || echo /usr/bin/maildrop)
DOVECOT=$(PATH=$PATH:/usr/sbin:/sbin command -v dovecot || echo /usr/sbin/dovecot)
[ -x "$TQ" ] || { echo "ticketq-bench: $TQ not built"; exit 1; }
[ -x "$MAILDROP" ] || { echo "ticketq-bench: maildrop not installed (apt-get install maildrop)"; exit 1; }
[ -f "$MOCK/lmtp_client.py" ] || { echo "ticketq-bench: no $MOCK/lmtp_client.py"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/var/tmp}/ticketq-bench.XXXXXX")
trap 'kill ${LMTP_PID_1:-} ${LMTP_PID_10:-} 2>/dev/null; dovecot_stop; rm -rf "$W"' EXIT
chmod 755 "$W" # Dovecot's lmtp and auth reach their sockets and Maildir

# dovecot_start - a private Dovecot that only speaks LMTP on $W/dc/lmtp
# and delivers every recipient into the Maildir $W/dc/mail (as root:
# mail as nobody, internal processes as dovecot; else all as the caller);
# when it cannot run, DOVECOT_NOTE says why
dovecot_start() {
	if [ ! -x "$DOVECOT" ] || [ ! -x /usr/lib/dovecot/lmtp ]; then
		DOVECOT_NOTE="not run: dovecot-lmtpd not installed (scripts/install-deps installs it)"
		return 0
	fi
	mkdir -p "$W/dc/state" "$W/dc/mail" "$W/dc/home"
	if [ "$(id -u)" -eq 0 ]; then
		dc_mail="nobody $(id -gn nobody)" dc_internal=dovecot dc_login=dovenull
	else
		dc_mail="$(id -un) $(id -gn)" dc_internal=$(id -un) dc_login=$(id -un)
	fi
	set -- $dc_mail
	chown "$1:$2" "$W/dc/mail" "$W/dc/home"
	cat >"$W/dovecot.conf" <<EOF
instance_name = ticketq-bench-$$
base_dir = $W/dc
state_dir = $W/dc/state
protocols = lmtp
listen = 127.0.0.1
ssl = no
log_path = $W/dc/dovecot.log
default_internal_user = $dc_internal
default_login_user = $dc_login
mail_location = maildir:$W/dc/mail
first_valid_uid = 0
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=$1 gid=$2 home=$W/dc/home
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
EOF
	if ! "$DOVECOT" -c "$W/dovecot.conf" >"$W/dc/start.out" 2>&1; then
		DOVECOT_NOTE="not run: dovecot did not start: $(head -n 1 "$W/dc/start.out")"
		return 0
	fi
	n=0
	while [ ! -S "$W/dc/lmtp" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
}

# dovecot_stop - stop it and wait until its processes are gone
dovecot_stop() {
	[ -f "$W/dc/master.pid" ] || return 0
	dc_pid=$(cat "$W/dc/master.pid")
	"$DOVECOT" -c "$W/dovecot.conf" stop >/dev/null 2>&1
	n=0
	while kill -0 "$dc_pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	rm -f "$W/dc/master.pid"
}

# N messages cycled from the corpus, each with its own Message-ID (no
# duplicates), in ROUNDS batches.
"$PY" - "$CORPUS" "$W/msgs" "$N" <<'PY'
import os, re, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out)
files = sorted(f for f in os.listdir(src) if f.endswith(".eml"))
for i in range(n):
    data = open(os.path.join(src, files[i % len(files)]), "rb").read()
    data = re.sub(rb"@(ID|TAG|MID|SIGNED):[A-Z]+@", b"123456", data)
    mid = b"Message-ID: <bench-%d@bench.example>" % i
    data, k = re.subn(rb"(?im)^Message-ID:[^\n]*", mid, data, count=1)
    if k == 0:  # even garbage without a header block: every copy unique,
        data = mid + b"\n" + data  # or the duplicate rule keeps one
    open(os.path.join(out, "%05d.eml" % i), "wb").write(data)
PY

"$TQ" --queue "$W/q" init --address help@bench.example >/dev/null || exit 1
mkdir -p "$W/md/tmp" "$W/md/new" "$W/md/cur"
printf 'to "%s/md/"\n' "$W" >"$W/mailfilter"
chmod 600 "$W/mailfilter"

# LMTP: a ticketq lmtp server per session count (its own fresh queue
# each, so every one stores the whole corpus) and Dovecot's lmtp into a
# Maildir, all over UNIX sockets; the client is tests/mock/lmtp_client.py
# (one reply per recipient, as Postfix's lmtp(8)).
"$TQ" --queue "$W/ql1" init --address help@bench.example >/dev/null || exit 1
"$TQ" --queue "$W/ql10" init --address help@bench.example >/dev/null || exit 1
# lmtp_start SESSIONS - ticketq lmtp for that column, pid in LMTP_PID_N
lmtp_start() {
	"$TQ" --queue "$W/ql$1" lmtp --listen "unix:$W/l$1.sock" 2>"$W/l$1.err" &
	eval "LMTP_PID_$1=$!"
	n=0
	while [ ! -S "$W/l$1.sock" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	[ -S "$W/l$1.sock" ] || { echo "ticketq-bench: ticketq lmtp did not start:"; cat "$W/l$1.err"; exit 1; }
}
lmtp_start 1
lmtp_start 10
DOVECOT_NOTE=""
dovecot_start
KINDS="maildrop ticketq lmtp1 lmtp10"
[ -S "$W/dc/lmtp" ] && KINDS="$KINDS dovecot"

# run_batch KIND FIRST LAST: deliver messages FIRST..LAST, print seconds
# and the number of failed deliveries
run_batch() {
	"$PY" - "$1" "$2" "$3" "$W" "$TQ" "$MAILDROP" "$MOCK" <<'PY'
import os, subprocess, sys, threading, time
kind, first, last, w, tq, md, mock = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
sys.path.insert(0, mock)
import lmtp_client
files = ["%s/msgs/%05d.eml" % (w, i) for i in range(first, last)]
bad = 0
if kind in ("ticketq", "maildrop"):
    cmd = [tq, "--queue", w + "/q", "deliver"] if kind == "ticketq" else [md, w + "/mailfilter"]
    t0 = time.monotonic()
    for f in files:
        with open(f, "rb") as fh:
            bad += subprocess.call(cmd, stdin=fh, stdout=subprocess.DEVNULL) != 0
else:
    addr, rcpt, sessions = {
        "lmtp1": ("unix:%s/l1.sock" % w, "help@bench.example", 1),
        "lmtp10": ("unix:%s/l10.sock" % w, "help@bench.example", 10),
        "dovecot": ("unix:%s/dc/lmtp" % w, "bench@bench.example", 10)}[kind]
    done, out, lock = [], [], threading.Lock()
    threads = [threading.Thread(target=lambda part: done.extend(lmtp_client.send_files(
        addr, part, [rcpt], out, None, lock)), args=(files[n::sessions],))
        for n in range(sessions)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = len(files) - len(done)
print("%.6f %d" % (time.monotonic() - t0, bad))
PY
}

failed=0
per=$((N / ROUNDS))
r=0
for k in $KINDS; do eval "secs_$k=0"; done
while [ $r -lt $ROUNDS ]; do
	first=$((r * per))
	last=$((first + per))
	for k in $KINDS; do
		set -- $(run_batch "$k" $first $last)
		eval "secs_$k=\$(\"\$PY\" -c \"print(\$secs_$k + \$1)\")"
		failed=$((failed + $2))
	done
	r=$((r + 1))
done
total=$((per * ROUNDS))
dovecot_stop
# the stored copies: each column's Maildir must hold every message
stored=""
for d in md q/new ql1/new ql10/new dc/mail/new; do
	[ -d "$W/$d" ] && stored="$stored $(find "$W/$d" -type f | wc -l)"
done

# peak RSS of the 10-session server: after the rounds, then after
# RSS_N more messages (a Message-ID each) over 10 sessions
vm_hwm() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}
rss_before=$(vm_hwm "$LMTP_PID_10")
"$PY" - "$W" "$MOCK" "$N" "$RSS_N" <<'PY'
import re, sys, threading
w, mock, n, rss_n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, mock)
import lmtp_client
msgs = [open("%s/msgs/%05d.eml" % (w, i), "rb").read() for i in range(n)]
bad = []
def session(k):
    s = lmtp_client.Session("unix:%s/l10.sock" % w)
    for i in range(k, rss_n, 10):
        data = re.sub(rb"(?m)^Message-ID: <bench-", b"Message-ID: <rss-%d-" % i, msgs[i % n], count=1)
        if [c for c, _ in s.deliver(data, "sender@client.test", ["help@bench.example"]) if c != 250]:
            bad.append(i)
    s.close()
threads = [threading.Thread(target=session, args=(k,)) for k in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if bad:
    print("ticketq-bench: %d of the RSS run's messages failed" % len(bad), file=sys.stderr)
PY
rss_after=$(vm_hwm "$LMTP_PID_10")
rss_stored=$(find "$W/ql10/new" -type f | wc -l)
kill "$LMTP_PID_1" "$LMTP_PID_10"
wait "$LMTP_PID_1" "$LMTP_PID_10"

# one 50 MB message: a text part and a 37 MB attachment, base64
"$PY" - "$W/big.eml" <<'PY'
import base64, os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: big@customer.example\nTo: help@bench.example\n"
            b"Subject: 50 MB\nMessage-ID: <big@bench.example>\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
            b"Content-Type: text/plain\n\nThe dump is attached.\n--b\n"
            b"Content-Type: application/octet-stream\nContent-Disposition: "
            b"attachment; filename=core.dump\nContent-Transfer-Encoding: base64\n\n")
    chunk = base64.encodebytes(os.urandom(57 * 1000))
    while f.tell() < 50 * 1000 * 1000:
        f.write(chunk)
    f.write(b"--b--\n")
PY
peak_rss() {	# peak_rss CMD... < input: the child's max RSS in KiB
	"$PY" -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)' "$@"
}
set -- $(peak_rss "$MAILDROP" "$W/mailfilter" <"$W/big.eml")
md_rss=$1
set -- $(peak_rss "$TQ" --queue "$W/q" deliver <"$W/big.eml")
tq_rss=$1
big_rc=$2
big_size=$(stat -c %s "$W/big.eml")
saved=$(find "$W/q/files" -name 'core.dump' -printf '%s\n' | head -n 1)

dc_s=${secs_dovecot:-0}
"$PY" - "$total" "$secs_maildrop" "$secs_ticketq" "$secs_lmtp1" "$secs_lmtp10" "$dc_s" \
	"$md_rss" "$tq_rss" "$big_size" "${saved:-0}" "$failed" "$big_rc" \
	"$rss_before" "$rss_after" "$RSS_N" "$rss_stored" "$DOVECOT_NOTE" $stored <<'PY'
import sys
a = sys.argv[1:]
n = int(a[0])
secs = dict(zip(("maildrop", "deliver", "lmtp1", "lmtp10", "dovecot"), map(float, a[1:6])))
md_rss, tq_rss, size, saved, failed, big_rc, rss0, rss1, rss_n, rss_stored = map(int, a[6:16])
dc_note, stored = a[16], a[17:]
rate = {k: n / s for k, s in secs.items() if s > 0}
md = rate["maildrop"]
def verdict(ok):
    return "met" if ok else "MISSED"
rows = [("maildrop", "maildrop (process per message)", ""),
        ("deliver", "ticketq deliver (process/message)", ">= 0.80x maildrop"),
        ("lmtp1", "ticketq lmtp, 1 session", ""),
        ("lmtp10", "ticketq lmtp, 10 sessions", ">= 3.00x maildrop"),
        ("dovecot", "dovecot-lmtp, 10 sessions", "")]
print("delivery rate: %d messages of the mixed test corpus, fresh queue or "
      "Maildir each, alternating rounds, same run" % n)
print("  %-34s %13s %11s  %s" % ("", "deliveries/s", "x maildrop", "target"))
for k, name, target in rows:
    if k not in rate:
        print("  %-34s %13s %11s  %s" % (name, "-", "-", dc_note))
        continue
    x = rate[k] / md
    met = {"deliver": x >= 0.8, "lmtp10": x >= 3.0}.get(k)
    print("  %-34s %13.1f %10.2fx  %s%s" % (name, rate[k], x, target,
          "  " + verdict(met) if met is not None else ""))
if "dovecot" in rate:
    x = rate["lmtp10"] / rate["dovecot"]
    print("  %-34s %13s %10.2fx  >= 1.00x dovecot-lmtp  %s" % (
          "ticketq lmtp 10 / dovecot-lmtp", "", x, verdict(x >= 1.0)))
else:
    print("  ticketq lmtp 10 / dovecot-lmtp: not measured (%s)  MISSED" % dc_note)
print("  stored (maildrop, deliver, lmtp 1, lmtp 10, dovecot): %s of %d each"
      % (", ".join(stored), n))
print("peak RSS (VmHWM) of the ticketq lmtp server, 10 sessions")
print("  %-34s %11.1f MB" % ("after %d messages" % n, rss0 / 1024))
print("  %-34s %11.1f MB   target < 32 MB  %s" % ("after %d more (%d new files)"
      % (rss_n, rss_stored - n), rss1 / 1024, verdict(rss1 < 32 * 1024)))
print("peak RSS, one %.1f MB message (37 MB attachment saved: %s)"
      % (size / 1e6, "yes" if saved > 37e6 else "NO"))
print("  %-34s %11.1f MB" % ("maildrop", md_rss / 1024))
print("  %-34s %11.1f MB   target < 32 MB  %s" % ("ticketq deliver", tq_rss / 1024,
      verdict(tq_rss < 32 * 1024)))
if failed or big_rc:
    print("  %d deliveries failed, big message exit %d" % (failed, big_rc))
PY
