#!/bin/sh
# ticketq_fetchmail.sh - fetchmail's `mda` path into `ticketq deliver`,
# against a real POP3 server (a private Dovecot on 127.0.0.1, static
# passdb, port chosen now).  Mail fetched becomes tickets and leaves the
# server; when ticketq defers (75) fetchmail keeps the message on the
# server and the next run delivers it - nothing lost, nothing twice.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_fetchmail
PATH=$PATH:/usr/sbin:/sbin
t_need dovecot fetchmail
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
[ "$(id -u)" -eq 0 ] || t_skip "a private Dovecot instance needs root"
t_need_reachable
getent passwd dovenull >/dev/null && getent passwd dovecot >/dev/null ||
	t_skip "users dovecot/dovenull missing (reinstall dovecot-core)"

D=$T/dovecot
Q=$T/queue
MBOX=$T/mail/support
PORT=$(t_free_port)
# Dovecot's sockets live under base_dir, and a UNIX socket path has at
# most 107 bytes: keep it short (a build tree can be deep, distcheck's is)
RUN=$(mktemp -d /tmp/tqf.XXXXXX)
rm_run() { rm -rf "$RUN"; }
mkdir -p "$D/state" "$MBOX/new" "$MBOX/cur" "$MBOX/tmp"
chown -R nobody:nogroup "$T/mail"

cat >"$D/dovecot.conf" <<EOF
base_dir = $RUN
state_dir = $D/state
log_path = $D/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:$T/mail/%u
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$T/mail/%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $PORT
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
}
EOF
dovecot_stop() {
	[ -f "$RUN/master.pid" ] && kill "$(cat "$RUN/master.pid")" 2>/dev/null
	sleep 0.2
}
t_on_exit dovecot_stop
t_on_exit rm_run
dovecot -c "$D/dovecot.conf" -F >"$D/dovecot.out" 2>&1 &
dpid=$!
t_bg $dpid
( sleep 300; kill $dpid ) >/dev/null 2>&1 &
t_bg $!
n=0
until "$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do
	n=$((n + 1))
	[ $n -gt 100 ] && { cat "$D/dovecot.out" "$D/dovecot.log"; t_fail "dovecot did not start"; t_done; }
	sleep 0.1
done

C=$srcdir/data/ticketq/corpus
put() { cp "$1" "$MBOX/new/$2" && chown nobody:nogroup "$MBOX/new/$2"; }
mailbox() { ls "$MBOX/new" "$MBOX/cur" | grep -c -v -e '^$' -e ':$'; }

ticketq --queue "$Q" init --address help@tickets.test >/dev/null || t_fail "init"
export FETCHMAILHOME=$T/fetchmail
mkdir -p "$FETCHMAILHOME"
cat >"$FETCHMAILHOME/fetchmailrc" <<EOF
set no syslog
poll 127.0.0.1 service $PORT protocol pop3 auth password
  user "support" there with password "secret" is root here
  sslproto ''
  no keep
  mda "$TICKETQ_BIN deliver --queue $Q --sender %F --recipient %T"
EOF
chmod 600 "$FETCHMAILHOME/fetchmailrc"
fetch() { fetchmail -f "$FETCHMAILHOME/fetchmailrc" -N --nosyslog >"$T/fetch.out" 2>&1; }

# 1. two messages on the server become two tickets and leave the server
put "$C/001-new-plain.eml" 1.eml
put "$C/002-latin1-qp.eml" 2.eml
fetch
t_grep "2 messages for support at 127.0.0.1" "$T/fetch.out" "fetchmail saw both"
t_eq "$(ticketq --queue "$Q" list --json | grep -c '"id"')" 2 "two tickets"
t_eq "$(mailbox)" 0 "fetched mail is removed from the server"
raw=$(grep -l "a1.printer@customer.example" "$Q"/new/* | head -n 1)
t_grep "^Return-Path: <alice@customer.example>" "$raw" "%F became Return-Path"

# 2. ticketq defers (queue broken): fetchmail keeps the mail on the server
mv "$Q/ticketq.conf" "$Q/ticketq.conf.off"
put "$C/023-reply-references.eml" 3.eml
fetch
t_grep "MDA returned nonzero status 75|MDA.*75" "$T/fetch.out" "fetchmail sees exit 75"
t_eq "$(mailbox)" 1 "the message stays on the server"
# 3. fixed: the next run delivers it, once
mv "$Q/ticketq.conf.off" "$Q/ticketq.conf"
fetch
t_eq "$(mailbox)" 0 "delivered on the next run"
A=$(ticketq --queue "$Q" list --json | "$PYTHON3" -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin) if t["subject"] == "Printer jams"][0])')
t_eq "$(ticketq --queue "$Q" show "$A" --json | grep -c '"message_id"')" 2 "the reply threaded onto the ticket, once"
t_done
