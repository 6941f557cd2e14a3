/* test_ticket_deliver.c - one message into the queue: outcomes, sources,
 * and what a failure leaves behind */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testlib.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_maildir.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_store.h"
#include "ticket_testutil.h"

#define NEW_MAIL                                                     \
	"From: Alice <alice@customer.test>\nTo: help@tickets.test\n" \
	"Subject: Printer jams\nMessage-ID: <a1@customer.test>\n"    \
	"Date: Mon, 16 Nov 2026 08:12:44 +0000\n\nIt jams.\n"
#define FOLLOW_UP                                                     \
	"From: alice@customer.test\nTo: help@tickets.test\n"          \
	"Subject: Re: Printer jams\nMessage-ID: <a2@customer.test>\n" \
	"In-Reply-To: <a1@customer.test>\n\nStill jams.\n"
#define OOO                                                      \
	"From: carol@customer.test\nTo: help@tickets.test\n"     \
	"Subject: Out of office\nAuto-Submitted: auto-replied\n" \
	"Message-ID: <o1@customer.test>\n\nAway.\n"

static char dir[] = "/tmp/test_ticket_deliver.XXXXXX";

/* Deliver text from a descriptor; the status. */
static enum ticket_status from_text(struct ticket_queue *q, const char *text,
				    struct ticket_delivery *d,
				    const char **error_r)
{
	struct ticket_deliver_opts o = {.from = TICKET_FROM_FD,
					.sender = "s@x.test",
					.recipient = "help@tickets.test"};
	enum ticket_status st;

	o.in_fd = testutil_fd(text);
	st = ticket_deliver(q, &o, d, error_r);
	close(o.in_fd);
	return st;
}

static const struct {
	const char *what;
	const char *text;
	enum ticket_outcome outcome;
	int new_ticket;
	int filed; /* on a ticket */
	const char *how;
	const char *kind;
} cases[] = {
	{"new customer", NEW_MAIL, TICKET_STORED, 1, 1, NULL, "customer"},
	{"the same again", NEW_MAIL, TICKET_DUPLICATE, 0, 0, NULL, "customer"},
	{"a follow-up", FOLLOW_UP, TICKET_STORED, 0, 1, "References",
	 "customer"},
	{"an out-of-office", OOO, TICKET_STORED, 0, 0, NULL, "auto-reply"},
	{"nothing", "", TICKET_EMPTY, 0, 0, NULL, "customer"},
	{"junk is still a ticket", "\x01\x02 not mail at all", TICKET_STORED, 1,
	 1, NULL, "customer"},
};

static void test_cases(struct ticket_queue *q)
{
	struct ticket_delivery d;
	const char *error = NULL;
	char what[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "%s: status", cases[i].what);
		check_int(what, from_text(q, cases[i].text, &d, &error),
			  TICKET_OK);
		snprintf(what, sizeof(what), "%s: outcome", cases[i].what);
		check_int(what, d.outcome, cases[i].outcome);
		snprintf(what, sizeof(what), "%s: new ticket", cases[i].what);
		check_int(what, d.new_ticket, cases[i].new_ticket);
		snprintf(what, sizeof(what), "%s: filed", cases[i].what);
		check_int(what, d.ticket != 0, cases[i].filed);
		snprintf(what, sizeof(what), "%s: how", cases[i].what);
		check_str(what, d.how, cases[i].how);
		if (d.outcome == TICKET_STORED) {
			snprintf(what, sizeof(what), "%s: kind", cases[i].what);
			check_str(what, ticket_mail_kind_name(d.kind),
				  cases[i].kind);
		}
		ticket_delivery_done(&d);
	}
	check_int("tmp/ is empty", testutil_count(dir, "tmp"), 0);
	check_int("new/: one file per stored message",
		  testutil_count(dir, "new"), 4);
}

static void test_envelope(struct ticket_queue *q)
{
	struct ticket_delivery d;
	const char *error = NULL;
	char path[4200], head[200] = "";
	FILE *f;

	from_text(q,
		  "From: e@customer.test\nSubject: envelope\n"
		  "Message-ID: <e1@customer.test>\n\nx\n",
		  &d, &error);
	snprintf(path, sizeof(path), "%s/new/%s", dir, d.name);
	if ((f = fopen(path, "r")) != NULL) {
		if (fread(head, 1, sizeof(head) - 1, f) == 0)
			head[0] = '\0';
		fclose(f);
	}
	check_true("Return-Path first",
		   strncmp(head,
			   "Return-Path: <s@x.test>\nDelivered-To: "
			   "help@tickets.test\n",
			   56) == 0);
	ticket_delivery_done(&d);
}

