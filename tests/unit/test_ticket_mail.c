/* test_ticket_mail.c - what the queue reads out of a message */
#include "oauthmail-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "ticket/ticket_mail.h"

static struct ticket_mail *parse(const char *text, size_t max_text)
{
	struct ticket_mail *m = NULL;
	const char *error;

	if (ticket_mail_parse_mem(text, strlen(text), max_text, &m, &error) < 0)
		printf("parse: %s\n", error);
	return m;
}

static void test_headers(void)
{
	struct ticket_mail *m =
		parse("From: =?utf-8?q?J=C3=BCrgen?= <Juergen@Example.COM>\n"
		      "Reply-To: desk@example.com\n"
		      "To: A <a@x.example>, team: b@x.example, C@X.example;\n"
		      "Cc: d@x.example\n"
		      "Subject: =?iso-8859-1?q?Gr=FC=DFe?=\n"
		      "Message-ID: <m1@x>\n"
		      "In-Reply-To: <p3@x>\n"
		      "References: <p1@x> <p2@x>\n <p3@x>\n"
		      "Date: Mon, 16 Nov 2026 08:12:44 +0000\n\nbody\n",
		      4096);

	check_str("from", m->from_addr, "juergen@example.com");
	check_str("name", m->from_name, "J\xc3\xbcrgen");
	check_str("reply-to", m->reply_to, "desk@example.com");
	check_int("to with group", (long long)m->to.n, 3);
	check_str("group member", m->to.v[2], "c@x.example");
	check_str("subject", m->subject,
		  "Gr\xc3\xbc\xc3\x9f"
		  "e");
	check_str("mid", m->message_id, "m1@x");
	check_int("refs deduplicated", (long long)m->refs.n, 3);
	check_str("in-reply-to first", m->refs.v[0], "p3@x");
	check_str("newest reference next", m->refs.v[1], "p2@x");
	check_str("oldest last", m->refs.v[2], "p1@x");
	check_int("date", (long long)m->date, 1794816764LL);
	check_str("text", m->text.data, "body\n");
	ticket_mail_free(&m);
}

/* GMime 3.2.13 loses the encoded words after a base64 word ending in
 * '=' padding (ticket_mail.c says more): the subject keeps them. */
static void test_subject_after_padding(void)
{
	static const struct {
		const char *raw, *want;
	} rows[] = {
		{"=?utf-8?B?YQ==?= =?utf-8?B?Yg==?=", "ab"},
		{"Re: =?utf-8?B?SGFsbG8=?=\n =?utf-8?B?IFsjMTIzNDU2XQ==?= tail",
		 "Re: Hallo [#123456] tail"},
		{"=?utf-8?B?w5w=?= =?utf-8?Q?ber?= =?UTF-8?B?WyMxXQ==?= x",
		 "\xc3\x9c"
		 "ber[#1] x"},
		{"=?utf-8?B?YQ==?==?utf-8?B?Yg==?=", "ab"},
		/* GMime's own decoding where it gets it right */
		{"=?utf-8?B?YWJj?= =?utf-8?B?ZA==?=", "abcd"},
		{"=?iso-8859-1?q?Gr=FC=DFe?= [#2] =?utf-8?B?YQ==?=",
		 "Gr\xc3\xbc\xc3\x9f"
		 "e [#2] a"},
		{"plain [#3] text", "plain [#3] text"},
	};
	struct ticket_mail *m;
	char msg[512];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(msg, sizeof(msg),
			 "From: a@x\nSubject: %s\nMessage-ID: <s@x>\n\nhi\n",
			 rows[i].raw);
		m = parse(msg, 4096);
		check_str(rows[i].raw, m ? m->subject : NULL, rows[i].want);
		ticket_mail_free(&m);
	}
}

