/* test_ticket_reindex.c - rebuilding tickets.db from the Maildir: the
 * same tickets come back, claims are carried over, and a failure
 * leaves the old index in place, the queue stays usable after a
 * rebuild (attachments go to files/ again), and back-to-back
 * deliveries replay in their order (their file times do not tie). */
#include "oauthmail-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testlib.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_json.h"
#include "ticket/ticket_maildir.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_reindex.h"
#include "ticket/ticket_reply.h"
#include "ticket/ticket_store.h"
#include "ticket_testutil.h"

#define NTICKETS 4 /* A, B, C, D below */
#define ON_NEW (-1)
#define ON_NONE (-2)

/* @TAG@ is replaced by the ticket number of case tag_of. */
static const struct ticket_reply_opts plain_reply = {0, NULL, NULL};

static const struct {
	const char *what;
	const char *text;
	int tag_of;
	enum ticket_outcome outcome;
	int on; /* the case whose ticket it joins, ON_NEW or ON_NONE */
	const char *how;
} cases[] = {
	/* 0: ticket A */
	{"new ticket A",
	 "From: Alice <alice@customer.test>\nTo: help@tickets.test\n"
	 "Subject: Printer jams\nMessage-ID: <a1@customer.test>\n"
	 "Date: Mon, 16 Nov 2026 08:12:44 +0000\n\nIt jams.\n",
	 -1, TICKET_STORED, ON_NEW, NULL},
	{"reply by References",
	 "From: alice@customer.test\nTo: help@tickets.test\n"
	 "Subject: Re: Printer jams\nMessage-ID: <a2@customer.test>\n"
	 "References: <a1@customer.test>\n\nStill jams.\n",
	 -1, TICKET_STORED, 0, "References"},
	/* 2: ticket B */
	{"new ticket B",
	 "From: Bob <bob@customer.test>\nTo: help@tickets.test\n"
	 "Subject: Toner empty\nMessage-ID: <b1@customer.test>\n\n"
	 "No toner.\n",
	 -1, TICKET_STORED, ON_NEW, NULL},
	{"reply by subject tag from a participant",
	 "From: bob@customer.test\nTo: help@tickets.test\n"
	 "Subject: Re: [#@TAG@] Toner empty\n"
	 "Message-ID: <b2@customer.test>\n\nStill none.\n",
	 2, TICKET_STORED, 2, "subject tag"},
	/* 4: ticket D */
	{"a stranger quoting A's tag: new ticket D",
	 "From: mallory@elsewhere.test\nTo: help@tickets.test\n"
	 "Subject: [#@TAG@] me too\nMessage-ID: <m1@elsewhere.test>\n\n"
	 "Me too.\n",
	 0, TICKET_STORED, ON_NEW, NULL},
	{"an auto-reply on A",
	 "From: dave@customer.test\nTo: help@tickets.test\n"
	 "Subject: Auto: Printer jams\nAuto-Submitted: auto-replied\n"
	 "In-Reply-To: <a1@customer.test>\n"
	 "Message-ID: <o2@customer.test>\n\nAway.\n",
	 -1, TICKET_STORED, 0, "References"},
	{"an auto-reply on nothing",
	 "From: carol@customer.test\nTo: help@tickets.test\n"
	 "Subject: Out of office\nAuto-Submitted: auto-replied\n"
	 "Message-ID: <o1@customer.test>\n\nAway.\n",
	 -1, TICKET_STORED, ON_NONE, NULL},
	{"an attachment on A",
	 "From: alice@customer.test\nTo: help@tickets.test\n"
	 "Subject: Re: Printer jams\nMessage-ID: <a3@customer.test>\n"
	 "In-Reply-To: <a2@customer.test>\nMIME-Version: 1.0\n"
	 "Content-Type: multipart/mixed; boundary=\"xx\"\n\n"
	 "--xx\nContent-Type: text/plain\n\nPhoto attached.\n"
	 "--xx\nContent-Type: application/octet-stream; name=\"jam.bin\"\n"
	 "Content-Disposition: attachment; filename=\"jam.bin\"\n"
	 "Content-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQK\n--xx--\n",
	 -1, TICKET_STORED, 0, "References"},
	/* 8: ticket C */
	{"new ticket C",
	 "From: erin@customer.test\nTo: help@tickets.test\n"
	 "Subject: Invoice wrong\nMessage-ID: <c1@customer.test>\n\n"
	 "Wrong sum.\n",
	 -1, TICKET_STORED, ON_NEW, NULL},
	{"a duplicate delivery of A",
	 "From: Alice <alice@customer.test>\nTo: help@tickets.test\n"
	 "Subject: Printer jams\nMessage-ID: <a1@customer.test>\n"
	 "Date: Mon, 16 Nov 2026 08:12:44 +0000\n\nIt jams.\n",
	 -1, TICKET_DUPLICATE, ON_NONE, NULL},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define STORED 11 /* messages in the Maildir: 9 cases, a reply, a note */

/* The tickets and what they hold once the reply and the note are in. */
static const struct {
	const char *name;
	int opened_by; /* case */
	const char *status;
	int messages;
} tickets[NTICKETS] = {
	{"A", 0, "open", 4},
	{"B", 2, "answered", 3}, /* + our reply */
	{"C", 8, "closed", 2},	 /* + the close note */
	{"D", 4, "open", 1},
};

static char dir[] = "/tmp/test_ticket_reindex.XXXXXX";
static uint64_t numbers[NCASES]; /* each case's ticket */

/* What is compared before and after a reindex. */
struct state {
	char line[NTICKETS][512]; /* id status messages times people */
	char *json[NTICKETS];	  /* ticket_json_ticket with the thread */
	char *list;		  /* ticket_json_list */
	char events[2048];	  /* type, message key, claimed by */
	long long pending;
};

static void state_free(struct state *s)
{
	int i;

	for (i = 0; i < NTICKETS; i++)
		free(s->json[i]);
	free(s->list);
	memset(s, 0, sizeof(*s));
}

static int line_cb(void *ctx, const struct ticket_store_ticket *t,
		   const char **error_r)
{
	(void)error_r;
	snprintf(ctx, 512, "%llu %s %lld %lld %lld %s %s [%s]",
		 (unsigned long long)t->id, t->status, (long long)t->messages,
		 (long long)t->created, (long long)t->updated, t->requester,
		 t->subject, t->flags);
	return 0;
}

static char *json_text(cJSON *obj)
{
	char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;

	cJSON_Delete(obj);
	return text;
}

/* The events as the index holds them, read beside the queue. */
static void read_events(struct state *s)
{
	char path[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, TICKET_DB_NAME);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT e.type, m.dkey, "
			       "coalesce(e.claimed_by, '-') FROM events e "
			       "JOIN messages m ON m.id = e.message "
			       "ORDER BY e.id",
			       -1, &stmt, NULL) != SQLITE_OK) {
		snprintf(s->events, sizeof(s->events), "unreadable");
		sqlite3_close(db);
		return;
	}
	while (sqlite3_step(stmt) == SQLITE_ROW && n < sizeof(s->events)) {
		n += (size_t)snprintf(s->events + n, sizeof(s->events) - n,
				      "%s:%.8s:%s ",
				      sqlite3_column_text(stmt, 0),
				      sqlite3_column_text(stmt, 1),
				      sqlite3_column_text(stmt, 2));
		s->pending += strcmp((const char *)sqlite3_column_text(stmt, 2),
				     "-") == 0;
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static void take_state(struct ticket_queue *q, struct state *s)
{
	const char *error = NULL;
	cJSON *obj;
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < NTICKETS; i++) {
		obj = NULL;
		if (ticket_store_get_ticket(q->store,
					    numbers[tickets[i].opened_by],
					    line_cb, s->line[i], &error) != 1)
			snprintf(s->line[i], sizeof(s->line[i]), "missing");
		if (ticket_json_ticket(q->store, numbers[tickets[i].opened_by],
				       1, &obj, &error) == 1)
			s->json[i] = json_text(obj);
	}
	obj = NULL;
	if (ticket_json_list(q->store, NULL, &obj, &error) == 0)
		s->list = json_text(obj);
	read_events(s);
}

