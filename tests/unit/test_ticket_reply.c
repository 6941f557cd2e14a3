/* test_ticket_reply.c - subjects, and the send-then-commit flow of
 * replies and status notes */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testlib.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_json.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_reply.h"
#include "ticket_testutil.h"

static const struct ticket_reply_opts plain_reply = {0, NULL, NULL};
static const struct ticket_reply_opts auto_reply = {1, NULL, NULL};

static const struct {
	const char *subject, *want;
} subjects[] = {
	{"Printer jams", "Re: [#111111] Printer jams"},
	{"Re: AW: Fwd: Printer jams", "Re: [#111111] Printer jams"},
	{"RE[2]: Printer", "Re: [#111111] Printer"},
	{"Re: [#111111] Printer", "Re: [#111111] Printer"},
	{"[#222222] other", "Re: [#111111] [#222222] other"},
	{"Reply needed", "Re: [#111111] Reply needed"},
	{"", "Re: [#111111] "},
};

static void test_subjects(const struct ticket_config *cfg)
{
	char *got;
	size_t i;

	for (i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		got = ticket_reply_subject(cfg, 111111, subjects[i].subject);
		check_str(subjects[i].subject, got, subjects[i].want);
		free(got);
	}
}

static const char *status_of(struct ticket_queue *q, uint64_t t, char *buf,
			     size_t size)
{
	const char *error = NULL;
	cJSON *obj = NULL;

	buf[0] = '\0';
	if (ticket_json_ticket(q->store, t, 0, &obj, &error) == 1)
		snprintf(buf, size, "%s %g",
			 cJSON_GetObjectItem(obj, "status")->valuestring,
			 cJSON_GetObjectItem(obj, "messages")->valuedouble);
	cJSON_Delete(obj);
	return buf;
}

#define SEND_NOWHERE "sendmail = /bin/dd of=/dev/null status=none\n"

static struct ticket_queue *open_queue(char *dir, const char *extra)
{
	struct ticket_queue *q;
	const char *error = NULL;

	if (mkdtemp(dir) == NULL || (q = testutil_queue(dir, extra)) == NULL)
		return NULL;
	if (ticket_queue_lock(q, TICKET_LOCK_SHARED, &error) != TICKET_OK ||
	    ticket_queue_store(q, &error) != TICKET_OK) {
		printf("open: %s\n", error);
		ticket_queue_close(&q);
	}
	return q;
}

static void test_send(void)
{
	char dir[] = "/tmp/test_ticket_reply.XXXXXX", st[64];
	struct ticket_queue *q = open_queue(dir, SEND_NOWHERE);
	struct ticket_reply_result res;
	const char *error = NULL;
	uint64_t t;

	if (q == NULL) {
		check_true("queue", 0);
		return;
	}
	t = testutil_deliver(
		q, "From: alice@customer.test\nSubject: Printer jams\n"
		   "Message-ID: <a1@customer.test>\n\nIt jams.\n");
	check_true("a ticket", t != 0);
	check_int("send",
		  ticket_reply_send(q, t, "Try this.", &plain_reply, &res,
				    &error),
		  TICKET_OK);
	check_int("sent", res.outcome, TICKET_REPLY_DONE);
	check_true("our Message-ID",
		   res.message_id && strncmp(res.message_id, "tq.", 3) == 0);
	check_str("to the customer", res.to, "alice@customer.test");
	check_str("recorded", res.warning, NULL);
	ticket_reply_result_free(&res);
	check_str("answered, on the ticket", status_of(q, t, st, sizeof(st)),
		  "answered 2");
	check_int("tmp/ empty", testutil_count(dir, "tmp"), 0);
	check_int("no ticket",
		  ticket_reply_send(q, 999999, "x", &plain_reply, &res, &error),
		  TICKET_OK);
	check_int("no ticket: said", res.outcome, TICKET_REPLY_NO_TICKET);
	ticket_reply_result_free(&res);
	/* a robot writes last: --auto refuses */
	testutil_deliver(q, "From: alice@customer.test\nSubject: Auto: away\n"
			    "Auto-Submitted: auto-replied\nIn-Reply-To: "
			    "<a1@customer.test>\n"
			    "Message-ID: <o1@customer.test>\n\nAway.\n");
	check_int("auto",
		  ticket_reply_send(q, t, "x", &auto_reply, &res, &error),
		  TICKET_OK);
	check_int("auto: refused", res.outcome, TICKET_REPLY_REFUSED);
	check_str("auto: what came last", res.last_kind, "auto-reply");
	ticket_reply_result_free(&res);
	/* status notes */
	check_int(
		"close",
		ticket_reply_set_status(q, t, "close", "tester", &res, &error),
		TICKET_OK);
	check_int("closed", res.outcome, TICKET_REPLY_DONE);
	check_str("closed, the note on it", status_of(q, t, st, sizeof(st)),
		  "closed 4");
	ticket_reply_result_free(&res);
	check_int(
		"close again",
		ticket_reply_set_status(q, t, "close", "tester", &res, &error),
		TICKET_OK);
	check_int("already closed", res.outcome, TICKET_REPLY_UNCHANGED);
	ticket_reply_result_free(&res);
	check_int(
		"reopen",
		ticket_reply_set_status(q, t, "reopen", "tester", &res, &error),
		TICKET_OK);
	check_str("open again", status_of(q, t, st, sizeof(st)), "open 5");
	ticket_reply_result_free(&res);
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
}

