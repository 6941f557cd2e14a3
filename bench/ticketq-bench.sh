#!/bin/sh
# ticketq-bench.sh TICKETQ CORPUS_DIR - deliveries per second of
# `ticketq deliver` (full parsing and indexing, into a fresh queue)
# side by side with plain Maildir delivery by maildrop on the same
# mixed corpus in the same run, and the peak RSS of both for one 50 MB
# message.  Prints a table.  Targets (ISSUE 4): at least half of
# maildrop's rate; peak RSS under 32 MB.
#
# The two run in alternating rounds so a busy machine slows both alike;
# the rate is messages / wall time summed over the rounds.
# BENCH_MESSAGES (default 400) and BENCH_ROUNDS (default 8) tune it.
set -u
TQ=${1:?usage: ticketq-bench.sh TICKETQ CORPUS_DIR}
CORPUS=${2:?usage: ticketq-bench.sh TICKETQ CORPUS_DIR}
N=${BENCH_MESSAGES:-400}
ROUNDS=${BENCH_ROUNDS:-8}
PY=${PYTHON3:-python3}
MAILDROP=$(command -v maildrop || echo /usr/bin/maildrop)
[ -x "$TQ" ] || { echo "ticketq-bench: $TQ not built"; exit 1; }
[ -x "$MAILDROP" ] || { echo "ticketq-bench: maildrop not installed (apt-get install maildrop)"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/var/tmp}/ticketq-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

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
    if k == 0 and b"\n\n" in data:
        data = mid + b"\n" + data
    open(os.path.join(out, "%05d.eml" % i), "wb").write(data)
PY

"$TQ" --queue "$W/q" init --address help@bench.example >/dev/null || exit 1
mkdir -p "$W/md/tmp" "$W/md/new" "$W/md/cur"
printf 'to "%s/md/"\n' "$W" >"$W/mailfilter"
chmod 600 "$W/mailfilter"

# run_batch KIND FIRST LAST: deliver messages FIRST..LAST, print seconds
run_batch() {
	"$PY" - "$1" "$2" "$3" "$W" "$TQ" "$MAILDROP" <<'PY'
import os, subprocess, sys, time
kind, first, last, w, tq, md = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
if kind == "ticketq":
    cmd = [tq, "--queue", w + "/q", "deliver"]
else:
    cmd = [md, w + "/mailfilter"]
bad = 0
t0 = time.monotonic()
for i in range(first, last):
    with open("%s/msgs/%05d.eml" % (w, i), "rb") as f:
        bad += subprocess.call(cmd, stdin=f, stdout=subprocess.DEVNULL) != 0
print("%.6f %d" % (time.monotonic() - t0, bad))
PY
}

tq_s=0
md_s=0
failed=0
per=$((N / ROUNDS))
r=0
while [ $r -lt $ROUNDS ]; do
	first=$((r * per))
	last=$((first + per))
	set -- $(run_batch maildrop $first $last)
	md_s=$("$PY" -c "print($md_s + $1)")
	failed=$((failed + $2))
	set -- $(run_batch ticketq $first $last)
	tq_s=$("$PY" -c "print($tq_s + $1)")
	failed=$((failed + $2))
	r=$((r + 1))
done
total=$((per * ROUNDS))

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

"$PY" - "$total" "$md_s" "$tq_s" "$md_rss" "$tq_rss" "$big_size" "${saved:-0}" "$failed" "$big_rc" <<'PY'
import sys
n, md_s, tq_s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
md_rss, tq_rss, size, saved = (int(x) for x in sys.argv[4:8])
failed, big_rc = int(sys.argv[8]), int(sys.argv[9])
md_rate, tq_rate = n / md_s, n / tq_s
ratio = tq_rate / md_rate
print("ticketq deliver vs maildrop: %d messages of the mixed test corpus, "
      "fresh queue, same run" % n)
print("  %-34s %14s %14s" % ("", "deliveries/s", "ms/delivery"))
print("  %-34s %14.1f %14.2f" % ("maildrop (raw Maildir copy)", md_rate, 1000 / md_rate))
print("  %-34s %14.1f %14.2f" % ("ticketq deliver (parse + index)", tq_rate, 1000 / tq_rate))
print("  %-34s %14.2f   target >= 0.50  %s" % ("ratio ticketq / maildrop", ratio,
      "ok" if ratio >= 0.5 else "MISSED"))
print("peak RSS, one %.1f MB message (37 MB attachment saved: %s)"
      % (size / 1e6, "yes" if saved > 37e6 else "NO"))
print("  %-34s %11.1f MB" % ("maildrop", md_rss / 1024))
print("  %-34s %11.1f MB   target < 32 MB  %s" % ("ticketq deliver", tq_rss / 1024,
      "ok" if tq_rss < 32 * 1024 else "MISSED"))
if failed or big_rc:
    print("  %d deliveries failed, big message exit %d" % (failed, big_rc))
PY
