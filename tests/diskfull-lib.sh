# diskfull-lib.sh - a small disk for the full-disk tests of ticketq
# (cli/ticketq_diskfull.sh, cli/ticketq_lmtp_diskfull.sh); sourced after
# lib.sh.
#
# small_disk NAME           skip unless root can mount a 2 MB tmpfs; mount
#                           it on $T/mnt, which becomes $M (the caller
#                           unmounts it with small_disk_unmount at exit)
# small_disk_unmount        umount $M (lazily if busy)
# fill_to KB                leave KB kilobytes free on $M
# sized_message NAME TEXT_KB ATTACH_KB TO
#                           print a message to TO, Message-ID
#                           <NAME@diskfull.test>, with that much text and a
#                           base64 attachment of that many (decoded) KB

small_disk() {
	[ "$(id -u)" -eq 0 ] || t_skip "mounting a tmpfs needs root"
	M=$T/mnt
	mkdir -p "$M"
	mount -t tmpfs -o size=2m,mode=0755 "$1" "$M" 2>"$T/mount.err" ||
		t_skip "mount -t tmpfs refused ($(cat "$T/mount.err")): cannot make a small disk"
}

small_disk_unmount() {
	umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
}

fill_to() {
	rm -f "$M/filler"
	avail=$(df --output=avail -B1 "$M" | tail -n 1 | tr -d ' ')
	head -c $((avail - $1 * 1024)) /dev/zero >"$M/filler" 2>/dev/null
}

sized_message() {
	"$PYTHON3" - "$@" <<'PY'
import base64, os, sys
name, text_kb, att_kb, to = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out = ["From: carla@customer.example", "To: " + to,
       "Subject: disk full %s" % name, "Message-ID: <%s@diskfull.test>" % name,
       "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b", "",
       "--b", "Content-Type: text/plain", "", ("text " * 200 + "\n") * (text_kb + 1)]
if att_kb:
    out += ["--b", "Content-Type: application/octet-stream",
            "Content-Disposition: attachment; filename=dump.bin",
            "Content-Transfer-Encoding: base64", "",
            base64.encodebytes(os.urandom(att_kb * 1024)).decode()]
out.append("--b--")
sys.stdout.write("\n".join(out) + "\n")
PY
}