/* Send a reply with o; "to | cc" of what went out ("refused", or the
 * error). */
static const char *sent_to(struct ticket_queue *q, uint64_t t,
			   const struct ticket_reply_opts *o, char *buf,
			   size_t size)
{
	struct ticket_reply_result res;
	const char *error = "?";

	if (ticket_reply_send(q, t, "x", o, &res, &error) != TICKET_OK)
		snprintf(buf, size, "%s", error);
	else if (res.outcome != TICKET_REPLY_DONE)
		snprintf(buf, size, "outcome %d", res.outcome);
	else
		snprintf(buf, size, "%s | %s", res.to, res.cc);
	ticket_reply_result_free(&res);
	return buf;
}

/* Whom a reply goes to: the requester (their Reply-To), the other
 * participants on Cc but never the queue itself or a robot; --to and
 * --cc replace them; an automatic answer has no Cc. */
static void test_recipients(void)
{
	char dir[] = "/tmp/test_ticket_reply.XXXXXX", got[512];
	struct ticket_queue *q = open_queue(dir, SEND_NOWHERE);
	struct ticket_strv dave = {NULL, 0}, none = {NULL, 0};
	struct ticket_reply_opts o = {0, NULL, NULL};
	struct ticket_reply_info ri;
	struct ticket_outgoing out;
	const char *error = NULL;
	uint64_t t;

	if (q == NULL) {
		check_true("queue", 0);
		return;
	}
	t = testutil_deliver(
		q, "From: Alice <alice@customer.test>\n"
		   "Reply-To: alice.home@customer.test\n"
		   "To: help@tickets.test\nCc: Bob <bob@customer.test>, "
		   "noreply@vendor.test, HELP@tickets.test\n"
		   "Subject: Printer jams\nMessage-ID: <a1@customer.test>\n\n"
		   "It jams.\n");
	testutil_deliver(q, "From: bob@customer.test\nTo: help@tickets.test\n"
			    "Cc: carol@customer.test\nSubject: Re: Printer\n"
			    "In-Reply-To: <a1@customer.test>\n"
			    "Message-ID: <b1@customer.test>\n\nMe too.\n");
	check_str("default: the requester, the others on Cc",
		  sent_to(q, t, &plain_reply, got, sizeof(got)),
		  "alice.home@customer.test | bob@customer.test, "
		  "carol@customer.test");
	ticket_strv_add(&dave, "dave@customer.test", 10);
	o.to = &dave;
	check_str("--to: the requester joins the Cc",
		  sent_to(q, t, &o, got, sizeof(got)),
		  "dave@customer.test | alice@customer.test, "
		  "alice.home@customer.test, bob@customer.test, "
		  "carol@customer.test");
	o.to = NULL;
	o.cc = &none;
	check_str("--cc '': no Cc", sent_to(q, t, &o, got, sizeof(got)),
		  "alice.home@customer.test | ");
	check_str("automatic: no Cc",
		  sent_to(q, t, &auto_reply, got, sizeof(got)),
		  "alice.home@customer.test | ");
	/* the headers: To, Cc, and In-Reply-To the last customer message */
	check_int("load", ticket_reply_load(q->store, t, &ri, &error), 1);
	check_int("build",
		  ticket_reply_build(q->cfg, &ri, "x", 0, &out, &error), 0);
	check_true("To header",
		   out.sent && strstr(out.sent,
				      "\nTo: alice.home@customer.test\n"));
	check_true("Cc header",
		   out.sent && strstr(out.sent, "\nCc: bob@customer.test, "
						"carol@customer.test\n"));
	check_true("answers the last customer message",
		   out.sent &&
			   strstr(out.sent, "In-Reply-To: <b1@customer.test>"));
	ticket_outgoing_free(&out);
	ticket_reply_info_free(&ri);
	ticket_strv_free(&dave);
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
}

