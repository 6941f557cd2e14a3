#!/bin/sh
# cli_serve.sh - the token broker (oauthmail serve): the one-line
# protocol on stdin/stdout (Postfix spawn) and on its own socket, error
# classes, bounds, and the SASL plugin asking it (token_socket) instead
# of the cache.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_serve
. "$srcdir/sasl-lib.sh"
t_need openssl
sasl_env
TOK=EwBbroker.Token_0123456789
USER=support@contoso.test
sasl_token_file "$T/tokens" support "$USER" "$TOK"
sasl_token_file "$T/tokens" revoked "$USER" "$TOK" $(( $(date +%s) - 10 )) true
sasl_make_ca "$T/ca" || t_fail "test CA"
account() {
	cat <<EOT
[account $1]
provider = microsoft
tenant = common
client_id = 00000000-0000-0000-0000-0000000000a1
user = $USER
imap_host = 127.0.0.1
imap_port = ${2:-993}
EOT
}
{ echo "token_dir = $T/tokens"; account support; account revoked; } >"$T/broker.conf"

# spawn(8) style: one connection on stdin/stdout
printf 'PING\nTOKEN support\nINVALIDATE support\nTOKEN revoked\nTOKEN nosuch\n' |
	oauthmail -c "$T/broker.conf" serve >"$T/out" 2>"$T/err"
t_eq "$?" 0 "serve on stdin exits 0"
t_eq "$(sed -n 1p "$T/out")" "OK" "PING"
t_grep "^OK $TOK [0-9]+$" "$T/out" "TOKEN: the access token and its expiry"
t_eq "$(sed -n 3p "$T/out")" "OK" "INVALIDATE"
t_grep '^REAUTH .*oauthmail authorize revoked' "$T/out" "reauth class with the fix"
t_grep '^CONFIG .*nosuch' "$T/out" "unknown account: config class"
t_grep 'broker: token [0-9a-f]{6} for account support' "$T/err" "logged by fingerprint"
t_nogrep "$TOK" "$T/err" "no token in the broker's log"
t_grep '"rejected_token"' "$T/tokens/support.json" "INVALIDATE recorded in the token file"
# this token cannot be refreshed (no provider here): undo the refusal
sasl_token_file "$T/tokens" support "$USER" "$TOK"

printf 'TOKEN ../etc\nTOKEN support\n' | oauthmail -c "$T/broker.conf" serve >"$T/out" 2>"$T/err"
t_grep '^BAD bad account name' "$T/out" "malformed request: BAD"
t_eq "$(wc -l <"$T/out" | tr -d ' ')" 1 "and the connection ends"
head -c 5000 /dev/zero | tr '\0' 'A' | oauthmail -c "$T/broker.conf" serve >"$T/out" 2>"$T/err"
t_grep '^BAD request line too long' "$T/out" "overlong request: BAD"
t_eq "$(wc -l <"$T/out" | tr -d ' ')" 1 "and the connection ends"
t_grep 'longer than 256 bytes' "$T/err" "overlong request logged"

# standalone listener
"$OAUTHMAIL_BIN" -c "$T/broker.conf" serve --listen "$T/broker.sock" --mode 0660 2>"$T/broker.log" &
BROKER=$!
t_bg $BROKER
n=0; while [ ! -S "$T/broker.sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
t_eq "$(stat -c %a "$T/broker.sock")" 660 "socket mode"
"$PYTHON3" - "$T/broker.sock" >"$T/out" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"TOKEN support\n"); print(s.makefile().readline().split(" ")[0])
PY
t_eq "$(cat "$T/out")" "OK" "listener answers"

t_grep "listening on $T/broker.sock \\(mode 0660, uid [0-9]+, gid [0-9]+\\)" "$T/broker.log" "mode and owner logged"

