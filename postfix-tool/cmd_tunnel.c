/*
 * cmd_tunnel.c - oauthmail tunnel imap|pop3|smtp ACCOUNT: an already
 * authenticated connection to the account's server on stdin/stdout.
 *
 * For programs without OAuth of their own (fetchmail 6.4's plugin,
 * mbsync's Tunnel, mutt's tunnel): we connect with TLS, authenticate
 * with XOAUTH2 through libsasl2 and the oauthmail plugin, then greet the
 * client as a logged-in session (IMAP "* PREAUTH", POP3 "+OK", SMTP
 * "220") and relay bytes both ways until either side closes.  If
 * anything fails before that, the client gets the reason in its own
 * protocol (IMAP "* BYE", POP3 "-ERR", SMTP "421") and stderr gets the
 * server's answer and the fix.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/errorf.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "mail_session.h"
#include "mail/tls_conn.h"

#define TUNNEL_USAGE                                                   \
	"tunnel imap|pop3|smtp ACCOUNT [--mech XOAUTH2|OAUTHBEARER]\n" \
	"  authenticate to the account's server, then relay stdin/stdout"
#define RELAY_BUF 16384
#define DRAIN_MS 2000 /* after the client closed: server idle this long */

static void say_to_client(enum mail_proto proto, int ok, const char *host,
			  const char *text)
{
	static const char *const good[] = {"* PREAUTH", "+OK", "220"};
	static const char *const bad[] = {"* BYE [UNAVAILABLE]", "-ERR",
					  "421 4.7.0"};
	const char *line;

	if (ok && proto == MAIL_SMTP)
		line = errorf("%s %s oauthmail tunnel: %s\r\n", good[proto],
			      host, text);
	else if (ok)
		line = errorf("%s oauthmail tunnel: %s\r\n", good[proto], text);
	else
		line = errorf("%s oauthmail tunnel: %s\r\n", bad[proto],
			      printable(text, 300));
	(void)fdio_write_all(STDOUT_FILENO, line, strlen(line));
}

/* to_server - stdin had data: 1 more, 0 client closed, -1 error */
static int to_server(struct tls_conn *conn, const char **error_r)
{
	char buf[RELAY_BUF];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	return tls_conn_write(conn, buf, (size_t)n, error_r) < 0 ? -1 : 1;
}

/* to_client - the server had data: 1 more, 0 server closed, -1 error */
static int to_client(struct tls_conn *conn, const char **error_r)
{
	char buf[RELAY_BUF];
	ssize_t n = tls_conn_read_some(conn, buf, sizeof(buf), error_r);

	if (n == -2)
		return 1;
	if (n <= 0)
		return (int)n;
	if (fdio_write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
		*error_r = "client went away";
		return -1;
	}
	return 1;
}

/* relay - until the server closes, or the client closed and the server
 * said nothing more for DRAIN_MS (servers drop pipelined commands when
 * they see our end of the connection close, so we do not half-close) */
static int relay(struct tls_conn *conn)
{
	struct pollfd pfd[2];
	const char *error = NULL;
	int client_open = 1, ret = 1, n;

	while (ret > 0) {
		pfd[0] = (struct pollfd){.fd = tls_conn_fd(conn),
					 .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = client_open ? STDIN_FILENO : -1,
					 .events = client_open ? POLLIN : 0};
		n = tls_conn_pending(conn)
			    ? 1
			    : poll(pfd, 2, client_open ? -1 : DRAIN_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (tls_conn_pending(conn) || pfd[0].revents)
			ret = to_client(conn, &error);
		if (ret > 0 && client_open && pfd[1].revents &&
		    (ret = to_server(conn, &error)) == 0) {
			client_open = 0;
			ret = 1;
		}
	}
	if (ret < 0 && error != NULL)
		log_warn("tunnel: %s", error);
	return ret < 0 ? OM_ERR_TEMP : OM_OK;
}

int cmd_tunnel(struct cli *cli, int argc, char **argv)
{
	struct mail_session s;
	const char *account, *why;
	int ret;

	if (cli_help(argc, argv, TUNNEL_USAGE))
		return OM_OK;
	if (mail_session_args(argc, argv, 1, TUNNEL_USAGE, &s, &account) < 0)
		return OM_ERR_USAGE;
	signal(SIGPIPE, SIG_IGN);
	ret = mail_session_open(cli, account, &s, &why);
	if (ret != OM_OK) {
		say_to_client(s.proto, 0, NULL, why);
		mail_session_close(&s);
		return ret;
	}
	log_info("tunnel %s %s: authenticated as %s with %s (%s)",
		 mail_proto_name(s.proto), account, s.acct->user, s.mech,
		 tls_conn_describe(s.mc->conn));
	say_to_client(s.proto, 1, s.mc->host,
		      errorf("authenticated as %s at %s",
			     printable(s.acct->user, 200), s.mc->host));
	ret = relay(s.mc->conn);
	mail_session_close(&s);
	return ret;
}
