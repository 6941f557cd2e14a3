# rig.sh - real peers for oauthmail's tests: Dovecot (IMAPS, POP3S and a SASL
# auth service) that validates XOAUTH2/OAUTHBEARER tokens at the mock
# identity provider, and private Postfix instances.  tests/lib.sh sources
# this file; tests/rig/rig_selftest.sh shows every part working.
#
# Everything lives under $T/rig (Dovecot's base_dir, which holds UNIX
# sockets, is a short directory under /tmp, linked from $T/rig/dovecot/run),
# listens on 127.0.0.1 on ports picked at run time, and stops when the test
# ends: at exit (t_on_exit), or, if the test shell dies, within a second
# through a watchdog, and in any case after RIG_LIFETIME seconds (default
# 900).  Dovecot and Postfix run as root (as in CI); the rig skips (77) when
# they are not installed or when not run as root.
#
# -- the rig ------------------------------------------------------------------
# rig_need                  skip unless dovecot, postfix, openssl are there
# rig_certs                 self-signed cert for localhost/127.0.0.1:
#                           RIG_CERT, RIG_KEY, RIG_CA (= RIG_CERT)
# rig_dovecot_start         Dovecot (starts the mock first if needed):
#                           RIG_IMAP_PORT (IMAPS), RIG_POP3_PORT (POP3S),
#                           RIG_DOVECOT_AUTH (inet:127.0.0.1:PORT: use as
#                           smtpd_sasl_path), RIG_DOVECOT_AUTH_PORT,
#                           RIG_DOVECOT_AUTH_SOCKET (the same as a UNIX
#                           socket), RIG_MAIL_ROOT (maildirs, one per user:
#                           $RIG_MAIL_ROOT/USER/{cur,new,tmp}), RIG_USER
#                           (support@contoso.test), RIG_MAILDIR (its
#                           maildir), RIG_DOVECOT_CONF, RIG_DOVECOT_LOG
# rig_seed [-u USER] N [SUBJECT]   put N messages into USER's INBOX
# rig_maildir_count DIR     messages in a Maildir (new + cur)
# rig_wait_maildir DIR N [S] wait until a Maildir holds N messages
# rig_dovecot_stop
# rig_pf_server_start [sink | mailbox [USER...]]
#                           the smtp.office365.com stand-in: Postfix smtpd on
#                           RIG_SMTP_PORT, STARTTLS required, SASL required
#                           through Dovecot (XOAUTH2, OAUTHBEARER only),
#                           relays authenticated mail for any domain into one
#                           Maildir RIG_SINK ("sink", default); in "mailbox"
#                           mode mail for USER (default RIG_USER) goes to
#                           USER's Dovecot mailbox $RIG_MAIL_ROOT/USER/ (fetch
#                           it back over IMAP/POP3), the rest to RIG_SINK.
#                           RIG_PF_SERVER is its pf_ DIR.
# rig_pf_client_create [-m xoauth2|oauthbearer] [-u USER] [-p PASSWORD]
#                      [-c OAUTHMAIL_CONF]
#                           the instance under test (not started): relayhost
#                           [127.0.0.1]:RIG_SMTP_PORT, STARTTLS required
#                           (RIG_CA), SASL through our plugin loaded from the
#                           build tree (SASL_PATH and OAUTHMAIL_CONF in
#                           import_environment), sasl_passwd
#                           "[127.0.0.1]:PORT USER:PASSWORD" (default
#                           support@contoso.test:oauthmail:support), an smtpd
#                           for injection on RIG_SUBMIT_PORT.  RIG_PF_CLIENT is
#                           its pf_ DIR; start it with pf_start.
# rig_plugin_built          true when sasl-xoauth2/.libs/libxoauth2.so exists
# rig_stop_all              stop everything (also run at exit)
#
# -- generic private Postfix instances (also used by the ticketq tests) ---------
# An instance is a directory DIR (absolute path) with DIR/etc
# (config_directory: main.cf, master.cf, your maps), DIR/data,
# DIR/log/BASENAME.maillog (pf_log prints it) and DIR/queue, a link to a
# short directory under /tmp (Postfix opens public/postlog by its full name,
# and socket names are limited to 107 bytes; the queue must also stay out of
# the config directory, which postfix-script wants root-owned).  Postfix
# runs as root, mail_owner postfix, no chroot, loopback only, no port 25
# listener, fast retries (queue_run_delay 1s, backoff 1s..10s).  Mail is
# injected with pf_sendmail (root) or over SMTP to an smtpd you add with
# pf_master.
#
# pf_create DIR [NAME]      write main.cf/master.cf (NAME: syslog_name
#                           postfix-NAME, myhostname NAME.rig.test)
# pf_conf DIR               print the config directory (for postconf -c,
#                           sendmail -C, postqueue -c)
# pf_set DIR key=value...   postconf -e into DIR's main.cf
# pf_master DIR LINE...     append master.cf lines, e.g.
#                           "127.0.0.1:$port inet n - n - - smtpd"
# pf_settle DIR             run after editing files in DIR/etc yourself:
#                           backdates them, else every Postfix program waits
#                           up to 2.4 s for a "recently changed" main.cf or
#                           table to settle (pf_set, pf_master, pf_start do it)
# pf_start DIR / pf_stop DIR / pf_running DIR
#                           start (waits until it runs), stop (waits until
#                           every process of the instance is gone); started
#                           instances are stopped at exit and their logs
#                           kept for leak_check (t_keep_log)
# pf_sendmail DIR ARGS...   sendmail -C DIR/etc ARGS (message on stdin)
# pf_flush DIR              postqueue -f: retry deferred mail now
# pf_queue_count DIR        messages in the queue
# pf_wait_queue_empty DIR [SECONDS]   wait (default 30 s) for an empty queue;
#                           fails showing the queue when time runs out
# pf_queue_why DIR          one line per queued message: its queue (active,
#                           deferred, hold...), why it waits, and the log's
#                           last line about it (for a failure to show)
# pf_log DIR                print the path of the instance's log
# pf_pids DIR               pids of every process of the instance
# pf_need                   skip unless a private instance can run here
#                           (Postfix installed, root, user postfix)
# pf_ticketq_create DIR QUEUE TRANSPORT [KEY=VALUE...]
#                           a ticket queue QUEUE (help@tickets.test, owner
#                           nobody) and an instance DIR, mx.tickets.test,
#                           that hands mail for tickets.test to TRANSPORT
#                           and discards the rest; LOG is its log
#
# Notes for tests: the smtp client runs as `postfix`, so the oauthmail config,
# token_dir and token files it reads must be readable by postfix.  Submit mail
# with pf_sendmail (root) or over SMTP to RIG_SUBMIT_PORT.

