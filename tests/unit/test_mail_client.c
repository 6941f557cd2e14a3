/* test_mail_client.c - the IMAP, POP3 and SMTP client dialogues against
 * scripted servers on 127.0.0.1 (tls_testutil.h): greetings, implicit
 * TLS and STARTTLS, capabilities before and after TLS, tagged and
 * multi-line replies, SASL with and without an initial response, split
 * POP3 AUTH, refusals and their hints, protocol errors.  SASL runs
 * through libsasl2's own PLAIN plugin (libsasl2-modules): what is under
 * test is the dialogue and our SASL glue, not a mechanism. */
#include "oauthmail-config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/strbuf.h"
#include "mail/mail_client.h"
#include "mail/mail_sasl.h"
#include "mail/tls_conn.h"
#include "testlib.h"
#include "tls_testutil.h"

static char dir[] = "/tmp/test_mail_client.XXXXXX";
static struct test_tls tls;

/* base64("user@x\0user@x\0pw"): PLAIN as libsasl2 sends it (authzid =
 * the USER callback's answer) */
#define PLAIN_IR "dXNlckB4AHVzZXJAeABwdw=="

static int connect_script(struct script_server *s, const char *const *steps,
			  enum mail_proto proto, enum tls_mode mode,
			  struct mail_client **mc_r, const char **error_r)
{
	struct mail_server srv = {.host = "127.0.0.1", .tls = mode};

	*mc_r = NULL;
	if (script_start(s, tls.ctx, steps) < 0) {
		*error_r = "script server";
		return -1;
	}
	srv.port = s->port;
	return mail_client_connect(proto, &srv, tls.pem, 5000, "client.example",
				   mc_r, error_r);
}

static struct mail_sasl *plain_session(const char *service)
{
	struct mail_sasl *sasl = NULL;
	const char *error = NULL;

	if (mail_sasl_new(service, "127.0.0.1", "user@x", "pw", &sasl, &error) <
	    0)
		printf("FAIL mail_sasl_new: %s\n", error);
	return sasl;
}

/* open_script - connect to a scripted server that must accept us; NULL
 * (the failure counted and the script ended) when it does not */
static struct mail_client *open_script(struct script_server *s,
				       const char *what,
				       const char *const *steps,
				       enum mail_proto proto,
				       enum tls_mode mode)
{
	struct mail_client *mc = NULL;
	const char *error = NULL;

	check_int(what, connect_script(s, steps, proto, mode, &mc, &error), 0);
	if (mc == NULL) {
		printf("  %s\n", error ? error : "");
		script_end(s);
	}
	return mc;
}