/* The tickets as they should be: number, status, messages. */
static void check_tickets(struct ticket_queue *q, const char *when, int all)
{
	char what[200];
	const char *error = NULL;
	cJSON *obj;
	int i;

	for (i = 0; i < NTICKETS; i++) {
		obj = NULL;
		snprintf(what, sizeof(what), "%s: ticket %s found", when,
			 tickets[i].name);
		check_int(what,
			  ticket_json_ticket(q->store,
					     numbers[tickets[i].opened_by], 0,
					     &obj, &error),
			  1);
		snprintf(what, sizeof(what), "%s: ticket %s status", when,
			 tickets[i].name);
		check_str(what,
			  obj ? cJSON_GetStringValue(
					cJSON_GetObjectItem(obj, "status"))
			      : NULL,
			  tickets[i].status);
		snprintf(what, sizeof(what), "%s: ticket %s messages", when,
			 tickets[i].name);
		check_int(what,
			  obj ? (long long)cJSON_GetNumberValue(
					cJSON_GetObjectItem(obj, "messages"))
			      : -1,
			  tickets[i].messages);
		cJSON_Delete(obj);
	}
	obj = NULL;
	snprintf(what, sizeof(what), "%s: no other tickets", when);
	check_int(what,
		  ticket_json_list(q->store, NULL, &obj, &error) == 0
			  ? cJSON_GetArraySize(obj)
			  : -1,
		  all);
	cJSON_Delete(obj);
}