RIG_USER=support@contoso.test
# helper snippets: Debian's python3 starts fastest (no pyenv shim)
if [ -x /usr/bin/python3 ]; then RIG_PY=/usr/bin/python3; else RIG_PY=${PYTHON3:-python3}; fi

# rig_need - skip the test when the real peers are not installed
rig_need() {
	PATH=$PATH:/usr/sbin:/sbin
	t_need dovecot doveadm postfix postconf openssl curl
	[ -x /usr/lib/dovecot/imap-login ] ||
		t_skip "dovecot-imapd not installed (scripts/install-deps installs it)"
	[ -x /usr/lib/dovecot/pop3-login ] ||
		t_skip "dovecot-pop3d not installed (scripts/install-deps installs it)"
	[ "$(id -u)" -eq 0 ] ||
		t_skip "the rig runs Dovecot and Postfix as root (CI runs as root)"
	getent passwd dovecot >/dev/null && getent passwd postfix >/dev/null ||
		t_skip "users dovecot/postfix missing (reinstall dovecot-core, postfix)"
}

# rig_init - private directory, cleanup at exit, watchdog (once per test)
rig_init() {
	[ -n "${rig_inited:-}" ] && return 0
	rig_inited=1
	PATH=$PATH:/usr/sbin:/sbin
	t_need_reachable
	# nothing inherited from a calling test counts as started here
	RIG_CERT= RIG_KEY= RIG_CA= RIG_DOVECOT_AUTH= RIG_DOVECOT_CONF=
	RIG_SMTP_PORT= RIG_PF_SERVER= RIG_PF_CLIENT=
	RIG_DIR=$T/rig
	mkdir -p "$RIG_DIR"
	: >"$RIG_DIR/started"
	export RIG_DIR RIG_USER
	t_on_exit rig_stop_all
	rig_deadline=$(($(date +%s) + ${RIG_LIFETIME:-900}))
	(
		# Runs until the test shell goes or the deadline passes, then
		# stops whatever is still running.  t_cleanup kills it first
		# on a normal exit.
		while kill -0 $$ 2>/dev/null && [ "$(date +%s)" -lt "$rig_deadline" ]; do
			sleep 1
		done
		rig_stop_all
	) </dev/null >>"$RIG_DIR/watchdog.log" 2>&1 &
	t_bg $!
}