static void test_imap(void)
{
	static const char *const steps[] = {
		"TLS",
		"S * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready",
		"C oa1 CAPABILITY",
		"S * CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=PLAIN",
		"S oa1 OK done",
		"C oa2 SELECT INBOX",
		"S * 3 EXISTS\r\n* OK [UNSEEN 2] first unseen",
		"S oa2 OK [READ-WRITE] SELECT completed",
		"C oa3 EXAMINE nothing",
		"S oa3 NO [NONEXISTENT] no such mailbox",
		"C oa4 AUTHENTICATE PLAIN " PLAIN_IR,
		"S oa4 OK [CAPABILITY IMAP4rev1 SASL-IR IDLE] authenticated",
		"C oa5 AUTHENTICATE PLAIN " PLAIN_IR,
		"S oa5 NO [AUTHENTICATIONFAILED] AUTHENTICATE failed.",
		"C oa6 IDLE",
		"S + idling",
		"C oa7 NOOP",
		"S garbage",
		NULL,
	};
	struct mail_client *mc = NULL;
	struct mail_sasl *sasl;
	struct script_server s;
	const char *error = NULL;
	struct strbuf data;

	mc = open_script(&s, "imap connect", steps, MAIL_IMAP, TLS_IMPLICIT);
	if (mc == NULL)
		return;
	check_int("caps from CAPABILITY", mail_client_has_cap(mc, "SASL-IR"),
		  1);
	check_int("auth cap", mail_client_has_cap(mc, "AUTH=XOAUTH2"), 1);
	check_int("caps case-insensitive",
		  mail_client_has_cap(mc, "auth=plain"), 1);
	check_int("whole words only", mail_client_has_cap(mc, "AUTH=XOAUTH"),
		  0);
	check_int("absent", mail_client_has_cap(mc, "IDLE"), 0);
	strbuf_init(&data, 4096);
	check_int("SELECT",
		  mail_client_command(mc, "SELECT INBOX", &data, &error), 0);
	check_str("untagged data", data.data,
		  "* 3 EXISTS\n* OK [UNSEEN 2] first unseen\n");
	check_str("final reply kept", mc->reply,
		  "oa2 OK [READ-WRITE] SELECT completed");
	check_int("NO is 1",
		  mail_client_command(mc, "EXAMINE nothing", NULL, &error), 1);
	check_str("NO reply", mc->reply,
		  "oa3 NO [NONEXISTENT] no such mailbox");
	strbuf_free(&data);
	sasl = plain_session("imap");
	check_int("AUTHENTICATE with SASL-IR",
		  mail_client_auth(mc, sasl, "PLAIN", 0, &error), 0);
	check_int("caps from the tagged OK", mail_client_has_cap(mc, "IDLE"),
		  1);
	mail_sasl_free(&sasl);
	sasl = plain_session("imap");
	error = NULL;
	check_int("refused", mail_client_auth(mc, sasl, "PLAIN", 0, &error),
		  -1);
	check_int("the server refused", mc->server_failed, 1);
	check_str("refusal", error,
		  "127.0.0.1 refused the authentication: oa5 NO "
		  "[AUTHENTICATIONFAILED] AUTHENTICATE failed.");
	mail_sasl_free(&sasl);
	error = NULL;
	check_int("continuation to a command",
		  mail_client_command(mc, "IDLE", NULL, &error), -1);
	check_str("more input", error, "server asked for more input");
	check_int("not IMAP", mail_client_command(mc, "NOOP", NULL, &error),
		  -1);
	check_str("unexpected line", error,
		  "unexpected line from the IMAP server: garbage");
	mail_client_close(&mc);
	check_true("closed", mc == NULL);
	check_int("imap dialogue as scripted", script_end(&s), 0);
}

/* IMAP without SASL-IR: the initial response waits for "+ " */
static void test_imap_no_ir(void)
{
	static const char *const steps[] = {
		"TLS",
		"S * OK ready",
		"C oa1 CAPABILITY",
		"S * CAPABILITY IMAP4rev1 AUTH=PLAIN",
		"S oa1 OK done",
		"C oa2 AUTHENTICATE PLAIN",
		"S + ",
		"C " PLAIN_IR,
		"S oa2 OK welcome",
		NULL,
	};
	struct mail_client *mc = NULL;
	struct mail_sasl *sasl;
	struct script_server s;
	const char *error = NULL;

	mc = open_script(&s, "imap connect (TLS unset: implicit)", steps,
			 MAIL_IMAP, TLS_UNSET);
	if (mc == NULL)
		return;
	sasl = plain_session("imap");
	check_int("AUTHENTICATE, then the response",
		  mail_client_auth(mc, sasl, "PLAIN", 0, &error), 0);
	mail_sasl_free(&sasl);
	mail_client_close(&mc);
	check_int("imap (no SASL-IR) dialogue as scripted", script_end(&s), 0);
}

static void test_pop3(void)
{
	static const char *const steps[] = {
		"S +OK POP3 ready",
		"C CAPA",
		"S +OK\r\nSTLS\r\nSASL PLAIN XOAUTH2\r\nUSER\r\n.",
		"C STLS",
		"S +OK Begin TLS",
		"TLS",
		"C CAPA",
		"S +OK\r\nSASL XOAUTH2 PLAIN\r\nUSER\r\n.",
		"C AUTH PLAIN",
		"S + ",
		"C " PLAIN_IR,
		"S +OK logged in",
		"C STAT",
		"S +OK 2 320",
		"C RETR 9",
		"S -ERR no such message",
		NULL,
	};
	struct mail_client *mc = NULL;
	struct mail_sasl *sasl;
	struct script_server s;
	const char *error = NULL;

	mc = open_script(&s, "pop3 STARTTLS connect", steps, MAIL_POP3,
			 TLS_STARTTLS);
	if (mc == NULL)
		return;
	check_true("TLS after STLS",
		   strncmp(tls_conn_describe(mc->conn), "TLSv1.", 6) == 0);
	check_int("SASL list as AUTH=", mail_client_has_cap(mc, "AUTH=XOAUTH2"),
		  1);
	check_int("caps from after TLS", mail_client_has_cap(mc, "STLS"), 0);
	check_int("USER", mail_client_has_cap(mc, "USER"), 1);
	sasl = plain_session("pop");
	check_int("split AUTH (Microsoft's POP3)",
		  mail_client_auth(mc, sasl, "PLAIN", 1, &error), 0);
	mail_sasl_free(&sasl);
	check_int("STAT", mail_client_command(mc, "STAT", NULL, &error), 0);
	check_str("STAT reply", mc->reply, "+OK 2 320");
	check_int("-ERR is 1", mail_client_command(mc, "RETR 9", NULL, &error),
		  1);
	check_str("-ERR reply", mc->reply, "-ERR no such message");
	mail_client_close(&mc);
	check_int("pop3 dialogue as scripted", script_end(&s), 0);
}