/* Everything the index said before is said again. */
static void check_same(const char *when, const struct state *got,
		       const struct state *want)
{
	char what[200];
	int i;

	for (i = 0; i < NTICKETS; i++) {
		snprintf(what, sizeof(what), "%s: ticket %s row", when,
			 tickets[i].name);
		check_str(what, got->line[i], want->line[i]);
		snprintf(what, sizeof(what), "%s: ticket %s thread", when,
			 tickets[i].name);
		check_str(what, got->json[i], want->json[i]);
	}
	snprintf(what, sizeof(what), "%s: the list", when);
	check_str(what, got->list, want->list);
}

static void check_tally(const char *when, const struct ticket_reindex_tally *t,
			long messages, long new_tickets, long unfiled,
			long duplicates, long failed)
{
	const struct {
		const char *name;
		unsigned long got;
		long want;
	} f[] = {
		{"messages", t->messages, messages},
		{"tickets", t->tickets, new_tickets},
		{"unfiled", t->unfiled, unfiled},
		{"duplicates", t->duplicates, duplicates},
		{"failed", t->failed, failed},
	};
	char what[200];
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(what, sizeof(what), "%s: tally %s", when, f[i].name);
		check_int(what, (long long)f[i].got, f[i].want);
	}
}

/* A full rebuild as `ticketq reindex` runs it: exclusive lock, the
 * index closed; then the index open again for the checks. */
static enum ticket_status rebuild(struct ticket_queue *q,
				  struct ticket_reindex_tally *t,
				  const char **error_r)
{
	enum ticket_status st;
	const char *error = NULL;

	ticket_store_close(&q->store);
	st = ticket_queue_lock(q, TICKET_LOCK_EXCLUSIVE, error_r);
	if (st == TICKET_OK)
		st = ticket_reindex(q, 0, t, error_r);
	if (ticket_queue_store(q, &error) != TICKET_OK)
		printf("reopen: %s\n", error);
	return st;
}

/* text with @TAG@ replaced by the number */
static void fill_tag(const char *text, uint64_t tag, char *buf, size_t size)
{
	const char *at = strstr(text, "@TAG@");

	if (at == NULL)
		snprintf(buf, size, "%s", text);
	else
		snprintf(buf, size, "%.*s%llu%s", (int)(at - text), text,
			 (unsigned long long)tag, at + 5);
}