# rig_ports N - N distinct free TCP ports on 127.0.0.1
rig_ports() {
	"$RIG_PY" -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "$1"
}

# rig_wait_port PORT... - wait (up to 10 s) until each 127.0.0.1:PORT accepts
rig_wait_port() {
	"$RIG_PY" -c '
import socket, sys, time
end = time.time() + 10
for port in sys.argv[1:]:
    while True:
        try:
            socket.create_connection(("127.0.0.1", int(port)), 1).close()
            break
        except OSError:
            if time.time() > end:
                sys.exit(1)
            time.sleep(0.05)
' "$@"
}

rig_certs() {
	rig_init
	[ -n "${RIG_CERT:-}" ] && [ -s "$RIG_CERT" ] && return 0
	RIG_CERT=$RIG_DIR/cert.pem
	RIG_KEY=$RIG_DIR/key.pem
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$RIG_KEY" -out "$RIG_CERT" -days 30 \
		-subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		>"$RIG_DIR/openssl.out" 2>&1 || {
		cat "$RIG_DIR/openssl.out"
		return 1
	}
	chmod 644 "$RIG_CERT"
	chmod 600 "$RIG_KEY"
	RIG_CA=$RIG_CERT
	export RIG_CERT RIG_KEY RIG_CA
}

# rig_subst TEMPLATE OUT VAR=VALUE... - fill @VAR@ placeholders
rig_subst() {
	rs_in=$1
	rs_out=$2
	shift 2
	cp "$rs_in" "$rs_out.tmp" || return 1
	for rs_kv in "$@"; do
		rs_k=${rs_kv%%=*}
		rs_v=$(printf '%s' "${rs_kv#*=}" | sed 's/[|&\\]/\\&/g')
		sed -i "s|@$rs_k@|$rs_v|g" "$rs_out.tmp" || return 1
	done
	mv "$rs_out.tmp" "$rs_out"
}

