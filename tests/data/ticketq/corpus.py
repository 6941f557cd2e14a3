#!/usr/bin/env python3
"""corpus.py QUEUE_DIR - deliver tests/data/ticketq/corpus/* in the order of
expect.txt through the built `ticketq deliver` and check every expected
outcome (see the head of expect.txt), then the invariants every message
must keep (valid UTF-8 text, safe attachment paths that exist, the JSON
shape of docs/internals.md, "The JSON of ticketq"), then that
`ticketq reindex` rebuilds the same index from the Maildir.  Prints
got/want on failure; exit 0 pass, 1 fail.
"""
import base64
import hmac
import hashlib
import json
import os
import re
import secrets
import shlex
import sqlite3
import subprocess
import sys

SRC = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("TICKETQ_BIN", "ticketq")
QUEUE = sys.argv[1]
ADDRESS = "help@tickets.test"
failures = 0
labels = {}      # X -> ticket number (string)
our_mid = {}     # X -> Message-ID of our last reply (no <>)


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


# Under valgrind (OAUTHMAIL_VALGRIND) every init, list and reindex and
# one other call in VALGRIND_EVERY run under memcheck, the rest as they
# are: a call costs a second or two there, and the sanitizer run takes
# every message through ASan+UBSan.
VALGRIND_EVERY = 3
calls = 0


def ticketq(*args, stdin=b""):
    global calls
    cmd = [BIN, "--queue", QUEUE] + list(args)
    calls += 1
    if os.environ.get("OAUTHMAIL_VALGRIND") and (
            args[0] in ("init", "list", "reindex") or calls % VALGRIND_EVERY == 1):
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
               "--errors-for-leak-kinds=definite"] + cmd
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def config_key():
    with open(os.path.join(QUEUE, "ticketq.conf")) as f:
        for line in f:
            if line.startswith("hmac_key"):
                return bytes.fromhex(line.split("=", 1)[1].strip())
    raise SystemExit("no hmac_key")


def signed_mid(ticket):
    data = "%s.%s" % (ticket, secrets.token_hex(8))
    sig = hmac.new(config_key(), b"msgid:" + data.encode(),
                   hashlib.sha256).hexdigest()[:20]
    return "tq.%s.%s@tickets.test" % (data, sig)


def expand(data, name):
    def sub(m):
        what, label = m.group(1).decode(), m.group(2).decode()
        if label not in labels:
            fail("%s: template @%s:%s@ before ticket %s exists"
                 % (name, what, label, label))
            return b"000000"
        t = labels[label]
        return {"ID": t, "TAG": "[#%s]" % t, "MID": our_mid.get(label, ""),
                "SIGNED": signed_mid(t),
                "B64TAG": base64.b64encode(b" [#%s]" % t.encode()).decode(),
                }[what].encode()
    return re.sub(rb"@(ID|TAG|MID|SIGNED|B64TAG):([A-Z]+)@", sub, data)


def db():
    c = sqlite3.connect(os.path.join(QUEUE, "tickets.db"))
    c.row_factory = sqlite3.Row
    return c


def scalar(sql, *args):
    with db() as c:
        r = c.execute(sql, args).fetchone()
    return r[0] if r else None


def directive(words):
    verb, label = words[0][1:], words[1]
    t = labels[label]
    if verb == "reply":
        rc, out, err = ticketq("reply", t, stdin=b"Please try the other tray.\n")
        m = re.search(r"sent <([^>]+)>", out)
        if rc != 0 or not m:
            fail("!reply %s: rc %d out %r err %r" % (label, rc, out, err))
            return
        our_mid[label] = m.group(1)
        with open(os.path.join(QUEUE, "sent.eml"), "rb") as f:
            sent = f.read().decode()
        for want in ("X-Ticketq-Loop: " + ADDRESS, "In-Reply-To: <",
                     "[#%s]" % t, "Message-Id: <" + m.group(1)):
            if want not in sent:
                fail("!reply %s: %r not in the sent message" % (label, want))
        if "X-Ticketq-Sent" in sent:
            fail("!reply %s: our private header went out" % label)
    else:
        rc, out, err = ticketq(verb, t)
        if rc != 0:
            fail("!%s %s: rc %d %s" % (verb, label, rc, err))