/* Our replies: held in tmp/ until sent, then into new/ and the index. */
static void test_hold(struct ticket_queue *q)
{
	struct ticket_spool sp;
	struct ticket_deliver_opts o = {.from = TICKET_FROM_FD,
					.hold = 1,
					.named_hold = 1,
					.spool = &sp};
	struct ticket_delivery d;
	const char *error = NULL;
	int before = testutil_count(dir, "new");

	o.in_fd = testutil_fd("From: h@customer.test\nSubject: held\n"
			      "Message-ID: <h1@customer.test>\n\nx\n");
	check_int("hold", ticket_deliver(q, &o, &d, &error), TICKET_OK);
	close(o.in_fd);
	check_int("held: stored", d.outcome, TICKET_STORED);
	check_int("held: in tmp/", testutil_count(dir, "tmp"), 1);
	check_int("held: not in new/", testutil_count(dir, "new"), before);
	check_int("held: not in the index", d.in_maildir, 0);
	o.from = TICKET_FROM_HELD; /* hold applies to TICKET_FROM_FD only */
	check_int("resume", ticket_deliver(q, &o, &d, &error), TICKET_OK);
	check_int("resumed: in new/", testutil_count(dir, "new"), before + 1);
	check_int("resumed: tmp/ empty", testutil_count(dir, "tmp"), 0);
	check_int("resumed: indexed", d.outcome, TICKET_STORED);
	check_int("resumed: new ticket", d.new_ticket, 1);
	ticket_delivery_done(&d);
}

/* reindex: a file already in the Maildir. */
static void test_maildir(struct ticket_queue *q)
{
	struct ticket_deliver_opts o = {.from = TICKET_FROM_MAILDIR,
					.name = "handmade"};
	struct ticket_delivery d;
	const char *error = NULL;
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cur/handmade", dir);
	f = fopen(path, "w");
	fputs("From: m@customer.test\nSubject: by hand\n"
	      "Message-ID: <m1@customer.test>\n\nx\n",
	      f);
	fclose(f);
	o.path = path;
	check_int("from the Maildir", ticket_deliver(q, &o, &d, &error),
		  TICKET_OK);
	check_int("indexed", d.outcome, TICKET_STORED);
	check_int("a ticket", d.new_ticket, 1);
	ticket_delivery_done(&d);
	check_int("again", ticket_deliver(q, &o, &d, &error), TICKET_OK);
	check_int("again: duplicate", d.outcome, TICKET_DUPLICATE);
	ticket_delivery_done(&d);
	o.path = "/nonexistent/cur/x";
	o.name = "x";
	check_int("a missing file: transient",
		  ticket_deliver(q, &o, &d, &error), TICKET_ERR_TEMP);
	ticket_delivery_done(&d);
}

/* The index busy: 75 for the MTA, the raw copy stays for the retry,
 * which finds it. */
static void test_busy(struct ticket_queue *q)
{
	static const char mail[] = "From: b@customer.test\nSubject: busy\n"
				   "Message-ID: <b1@customer.test>\n\nx\n";
	struct ticket_delivery d;
	const char *error = NULL;
	sqlite3 *other = NULL;
	char path[4200];
	int before = testutil_count(dir, "new");

	snprintf(path, sizeof(path), "%s/%s", dir, TICKET_DB_NAME);
	sqlite3_open(path, &other);
	check_int("lock it",
		  sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
		  SQLITE_OK);
	check_int("busy: transient", from_text(q, mail, &d, &error),
		  TICKET_ERR_TEMP);
	check_true("busy: says why", error && strstr(error, "tickets.db"));
	ticket_delivery_done(&d);
	check_int("busy: the raw copy is durable", testutil_count(dir, "new"),
		  before + 1);
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	check_int("retry", from_text(q, mail, &d, &error), TICKET_OK);
	check_int("retry: stored", d.outcome, TICKET_STORED);
	check_int("retry: found the earlier copy", d.existed, 1);
	ticket_delivery_done(&d);
	check_int("broken index",
		  sqlite3_exec(other, "DROP TABLE messages", NULL, NULL, NULL),
		  SQLITE_OK);
	check_int("broken index: needs an admin",
		  from_text(q, "From: z@customer.test\nSubject: z\n\nz\n", &d,
			    &error),
		  TICKET_ERR_QUEUE);
	ticket_delivery_done(&d);
	sqlite3_close(other);
}

static void test_too_large(void)
{
	char small[] = "/tmp/test_ticket_deliver_small.XXXXXX";
	struct ticket_queue *q;
	struct ticket_delivery d;
	const char *error = NULL;

	if (mkdtemp(small) == NULL ||
	    (q = testutil_queue(small, "max_message_size = 100\n")) == NULL) {
		check_true("small queue", 0);
		return;
	}
	check_int("too large: not an error",
		  from_text(q, NEW_MAIL NEW_MAIL, &d, &error), TICKET_OK);
	check_int("too large", d.outcome, TICKET_TOO_LARGE);
	check_int("too large: nothing kept",
		  testutil_count(small, "new") + testutil_count(small, "tmp"),
		  0);
	ticket_delivery_done(&d);
	ticket_queue_close(&q);
	testutil_rm_tree(small);
}

int main(void)
{
	struct ticket_queue *q;

	if (mkdtemp(dir) == NULL || (q = testutil_queue(dir, "")) == NULL)
		return 1;
	test_cases(q);
	test_envelope(q);
	test_hold(q);
	test_maildir(q);
	test_busy(q);
	ticket_queue_close(&q);
	test_too_large();
	testutil_rm_tree(dir);
	g_mime_shutdown();
	return test_done("test_ticket_deliver");
}
