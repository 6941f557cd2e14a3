#!/usr/bin/env python3
"""lmtp_client.py - an RFC 2033 LMTP client for the tests, the way
Postfix's lmtp(8) behaves: one reply per recipient after DATA, and a
message is done only when every recipient got a 2xx; anything else
(4xx, a lost connection, no reply) means "try again later".

  lmtp_client.py ADDR send [--sessions N] [--rcpt A]... [--retry-until S]
                 [--log FILE] FILE...
      deliver each FILE (a message) over N concurrent sessions (FILEs
      spread over them); print "FILE CODE" per recipient; with
      --retry-until keep retrying failed messages (reconnecting) until
      all got 2xx or S seconds passed; exit 0 when all got 2xx, 1 if not.
      --log appends "FILE 250" lines as 2xx replies arrive (a kill -9
      test knows what was acknowledged).
  lmtp_client.py ADDR raw
      send stdin as it is (bytes, \\r\\n where given), half-close, and
      print every reply line the server sends until it closes.
  lmtp_client.py ADDR group PID FILE...
      one session per FILE, each message sent up to its final dot; once
      the server (PID; ADDR HOST:PORT) has read all of it (send and
      receive queues in /proc/net/tcp empty), it is stopped (SIGSTOP, and every
      thread seen in state T), every
      final dot sent, and it is continued: all messages end in one
      round of the server (a group commit); prints "FILE TEXT" per
      message.
  lmtp_client.py ADDR hold-data
      LHLO, MAIL, RCPT, DATA, half a message, then close without the
      final dot (a client that vanishes mid-DATA); prints the replies.

ADDR is unix:PATH or HOST:PORT.
"""
import os
import signal
import socket
import sys
import threading
import time


def connect(addr, timeout=30):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(addr[5:])
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=timeout)
        s.settimeout(timeout)
    return s


class Session:
    def __init__(self, addr):
        self.sock = connect(addr)
        self.buf = b""
        self.expect(220)
        self.send(b"LHLO client.test\r\n")
        self.expect(250)

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed")
            self.buf += data
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode("latin-1")

    def reply(self):
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return int(lines[-1][:3]), lines[-1]

    def expect(self, code):
        got, text = self.reply()
        if got != code:
            raise ConnectionError("want %d, got %s" % (code, text))
        return text

    def send(self, data):
        self.sock.sendall(data)

    def deliver(self, message, sender, rcpts, dot=True):
        """One transaction, pipelined: a list of (code, text) per rcpt
        (without dot: the message sent without its final dot, nothing
        read after the 354)."""
        body = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        body = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln
                            for ln in body.split(b"\r\n"))
        cmds = b"MAIL FROM:<%s>\r\n" % sender.encode()
        cmds += b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in rcpts)
        self.send(cmds + b"DATA\r\n")
        self.expect(250)
        ok = []
        for _ in rcpts:
            code, text = self.reply()
            if code == 250:
                ok.append(True)
            else:
                ok.append(False)
        if not any(ok):
            raise ConnectionError("no recipient accepted")
        self.expect(354)
        if not dot:
            self.send(body)
            return []
        self.send(body + b".\r\n")
        return [self.reply() for r, good in zip(rcpts, ok) if good]

    def close(self):
        try:
            self.send(b"QUIT\r\n")
            self.reply()
        except (OSError, ConnectionError):
            pass
        self.sock.close()


def send_files(addr, files, rcpts, out, log, lock):
    """Deliver files over one session; the names that all got 2xx."""
    done = []
    sess = None
    for f in files:
        try:
            if sess is None:
                sess = Session(addr)
            with open(f, "rb") as fh:
                replies = sess.deliver(fh.read(), "sender@client.test", rcpts)
        except (OSError, ConnectionError) as e:
            with lock:
                out.append("%s ERR %s" % (f, e))
            if sess is not None:
                sess.sock.close()
            sess = None
            continue
        codes = [c for c, _ in replies]
        with lock:
            for c, text in replies:
                out.append("%s %s" % (f, text))
        if len(codes) == len(rcpts) and all(200 <= c < 300 for c in codes):
            done.append(f)
            if log:
                with lock, open(log, "a") as lf:
                    lf.write("%s 250\n" % f)
    if sess is not None:
        sess.close()
    return done