def check_message(name, row, att_rows, ev, checks):
    tk = None
    if row["ticket"] is not None:
        with db() as c:
            tk = c.execute("SELECT * FROM tickets WHERE id = ?",
                           (row["ticket"],)).fetchone()
    parts = None
    if tk is not None:
        with db() as c:
            parts = [r[0] for r in c.execute(
                "SELECT address FROM participants WHERE ticket = ?",
                (row["ticket"],))]
    flags = (row["flags"] or "").split()
    raw = open(os.path.join(QUEUE, row["file"]), "rb").readline()
    for chk in checks:
        m = re.match(r"(!?)([a-z_]+)(=|~|!~)(.*)$", chk, re.S)
        if not m:
            fail("%s: bad check %r" % (name, chk))
            continue
        neg, key, op, val = m.groups()
        val = expand(val.encode(), name).decode()
        ok, got = check_one(key, op, val, row, tk, parts, flags, raw,
                            att_rows, ev)
        if neg:
            ok = not ok
        if not ok:
            fail("%s: %s: got %r" % (name, chk, got))


def check_one(key, op, val, row, tk, parts, flags, raw, atts, ev):
    names = [a["name"] for a in atts]
    paths = [a["path"] or "" for a in atts]
    field = {"kind": row["kind"], "subject": row["subject"],
             "from": row["from_addr"], "text": row["text"],
             "html": row["html"] or "",
             "raw": raw.decode("utf-8", "replace")}
    if key in field:
        got = field[key]
        if op == "=":
            return got == val, got
        return (val in got) == (op == "~"), got
    if key == "flag":
        return val in flags, flags
    if key == "status":
        return tk is not None and tk["status"] == val, tk and tk["status"]
    if key == "tflag":
        return tk is not None and val in tk["flags"].split(), tk and tk["flags"]
    if key == "requester":
        return tk is not None and tk["requester"] == val, tk and tk["requester"]
    if key == "participant":
        return parts is not None and val in parts, parts
    if key == "atts":
        return len(atts) == int(val), names
    if key == "att":
        return val in names, names
    if key == "attct":
        return val in [a["content_type"] for a in atts], names
    if key == "attpath":
        return any(val in p for p in paths), paths
    if key == "attdata":
        data = "".join(open(os.path.join(QUEUE, p), "rb").read()
                       .decode("utf-8", "replace") for p in paths if p)
        return (val in data) == (op == "~"), data[:200]
    if key == "attskipped":
        return any(a["name"] == val and a["path"] is None for a in atts), paths
    if key == "event":
        got = ev["type"] if ev else "none"
        return got == val, got
    if key == "auto_answer":
        return ev is not None and ev["auto_answer"] == int(val), \
            ev and ev["auto_answer"]
    return False, "unknown check " + key


def deliver(words):
    name, outcome, checks = words[0], words[1], words[2:]
    with open(os.path.join(SRC, "corpus", name), "rb") as f:
        data = expand(f.read(), name)
    before = scalar("SELECT coalesce(max(id), 0) FROM messages") or 0
    with db() as c:
        known = {str(r[0]) for r in c.execute("SELECT id FROM tickets")}
    ev_before = scalar("SELECT coalesce(max(id), 0) FROM events") or 0
    rc, out, err = ticketq("deliver", "--recipient", ADDRESS, stdin=data)
    if rc != 0:
        fail("%s: deliver exit %d (%s%s)" % (name, rc, out, err))
        return
    after = scalar("SELECT coalesce(max(id), 0) FROM messages") or 0
    if outcome == "dup":
        if after != before or "duplicate" not in out:
            fail("%s: want a duplicate, got %r" % (name, out))
        return
    if after != before + 1:
        fail("%s: want one new message row, got %d (%r)"
             % (name, after - before, out))
        return
    with db() as c:
        row = c.execute("SELECT * FROM messages WHERE id = ?",
                        (after,)).fetchone()
        atts = c.execute("SELECT * FROM attachments WHERE message = ?",
                         (after,)).fetchall()
        ev = c.execute("SELECT * FROM events WHERE id > ? ORDER BY id",
                       (ev_before,)).fetchone()
    got_t = None if row["ticket"] is None else str(row["ticket"])
    kind, _, label = outcome.partition("=")
    if kind == "none":
        if got_t is not None:
            fail("%s: want no ticket, got ticket %s (%s)" % (name, got_t, out))
    elif kind == "new":
        if got_t is None or got_t in known:
            fail("%s: want a new ticket, got %s (%s)" % (name, got_t, out))
            return
        labels[label] = got_t
    elif kind == "on":
        if got_t != labels.get(label):
            fail("%s: want ticket %s (%s), got %s (%s)"
                 % (name, label, labels.get(label), got_t, out.strip()))
    check_message(name, row, atts, ev, checks)