rig_dovecot_start() {
	rig_init
	rig_certs || return 1
	if [ -z "${mock_idp_started:-}" ]; then
		mock_idp_start || return 1
	fi
	rd=$RIG_DIR/dovecot
	mkdir -p "$rd/state"
	RIG_MAIL_ROOT=$RIG_DIR/mail
	mkdir -p "$RIG_MAIL_ROOT"
	chown dovecot:dovecot "$RIG_MAIL_ROOT"
	# UNIX socket paths are limited to 107 bytes: keep base_dir short.
	rig_dc_base=$(mktemp -d /tmp/rig-dc.XXXXXX) || return 1
	chmod 755 "$rig_dc_base"
	echo "rmdir $rig_dc_base" >>"$RIG_DIR/started"
	ln -sfn "$rig_dc_base" "$rd/run"
	RIG_DOVECOT_CONF=$rd/dovecot.conf
	RIG_DOVECOT_LOG=$rd/dovecot.log
	rig_subst "$srcdir/rig/oauth2.conf.ext.in" "$rd/oauth2.conf.ext" \
		"INTROSPECT_URL=$MOCK_URL/introspect" || return 1
	rd_try=0
	while :; do
		set -- $(rig_ports 3)
		rig_subst "$srcdir/rig/dovecot.conf.in" "$RIG_DOVECOT_CONF" \
			"INSTANCE=rig-${T##*.}" "BASE_DIR=$rig_dc_base" \
			"STATE_DIR=$rd/state" "LOG=$RIG_DOVECOT_LOG" \
			"CERT=$RIG_CERT" "KEY=$RIG_KEY" \
			"MAIL_ROOT=$RIG_MAIL_ROOT" "OAUTH2_CONF=$rd/oauth2.conf.ext" \
			"IMAPS_PORT=$1" "POP3S_PORT=$2" "AUTH_PORT=$3" || return 1
		if dovecot -c "$RIG_DOVECOT_CONF" >"$rd/start.out" 2>&1; then
			break
		fi
		rd_try=$((rd_try + 1))
		if [ "$rd_try" -ge 3 ] || ! grep -q "in use" "$rd/start.out" "$RIG_DOVECOT_LOG" 2>/dev/null; then
			echo "rig_dovecot_start: dovecot did not start:"
			cat "$rd/start.out" "$RIG_DOVECOT_LOG" 2>/dev/null | tail -n 20
			return 1
		fi
	done
	echo "dovecot $RIG_DOVECOT_CONF" >>"$RIG_DIR/started"
	rig_keep_log "$RIG_DOVECOT_LOG"
	RIG_IMAP_PORT=$1
	RIG_POP3_PORT=$2
	RIG_DOVECOT_AUTH_PORT=$3
	RIG_DOVECOT_AUTH=inet:127.0.0.1:$3
	RIG_DOVECOT_AUTH_SOCKET=$rig_dc_base/auth-postfix
	RIG_MAILDIR=$RIG_MAIL_ROOT/$RIG_USER
	rig_maildir_create "$RIG_MAILDIR"
	export RIG_IMAP_PORT RIG_POP3_PORT RIG_DOVECOT_AUTH RIG_DOVECOT_AUTH_PORT \
		RIG_DOVECOT_AUTH_SOCKET RIG_MAIL_ROOT RIG_MAILDIR \
		RIG_DOVECOT_CONF RIG_DOVECOT_LOG
	rig_wait_port "$RIG_IMAP_PORT" "$RIG_POP3_PORT" "$RIG_DOVECOT_AUTH_PORT" || {
		echo "rig_dovecot_start: dovecot does not listen"
		tail -n 20 "$RIG_DOVECOT_LOG"
		return 1
	}
}

# rig_maildir_create DIR - an empty Maildir owned by dovecot
rig_maildir_create() {
	mkdir -p "$1/cur" "$1/new" "$1/tmp"
	chown -R dovecot:dovecot "$1"
}

# rig_seed [-u USER] N [SUBJECT] - N messages into USER's INBOX (new/)
rig_seed() {
	rs_user=$RIG_USER
	if [ "$1" = "-u" ]; then
		rs_user=$2
		shift 2
	fi
	rs_n=$1
	rs_subj=${2:-rig message}
	rs_dir=$RIG_MAIL_ROOT/$rs_user
	rig_maildir_create "$rs_dir"
	rs_now=$(date +%s)
	rs_date=$(LC_ALL=C date -R)
	RIG_SEED_SEQ=$((${RIG_SEED_SEQ:-0} + 1)) # unique across calls in a second
	rs_i=1
	while [ "$rs_i" -le "$rs_n" ]; do
		rs_f=$rs_dir/tmp/$rs_now.R$$_${RIG_SEED_SEQ}_$rs_i.rig
		printf 'Return-Path: <sender@example.org>\nFrom: Sender <sender@example.org>\nTo: <%s>\nSubject: %s %d\nDate: %s\nMessage-ID: <rig-%s-%d-%d@rig.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nThis is message %d of %d.\n' \
			"$rs_user" "$rs_subj" "$rs_i" "$rs_date" "$rs_now" "$$" "$RIG_SEED_SEQ$rs_i" "$rs_i" "$rs_n" >"$rs_f"
		mv "$rs_f" "$rs_dir/new/"
		rs_i=$((rs_i + 1))
	done
	chown -R dovecot:dovecot "$rs_dir"
}

# rig_maildir_count DIR - messages in DIR/new and DIR/cur
rig_maildir_count() {
	find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l | tr -d ' '
}

# rig_wait_maildir DIR N [SECONDS] - wait until DIR holds at least N
# messages (default 60 s).  The client's queue empties when the server
# has accepted the mail; the server delivers to its sink a moment later.
rig_wait_maildir() {
	rwm_end=$(($(date +%s) + ${3:-60}))
	while [ "$(rig_maildir_count "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -ge "$rwm_end" ] && return 1
		sleep 0.1
	done
	return 0
}

