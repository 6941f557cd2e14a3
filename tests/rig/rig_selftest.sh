#!/bin/sh
# rig_selftest.sh - the real-peer rig works without any oauthmail C code:
# tokens minted at the mock identity provider open Dovecot over IMAPS and
# POP3S (XOAUTH2, OAUTHBEARER, Microsoft's split POP3 form), bad tokens get
# AUTHENTICATIONFAILED / -ERR / 535, the Postfix "smtp.office365.com
# stand-in" requires STARTTLS and SASL and drops what it accepts into its
# sink (or the recipient's Dovecot mailbox), the client instance is
# configured to relay to it over verified TLS, and everything stops: at the
# end of the test, and by itself when a test shell is killed.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
if [ "${1:-}" = --child ]; then
	# Started by the test below, then killed with SIGKILL.
	t_init rig_child
	mock_idp_start && rig_dovecot_start && rig_pf_server_start || exit 1
	echo "child-ready $(cat "$RIG_DIR/dovecot/run/master.pid") $MOCK_PID $RIG_PF_SERVER $T"
	sleep 120
	exit 0
fi
t_init rig_selftest
rig_need

t0=$(date +%s.%N)
mock_idp_start || t_fail "mock_idp_start"
rig_dovecot_start || { t_fail "rig_dovecot_start"; t_done; }
rig_pf_server_start || { t_fail "rig_pf_server_start"; t_done; }
t1=$(date +%s.%N)
echo "rig start (mock, cert, dovecot, postfix server): $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"

for v in RIG_CA RIG_IMAP_PORT RIG_POP3_PORT RIG_DOVECOT_AUTH RIG_DOVECOT_AUTH_SOCKET \
	RIG_MAILDIR RIG_SMTP_PORT RIG_SINK RIG_PF_SERVER; do
	eval "val=\${$v:-}"
	[ -n "$val" ] && t_pass "$v=$val" || t_fail "$v not set"
done
[ -S "$RIG_DOVECOT_AUTH_SOCKET" ] && t_pass "auth socket exists" || t_fail "no auth socket"

rig_seed 3 "seeded"
t_eq "$(rig_maildir_count "$RIG_MAILDIR")" 3 "rig_seed: 3 messages in the maildir"

"$PYTHON3" - >"$T/check.out" 2>&1 <<'EOF'
import base64, imaplib, json, os, poplib, smtplib, ssl, sys, time
import urllib.request

E = os.environ
USER = E["RIG_USER"]
ctx = ssl.create_default_context(cafile=E["RIG_CA"])
fails = 0


def ok(cond, what):
    global fails
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails += 1


def mint(user=USER, lifetime=600):
    req = urllib.request.Request(
        E["MOCK_URL"] + "/_control/mint",
        data=json.dumps({"user": user, "lifetime": lifetime,
                         "refresh_token": False}).encode())
    return json.load(urllib.request.urlopen(req))["access_token"]


def xoauth2(user, tok):
    return "user=%s\x01auth=Bearer %s\x01\x01" % (user, tok)


def oauthbearer(user, tok):
    return "n,a=%s,\x01host=127.0.0.1\x01port=%s\x01auth=Bearer %s\x01\x01" % (
        user, E["RIG_IMAP_PORT"], tok)


tok = mint()
ok("+" in tok or "/" in tok or True, "minted a token")

# --- Dovecot's auth service, as Postfix's smtpd sees it ----------------------
import socket


def auth_mechs(sock):
    sock.settimeout(10)
    sock.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
    data = b""
    while b"\nDONE\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    return sorted(l.split("\t")[1] for l in data.decode().splitlines()
                  if l.startswith("MECH\t"))


s = socket.socket(socket.AF_UNIX)
s.connect(E["RIG_DOVECOT_AUTH_SOCKET"])
ok(auth_mechs(s) == ["OAUTHBEARER", "XOAUTH2"],
   "auth socket offers exactly XOAUTH2 OAUTHBEARER")
host, port = E["RIG_DOVECOT_AUTH"].split(":")[1:]
ok(auth_mechs(socket.create_connection((host, int(port)))) ==
   ["OAUTHBEARER", "XOAUTH2"], "auth inet listener offers the same")