/* sendmail fails: nothing sent, nothing recorded, try again. */
static void test_send_fails(void)
{
	char dir[] = "/tmp/test_ticket_reply.XXXXXX", st[64];
	struct ticket_queue *q = open_queue(dir, "sendmail = /bin/false\n");
	struct ticket_reply_result res;
	const char *error = NULL;
	sqlite3 *other = NULL;
	char path[4200];
	uint64_t t;
	int before;

	if (q == NULL) {
		check_true("queue", 0);
		return;
	}
	t = testutil_deliver(q, "From: bob@customer.test\nSubject: Help\n"
				"Message-ID: <b1@customer.test>\n\nHelp.\n");
	before = testutil_count(dir, "new");
	check_int("sendmail fails: transient",
		  ticket_reply_send(q, t, "x", &plain_reply, &res, &error),
		  TICKET_ERR_TEMP);
	check_str("says so", error, "reply not sent; nothing recorded");
	check_int("nothing in tmp/", testutil_count(dir, "tmp"), 0);
	check_int("nothing in new/", testutil_count(dir, "new"), before);
	check_str("nothing on the ticket", status_of(q, t, st, sizeof(st)),
		  "open 1");
	ticket_reply_result_free(&res);
	snprintf(path, sizeof(path), "%s/%s", dir, TICKET_DB_NAME);
	sqlite3_open(path, &other);
	sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
	check_int("busy index: transient",
		  ticket_reply_send(q, t, "x", &plain_reply, &res, &error),
		  TICKET_ERR_TEMP);
	ticket_reply_result_free(&res);
	check_int(
		"busy index: close transient",
		ticket_reply_set_status(q, t, "close", "tester", &res, &error),
		TICKET_ERR_TEMP);
	ticket_reply_result_free(&res);
	sqlite3_exec(other, "ROLLBACK; DROP TABLE messages", NULL, NULL, NULL);
	check_int("broken index: needs an admin",
		  ticket_reply_send(q, t, "x", &plain_reply, &res, &error),
		  TICKET_ERR_QUEUE);
	ticket_reply_result_free(&res);
	sqlite3_close(other);
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
}

/* The default recipients are checked: bare names (no @domain) never
 * go on To/Cc, the Cc holds the newest 20 participants (res says how
 * many were left off), the queue's own address as To is refused. */