static void test_smtp(void)
{
	static const char *const steps[] = {
		"S 220 mx.example ESMTP",
		"C EHLO client.example",
		"S 250-mx.example\r\n250-STARTTLS\r\n250 AUTH LOGIN",
		"C STARTTLS",
		"S 220 2.0.0 go ahead",
		"TLS",
		"C EHLO client.example",
		"S 250-mx.example\r\n250-AUTH XOAUTH2 PLAIN\r\n250 8BITMIME",
		"C AUTH PLAIN " PLAIN_IR,
		"S 535 5.7.3 Authentication unsuccessful",
		"C NOOP",
		"S 250 2.0.0 OK",
		"C MAIL FROM:<>",
		"S 550-5.7.1 first line\r\n550 5.7.1 denied",
		"C RSET",
		"S hello?",
		NULL,
	};
	struct mail_client *mc = NULL;
	struct mail_sasl *sasl;
	struct script_server s;
	const char *error = NULL;
	struct strbuf data;

	mc = open_script(&s, "smtp STARTTLS connect", steps, MAIL_SMTP,
			 TLS_STARTTLS);
	if (mc == NULL)
		return;
	check_int("AUTH after TLS", mail_client_has_cap(mc, "AUTH=XOAUTH2"), 1);
	check_int("AUTH before TLS is gone",
		  mail_client_has_cap(mc, "AUTH=LOGIN"), 0);
	check_int("other extensions", mail_client_has_cap(mc, "8BITMIME"), 1);
	sasl = plain_session("smtp");
	error = NULL;
	check_int("535", mail_client_auth(mc, sasl, "PLAIN", 0, &error), -1);
	check_int("server refused", mc->server_failed, 1);
	check_str("refusal text", error,
		  "127.0.0.1 refused the authentication: 535 5.7.3 "
		  "Authentication unsuccessful");
	check_true("hint for 5.7.3",
		   strstr(mail_client_hint(MAIL_SMTP, mc->reply),
			  "SMTP.Send") != NULL);
	mail_sasl_free(&sasl);
	check_int("NOOP", mail_client_command(mc, "NOOP", NULL, &error), 0);
	strbuf_init(&data, 1000);
	check_int("5xx is 1",
		  mail_client_command(mc, "MAIL FROM:<>", &data, &error), 1);
	check_str("multi-line text", data.data,
		  "5.7.1 first line\n5.7.1 denied\n");
	check_str("last line kept", mc->reply, "550 5.7.1 denied");
	strbuf_free(&data);
	check_int("not SMTP", mail_client_command(mc, "RSET", NULL, &error),
		  -1);
	check_str("not an SMTP reply", error, "not an SMTP reply: hello?");
	mail_client_close(&mc);
	check_int("smtp dialogue as scripted", script_end(&s), 0);
}