# --- IMAPS -----------------------------------------------------------------
def imap_login(mech, payload):
    m = imaplib.IMAP4_SSL("127.0.0.1", int(E["RIG_IMAP_PORT"]),
                          ssl_context=ctx, timeout=20)
    try:
        typ, data = m.authenticate(
            mech, lambda ch: payload.encode() if not ch else b"")
        return m, typ, data
    except imaplib.IMAP4.error as e:
        m.shutdown()
        return None, "NO", [str(e).encode()]


m, typ, data = imap_login("XOAUTH2", xoauth2(USER, tok))
ok(typ == "OK", "IMAPS AUTHENTICATE XOAUTH2 with a minted token: %s" % data)
if m:
    typ, data = m.select("INBOX")
    ok(typ == "OK" and data == [b"3"], "IMAP INBOX holds the 3 seeded messages")
    typ, data = m.fetch("1:3", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    subjects = [p[1].decode().strip() for p in data if isinstance(p, tuple)]
    ok(subjects == ["Subject: seeded 1", "Subject: seeded 2",
                    "Subject: seeded 3"], "IMAP FETCH subjects %s" % subjects)
    m.logout()
m, typ, data = imap_login("XOAUTH2", xoauth2(USER, "EwBnotatoken"))
ok(typ == "NO" and b"AUTHENTICATIONFAILED" in data[0],
   "IMAPS XOAUTH2 bad token -> AUTHENTICATIONFAILED (%s)" % data[0][:60])
m, typ, data = imap_login("XOAUTH2", xoauth2("other@contoso.test", tok))
ok(typ == "NO", "IMAPS XOAUTH2 token of another user -> NO")
m, typ, data = imap_login("OAUTHBEARER", oauthbearer(USER, tok))
ok(typ == "OK", "IMAPS AUTHENTICATE OAUTHBEARER")
if m:
    m.logout()

# --- POP3S ------------------------------------------------------------------
def pop3():
    return poplib.POP3_SSL("127.0.0.1", int(E["RIG_POP3_PORT"]),
                           context=ctx, timeout=20)


p = pop3()
b64 = base64.b64encode(xoauth2(USER, tok).encode()).decode()
try:
    r = p._shortcmd("AUTH XOAUTH2 " + b64)
    ok(r.startswith(b"+OK"), "POP3S AUTH XOAUTH2 (one line): %s" % r)
    ok(p.stat()[0] == 3, "POP3 STAT: 3 messages")
except poplib.error_proto as e:
    ok(False, "POP3S AUTH XOAUTH2: %s" % e)
p.quit()
p = pop3()
try:
    r = p._shortcmd("AUTH XOAUTH2")
    ok(r.startswith(b"+"), "POP3S split AUTH XOAUTH2: continuation '%s'" % r)
    r = p._shortcmd(b64)
    ok(r.startswith(b"+OK"), "POP3S split form: token line accepted")
except poplib.error_proto as e:
    ok(False, "POP3S split AUTH XOAUTH2: %s" % e)
p.quit()
p = pop3()
try:
    bad = base64.b64encode(xoauth2(USER, "EwBnope").encode()).decode()
    r = p._shortcmd("AUTH XOAUTH2 " + bad)
    if r.startswith(b"+ "):
        r = p._shortcmd("")
    ok(False, "POP3S bad token must fail: %s" % r)
except poplib.error_proto as e:
    ok(str(e).startswith("b'-ERR"), "POP3S XOAUTH2 bad token -> %s" % e)
p.close()

# --- SMTP: the smtp.office365.com stand-in --------------------------------------
def smtp():
    return smtplib.SMTP("127.0.0.1", int(E["RIG_SMTP_PORT"]), timeout=20)


s = smtp()
s.ehlo("rig.test")
ok(not s.has_extn("auth") and s.has_extn("starttls"),
   "SMTP before STARTTLS: STARTTLS offered, AUTH not")
code, msg = s.docmd("MAIL FROM:<%s>" % USER)
code2, msg2 = s.docmd("RCPT TO:<someone@example.org>")
ok(code2 >= 500 or code >= 500, "SMTP without TLS/AUTH: refused (%d %d %s)"
   % (code, code2, msg2[:60]))
s.close()
s = smtp()
s.starttls(context=ctx)
s.ehlo("rig.test")
mechs = s.esmtp_features.get("auth", "").split()
ok(sorted(mechs) == ["OAUTHBEARER", "XOAUTH2"],
   "SMTP after STARTTLS: AUTH offers exactly XOAUTH2 OAUTHBEARER (%s)" % mechs)
code, msg = s.docmd("MAIL FROM:<%s>" % USER)
code2, msg2 = s.docmd("RCPT TO:<someone@example.org>")
ok(code2 >= 500, "SMTP with TLS but no AUTH: relay refused (%d %s)"
   % (code2, msg2[:60]))
s.close()
s = smtp()
s.starttls(context=ctx)
s.ehlo("rig.test")
code, msg = s.docmd("AUTH", "XOAUTH2 " + base64.b64encode(
    xoauth2(USER, "EwBnope").encode()).decode())
if code == 334:
    code, msg = s.docmd("")
ok(code == 535, "SMTP AUTH XOAUTH2 bad token -> %d %s" % (code, msg[:60]))
s.close()
s = smtp()
s.starttls(context=ctx)
s.ehlo("rig.test")
code, msg = s.docmd("AUTH", "XOAUTH2 " + b64)
ok(code == 235, "SMTP AUTH XOAUTH2 -> %d %s" % (code, msg))
refused = s.sendmail(USER, ["someone@example.org"],
                     "From: <%s>\r\nTo: <someone@example.org>\r\n"
                     "Subject: rig smtp test\r\n\r\nhello\r\n" % USER)
ok(refused == {}, "SMTP message accepted")
s.quit()
s = smtp()
s.starttls(context=ctx)
s.ehlo("rig.test")
code, msg = s.docmd("AUTH", "OAUTHBEARER " + base64.b64encode(
    oauthbearer(USER, tok).encode()).decode())
ok(code == 235, "SMTP AUTH OAUTHBEARER -> %d" % code)
refused = s.sendmail(USER, ["other@example.org"],
                     "Subject: rig oauthbearer test\r\n\r\nhello\r\n")
ok(refused == {}, "SMTP message accepted after OAUTHBEARER")
s.quit()
sys.exit(1 if fails else 0)
EOF
rc=$?
cat "$T/check.out"
[ "$rc" -eq 0 ] || t_fail "python peer checks"

rig_wait_maildir "$RIG_SINK" 2
t_eq "$(rig_maildir_count "$RIG_SINK")" 2 "the accepted messages are in the sink"
f=$(find "$RIG_SINK/new" "$RIG_SINK/cur" -type f | head -n 1)
[ -n "$f" ] && t_grep "Authenticated sender: support@contoso.test" "$f" "sink message: authenticated sender header"

# The logs name the mechanism (and hold no token).
t_grep "imap-login: Info: Login: user=<support@contoso.test>, method=XOAUTH2" "$RIG_DOVECOT_LOG" "dovecot log: IMAP XOAUTH2 login"
t_grep "imap-login: Info: Login: user=<support@contoso.test>, method=OAUTHBEARER" "$RIG_DOVECOT_LOG" "dovecot log: IMAP OAUTHBEARER login"
t_grep "pop3-login: Info: Login: user=<support@contoso.test>, method=XOAUTH2" "$RIG_DOVECOT_LOG" "dovecot log: POP3 XOAUTH2 login"
t_grep "oauth2 failed: Introspection failed: Provided token is not valid" "$RIG_DOVECOT_LOG" "dovecot log: bad token refused by introspection"
t_grep "sasl_method=XOAUTH2, sasl_username=support@contoso.test" "$(pf_log "$RIG_PF_SERVER")" "postfix server log: XOAUTH2 auth"
t_grep "sasl_method=OAUTHBEARER, sasl_username=support@contoso.test" "$(pf_log "$RIG_PF_SERVER")" "postfix server log: OAUTHBEARER auth"
t_grep "status=sent \(delivered to maildir\)" "$(pf_log "$RIG_PF_SERVER")" "postfix server log: delivered"
mock_ctl issued | mock_json all | "$PYTHON3" -c '
import json, sys
secrets = json.load(sys.stdin)
hits = [f for f in sys.argv[1:] for s in secrets if s in open(f, errors="replace").read()]
print("leaks: %d %s" % (len(hits), hits))
' "$RIG_DOVECOT_LOG" "$(pf_log "$RIG_PF_SERVER")" >"$T/leak.out"
t_grep "^leaks: 0 " "$T/leak.out" "no issued token in the Dovecot and Postfix logs"
t_grep "introspect -> 200 active=true user=support@contoso.test" "$MOCK_LOG" "mock: Dovecot introspected"

# --- mailbox mode: relayed mail lands in Dovecot, read back over IMAP -----------
pf_stop "$RIG_PF_SERVER"
t_eq "$(pf_pids "$RIG_PF_SERVER" | wc -l)" 0 "pf_stop: no process of the server left"
rm -rf "$RIG_PF_SERVER"
rig_pf_server_start mailbox || t_fail "rig_pf_server_start mailbox"
"$PYTHON3" - >"$T/mbox.out" 2>&1 <<'EOF'
import base64, imaplib, json, os, smtplib, ssl, time, urllib.request
E = os.environ
ctx = ssl.create_default_context(cafile=E["RIG_CA"])
req = urllib.request.Request(E["MOCK_URL"] + "/_control/mint", data=b"{}")
tok = json.load(urllib.request.urlopen(req))["access_token"]
auth = base64.b64encode(("user=%s\x01auth=Bearer %s\x01\x01" % (
    E["RIG_USER"], tok)).encode()).decode()
s = smtplib.SMTP("127.0.0.1", int(E["RIG_SMTP_PORT"]), timeout=20)
s.starttls(context=ctx)
s.ehlo("rig.test")
print(s.docmd("AUTH", "XOAUTH2 " + auth))
s.sendmail(E["RIG_USER"], [E["RIG_USER"]], "Subject: round trip\r\n\r\nhi\r\n")
s.quit()
for i in range(100):
    m = imaplib.IMAP4_SSL("127.0.0.1", int(E["RIG_IMAP_PORT"]), ssl_context=ctx)
    m.authenticate("XOAUTH2", lambda ch: ("user=%s\x01auth=Bearer %s\x01\x01" % (
        E["RIG_USER"], tok)).encode())
    typ, data = m.select("INBOX")
    m.logout()
    if data == [b"4"]:
        break
    time.sleep(0.1)
print("INBOX", data)
EOF
t_grep "INBOX \[b'4'\]" "$T/mbox.out" "mailbox mode: relayed message readable over IMAP"

# --- the client instance (our plugin is not needed to check its set-up) --------
rig_pf_client_create -m xoauth2 -p oauthmail:support -c "$T/oauthmail.conf" || t_fail "rig_pf_client_create"
c=$(pf_conf "$RIG_PF_CLIENT")
t_eq "$(postconf -c "$c" -h relayhost)" "[127.0.0.1]:$RIG_SMTP_PORT" "client relayhost"
t_eq "$(postconf -c "$c" -h smtp_sasl_mechanism_filter)" xoauth2 "client mechanism filter"
t_eq "$(postconf -c "$c" -h smtp_tls_security_level)" encrypt "client TLS required"
postconf -c "$c" -h import_environment >"$T/ie.out"
t_grep "SASL_PATH=$top_builddir/sasl-xoauth2/.libs:" "$T/ie.out" "client SASL_PATH: build tree first"
t_grep "OAUTHMAIL_CONF=$T/oauthmail.conf" "$T/ie.out" "client OAUTHMAIL_CONF"
t_grep "^\[127.0.0.1\]:$RIG_SMTP_PORT support@contoso.test:oauthmail:support\$" "$c/sasl_passwd" "client sasl_passwd"
postfix -c "$c" check >"$T/pfcheck.out" 2>&1 && t_pass "postfix check (client)" || { t_fail "postfix check (client)"; cat "$T/pfcheck.out"; }
pf_start "$RIG_PF_CLIENT" || t_fail "client starts"
printf 'Subject: via the client\n\nhello\n' | pf_sendmail "$RIG_PF_CLIENT" -f support@contoso.test someone@example.org
n=0
while ! grep -q "TLS connection established to 127.0.0.1" "$(pf_log "$RIG_PF_CLIENT")" && [ "$n" -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
t_grep "Trusted TLS connection established to 127.0.0.1\[127.0.0.1\]:$RIG_SMTP_PORT" "$(pf_log "$RIG_PF_CLIENT")" "client: trusted TLS to the server (RIG_CA)"
if rig_plugin_built; then
	echo "plugin built: not asserting the SASL outcome here (issue-3 tests do)"
else
	n=0
	while ! grep -q "status=deferred" "$(pf_log "$RIG_PF_CLIENT")" && [ "$n" -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	t_grep "status=deferred .*(SASL authentication failed|no mechanism available|authentication failed)" "$(pf_log "$RIG_PF_CLIENT")" "client without the plugin: deferred, not bounced"
	t_eq "$(pf_queue_count "$RIG_PF_CLIENT")" 1 "client: the message stays queued"
fi
pf_wait_queue_empty "$RIG_PF_SERVER" 10 && t_pass "pf_wait_queue_empty (server)" || t_fail "server queue not empty"

# --- stopping ----------------------------------------------------------------------
dc_pid=$(cat "$RIG_DIR/dovecot/run/master.pid")
dc_inst=$(sed -n 's/^instance_name = //p' "$RIG_DOVECOT_CONF")
dc_base=$(readlink "$RIG_DIR/dovecot/run")
pf_queues="$(readlink "$RIG_PF_SERVER/queue") $(readlink "$RIG_PF_CLIENT/queue")"
rig_stop_all
rig_alive "$dc_pid" && t_fail "dovecot master still running" || t_pass "dovecot master stopped"
pgrep -f "^dovecot-$dc_inst/" >/dev/null && t_fail "dovecot processes left" || t_pass "no dovecot process left"
t_eq "$(pf_pids "$RIG_PF_SERVER" | wc -l)" 0 "no postfix server process left"
t_eq "$(pf_pids "$RIG_PF_CLIENT" | wc -l)" 0 "no postfix client process left"
[ -e "$dc_base" ] && t_fail "dovecot base_dir left: $dc_base" || t_pass "dovecot base_dir removed"
for q in $pf_queues; do
	case $q in /tmp/rig-pf.*) [ -e "$q" ] && t_fail "postfix queue left: $q" || t_pass "postfix queue $q removed" ;;
	*) t_fail "postfix queue not under /tmp: $q" ;; esac
done

# A killed test shell: the watchdog stops Dovecot and the mock stops itself.
"$srcdir/rig/rig_selftest.sh" --child >"$T/child.out" 2>&1 &
child=$!
t_bg "$child"
n=0
while ! grep -q "^child-ready" "$T/child.out" 2>/dev/null && [ "$n" -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
set -- $(sed -n 's/^child-ready //p' "$T/child.out")
if [ $# -eq 4 ]; then
	kill -9 "$child"
	n=0
	while { rig_alive "$1" || rig_alive "$2" || [ -n "$(pf_pids "$3")" ]; } && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	rig_alive "$1" && t_fail "killed test: dovecot still running" || t_pass "killed test: watchdog stopped dovecot"
	rig_alive "$2" && t_fail "killed test: mock still running" || t_pass "killed test: the mock stopped (--watch-pid)"
	[ -z "$(pf_pids "$3")" ] && t_pass "killed test: watchdog stopped postfix" || t_fail "killed test: postfix still running"
	# the watchdog empties its list last; then the child's files can go
	n=0
	while [ -s "$4/rig/started" ] && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	[ -s "$4/rig/started" ] && t_fail "killed test: watchdog did not finish" || t_pass "killed test: watchdog finished"
	sleep 0.2
	case $4 in */tmp/rig_child.*) rm -rf "$4" ;; esac
else
	t_fail "child rig did not start"
	cat "$T/child.out"
fi

t_done
