/* test_lmtp_proto.c - LMTP lines, commands and the DATA stream */
#include "oauthmail-config.h"

#include <stdio.h>
#include <string.h>

#include "lib/strbuf.h"
#include "testlib.h"
#include "ticket/lmtp_proto.h"

static const struct {
	const char *line;
	enum lmtp_verb verb;
	const char *arg;   /* domain or address, NULL = not checked */
	const char *reply; /* the reply's start, NULL = parses */
} commands[] = {
	{"LHLO mx.example.com", LMTP_LHLO, "mx.example.com", NULL},
	{"lhlo [127.0.0.1]", LMTP_LHLO, "[127.0.0.1]", NULL},
	{"LHLO", LMTP_LHLO, NULL, "501 5.5.4 Syntax: LHLO"},
	{"LHLO a b", LMTP_LHLO, NULL, "501 5.5.4"},
	{"EHLO mx", LMTP_UNKNOWN, NULL, "500 5.5.1 This is an LMTP server"},
	{"HELO mx", LMTP_UNKNOWN, NULL, "500 5.5.1"},
	{"MAIL FROM:<a@b.example>", LMTP_MAIL, "a@b.example", NULL},
	{"mail from: <a@b.example>", LMTP_MAIL, "a@b.example", NULL},
	{"MAIL FROM:<>", LMTP_MAIL, "", NULL},
	{"MAIL FROM:<@r1,@r2:a@b>", LMTP_MAIL, "a@b", NULL},
	{"MAIL FROM:<\"a b\"@c>", LMTP_MAIL, "\"a b\"@c", NULL},
	{"MAIL FROM:<\"a>b\"@c>", LMTP_MAIL, "\"a>b\"@c", NULL},
	{"MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME", LMTP_MAIL, "a@b", NULL},
	{"MAIL FROM:<a@b>  BODY=7BIT", LMTP_MAIL, "a@b", NULL},
	{"MAIL FROM:<a@b> SIZE=", LMTP_MAIL, NULL, "501 5.5.4 Syntax: SIZE"},
	{"MAIL FROM:<a@b> SIZE=12x", LMTP_MAIL, NULL, "501 5.5.4"},
	{"MAIL FROM:<a@b> SIZE=99999999999999999999", LMTP_MAIL, NULL,
	 "501 5.5.4"},
	{"MAIL FROM:<a@b> AUTH=<>", LMTP_MAIL, NULL, "555 5.5.4"},
	{"MAIL FROM:<a@b>x", LMTP_MAIL, NULL, "501 5.5.4"},
	{"MAIL FROM:a@b", LMTP_MAIL, NULL, "501 5.1.7"},
	{"MAIL FROM:<a@b", LMTP_MAIL, NULL, "501 5.1.7"},
	{"MAIL FROM:<a<b>", LMTP_MAIL, NULL, "501 5.1.7"},
	{"MAIL FROM:<@r1:>", LMTP_MAIL, "", NULL},
	{"MAIL FROM:<@r1>", LMTP_MAIL, NULL, "501 5.1.7"},
	{"MAIL TO:<a@b>", LMTP_MAIL, NULL, "501 5.5.4"},
	{"MAIL", LMTP_MAIL, NULL, "501 5.5.4"},
	{"RCPT TO:<support@contoso.com>", LMTP_RCPT, "support@contoso.com",
	 NULL},
	{"RCPT TO:<postmaster>", LMTP_RCPT, "postmaster", NULL},
	{"RCPT TO:<>", LMTP_RCPT, NULL, "501 5.1.3"},
	{"RCPT TO:<a@b> NOTIFY=NEVER", LMTP_RCPT, NULL, "555 5.5.4"},
	{"RCPT FROM:<a@b>", LMTP_RCPT, NULL, "501 5.5.4"},
	{"DATA", LMTP_DATA, NULL, NULL},
	{"data", LMTP_DATA, NULL, NULL},
	{"DATA x", LMTP_DATA, NULL, "501 5.5.4"},
	{"RSET", LMTP_RSET, NULL, NULL},
	{"QUIT", LMTP_QUIT, NULL, NULL},
	{"QUIT now", LMTP_QUIT, NULL, "501 5.5.4"},
	{"NOOP", LMTP_NOOP, NULL, NULL},
	{"NOOP anything", LMTP_NOOP, NULL, NULL},
	{"DATAX", LMTP_UNKNOWN, NULL, "500 5.5.2 Command unrecognized"},
	{"VRFY a@b", LMTP_UNKNOWN, NULL, "500 5.5.2"},
	{"", LMTP_UNKNOWN, NULL, "500 5.5.2"},
	{"RCPT TO:<a@b>\r", LMTP_UNKNOWN, NULL, "500 5.5.2 Control"},
};

static void test_commands(void)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		struct lmtp_command cmd;
		const char *reply = NULL;
		int r = lmtp_parse_command(commands[i].line,
					   strlen(commands[i].line), &cmd,
					   &reply);
		char what[160];

		snprintf(what, sizeof(what), "command '%s'", commands[i].line);
		if (commands[i].reply == NULL) {
			check_int(what, r, 0);
			check_int(what, cmd.verb, commands[i].verb);
		} else {
			check_int(what, r, -1);
			check_true(what,
				   reply != NULL &&
					   strncmp(reply, commands[i].reply,
						   strlen(commands[i].reply)) ==
						   0);
		}
		if (r == 0 && commands[i].arg != NULL)
			check_str(what,
				  cmd.verb == LMTP_LHLO ? cmd.domain
							: cmd.address,
				  commands[i].arg);
	}
}