static void test_connect_failures(void)
{
	static const char *const bye[] = {"TLS", "S * BYE go away", NULL};
	static const char *const no_tls[] = {
		"S 220 mx ESMTP", "C EHLO client.example",	   "S 250 mx",
		"C STARTTLS",	  "S 454 4.7.0 TLS not available", NULL,
	};
	static const char *const inject[] = {
		"S +OK ready",
		"C CAPA",
		"S -ERR no CAPA",
		"C STLS",
		"S +OK Begin TLS\r\n+OK injected",
		NULL,
	};
	struct mail_server none = {0};
	struct mail_client *mc = NULL;
	struct script_server s;
	const char *error = NULL;

	check_int("BYE greeting",
		  connect_script(&s, bye, MAIL_IMAP, TLS_IMPLICIT, &mc, &error),
		  -1);
	check_str("greeting refused", error,
		  "greeting from 127.0.0.1: server said: * BYE go away");
	check_true("nothing returned", mc == NULL);
	script_end(&s);
	error = NULL;
	check_int("STARTTLS refused",
		  connect_script(&s, no_tls, MAIL_SMTP, TLS_STARTTLS, &mc,
				 &error),
		  -1);
	check_str("no plain fallback", error,
		  "STARTTLS refused by 127.0.0.1: server said: 454 4.7.0 TLS "
		  "not available");
	script_end(&s);
	error = NULL;
	check_int("injected after STLS",
		  connect_script(&s, inject, MAIL_POP3, TLS_STARTTLS, &mc,
				 &error),
		  -1);
	check_true("injection refused",
		   error != NULL &&
			   strstr(error, "STARTTLS injection") != NULL);
	script_end(&s);
	error = NULL;
	check_int("no server",
		  mail_client_connect(MAIL_SMTP, &none, NULL, 1000, "x", &mc,
				      &error),
		  -1);
	check_str("says which keys", error,
		  "no smtp server configured for this account (smtp_host, "
		  "smtp_port)");
}

static void test_names_and_hints(void)
{
	static const struct {
		enum mail_proto proto;
		const char *reply, *want; /* want: a substring */
	} hints[] = {
		{MAIL_SMTP,
		 "535 5.7.139 Authentication unsuccessful, SmtpClient"
		 "Authentication is disabled",
		 "SmtpClientAuthenticationDisabled $false"},
		{MAIL_SMTP, "535 5.7.3 Authentication unsuccessful",
		 "SMTP.Send"},
		{MAIL_SMTP, "421 4.7.0 5.5.127 token expiring",
		 "refresh_margin"},
		{MAIL_SMTP, "535 other", "check the token's scope"},
		{MAIL_SMTP, NULL, "check the token's scope"},
		{MAIL_IMAP, "a NO AUTHENTICATE failed.",
		 "IMAP.AccessAsUser.All"},
		{MAIL_POP3, "-ERR Authentication failure", "pop3_split_auth"},
	};
	struct account_config a = {0};
	enum mail_proto p;
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		check_true(
			hints[i].want,
			strstr(mail_client_hint(hints[i].proto, hints[i].reply),
			       hints[i].want) != NULL);
	check_int("imap", mail_proto_parse("imap", &p), 0);
	check_int("imap kind", p, MAIL_IMAP);
	check_int("pop3", mail_proto_parse("pop3", &p), 0);
	check_int("pop3 kind", p, MAIL_POP3);
	check_int("smtp", mail_proto_parse("smtp", &p), 0);
	check_int("smtp kind", p, MAIL_SMTP);
	check_int("pop is not pop3", mail_proto_parse("pop", &p), -1);
	check_int("IMAP upper case", mail_proto_parse("IMAP", &p), -1);
	check_str("name", mail_proto_name(MAIL_POP3), "pop3");
	check_true("server imap", mail_proto_server(&a, MAIL_IMAP) == &a.imap);
	check_true("server pop3", mail_proto_server(&a, MAIL_POP3) == &a.pop3);
	check_true("server smtp", mail_proto_server(&a, MAIL_SMTP) == &a.smtp);
}

int main(void)
{
	const char *error = NULL;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL || test_tls_init(&tls, dir) < 0) {
		printf("setup failed\n");
		return 99;
	}
	if (mail_sasl_init(NULL, NULL, &error) < 0) {
		printf("mail_sasl_init: %s\n", error);
		return 99;
	}
	if (!mail_sasl_has_mech("PLAIN")) {
		printf("SKIP: libsasl2's PLAIN plugin is not installed "
		       "(libsasl2-modules; scripts/install-deps)\n");
		mail_sasl_done();
		return 77;
	}
	test_imap();
	test_imap_no_ir();
	test_pop3();
	test_smtp();
	test_connect_failures();
	test_names_and_hints();
	mail_sasl_done();
	test_tls_free(&tls);
	rmdir(dir);
	return test_done("test_mail_client");
}