static void test_bodies(void)
{
	struct ticket_mail *m = parse(
		"From: a@x\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\nContent-Type: text/plain; charset=iso-8859-1\n"
		"Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\r\n"
		"--b\nContent-Type: text/html\n\n<b>x</b>\n"
		"--b\nContent-Type: text/plain\n\nsecond inline text\n"
		"--b\nContent-Type: text/plain\nContent-Disposition: "
		"attachment;"
		" filename=notes.txt\n\nattached\n--b--\n",
		4096);

	check_str("latin-1 to utf-8, CRLF to LF", m->text.data,
		  "caf\xc3\xa9\n\nsecond inline text");
	check_str("html", m->html.data, "<b>x</b>");
	check_int("one attachment", m->nparts, 1);
	check_str("its name", m->parts ? m->parts->name : NULL, "notes.txt");
	ticket_mail_free(&m);
	m = parse("From: a@x\n\n0123456789abcdef\n", 8);
	check_str("capped", m->text.data, "01234567");
	check_true("truncated flag", m->flags & TICKET_FLAG_TRUNCATED);
	ticket_mail_free(&m);
}

static void test_unparsed(void)
{
	static const char garbage[] = "\x01\x02 no headers at all\n";
	struct ticket_mail *m = parse(garbage, 4096);

	check_true("unparsed", m != NULL && (m->flags & TICKET_FLAG_UNPARSED));
	check_str("empty subject", m ? m->subject : NULL, "");
	ticket_mail_free(&m);
}

static void test_dsn(void)
{
	struct ticket_mail *m = parse(
		"From: MAILER-DAEMON@x\nMIME-Version: 1.0\nContent-Type: "
		"multipart/report; report-type=delivery-status; boundary=r\n\n"
		"--r\nContent-Type: text/plain\n\nfailed\n"
		"--r\nContent-Type: message/delivery-status\n\nAction: failed\n"
		"--r\nContent-Type: message/rfc822\n\nMessage-ID: <orig@x>\n"
		"References: <older@x>\n\nhi\n--r--\n",
		4096);

	check_int("is dsn", m->is_dsn, 1);
	check_int("original ids", (long long)m->dsn_refs.n, 2);
	check_str("its Message-ID first", m->dsn_refs.v[0], "orig@x");
	check_true("status in text",
		   strstr(m->text.data, "Action: failed") != NULL);
	ticket_mail_free(&m);
}

/* A headers-only returned message (text/rfc822-headers, as Postfix
 * sends for RET=HDRS): its In-Reply-To and References count too, so a
 * reply sent from the help desk's own mail client (a Message-ID we
 * never stored) still finds the ticket it answered. */
static void test_dsn_headers_only(void)
{
	struct ticket_mail *m = parse(
		"From: MAILER-DAEMON@x\nMIME-Version: 1.0\nContent-Type: "
		"multipart/report; report-type=delivery-status; boundary=r\n\n"
		"--r\nContent-Type: text/plain\n\nfailed\n"
		"--r\nContent-Type: message/delivery-status\n\nAction: failed\n"
		"--r\nContent-Type: text/rfc822-headers\n\n"
		"From: agent@desk.example\nMessage-ID: "
		"<client-1@desk.example>\n"
		"In-Reply-To: <asked@customer.example>\n"
		"References: <first@customer.example>\n"
		" <asked@customer.example>\n--r--\n",
		4096);

	check_int("is dsn", m->is_dsn, 1);
	check_int("three ids", (long long)m->dsn_refs.n, 3);
	check_str("its Message-ID first", m->dsn_refs.v[0],
		  "client-1@desk.example");
	check_str("then In-Reply-To", m->dsn_refs.n > 1 ? m->dsn_refs.v[1] : "",
		  "asked@customer.example");
	check_str("then References", m->dsn_refs.n > 2 ? m->dsn_refs.v[2] : "",
		  "first@customer.example");
	check_int("not malformed",
		  (long long)(m->flags & TICKET_FLAG_MALFORMED), 0);
	ticket_mail_free(&m);
}

/* What deliver calls a message: list mail is "list", the kind stays. */
static void test_class_names(void)
{
	check_str("list",
		  ticket_mail_class_name(TICKET_KIND_AUTOREPLY,
					 TICKET_FLAG_LIST |
						 TICKET_FLAG_NO_AUTO_ANSWER),
		  "list");
	check_str(
		"auto-reply",
		ticket_mail_class_name(TICKET_KIND_AUTOREPLY, TICKET_FLAG_OOO),
		"auto-reply");
	check_str("customer", ticket_mail_class_name(TICKET_KIND_CUSTOMER, 0),
		  "customer");
	check_str("the kind keeps its name",
		  ticket_mail_kind_name(TICKET_KIND_AUTOREPLY), "auto-reply");
}