static void deliver_cases(struct ticket_queue *q)
{
	struct ticket_deliver_opts o = {.from = TICKET_FROM_FD};
	struct ticket_delivery d;
	const char *error = NULL;
	char text[2048], what[200];
	size_t i;

	for (i = 0; i < NCASES; i++) {
		fill_tag(cases[i].text,
			 cases[i].tag_of >= 0 ? numbers[cases[i].tag_of] : 0,
			 text, sizeof(text));
		o.in_fd = testutil_fd(text);
		snprintf(what, sizeof(what), "deliver %s", cases[i].what);
		check_int(what, ticket_deliver(q, &o, &d, &error), TICKET_OK);
		close(o.in_fd);
		numbers[i] = d.ticket;
		snprintf(what, sizeof(what), "%s: outcome", cases[i].what);
		check_int(what, d.outcome, cases[i].outcome);
		snprintf(what, sizeof(what), "%s: ticket", cases[i].what);
		if (cases[i].on == ON_NEW)
			check_true(what, d.new_ticket && d.ticket != 0);
		else if (cases[i].on == ON_NONE)
			check_true(what, d.ticket == 0);
		else
			check_true(what,
				   d.ticket != 0 &&
					   d.ticket == numbers[cases[i].on]);
		snprintf(what, sizeof(what), "%s: how", cases[i].what);
		check_str(what, d.how, cases[i].how);
		ticket_delivery_done(&d);
		usleep(20000); /* the replay order is the files' time */
	}
}

/* Our reply on B and a close note on C: they are replayed from the
 * Maildir by their signed headers. */
static void reply_and_close(struct ticket_queue *q)
{
	struct ticket_reply_result res;
	const char *error = NULL;

	check_int("reply to B",
		  ticket_reply_send(q, numbers[2], "Here is toner.",
				    &plain_reply, &res, &error),
		  TICKET_OK);
	check_int("reply to B: sent", res.outcome, TICKET_REPLY_DONE);
	ticket_reply_result_free(&res);
	usleep(20000);
	check_int("close C",
		  ticket_reply_set_status(q, numbers[8], "close", "tester",
					  &res, &error),
		  TICKET_OK);
	check_int("close C: noted", res.outcome, TICKET_REPLY_DONE);
	ticket_reply_result_free(&res);
}

/* The replay is oldest first by file time: the test's files must not
 * tie, or the order (and so the ticket numbers) would be the names'. */
static void check_order(void)
{
	struct ticket_maildir_entry *list = NULL;
	const char *error = NULL;
	size_t i, n = 0;
	int ties = 0;

	check_int("list the Maildir",
		  ticket_maildir_list(dir, &list, &n, &error), 0);
	check_int("every stored message in the Maildir", (long long)n, STORED);
	for (i = 1; i < n; i++)
		ties += list[i].mtime.tv_sec == list[i - 1].mtime.tv_sec &&
			list[i].mtime.tv_nsec == list[i - 1].mtime.tv_nsec;
	check_int("file times do not tie", ties, 0);
	ticket_maildir_list_free(list, n);
}

static int claim(struct ticket_queue *q, const char *consumer)
{
	struct ticket_store_offer o = {consumer, time(NULL), 300};
	const char *error = NULL;
	cJSON *obj = NULL;
	int r = ticket_json_next(q->store, &o, &obj, &error);

	cJSON_Delete(obj);
	return r;
}

static void db_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static int exists(const char *name)
{
	char path[4200];

	db_path(name, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* A file in tmp/ aged by age seconds. */
static void tmp_file(const char *name, time_t age)
{
	struct timespec ts[2];
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tmp/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("From: x@y.test\n\nkilled delivery\n", f);
		fclose(f);
	}
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, path, ts, 0);
}