def cmd_send(addr, args):
    sessions, rcpts, retry_until, log, files = 1, [], 0, None, []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--sessions":
            sessions = int(args[i + 1]); i += 2
        elif a == "--rcpt":
            rcpts.append(args[i + 1]); i += 2
        elif a == "--retry-until":
            retry_until = float(args[i + 1]); i += 2
        elif a == "--log":
            log = args[i + 1]; i += 2
        else:
            files.append(a); i += 1
    rcpts = rcpts or ["support@tickets.test"]
    lock = threading.Lock()
    out = []
    pending = list(files)
    deadline = time.time() + retry_until
    while True:
        results = [[] for _ in range(sessions)]
        threads = []
        for n in range(sessions):
            part = pending[n::sessions]
            t = threading.Thread(target=lambda n=n, part=part: results[n].extend(
                send_files(addr, part, rcpts, out, log, lock)))
            threads.append(t)
            t.start()
        for t in threads:
            t.join()
        done = set(f for r in results for f in r)
        pending = [f for f in pending if f not in done]
        if not pending or time.time() >= deadline:
            break
        time.sleep(0.2)
    for ln in out:
        print(ln)
    print("delivered %d of %d" % (len(files) - len(pending), len(files)))
    return 0 if not pending else 1


def cmd_raw(addr):
    s = connect(addr, timeout=20)
    data = sys.stdin.buffer.read()
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError:
        pass
    sys.stdout.write(buf.decode("latin-1").replace("\r\n", "\n"))
    return 0


def queued(port):
    """(bytes the server on TCP port has received but not read, bytes
    its clients have sent that it has not received) from /proc/net/tcp"""
    unread = unsent = 0
    with open("/proc/net/tcp") as fh:
        for ln in fh.readlines()[1:]:
            f = ln.split()
            tx, rx = (int(x, 16) for x in f[4].split(":"))
            if int(f[1].split(":")[1], 16) == port and f[3] == "01":
                unread += rx
            elif int(f[2].split(":")[1], 16) == port:
                unsent += tx
    return unread, unsent


def server_unread(port):
    """Bytes on their way to the server that it has not yet read."""
    return sum(queued(port))


def stopped(pid):
    """Has every thread of pid stopped (state T in /proc)?"""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] != "T":
                return False
    return True


def cmd_group(addr, pid, files):
    sessions = []
    for f in files:
        sess = Session(addr)
        with open(f, "rb") as fh:
            sess.deliver(fh.read(), "sender@client.test",
                         ["support@tickets.test"], dot=False)
        sessions.append(sess)
    port = int(addr.rsplit(":", 1)[1])
    deadline = time.time() + 30
    while server_unread(port) and time.time() < deadline:
        time.sleep(0.02)
    os.kill(pid, signal.SIGSTOP)
    deadline = time.time() + 10
    while not stopped(pid) and time.time() < deadline:
        time.sleep(0.01)
    try:
        for sess in sessions:
            sess.send(b".\r\n")
        while queued(port)[1] and time.time() < deadline:
            time.sleep(0.01)  # every dot in the server's receive queue
        time.sleep(0.1)
    finally:
        os.kill(pid, signal.SIGCONT)
    for f, sess in zip(files, sessions):
        code, text = sess.reply()
        print("%s %s" % (f, text))
        sess.close()
    return 0


def cmd_hold_data(addr):
    sess = Session(addr)
    sess.send(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<support@tickets.test>\r\n"
              b"DATA\r\n")
    print(sess.reply()[1])
    print(sess.reply()[1])
    print(sess.reply()[1])
    sess.send(b"From: a@client.test\r\nSubject: vanished\r\n\r\nhalf a mess")
    time.sleep(0.2)
    sess.sock.close()
    return 0


def main():
    addr, cmd = sys.argv[1], sys.argv[2]
    if cmd == "send":
        return cmd_send(addr, sys.argv[3:])
    if cmd == "raw":
        return cmd_raw(addr)
    if cmd == "group":
        return cmd_group(addr, int(sys.argv[3]), sys.argv[4:])
    if cmd == "hold-data":
        return cmd_hold_data(addr)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