# rig_alive PID - the process exists and is not a zombie
rig_alive() {
	ra_s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $ra_s in Z*) return 1 ;; esac
	return 0
}

# rig_dovecot_pids CONF - master and children of one rig Dovecot (the
# children's titles carry the instance name, unique per test)
rig_dovecot_pids() {
	rdp_inst=$(sed -n 's/^instance_name = //p' "$1" 2>/dev/null)
	[ -n "$rdp_inst" ] || return 0
	rdp_base=$(sed -n 's/^base_dir = //p' "$1")
	cat "$rdp_base/master.pid" 2>/dev/null
	pgrep -f "^dovecot-$rdp_inst/" 2>/dev/null
}

# rig_stop_dovecot_conf CONF - stop one Dovecot: SIGTERM to the master and
# its children at once (the master alone takes seconds to wind them down),
# wait for them, SIGKILL what is left after 5 s
rig_stop_dovecot_conf() {
	rsd_pids=$(rig_dovecot_pids "$1")
	[ -n "$rsd_pids" ] || return 0
	kill $rsd_pids 2>/dev/null
	rsd_n=0
	while [ "$rsd_n" -lt 100 ]; do
		rsd_live=""
		for rsd_p in $(rig_dovecot_pids "$1") $rsd_pids; do
			rig_alive "$rsd_p" && rsd_live="$rsd_live $rsd_p"
		done
		[ -z "$rsd_live" ] && return 0
		sleep 0.05
		rsd_n=$((rsd_n + 1))
	done
	kill -9 $rsd_live 2>/dev/null
	return 0
}

rig_dovecot_stop() {
	[ -n "${RIG_DOVECOT_CONF:-}" ] || return 0
	rig_stop_dovecot_conf "$RIG_DOVECOT_CONF"
}

# rig_stop_all - stop every Postfix and Dovecot this test started
rig_stop_all() {
	[ -f "${RIG_DIR:-/nonexistent}/started" ] || return 0
	# newest first: clients before the server, Postfix before Dovecot
	sed '1!G;h;$!d' "$RIG_DIR/started" | while read -r rsa_kind rsa_a; do
		case $rsa_kind in
		postfix) pf_stop "$rsa_a" ;;
		dovecot) rig_stop_dovecot_conf "$rsa_a" ;;
		rmdir) case $rsa_a in /tmp/rig-dc.* | /tmp/rig-pf.*) rm -rf "$rsa_a" ;; esac ;;
		esac
	done
	: >"$RIG_DIR/started"
}

# ---------------------------------------------------------------------------
# Generic private Postfix instances

pf_conf() {
	echo "$1/etc"
}

pf_log() {
	echo "$1/log/$(basename "$1").maillog"
}

# rig_keep_log FILE - have leak_check grep FILE (lib.sh's t_keep_log)
rig_keep_log() {
	if command -v t_keep_log >/dev/null 2>&1; then t_keep_log "$1"; fi
}

