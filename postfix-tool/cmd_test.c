/*
 * cmd_test.c - oauthmail test ACCOUNT [imap|pop3|smtp]: connect,
 * authenticate through libsasl2 and the plugin, and report what a mail
 * admin wants to know: IMAP messages and unread in INBOX, POP3 STAT,
 * SMTP the EHLO and AUTH result.  Exit codes as everywhere
 * (docs/internals.md, "Exit codes"); failures print the server's answer
 * and the fix.
 */
#include "oauthmail-config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "lib/log.h"
#include "lib/number.h"
#include "mail_session.h"
#include "lib/strbuf.h"
#include "mail/tls_conn.h"

#define TEST_USAGE                                                         \
	"test ACCOUNT [imap|pop3|smtp] [--mech XOAUTH2|OAUTHBEARER]\n"     \
	"  connect, authenticate, report (IMAP: INBOX counts; POP3: STAT;" \
	" SMTP: EHLO + AUTH)"

/* status_count - the number after name in an IMAP STATUS line, or -1 */
static long long status_count(const char *text, const char *name)
{
	const char *p = strcasestr(text ? text : "", name);
	unsigned long long v;
	size_t n;

	if (p == NULL)
		return -1;
	p += strlen(name);
	return number_prefix(p, strlen(p), 0, LLONG_MAX, &v, &n) < 0
		       ? -1
		       : (long long)v;
}

static int report_imap(struct mail_session *s)
{
	struct strbuf data;
	const char *error;
	int ret;

	strbuf_init(&data, 65536);
	ret = mail_client_command(s->mc, "STATUS INBOX (MESSAGES UNSEEN)",
				  &data, &error);
	if (ret == 0)
		printf("INBOX: %lld messages, %lld unread\n",
		       status_count(data.data, "MESSAGES "),
		       status_count(data.data, "UNSEEN "));
	else
		log_error("STATUS INBOX: %s", ret < 0 ? error : s->mc->reply);
	(void)mail_client_command(s->mc, "LOGOUT", NULL, &error);
	strbuf_free(&data);
	return ret == 0 ? OM_OK : OM_ERR_TEMP;
}

static int report_pop3(struct mail_session *s)
{
	unsigned long long count = 0, size = 0;
	const char *error;
	int ret;

	ret = mail_client_command(s->mc, "STAT", NULL, &error);
	if (ret == 0 &&
	    sscanf(s->mc->reply, "+OK %llu %llu", &count, &size) == 2)
		printf("mailbox: %llu messages, %llu bytes\n", count, size);
	else {
		log_error("STAT: %s",
			  ret < 0 ? error : printable(s->mc->reply, 300));
		ret = -1;
	}
	(void)mail_client_command(s->mc, "QUIT", NULL, &error);
	return ret == 0 ? OM_OK : OM_ERR_TEMP;
}

static int report_smtp(struct mail_session *s)
{
	const char *error;

	printf("AUTH: %s\n", s->mc->reply);
	printf("EHLO:%s\n", s->mc->caps ? s->mc->caps : " (none)");
	(void)mail_client_command(s->mc, "QUIT", NULL, &error);
	return OM_OK;
}

int cmd_test(struct cli *cli, int argc, char **argv)
{
	struct mail_session s;
	const char *account;
	int ret;

	if (cli_help(argc, argv, TEST_USAGE))
		return OM_OK;
	if (mail_session_args(argc, argv, 0, TEST_USAGE, &s, &account) < 0)
		return OM_ERR_USAGE;
	ret = mail_session_open(cli, account, &s, NULL);
	if (ret == OM_OK) {
		const struct mail_server *srv =
			mail_proto_server(s.acct, s.proto);

		printf("%s %s:%d (%s): authenticated as %s with %s\n",
		       mail_proto_name(s.proto), srv->host, srv->port,
		       tls_conn_describe(s.mc->conn), s.acct->user, s.mech);
		ret = s.proto == MAIL_IMAP   ? report_imap(&s)
		      : s.proto == MAIL_POP3 ? report_pop3(&s)
					     : report_smtp(&s);
	}
	mail_session_close(&s);
	return ret;
}