/* Remove the file in new/ holding needle: 0, or -1 */
static int remove_new_file(const char *needle)
{
	char path[4200], buf[4096];
	struct dirent *e;
	size_t n;
	int r = -1;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "%s/new", dir);
	if ((d = opendir(path)) == NULL)
		return -1;
	while (r < 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/new/%s", dir, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		if (strstr(buf, needle) != NULL)
			r = unlink(path);
	}
	closedir(d);
	return r;
}

/* The queue stays usable after a rebuild: a delivery on it with an
 * attachment saves the file where its index row says. */
static void check_attachment_after(struct ticket_queue *q)
{
	static const char mail[] =
		"From: gina@customer.test\nTo: help@tickets.test\n"
		"Subject: Scan\nMessage-ID: <g1@customer.test>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"yy\"\n\n"
		"--yy\nContent-Type: text/plain\n\nScan attached.\n"
		"--yy\nContent-Type: application/octet-stream\n"
		"Content-Disposition: attachment; filename=\"scan.bin\"\n"
		"Content-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQK\n"
		"--yy--\n";
	struct ticket_reindex_tally t;
	const char *error = NULL, *rel = NULL;
	char path[4200];
	cJSON *obj = NULL, *att;
	uint64_t n = testutil_deliver(q, mail);

	check_true("after a rebuild: a new ticket", n != 0);
	if (ticket_json_ticket(q->store, n, 1, &obj, &error) == 1) {
		att = cJSON_GetArrayItem(
			cJSON_GetObjectItem(
				cJSON_GetArrayItem(
					cJSON_GetObjectItem(obj, "thread"), 0),
				"attachments"),
			0);
		rel = cJSON_GetStringValue(cJSON_GetObjectItem(att, "path"));
	}
	check_true("after a rebuild: the attachment has a path", rel != NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, rel ? rel : "-");
	check_true("after a rebuild: the attachment is where its row says",
		   access(path, F_OK) == 0);
	cJSON_Delete(obj);
	/* out again: a rebuild without that message */
	check_int("remove it from new/", remove_new_file("<g1@customer.test>"),
		  0);
	check_int("rebuild without it", rebuild(q, &t, &error), TICKET_OK);
	check_tally("rebuild without it", &t, STORED, NTICKETS, 1, 0, 0);
}

/* With the old index there: the same tickets, the claims kept. */
static void test_with_old_index(struct ticket_queue *q,
				const struct state *before)
{
	struct ticket_reindex_tally t;
	struct state claimed, after;
	const char *error = NULL;
	char want[4200];

	check_int("claim one", claim(q, "agent"), 1);
	check_int("claim two", claim(q, "agent"), 1);
	take_state(q, &claimed);
	check_int("two claimed", before->pending - claimed.pending, 2);
	tmp_file("old", 40 * 3600);
	tmp_file("fresh", 60);
	check_int("rebuild", rebuild(q, &t, &error), TICKET_OK);
	check_tally("rebuild", &t, STORED, NTICKETS, 1, 0, 0);
	check_tickets(q, "rebuild", NTICKETS);
	take_state(q, &after);
	check_same("rebuild", &after, before);
	check_str("rebuild: claims carried over", after.events, claimed.events);
	check_int("rebuild: as many pending", after.pending, claimed.pending);
	check_int("rebuild: the next one is not claimed twice",
		  claim(q, "agent"), 1);
	check_int("tmp/: the 40 h old file removed, the fresh one kept",
		  testutil_count(dir, "tmp"), 1);
	snprintf(want, sizeof(want), "%s/tmp/fresh", dir);
	check_true("tmp/: the fresh one", access(want, F_OK) == 0);
	unlink(want);
	check_true("no tickets.db.reindex left", !exists("tickets.db.reindex"));
	check_true("no files.reindex left", !exists("files.reindex"));
	check_int("files/: the attachment's ticket",
		  testutil_count(dir, "files"), 1);
	db_path("files", want, sizeof(want));
	check_str("attachments go to files/ again", q->files_root, want);
	check_attachment_after(q);
	state_free(&claimed);
	state_free(&after);
}