pf_create() {
	rig_init
	pc_dir=$1
	pc_name=${2:-$(basename "$1")}
	mkdir -p "$pc_dir/etc" "$pc_dir/data" "$pc_dir/log" || return 1
	chown postfix "$pc_dir/data"
	# Postfix connects to $queue_directory/public/postlog by its full
	# name, and UNIX socket names are limited to 107 bytes: keep the
	# queue short (DIR/queue links to it).
	pc_queue=$(mktemp -d /tmp/rig-pf.XXXXXX) || return 1
	chmod 755 "$pc_queue"
	echo "rmdir $pc_queue" >>"$RIG_DIR/started"
	rm -rf "$pc_dir/queue"
	ln -s "$pc_queue" "$pc_dir/queue"
	: >"$pc_dir/etc/main.cf"
	if [ -f /usr/share/postfix/master.cf.dist ]; then
		cp /usr/share/postfix/master.cf.dist "$pc_dir/etc/master.cf"
	else
		cp /etc/postfix/master.cf "$pc_dir/etc/master.cf"
	fi || return 1
	pc_c=$pc_dir/etc
	# qmgr: a queue file found locked (a delivery agent reports its
	# status before it closes the file, so under load the retry can
	# come first) is put back into incoming for 60 s, and incoming is
	# scanned again only on a trigger: master's qmgr wakeup, 300 s by
	# default.  5 s keeps such a retry within a test's wait.
	postconf -c "$pc_c" -MX smtp/inet &&
		postconf -c "$pc_c" -F '*/*/chroot = n' 'qmgr/unix/wakeup = 5' &&
		postconf -c "$pc_c" -e \
			compatibility_level=3.6 \
			"queue_directory=$pc_queue" \
			"data_directory=$pc_dir/data" \
			mail_owner=postfix setgid_group=postdrop \
			"syslog_name=postfix-$pc_name" \
			"maillog_file=$(pf_log "$pc_dir")" \
			"maillog_file_prefixes=$pc_dir/log" \
			inet_interfaces=127.0.0.1 inet_protocols=ipv4 \
			"myhostname=$pc_name.rig.test" mydomain=rig.test \
			'myorigin=$myhostname' mydestination= \
			mynetworks=127.0.0.0/8 relayhost= \
			alias_maps= alias_database= local_recipient_maps= \
			biff=no append_dot_mydomain=no \
			queue_run_delay=1s minimal_backoff_time=1s \
			maximal_backoff_time=10s smtpd_error_sleep_time=0 \
			>"$pc_dir/log/create.out" 2>&1 || {
		cat "$pc_dir/log/create.out"
		return 1
	}
	pf_settle "$pc_dir"
}

pf_set() {
	ps_dir=$1
	shift
	postconf -c "$ps_dir/etc" -e "$@" && pf_settle "$ps_dir"
}

pf_master() {
	pm_dir=$1
	shift
	printf '%s\n' "$@" >>"$pm_dir/etc/master.cf" && pf_settle "$pm_dir"
}

# pf_settle DIR - backdate the files in DIR/etc by 10 s.  Postfix re-reads a
# main.cf or table changed less than about 2 s ago up to 8 times, 300 ms
# apart (it may still be being written): 2.4 s per program start.
pf_settle() {
	touch -c -d "@$(($(date +%s) - 10))" "$1"/etc/* 2>/dev/null
	return 0
}

pf_master_pid() {
	[ -f "$1/queue/pid/master.pid" ] || return 1
	pmp=$(tr -d ' \n' 2>/dev/null <"$1/queue/pid/master.pid")
	[ -n "$pmp" ] && kill -0 "$pmp" 2>/dev/null && echo "$pmp"
}

pf_running() {
	[ -n "$(pf_master_pid "$1")" ]
}

# pf_pids DIR - every running process of the instance (by MAIL_CONFIG)
pf_pids() {
	grep -l -s -z -x -F "MAIL_CONFIG=$1/etc" /proc/[0-9]*/environ 2>/dev/null |
		sed 's|/proc/\([0-9]*\)/environ|\1|'
}

pf_start() {
	rig_init
	# (again on a restart: it must come after its queue's "rmdir" line)
	echo "postfix $1" >>"$RIG_DIR/started"
	pf_settle "$1"
	rig_keep_log "$(pf_log "$1")"
	if ! postfix -c "$1/etc" start >>"$1/log/postfix.out" 2>&1; then
		echo "pf_start: postfix -c $1/etc start failed:"
		tail -n 15 "$1/log/postfix.out" "$(pf_log "$1")" 2>/dev/null
		return 1
	fi
	pf_running "$1"
}

pf_stop() {
	pf_running "$1" || return 0
	postfix -c "$1/etc" stop >>"$1/log/postfix.out" 2>&1
	pst_n=0
	while [ -n "$(pf_pids "$1")" ] && [ "$pst_n" -lt 100 ]; do
		sleep 0.1
		pst_n=$((pst_n + 1))
	done
	for pst_p in $(pf_pids "$1"); do
		kill -9 "$pst_p" 2>/dev/null
	done
	return 0
}

pf_sendmail() {
	psm_dir=$1
	shift
	sendmail -C "$psm_dir/etc" "$@"
}

pf_flush() {
	postqueue -c "$1/etc" -f
}

