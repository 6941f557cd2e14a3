#!/usr/bin/env python3
"""fake_mail.py - a scripted IMAP/POP3/SMTP server for oauthmail's CLI tests.

Checks what a client sends in XOAUTH2 / OAUTHBEARER and keeps a transcript
of the dialogue (tokens replaced by <TOKEN>) so a test can assert on the
wire format: SASL-IR or not, POP3 split AUTH, the empty / ^A answer to an
error challenge.  127.0.0.1 only, TLS with the test's certificate
(implicit, or STARTTLS with --starttls), stops with its parent
(--watch-pid) or after --max-lifetime seconds.

  fake_mail.py --proto imap|pop3|smtp --port-file F --cert C --key K
      --user U --token T [--starttls] [--challenge] [--transcript FILE]
      [--no-sasl-ir] [--watch-pid PID] [--max-lifetime S]

--challenge: refuse every authentication with the mechanism's JSON error
challenge (XOAUTH2: {"status":"401",...}; OAUTHBEARER: invalid_token) and
record the client's answer.
"""
import argparse
import base64
import json
import os
import socket
import ssl
import sys
import threading
import time

LINE_MAX = 65536


class Session:
    def __init__(self, args, conn, ctx, log):
        self.a = args
        self.raw = conn
        self.conn = conn if args.starttls else ctx.wrap_socket(conn, server_side=True)
        self.ctx = ctx
        self.tls = not args.starttls
        self.buf = b""
        self.log = log
        self.authed = False

    def send(self, text):
        self.log("S: " + text)
        self.conn.sendall(text.encode() + b"\r\n")

    def line(self):
        while b"\n" not in self.buf:
            data = self.conn.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
            if len(self.buf) > LINE_MAX:
                raise EOFError
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.rstrip(b"\r").decode("latin-1")
        self.log("C: " + text.replace(self.a.token, "<TOKEN>"))
        return text

    def starttls(self):
        self.conn = self.ctx.wrap_socket(self.raw, server_side=True)
        self.tls = True

    def check_message(self, mech, b64):
        try:
            msg = base64.b64decode(b64, validate=True).decode("latin-1")
        except Exception:
            self.log("bad base64")
            return False
        shown = msg.replace(self.a.token, "<TOKEN>").replace("\x01", "^A")
        self.log("SASL %s: %s" % (mech, shown))
        if mech == "XOAUTH2":
            want = "user=%s\x01auth=Bearer %s\x01\x01" % (self.a.user, self.a.token)
            return msg == want
        if not msg.startswith("n,a=%s,\x01" % self.a.user):
            return False
        return msg.endswith("\x01auth=Bearer %s\x01\x01" % self.a.token)

    def challenge(self, mech, prefix):
        if mech == "XOAUTH2":
            body = {"status": "401", "schemes": "bearer", "scope": "https://outlook.office.com/"}
        else:
            body = {"status": "invalid_token", "scope": "mail"}
        self.send(prefix + base64.b64encode(json.dumps(body).encode()).decode())
        answer = self.line()
        self.log("ANSWER-TO-CHALLENGE: '%s'" % answer)

    def sasl(self, mech, initial, prefix):
        """run one SASL exchange; True when authenticated"""
        if initial is None:
            self.send(prefix)
            initial = self.line()
        if mech not in ("XOAUTH2", "OAUTHBEARER"):
            return False
        ok = self.check_message(mech, initial)
        if ok and self.a.challenge:
            self.challenge(mech, prefix if prefix.endswith(" ") else prefix + " ")
            return False
        if not ok:
            self.challenge(mech, prefix if prefix.endswith(" ") else prefix + " ")
        return ok

    # ---- IMAP
    def imap_caps(self):
        caps = "IMAP4rev1"
        if not self.tls:
            return caps + " STARTTLS LOGINDISABLED"
        if not self.a.no_sasl_ir:
            caps += " SASL-IR"
        return caps + " AUTH=XOAUTH2 AUTH=OAUTHBEARER"

    def imap(self):
        self.send("* OK [CAPABILITY %s] fake IMAP ready" % self.imap_caps())
        while True:
            words = self.line().split(" ")
            tag, cmd = words[0], (words[1].upper() if len(words) > 1 else "")
            if cmd == "CAPABILITY":
                self.send("* CAPABILITY " + self.imap_caps())
                self.send(tag + " OK done")
            elif cmd == "STARTTLS" and not self.tls:
                self.send(tag + " OK begin TLS")
                self.starttls()
            elif cmd == "AUTHENTICATE" and self.tls:
                mech = words[2].upper()
                initial = words[3] if len(words) > 3 else None
                if self.sasl(mech, initial, "+ "):
                    self.authed = True
                    self.send(tag + " OK authenticated")
                else:
                    self.send(tag + " NO [AUTHENTICATIONFAILED] AUTHENTICATE failed.")
            elif cmd == "STATUS" and self.authed:
                self.send("* STATUS INBOX (MESSAGES 2 UNSEEN 1)")
                self.send(tag + " OK done")
            elif cmd == "NOOP":
                self.send(tag + " OK noop" + (" authed" if self.authed else ""))
            elif cmd == "LOGOUT":
                self.send("* BYE bye")
                self.send(tag + " OK done")
                return
            else:
                self.send(tag + " BAD not here")

    # ---- POP3
    def pop3(self):
        self.send("+OK fake POP3 ready")
        while True:
            words = self.line().split(" ")
            cmd = words[0].upper()
            if cmd == "CAPA":
                self.send("+OK")
                self.send("STLS" if not self.tls else "SASL XOAUTH2 OAUTHBEARER")
                self.send(".")
            elif cmd == "STLS" and not self.tls:
                self.send("+OK begin TLS")
                self.starttls()
            elif cmd == "AUTH" and self.tls and len(words) >= 2:
                mech = words[1].upper()
                initial = words[2] if len(words) > 2 else None
                self.log("POP3-AUTH-%s" % ("INLINE" if initial else "SPLIT"))
                if self.sasl(mech, initial, "+ "):
                    self.authed = True
                    self.send("+OK User successfully authenticated.")
                else:
                    self.send("-ERR Authentication failure: unknown user name or bad password.")
            elif cmd == "STAT" and self.authed:
                self.send("+OK 2 320")
            elif cmd == "QUIT":
                self.send("+OK bye")
                return
            else:
                self.send("-ERR not here")

    # ---- SMTP
    def smtp(self):
        self.send("220 fake.test ESMTP ready")
        while True:
            words = self.line().split(" ")
            cmd = words[0].upper()
            if cmd == "EHLO":
                self.send("250-fake.test Hello")
                self.send("250-STARTTLS" if not self.tls else "250-AUTH LOGIN XOAUTH2 OAUTHBEARER")
                self.send("250 8BITMIME")
            elif cmd == "STARTTLS" and not self.tls:
                self.send("220 2.0.0 SMTP server ready")
                self.starttls()
            elif cmd == "AUTH" and self.tls:
                mech = words[1].upper()
                initial = words[2] if len(words) > 2 else None
                if self.sasl(mech, initial, "334 "):
                    self.authed = True
                    self.send("235 2.7.0 Authentication successful")
                else:
                    self.send("535 5.7.3 Authentication unsuccessful [fake.test]")
            elif cmd == "QUIT":
                self.send("221 2.0.0 bye")
                return
            else:
                self.send("503 5.5.1 not here")


def serve(args, ctx, conn, lock):
    def log(text):
        with lock:
            with open(args.transcript, "a") as f:
                f.write(text + "\n")
    s = Session(args, conn, ctx, log)
    try:
        getattr(s, args.proto)()
    except (EOFError, OSError, ssl.SSLError) as e:
        log("closed: %s" % e.__class__.__name__)
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proto", required=True, choices=["imap", "pop3", "smtp"])
    p.add_argument("--port-file", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--transcript", default=os.devnull)
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--challenge", action="store_true")
    p.add_argument("--no-sasl-ir", action="store_true")
    p.add_argument("--watch-pid", type=int, default=0)
    p.add_argument("--max-lifetime", type=float, default=300)
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.5)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, args.port_file)
    lock = threading.Lock()
    end = time.time() + args.max_lifetime
    while time.time() < end:
        if args.watch_pid:
            try:
                os.kill(args.watch_pid, 0)
            except OSError:
                break
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        conn.settimeout(30)
        threading.Thread(target=serve, args=(args, ctx, conn, lock), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