/* Without an old index: the same tickets, every event handled. */
static void test_without_index(struct ticket_queue *q,
			       const struct state *before)
{
	struct ticket_reindex_tally t;
	struct state after, again;
	const char *error = NULL;
	char path[4200];

	ticket_store_close(&q->store);
	db_path(TICKET_DB_NAME, path, sizeof(path));
	check_int("delete tickets.db", unlink(path), 0);
	db_path(TICKET_DB_NAME "-journal", path, sizeof(path));
	unlink(path);
	check_int("rebuild from nothing", rebuild(q, &t, &error), TICKET_OK);
	check_tally("from nothing", &t, STORED, NTICKETS, 1, 0, 0);
	check_tickets(q, "from nothing", NTICKETS);
	take_state(q, &after);
	check_same("from nothing", &after, before);
	check_int("from nothing: nothing pending", after.pending, 0);
	check_true("from nothing: claimed by reindex",
		   strstr(after.events, ":reindex ") != NULL &&
			   strstr(after.events, ":agent ") == NULL);
	check_int("from nothing: no event to claim", claim(q, "agent"), 0);

	check_int("rebuild again", rebuild(q, &t, &error), TICKET_OK);
	check_tally("again", &t, STORED, NTICKETS, 1, 0, 0);
	check_tickets(q, "again", NTICKETS);
	take_state(q, &again);
	check_same("again", &again, before);
	check_str("again: the same events", again.events, after.events);
	state_free(&after);
	state_free(&again);
}

/* --missing beside an open index: only what the index lacks. */
static void test_missing(struct ticket_queue *q, const struct state *before)
{
	struct ticket_reindex_tally t;
	struct state after;
	const char *error = NULL;
	char path[4200];
	FILE *f;

	check_int("missing: nothing", ticket_reindex(q, 1, &t, &error),
		  TICKET_OK);
	check_tally("missing: nothing", &t, 0, 0, 0, STORED, 0);
	take_state(q, &after);
	check_same("missing: nothing", &after, before);
	state_free(&after);
	snprintf(path, sizeof(path), "%s/cur/handmade:2,S", dir);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("From: frank@customer.test\nSubject: by hand\n"
		      "Message-ID: <f1@customer.test>\n\nx\n",
		      f);
		fclose(f);
	}
	check_int("missing: one", ticket_reindex(q, 1, &t, &error), TICKET_OK);
	check_tally("missing: one", &t, 1, 1, 0, STORED, 0);
	check_int("rebuild with it", rebuild(q, &t, &error), TICKET_OK);
	check_tally("rebuild with it", &t, STORED + 1, NTICKETS + 1, 1, 0, 0);
	check_tickets(q, "rebuild with it", NTICKETS + 1);
}

/* A run that fails leaves the old index and files/ in place. */
static void test_errors(struct ticket_queue *q, const struct state *before)
{
	struct ticket_reindex_tally t;
	struct state after;
	const char *error = NULL;
	char path[4200], away[4200];

	/* the new index cannot be made */
	db_path(TICKET_DB_NAME ".reindex", path, sizeof(path));
	check_int("a directory in the new index's place", mkdir(path, 0700), 0);
	error = NULL;
	check_int("no new index: needs an admin", rebuild(q, &t, &error),
		  TICKET_ERR_QUEUE);
	check_true("no new index: says why", error != NULL);
	rmdir(path);
	check_tickets(q, "no new index", NTICKETS);
	take_state(q, &after);
	check_same("no new index", &after, before);
	state_free(&after);
	check_int("no new index: files/ kept", testutil_count(dir, "files"), 1);

	/* the Maildir cannot be listed */
	db_path("new", path, sizeof(path));
	db_path("new.away", away, sizeof(away));
	check_int("move new/ away", rename(path, away), 0);
	error = NULL;
	check_int("no new/: needs an admin", rebuild(q, &t, &error),
		  TICKET_ERR_QUEUE);
	check_true("no new/: says which", error && strstr(error, "/new"));
	check_tickets(q, "no new/", NTICKETS);
	take_state(q, &after);
	check_same("no new/", &after, before);
	state_free(&after);
	check_int("no new/: files/ kept", testutil_count(dir, "files"), 1);
	error = NULL;
	check_int("no new/, missing: needs an admin",
		  ticket_reindex(q, 1, &t, &error), TICKET_ERR_QUEUE);
	check_true("no new/, missing: says which",
		   error && strstr(error, "/new"));
	check_int("move new/ back", rename(away, path), 0);
}