pf_queue_count() {
	find "$1/queue/maildrop" "$1/queue/incoming" "$1/queue/active" \
		"$1/queue/deferred" "$1/queue/hold" -type f 2>/dev/null |
		wc -l | tr -d ' '
}

pf_queue_why() {
	postqueue -c "$1/etc" -j 2>/dev/null |
		"$PYTHON3" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    why = "; ".join(r.get("delay_reason", "") for r in m.get("recipients", []))
    print("%s %s: %s" % (m.get("queue_id"), m.get("queue_name"), why or "no attempt yet"))
' | while read -r pqw_id pqw_rest; do
		pqw_last=$(grep -h " $pqw_id: " "$(pf_log "$1")" 2>/dev/null | tail -n 1 | cut -c1-240)
		echo "$pqw_id $pqw_rest | last log line: ${pqw_last:-none}"
	done
}

pf_wait_queue_empty() {
	pwq_end=$(($(date +%s) + ${2:-30}))
	while [ "$(pf_queue_count "$1")" -ne 0 ]; do
		if [ "$(date +%s)" -ge "$pwq_end" ]; then
			echo "pf_wait_queue_empty: $(pf_queue_count "$1") message(s) still queued in $1:"
			postqueue -c "$1/etc" -p 2>&1 | head -n 30
			return 1
		fi
		sleep 0.1
	done
}

pf_need() {
	PATH=$PATH:/usr/sbin:/sbin
	t_need postfix postconf postqueue postsuper
	[ "$(id -u)" -eq 0 ] || t_skip "a private Postfix instance needs root"
	getent passwd postfix >/dev/null || t_skip "user postfix missing (reinstall postfix)"
	t_need_reachable
	[ -f /usr/share/postfix/master.cf.dist ] || t_skip "no /usr/share/postfix/master.cf.dist"
}

pf_ticketq_create() {
	ptc_dir=$1
	ptc_q=$2
	ptc_tr=$3
	shift 3
	ticketq --queue "$ptc_q" init --address help@tickets.test --owner nobody >/dev/null ||
		t_fail "ticketq init --owner nobody"
	pf_create "$ptc_dir" "$(basename "$ptc_dir")" || t_fail "postfix config"
	LOG=$(pf_log "$ptc_dir")
	pf_set "$ptc_dir" myhostname=mx.tickets.test relay_domains=tickets.test \
		"transport_maps=inline:{ tickets.test=$ptc_tr }" \
		default_transport=discard "$@" || t_fail "pf_set"
}

# ---------------------------------------------------------------------------
# The Postfix pair of the rig