def check_invariants():
    with db() as c:
        msgs = c.execute("SELECT id, text, html, subject FROM messages")
        for m in msgs:
            for k in ("text", "html", "subject"):
                if m[k] is not None and "\x00" in m[k]:
                    fail("message %d: NUL in %s" % (m["id"], k))
        for a in c.execute("SELECT a.*, m.ticket FROM attachments a JOIN "
                           "messages m ON m.id = a.message"):
            p = a["path"]
            if p is None or p.startswith("new/"):
                continue
            base = p.rsplit("/", 1)[-1]
            if not re.fullmatch(r"files/%d/[^/]+" % a["ticket"], p) or \
                    base.startswith((".", "-", " ")) or \
                    len(base.encode()) > 100:
                fail("unsafe attachment path %r" % p)
            full = os.path.join(QUEUE, p)
            if not os.path.isfile(full) or os.path.islink(full):
                fail("attachment %r missing" % p)
            elif os.path.getsize(full) != a["size"]:
                fail("attachment %r: size %d, index says %d"
                     % (p, os.path.getsize(full), a["size"]))


TICKET_KEYS = {"id", "status", "subject", "requester", "participants",
               "created", "updated", "messages", "flags"}
ENTRY_KEYS = {"message_id", "from", "date", "subject", "kind", "text",
              "html", "attachments"}
ATT_KEYS = {"name", "content_type", "size", "path", "content_id"}
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def check_json():
    rc, out, err = ticketq("list", "--json")
    tickets = json.loads(out) if rc == 0 else []
    if rc != 0 or len(tickets) != scalar("SELECT count(*) FROM tickets"):
        fail("list --json: rc %d, %d tickets" % (rc, len(tickets)))
    for t in tickets:
        if set(t) != TICKET_KEYS:
            fail("list --json keys %s" % sorted(set(t) ^ TICKET_KEYS))
        rc, out, err = ticketq("show", t["id"], "--json")
        s = json.loads(out) if rc == 0 else {}
        if set(s) != TICKET_KEYS | {"thread"} or s["messages"] != \
                len(s["thread"]) or not isinstance(s["id"], str):
            fail("show %s --json: bad shape" % t["id"])
            continue
        for key in ("created", "updated"):
            if not TIME.match(s[key]):
                fail("show %s: %s %r" % (t["id"], key, s[key]))
        for e in s["thread"]:
            if set(e) != ENTRY_KEYS or not TIME.match(e["date"]) or \
                    e["kind"] not in ("customer", "reply", "auto-reply",
                                      "bounce", "note"):
                fail("show %s: bad thread entry %s" % (t["id"], sorted(e)))
            for a in e["attachments"]:
                if set(a) != ATT_KEYS:
                    fail("show %s: bad attachment %s" % (t["id"], sorted(a)))


def snapshot():
    with db() as c:
        return (
            c.execute("SELECT id, status, subject, requester, flags FROM "
                      "tickets ORDER BY id").fetchall(),
            c.execute("SELECT dkey, ticket, kind, flags, text, html FROM "
                      "messages ORDER BY dkey").fetchall(),
            c.execute("SELECT ticket, address FROM participants ORDER BY "
                      "ticket, address").fetchall(),
            c.execute("SELECT m.dkey, a.name, a.size, a.path FROM "
                      "attachments a JOIN messages m ON m.id = a.message "
                      "ORDER BY m.dkey, a.id").fetchall())


def check_reindex():
    before = [list(map(tuple, part)) for part in snapshot()]
    rc, out, err = ticketq("reindex")
    if rc != 0:
        fail("reindex: rc %d %s%s" % (rc, out, err))
        return
    after = [list(map(tuple, part)) for part in snapshot()]
    for what, b, a in zip(("tickets", "messages", "participants",
                           "attachments"), before, after):
        if b != a:
            diff = [x for x in b if x not in a][:3]
            fail("reindex changed %s: %d -> %d rows, lost %r"
                 % (what, len(b), len(a), diff))
    check_invariants()


def main():
    rc, out, err = ticketq("init", "--address", ADDRESS)
    if rc != 0:
        raise SystemExit("init: " + err)
    with open(os.path.join(QUEUE, "ticketq.conf"), "a") as f:
        f.write("sendmail = %s %s\n" % (os.path.join(SRC, "..", "..", "mock", "capture-sendmail"),
                                       os.path.join(QUEUE, "sent.eml")))
        f.write("max_attachment_size = 10K\n")
    count = 0
    for line in open(os.path.join(SRC, "expect.txt"), encoding="utf-8"):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0].startswith("!"):
            directive(words)
        else:
            deliver(words)
            count += 1
    files = len(os.listdir(os.path.join(SRC, "corpus")))
    print("delivered %d messages (%d corpus files), %d tickets"
          % (count, files, len(labels)))
    check_invariants()
    check_json()
    check_reindex()
    print("corpus: %d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