/* Mail delivered in a burst (fetchmail) can share a file time: the
 * replay must still put replies on the ticket of what they answer. */
static void test_same_time(void)
{
	char tdir[] = "/tmp/test_ticket_reindex_tie.XXXXXX", text[512];
	struct ticket_maildir_entry *list = NULL;
	struct ticket_reindex_tally t;
	struct ticket_queue *q;
	const char *error = NULL;
	uint64_t first, got;
	cJSON *obj;
	size_t i, n = 0;
	int on_first = 0, distinct = 0;

	if (mkdtemp(tdir) == NULL || (q = testutil_queue(tdir, "")) == NULL) {
		check_true("tie: queue", 0);
		return;
	}
	first = testutil_deliver(
		q, "From: alice@customer.test\n"
		   "Subject: Printer jams\n"
		   "Message-ID: <t0@customer.test>\n\nIt jams.\n");
	for (i = 1; i <= 8; i++) {
		snprintf(text, sizeof(text),
			 "From: alice@customer.test\nSubject: Re: Printer "
			 "jams\nMessage-ID: <t%zu@customer.test>\n"
			 "References: <t0@customer.test>\n\nStill %zu.\n",
			 i, i);
		got = testutil_deliver(q, text);
		on_first += got == first;
	}
	check_int("tie: the replies on the first ticket", on_first, 8);
	/* delivered back to back: the kernel's coarse file times would tie,
	 * the stamped ones do not */
	ticket_maildir_list(tdir, &list, &n, &error);
	check_int("tie: nine files", (long long)n, 9);
	for (i = 1; i < n; i++)
		distinct += list[i].mtime.tv_sec != list[i - 1].mtime.tv_sec ||
			    list[i].mtime.tv_nsec != list[i - 1].mtime.tv_nsec;
	check_int("tie: no two file times alike", distinct, (int)n - 1);
	ticket_maildir_list_free(list, n);
	ticket_store_close(&q->store);
	check_int("tie: exclusive",
		  ticket_queue_lock(q, TICKET_LOCK_EXCLUSIVE, &error),
		  TICKET_OK);
	check_int("tie: rebuild", ticket_reindex(q, 0, &t, &error), TICKET_OK);
	check_int("tie: still one ticket", (long long)t.tickets, 1);
	obj = NULL;
	check_int("tie: the first ticket",
		  ticket_queue_store(q, &error) == TICKET_OK
			  ? ticket_json_ticket(q->store, first, 0, &obj, &error)
			  : -1,
		  1);
	check_int("tie: all nine on it",
		  obj ? (long long)cJSON_GetNumberValue(
				cJSON_GetObjectItem(obj, "messages"))
		      : -1,
		  9);
	cJSON_Delete(obj);
	ticket_queue_close(&q);
	testutil_rm_tree(tdir);
}

int main(void)
{
	struct ticket_queue *q;
	struct state before;

	if (mkdtemp(dir) == NULL ||
	    (q = testutil_queue(
		     dir, "sendmail = /bin/dd of=/dev/null status=none\n")) ==
		    NULL)
		return 1;
	deliver_cases(q);
	reply_and_close(q);
	check_order();
	check_tickets(q, "delivered", NTICKETS);
	take_state(q, &before);
	check_int("delivered: events pending", before.pending, 8);
	test_with_old_index(q, &before);
	test_without_index(q, &before);
	test_errors(q, &before);
	test_missing(q, &before);
	state_free(&before);
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
	test_same_time();
	g_mime_shutdown();
	return test_done("test_ticket_reindex");
}