rig_pf_server_start() {
	rps_mode=${1:-sink}
	[ -n "${RIG_DOVECOT_AUTH:-}" ] || rig_dovecot_start || return 1
	RIG_PF_SERVER=$RIG_DIR/pf-server
	RIG_SINK=$RIG_DIR/sink
	rig_maildir_create "$RIG_SINK"
	pf_create "$RIG_PF_SERVER" pf-server || return 1
	pf_set "$RIG_PF_SERVER" \
		smtpd_tls_security_level=encrypt smtpd_tls_auth_only=yes \
		"smtpd_tls_cert_file=$RIG_CERT" "smtpd_tls_key_file=$RIG_KEY" \
		smtpd_tls_loglevel=1 \
		smtpd_sasl_auth_enable=yes smtpd_sasl_type=dovecot \
		"smtpd_sasl_path=$RIG_DOVECOT_AUTH" \
		smtpd_sasl_security_options=noanonymous \
		smtpd_sasl_tls_security_options=noanonymous \
		smtpd_sasl_authenticated_header=yes \
		'smtpd_relay_restrictions=permit_sasl_authenticated, reject' \
		'smtpd_recipient_restrictions=permit_sasl_authenticated, reject' \
		default_transport=virtual \
		"virtual_uid_maps=static:$(id -u dovecot)" \
		"virtual_gid_maps=static:$(id -g dovecot)" \
		"virtual_minimum_uid=$(id -u dovecot)" || return 1
	# virtual(8) refuses regexp substitutions: list the mailbox users.
	: >"$RIG_PF_SERVER/etc/vmailbox"
	if [ "$rps_mode" = mailbox ]; then
		shift
		[ $# -gt 0 ] || set -- "$RIG_USER"
		for rps_u in "$@"; do
			printf '%s mail/%s/\n' "$rps_u" "$rps_u" >>"$RIG_PF_SERVER/etc/vmailbox"
		done
	fi
	pf_set "$RIG_PF_SERVER" "virtual_mailbox_base=$RIG_DIR" \
		"virtual_mailbox_maps=texthash:$RIG_PF_SERVER/etc/vmailbox, static:sink/" ||
		return 1
	rps_try=0
	while :; do
		RIG_SMTP_PORT=$(rig_ports 1)
		cp "$RIG_PF_SERVER/etc/master.cf" "$RIG_PF_SERVER/etc/master.cf.base" 2>/dev/null
		pf_master "$RIG_PF_SERVER" "127.0.0.1:$RIG_SMTP_PORT inet n - n - - smtpd"
		pf_start "$RIG_PF_SERVER" >"$RIG_DIR/pf-server.start" 2>&1 && break
		rps_try=$((rps_try + 1))
		if [ "$rps_try" -ge 3 ]; then
			cat "$RIG_DIR/pf-server.start"
			return 1
		fi
		pf_stop "$RIG_PF_SERVER"
		mv "$RIG_PF_SERVER/etc/master.cf.base" "$RIG_PF_SERVER/etc/master.cf"
	done
	export RIG_PF_SERVER RIG_SINK RIG_SMTP_PORT
	rig_wait_port "$RIG_SMTP_PORT"
}

rig_plugin_built() {
	[ -f "$top_builddir/sasl-xoauth2/.libs/libxoauth2.so" ]
}

rig_pf_client_create() {
	rpc_mech=xoauth2
	rpc_user=$RIG_USER
	rpc_pass=oauthmail:support
	rpc_conf=${OAUTHMAIL_CONF:-$T/oauthmail.conf}
	while [ $# -gt 0 ]; do
		case $1 in
		-m) rpc_mech=$2 ;;
		-u) rpc_user=$2 ;;
		-p) rpc_pass=$2 ;;
		-c) rpc_conf=$2 ;;
		*) echo "rig_pf_client_create: unknown option $1"; return 1 ;;
		esac
		shift 2
	done
	[ -n "${RIG_SMTP_PORT:-}" ] || rig_pf_server_start || return 1
	RIG_PF_CLIENT=$RIG_DIR/pf-client
	RIG_PLUGIN_DIR=$top_builddir/sasl-xoauth2/.libs
	RIG_SASL_PATH=$RIG_PLUGIN_DIR:${SASL_SYSTEM_PLUGINDIR:-/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/sasl2}
	pf_create "$RIG_PF_CLIENT" pf-client || return 1
	printf '[127.0.0.1]:%s %s:%s\n' "$RIG_SMTP_PORT" "$rpc_user" "$rpc_pass" \
		>"$RIG_PF_CLIENT/etc/sasl_passwd"
	chmod 600 "$RIG_PF_CLIENT/etc/sasl_passwd"
	pf_settle "$RIG_PF_CLIENT"
	RIG_SUBMIT_PORT=$(rig_ports 1)
	pf_master "$RIG_PF_CLIENT" "127.0.0.1:$RIG_SUBMIT_PORT inet n - n - - smtpd"
	pf_set "$RIG_PF_CLIENT" \
		"relayhost=[127.0.0.1]:$RIG_SMTP_PORT" \
		smtp_sasl_auth_enable=yes \
		"smtp_sasl_password_maps=texthash:$RIG_PF_CLIENT/etc/sasl_passwd" \
		"smtp_sasl_mechanism_filter=$rpc_mech" \
		smtp_sasl_security_options=noanonymous \
		smtp_sasl_tls_security_options=noanonymous \
		smtp_tls_security_level=encrypt "smtp_tls_CAfile=$RIG_CA" \
		smtp_tls_loglevel=1 \
		'smtpd_relay_restrictions=permit_mynetworks, reject' \
		"import_environment=$(postconf -d -h import_environment) SASL_PATH=$RIG_SASL_PATH OAUTHMAIL_CONF=$rpc_conf" ||
		return 1
	export RIG_PF_CLIENT RIG_SUBMIT_PORT RIG_PLUGIN_DIR RIG_SASL_PATH
}