static void test_helpers(void)
{
	static const char hdrs[] = "Subject: x\nMessage-Id:  <abc@def> \n\n";
	struct strbuf sb;
	unsigned int f;
	char buf[128], *mid;

	mid = ticket_mail_message_id(hdrs, strlen(hdrs));
	check_str("message id from header block", mid, "abc@def");
	free(mid);
	check_true("none", ticket_mail_message_id("X: y\n\n", 6) == NULL);
	f = TICKET_FLAG_LIST | TICKET_FLAG_NO_AUTO_ANSWER;
	ticket_mail_flags_format(f, buf, sizeof(buf));
	check_str("flags words", buf, "list no-auto-answer");
	check_int("round trip", ticket_mail_flags_parse(buf), f);
	check_int("kind parse", ticket_mail_kind_parse("bounce"),
		  TICKET_KIND_BOUNCE);
	check_int("unknown kind", ticket_mail_kind_parse("x"), -1);
	strbuf_init(&sb, 64);
	strbuf_append(&sb, "a\0b\xff", 4);
	check_int("clean", ticket_utf8_clean(&sb), 0);
	check_int("cleaned length", (long long)sb.len, 8);
	check_true("no NUL, no bad byte", memcmp(sb.data,
						 "a\xef\xbf\xbd"
						 "b\xef\xbf\xbd",
						 8) == 0);
	strbuf_free(&sb);
}

static void test_fd(void)
{
	char path[] = "/tmp/test_ticket_mail.XXXXXX";
	static const char msg[] = "From: a@x\nSubject: file\n\nfrom a file\n";
	struct ticket_mail *m = NULL;
	const char *error;
	int fd = mkstemp(path);

	check_true("write",
		   write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg));
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	check_int("parse fd", ticket_mail_parse_fd(fd, 4096, &m, &error), 0);
	check_str("subject", m->subject, "file");
	check_str("text", m->text.data, "from a file\n");
	ticket_mail_free(&m);
}

/* A saved message/rfc822 is the embedded message, not the MIME part
 * with its own headers; over max, writing stops early. */
static void test_attached_message(void)
{
	struct ticket_mail *m = parse(
		"From: k@x\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\nContent-Type: text/plain\n\nlook\n"
		"--b\nContent-Type: message/rfc822\n"
		"Content-Disposition: attachment\n\n"
		"From: bank@x\nSubject: Verify\n\nClick here. Click here. "
		"Click here. Click here. Click here. Click here.\n--b--\n",
		4096);
	char path[] = "/tmp/test_ticket_mail.XXXXXX", buf[512];
	uint64_t size = 0;
	ssize_t n;
	int fd = mkstemp(path);

	unlink(path);
	check_true("a message part", m->parts && m->parts->is_message);
	check_int("copy", ticket_mail_part_copy(m->parts, fd, 0, &size), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	check_int("size", (long long)size, (long long)n);
	check_true("the embedded message first",
		   strncmp(buf, "From: bank@x\n", 13) == 0);
	check_true("no part headers",
		   strstr(buf, "Content-Disposition") == NULL);
	check_true("its body", strstr(buf, "\n\nClick here.") != NULL);
	check_int("over max", ftruncate(fd, 0), 0);
	lseek(fd, 0, SEEK_SET);
	check_int("copy over max",
		  ticket_mail_part_copy(m->parts, fd, 20, &size), 1);
	check_true("stopped early", lseek(fd, 0, SEEK_END) <= 21);
	close(fd);
	ticket_mail_free(&m);
}

int main(void)
{
	test_headers();
	test_subject_after_padding();
	test_bodies();
	test_unparsed();
	test_dsn();
	test_dsn_headers_only();
	test_helpers();
	test_class_names();
	test_fd();
	test_attached_message();
	g_mime_shutdown();
	return test_done("test_ticket_mail");
}