# who may connect (oauthmail-serve(8), SOCKET ACCESS): a client running
# as another user (nobody), against the default 0600, against 0660 with
# its group, and against 0666 inside a directory it cannot search (how
# Postfix's private/ protects its 0666 sockets).  Needs root.
as_nobody() {	# as_nobody SOCKET: the first word of the reply, or the errno name
	"$PYTHON3" - "$1" <<'PY'
import errno, os, pwd, socket, sys
pw = pwd.getpwnam("nobody")
os.setgroups([]); os.setgid(pw.pw_gid); os.setuid(pw.pw_uid)
try:
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(b"PING\n"); print(s.makefile().readline().strip())
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}
listen_as() {	# listen_as NAME SOCKET ARGS...: a broker on SOCKET
	la_name=$1 la_sock=$2; shift 2
	"$OAUTHMAIL_BIN" -c "$T/broker.conf" serve --listen "$la_sock" "$@" 2>"$T/$la_name.log" &
	t_bg $!
	n=0; while [ ! -S "$la_sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
}
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	nogroup=$(id -gn nobody)
	listen_as default "$T/default.sock"
	t_eq "$(stat -c %a "$T/default.sock")" 600 "--listen: mode 0600 by default"
	t_eq "$(as_nobody "$T/default.sock")" EACCES "0600: a client of another user is refused"
	listen_as group "$T/group.sock" --mode 0660 --group "$nogroup"
	t_eq "$(stat -c '%a %G' "$T/group.sock")" "660 $nogroup" "--mode 0660 --group: mode and group"
	t_eq "$(as_nobody "$T/group.sock")" OK "0660 with the client's group: the client gets in"
	mkdir -m 700 "$T/private"
	listen_as private "$T/private/oauthmail" --mode 0666
	t_eq "$(as_nobody "$T/private/oauthmail")" EACCES "0666 inside a 0700 directory: the directory protects it"
else
	t_pass "socket access as another user: skipped (not root)"
fi

# systemd socket activation (Accept=no): the listening socket is fd 3
"$PYTHON3" - "$OAUTHMAIL_BIN" "$T/broker.conf" "$T/sd.sock" >"$T/out" 2>"$T/sd.err" <<'PY'
import os, signal, socket, sys, time
lsock = socket.socket(socket.AF_UNIX); lsock.bind(sys.argv[3]); lsock.listen(4)
pid = os.fork()
if pid == 0:
    if lsock.fileno() != 3:
        os.dup2(lsock.fileno(), 3)
    os.set_inheritable(3, True)
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
    os.execv(sys.argv[1], [sys.argv[1], "-c", sys.argv[2], "serve"])
for i in range(2):
    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[3])
    c.sendall(b"PING\n"); print(c.makefile().readline().strip()); c.close()
os.kill(pid, signal.SIGTERM); os.waitpid(pid, 0)
PY
t_eq "$(tr '\n' ' ' <"$T/out")" "OK OK " "systemd socket: two connections served"
t_grep 'listening on the systemd socket' "$T/sd.err" "systemd socket used"

# the plugin asks the broker: the client's own token_dir is empty
fake_mail_start imap imap --user "$USER" --token "$TOK"
mkdir -p "$T/empty"
{ echo "token_dir = $T/empty"; echo "ca_file = $T/ca/ca.pem";
  echo "token_socket = $T/broker.sock"; account support "$FAKE_PORT"; } >"$T/client.conf"
oauthmail -c "$T/client.conf" test support imap >"$T/out" 2>"$T/err"
t_eq "$?" 0 "plugin gets its token from the broker"
t_grep 'INBOX: 2 messages' "$T/out" "authenticated with the broker's token"
t_eq "$(grep -c 'broker: token' "$T/broker.log")" 2 "broker handed out the token"

# a relative token_socket that does not exist here: the cache is used
{ echo "token_dir = $T/tokens"; echo "ca_file = $T/ca/ca.pem";
  echo "token_socket = private/oauthmail"; account support "$FAKE_PORT"; } >"$T/rel.conf"
(cd "$T" && oauthmail -c "$T/rel.conf" test support imap) >"$T/out" 2>"$T/err"
t_eq "$?" 0 "relative socket not here: the cache"

# broker gone: a temporary failure that names the service
kill $BROKER; wait $BROKER 2>/dev/null
t_eq "$(test -e "$T/broker.sock" && echo left || echo removed)" removed "socket removed at SIGTERM"
"$PYTHON3" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/broker.sock"
oauthmail -c "$T/client.conf" test support imap >"$T/out" 2>"$T/err"
t_eq "$?" 4 "broker not answering: exit 4 (defer)"
t_grep 'oauthmail service in master.cf' "$T/err" "error names the broker"
t_nogrep "$TOK" "$T/err" "no token in errors"
t_done