static void test_mail_params(void)
{
	struct lmtp_command cmd;
	const char *reply;
	const char *line = "MAIL FROM:<a@b> SIZE=123456 BODY=8BITMIME";

	check_int("params",
		  lmtp_parse_command(line, strlen(line), &cmd, &reply), 0);
	check_int("SIZE", (long long)cmd.size, 123456);
	check_int("BODY", cmd.body_8bit, 1);
}

static void test_long_address(void)
{
	char line[LMTP_ADDRESS_MAX + 40];
	struct lmtp_command cmd;
	const char *reply = NULL;

	snprintf(line, sizeof(line), "RCPT TO:<%0*d@b>", LMTP_ADDRESS_MAX - 2,
		 0);
	check_int("254-byte address",
		  lmtp_parse_command(line, strlen(line), &cmd, &reply), 0);
	snprintf(line, sizeof(line), "RCPT TO:<%0*d@b>", LMTP_ADDRESS_MAX - 1,
		 0);
	check_int("255-byte address",
		  lmtp_parse_command(line, strlen(line), &cmd, &reply), -1);
	check_str("255-byte address reply", reply,
		  "501 5.1.3 Recipient address too long");
}

static const struct {
	const char *buf;
	size_t max;
	enum lmtp_line want;
	size_t line_len, used;
} lines[] = {
	{"NOOP\r\nQUIT\r\n", 100, LMTP_LINE_OK, 4, 6},
	{"NOOP\nQUIT\r\n", 100, LMTP_LINE_BARE_LF, 4, 5},
	{"\n", 100, LMTP_LINE_BARE_LF, 0, 1},
	{"\r\n", 100, LMTP_LINE_OK, 0, 2},
	{"NOOP\r", 100, LMTP_LINE_MORE, 0, 0},
	{"", 100, LMTP_LINE_MORE, 0, 0},
	{"abcd\r\n", 4, LMTP_LINE_OK, 4, 6},
	{"abcd\r", 4, LMTP_LINE_MORE, 0, 0},
	{"abcd", 4, LMTP_LINE_MORE, 0, 0},
	{"abcde", 4, LMTP_LINE_TOO_LONG, 0, 0},
	{"abcd\n", 4, LMTP_LINE_BARE_LF, 4, 5},
	{"abcde\n", 4, LMTP_LINE_TOO_LONG, 0, 0},
	{"abcde\r\n", 4, LMTP_LINE_TOO_LONG, 0, 0},
	{"abcd\rx", 4, LMTP_LINE_TOO_LONG, 0, 0},
};

static void test_lines(void)
{
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t line_len = 0, used = 0;
		enum lmtp_line got =
			lmtp_next_line(lines[i].buf, strlen(lines[i].buf),
				       lines[i].max, &line_len, &used);
		char what[64];

		snprintf(what, sizeof(what), "line %zu", i);
		check_int(what, got, lines[i].want);
		if (got == LMTP_LINE_OK || got == LMTP_LINE_BARE_LF) {
			check_int(what, (long long)line_len,
				  (long long)lines[i].line_len);
			check_int(what, (long long)used,
				  (long long)lines[i].used);
		}
	}
}

/* feed - the stream's lines (split at "\r\n") into a message */
static int feed(struct lmtp_data *d, const char *stream, struct strbuf *out)
{
	const char *p = stream;
	const char *crlf;

	while ((crlf = strstr(p, "\r\n")) != NULL) {
		if (lmtp_data_line(d, p, (size_t)(crlf - p), out))
			return 1;
		p = crlf + 2;
	}
	return 0;
}

static void test_data(void)
{
	struct lmtp_data d;
	struct strbuf out;

	strbuf_init(&out, 1024);
	lmtp_data_init(&d, 0);
	check_int("data end",
		  feed(&d, "Subject: x\r\n\r\n..a\r\n.\r\n.b\r\n.\r\n", &out),
		  1);
	check_str("unstuffed", out.data, "Subject: x\n\n.a\n");
	check_int("size", (long long)d.size, 15);
	strbuf_reset(&out);
	lmtp_data_init(&d, 8);
	check_int("too large end", feed(&d, "12345\r\n67890\r\n.\r\n", &out),
		  1);
	check_int("too large", d.too_large, 1);
	check_int("counted", (long long)d.size, 12);
	check_str("kept up to the limit", out.data, "12345\n");
	strbuf_reset(&out);
	lmtp_data_init(&d, 0);
	check_int("no end yet", feed(&d, "a\r\n. \r\n", &out), 0);
	check_str("dot space is text", out.data, "a\n \n");
	strbuf_free(&out);
}

int main(void)
{
	test_commands();
	test_mail_params();
	test_long_address();
	test_lines();
	test_data();
	return test_done("test_lmtp_proto");
}