static void test_default_checks(void)
{
	char dir[] = "/tmp/test_ticket_reply.XXXXXX", got[2048], msg[2048];
	struct ticket_queue *q = open_queue(dir, SEND_NOWHERE);
	struct ticket_strv erin = {NULL, 0};
	struct ticket_reply_opts o = {0, NULL, NULL};
	struct ticket_reply_result res;
	const char *error = NULL;
	size_t i, at;
	uint64_t t;

	if (q == NULL) {
		check_true("queue", 0);
		return;
	}
	t = testutil_deliver(q, "From: alice@customer.test\n"
				"To: help@tickets.test\nCc: help, staff, "
				"bob@customer.test, x@\nSubject: Bare\n"
				"Message-ID: <d1@customer.test>\n\nHi.\n");
	check_str("bare names never on the Cc",
		  sent_to(q, t, &plain_reply, got, sizeof(got)),
		  "alice@customer.test | bob@customer.test");
	at = (size_t)snprintf(msg, sizeof(msg),
			      "From: carol@customer.test\nCc: ");
	for (i = 1; i <= 25; i++)
		at += (size_t)snprintf(msg + at, sizeof(msg) - at,
				       "%sp%02zu@customer.test",
				       i > 1 ? ", " : "", i);
	snprintf(msg + at, sizeof(msg) - at,
		 "\nSubject: Many\nMessage-ID: <d2@customer.test>\n\nHi.\n");
	t = testutil_deliver(q, msg);
	check_int("many: send",
		  ticket_reply_send(q, t, "x", &plain_reply, &res, &error),
		  TICKET_OK);
	check_true("many: the newest 20 on the Cc",
		   res.cc != NULL && strncmp(res.cc, "p06@", 4) == 0 &&
			   strstr(res.cc, "p05@") == NULL &&
			   strstr(res.cc, "p25@") != NULL);
	check_int("many: 5 left off", (int)res.cc_dropped, 5);
	ticket_reply_result_free(&res);
	t = testutil_deliver(q, "From: dan@customer.test\n"
				"Reply-To: Help@Tickets.test\nSubject: Loop\n"
				"Message-ID: <d3@customer.test>\n\nHi.\n");
	check_true("To the queue itself: refused",
		   strstr(sent_to(q, t, &plain_reply, got, sizeof(got)),
			  "queue's own address") != NULL &&
			   strstr(got, "--to") != NULL);
	ticket_strv_add(&erin, "erin@customer.test", 10);
	o.to = &erin;
	check_str("--to: sent", sent_to(q, t, &o, got, sizeof(got)),
		  "erin@customer.test | dan@customer.test");
	ticket_strv_free(&erin);
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
}

/* --to/--cc lists: a bare name or more than 100 addresses is an
 * error that says so. */
static void test_addrs_parse(void)
{
	struct ticket_strv out = {NULL, 0};
	char list[4096];
	const char *error = NULL;
	size_t i, at = 0;

	check_int("bare name", ticket_reply_addrs_parse("help", &out, &error),
		  -1);
	check_true("bare name: says why",
		   error && strstr(error, "not a full address"));
	check_int("no domain",
		  ticket_reply_addrs_parse("a@b.test, staff", &out, &error),
		  -1);
	ticket_strv_free(&out);
	for (i = 0; i < 100; i++)
		at += (size_t)snprintf(list + at, sizeof(list) - at,
				       "u%zu@x.test,", i);
	check_int("100 addresses", ticket_reply_addrs_parse(list, &out, &error),
		  0);
	check_int("100 addresses: all", (int)out.n, 100);
	error = NULL;
	check_int("101 addresses",
		  ticket_reply_addrs_parse("u100@x.test", &out, &error), -1);
	check_true("101: says so", error && strstr(error, "more than 100"));
	ticket_strv_free(&out);
}

int main(void)
{
	struct ticket_config *cfg = testutil_config("/q");

	if (cfg == NULL)
		return 1;
	test_subjects(cfg);
	ticket_config_free(&cfg);
	test_send();
	test_recipients();
	test_default_checks();
	test_addrs_parse();
	test_send_fails();
	g_mime_shutdown();
	return test_done("test_ticket_reply");
}
