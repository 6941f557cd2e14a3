/* test_ticket_store.c - tickets.db: every query, and its error classes */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testlib.h"
#include "ticket/ticket_mail.h"
#include "ticket/ticket_store.h"
#include "ticket_testutil.h"

static char dir[] = "/tmp/test_ticket_store.XXXXXX";
static char path[128];

static void add_msg(struct ticket_store *st, uint64_t ticket, const char *dkey,
		    const char *mid, const char *kind, time_t arrived)
{
	struct ticket_store_msg m;
	const char *error = NULL;

	memset(&m, 0, sizeof(m));
	m.ticket = ticket;
	m.dkey = dkey;
	m.file = "new/x";
	m.message_id = mid;
	m.kind = kind;
	m.flags = strcmp(kind, "customer") ? "no-auto-answer" : "";
	m.from_addr = "alice@customer.test";
	m.reply_to =
		strcmp(dkey, "k2") == 0 ? "alice-reply@customer.test" : NULL;
	m.subject = dkey;
	m.date = arrived;
	m.arrived = arrived;
	m.text = "text";
	check_int(dkey, ticket_store_add_message(st, &m, &error), 0);
	check_true("message id set", m.id > 0);
}

/* Opening: what is transient, what needs an admin. */
static void test_open(void)
{
	struct ticket_store *st = NULL;
	const char *error = NULL;
	char other[160];
	sqlite3 *db;

	snprintf(other, sizeof(other), "%s/none/tickets.db", dir);
	check_int("no directory: transient",
		  ticket_store_open(other, 0, 1, &st, &error), TICKET_ERR_TEMP);
	snprintf(other, sizeof(other), "%s/empty.db", dir);
	check_int("create=0 on no file: transient",
		  ticket_store_open(other, 0, 0, &st, &error), TICKET_ERR_TEMP);
	fclose(fopen(other, "w"));
	check_int("create=0 on an empty file: needs reindex",
		  ticket_store_open(other, 0, 0, &st, &error),
		  TICKET_ERR_QUEUE);
	check_true("says reindex", error && strstr(error, "reindex"));
	snprintf(other, sizeof(other), "%s/newer.db", dir);
	check_int("newer", sqlite3_open(other, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	check_int("newer schema: refused",
		  ticket_store_open(other, 0, 1, &st, &error),
		  TICKET_ERR_QUEUE);
	check_true("says newer", error && strstr(error, "newer"));
	check_int("create", ticket_store_open(path, 0, 1, &st, &error),
		  TICKET_OK);
	ticket_store_close(&st);
	check_true("closed is NULL", st == NULL);
	check_int("reopen without create",
		  ticket_store_open(path, 0, 0, &st, &error), TICKET_OK);
	ticket_store_close(&st);
}

static void fill(struct ticket_store *st)
{
	const char *error = NULL;

	check_int("begin", ticket_store_begin(st, &error), 0);
	check_int("ticket 1",
		  ticket_store_create_ticket(st, 111111, "Printer",
					     "alice@customer.test", 1000, "",
					     &error),
		  0);
	check_int("ticket 2",
		  ticket_store_create_ticket(st, 222222, "Other",
					     "bob@customer.test", 2000,
					     "unparsed", &error),
		  0);
	check_int(
		"same number twice fails",
		ticket_store_create_ticket(st, 111111, "x", "y", 1, "", &error),
		-1);
	check_int("constraint: not transient", ticket_store_temp_failure(st),
		  0);
	check_int("participant",
		  ticket_store_add_participant(st, 111111,
					       "alice@customer.test", &error),
		  0);
	check_int("participant again: ignored",
		  ticket_store_add_participant(st, 111111,
					       "alice@customer.test", &error),
		  0);
	check_int("participant 2",
		  ticket_store_add_participant(st, 111111, "bob@customer.test",
					       &error),
		  0);
	add_msg(st, 111111, "k1", "m1@customer.test", "customer", 1000);
	add_msg(st, 111111, "k2", "m2@customer.test", "customer", 1100);
	add_msg(st, 111111, "k3", "m3@customer.test", "auto-reply", 1200);
	add_msg(st, 111111, "k4", "n1@tickets.test", "note", 1300);
	add_msg(st, 0, "k5", "m1@customer.test", "auto-reply", 1400);
	check_int("commit", ticket_store_commit(st, &error), 0);
}

static int count_text(void *ctx, const char *s, const char **error_r)
{
	struct ticket_strv *sv = ctx;

	(void)error_r;
	return ticket_strv_add(sv, s, 100);
}

static int stop_text(void *ctx, const char *s, const char **error_r)
{
	(void)ctx;
	(void)s;
	*error_r = "stopped";
	return -1;
}

static int keep_entry(void *ctx, const struct ticket_store_entry *e,
		      const char **error_r)
{
	struct ticket_strv *sv = ctx;

	(void)error_r;
	return ticket_strv_add(sv, e->subject, 100);
}

static int keep_ticket(void *ctx, const struct ticket_store_ticket *t,
		       const char **error_r)
{
	struct ticket_strv *sv = ctx;
	char buf[160];

	(void)error_r;
	snprintf(buf, sizeof(buf), "%llu %s %s %lld [%s]",
		 (unsigned long long)t->id, t->status, t->subject,
		 (long long)t->messages, t->flags);
	return ticket_strv_add(sv, buf, 100);
}

static int keep_event(void *ctx, const struct ticket_store_event *ev,
		      const char **error_r)
{
	struct ticket_strv *sv = ctx;
	char buf[160];

	(void)error_r;
	snprintf(buf, sizeof(buf), "%s %llu %s %d", ev->type,
		 (unsigned long long)ev->ticket, ev->message_id,
		 ev->auto_answer);
	return ticket_strv_add(sv, buf, 100);
}

static int fail_event(void *ctx, const struct ticket_store_event *ev,
		      const char **error_r)
{
	(void)ctx;
	(void)ev;
	*error_r = "cannot";
	return -1;
}

/* got: the list joined by '|' */
static void check_list(const char *what, struct ticket_strv *sv,
		       const char *want)
{
	char got[1024] = "";
	size_t i;

	for (i = 0; i < sv->n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
			 i ? "|" : "", sv->v[i]);
	check_str(what, got, want);
	ticket_strv_free(sv);
}

static void test_lookups(struct ticket_store *st)
{
	const char *error = NULL;
	uint64_t t = 0;

	check_int("has k1", ticket_store_has_dkey(st, "k1", &error), 1);
	check_int("has k9", ticket_store_has_dkey(st, "k9", &error), 0);
	check_int("exists", ticket_store_ticket_exists(st, 111111, &error), 1);
	check_int("not exists", ticket_store_ticket_exists(st, 333333, &error),
		  0);
	check_int("participant",
		  ticket_store_is_participant(st, 111111, "bob@customer.test",
					      &error),
		  1);
	check_int("not participant",
		  ticket_store_is_participant(st, 222222, "bob@customer.test",
					      &error),
		  0);
	check_int("by mid: filed only",
		  ticket_store_ticket_by_message_id(st, "m1@customer.test", &t,
						    &error),
		  1);
	check_int("by mid: the ticket", (long long)t, 111111);
	check_int("by mid: none",
		  ticket_store_ticket_by_message_id(st, "x@y", &t, &error), 0);
}

static void test_reads(struct ticket_store *st)
{
	struct ticket_strv sv = {NULL, 0};
	const char *error = NULL;

	check_int("participants",
		  ticket_store_each_participant(st, 111111, count_text, &sv,
						&error),
		  0);
	check_list("participants in order", &sv,
		   "alice@customer.test|bob@customer.test");
	check_int("references",
		  ticket_store_each_reference(st, 111111, count_text, &sv,
					      &error),
		  0);
	check_list("references: no notes, oldest first", &sv,
		   "m1@customer.test|m2@customer.test|m3@customer.test");
	check_int(
		"thread",
		ticket_store_each_message(st, 111111, keep_entry, &sv, &error),
		0);
	check_list("thread oldest first", &sv, "k1|k2|k3|k4");
	check_int("newest customer",
		  ticket_store_newest_message(st, 111111,
					      TICKET_NEWEST_CUSTOMER,
					      keep_entry, &sv, &error),
		  1);
	check_list("newest customer is k2", &sv, "k2");
	check_int("newest inbound",
		  ticket_store_newest_message(st, 111111, TICKET_NEWEST_INBOUND,
					      keep_entry, &sv, &error),
		  1);
	check_list("newest inbound is k3 (not the note)", &sv, "k3");
	check_int("newest on none",
		  ticket_store_newest_message(st, 999999,
					      TICKET_NEWEST_CUSTOMER,
					      keep_entry, &sv, &error),
		  0);
	check_int("get",
		  ticket_store_get_ticket(st, 111111, keep_ticket, &sv, &error),
		  1);
	check_list("get: the row", &sv, "111111 open Printer 4 []");
	check_int("get none",
		  ticket_store_get_ticket(st, 1, keep_ticket, &sv, &error), 0);
	check_int("list",
		  ticket_store_each_ticket(st, NULL, keep_ticket, &sv, &error),
		  0);
	check_list("list: newest updated first", &sv,
		   "222222 open Other 0 [unparsed]|111111 open Printer 4 []");
	check_int("callback stops the walk",
		  ticket_store_each_participant(st, 111111, stop_text, NULL,
						&error),
		  -1);
	check_str("with its error", error, "stopped");
}

static void test_update(struct ticket_store *st)
{
	struct ticket_strv sv = {NULL, 0};
	const char *error = NULL;

	check_int("update",
		  ticket_store_update(st, 111111, "answered", 5000, "bounced",
				      &error),
		  0);
	check_int("flag again",
		  ticket_store_update(st, 111111, NULL, 10, "bounced", &error),
		  0);
	check_int("filter",
		  ticket_store_each_ticket(st, "answered", keep_ticket, &sv,
					   &error),
		  0);
	check_list("status set, flag once, updated only forward", &sv,
		   "111111 answered Printer 4 [bounced]");
}

static void test_events(struct ticket_store *st)
{
	const struct ticket_store_offer oc = {"c", 1000, 300};
	const struct ticket_store_offer od = {"d", 1000, 300};
	struct ticket_strv sv = {NULL, 0};
	const char *error = NULL;
	char old[160];

	check_int("event 1",
		  ticket_store_add_event(st, "ticket", 111111, 1, 1000, 1,
					 &error),
		  0);
	check_int("event 2",
		  ticket_store_add_event(st, "message", 111111, 2, 1100, 0,
					 &error),
		  0);
	check_int("event 3",
		  ticket_store_add_event(st, "bounce", 111111, 3, 1200, 0,
					 &error),
		  0);
	check_int("a failing reader",
		  ticket_store_claim_event(st, &oc, fail_event, NULL, &error),
		  -1);
	check_int("claim",
		  ticket_store_claim_event(st, &oc, keep_event, &sv, &error),
		  1);
	check_list("the oldest, still: a failed read stays unclaimed", &sv,
		   "ticket 111111 m1@customer.test 1");
	check_int("claim 2",
		  ticket_store_claim_event(st, &oc, keep_event, &sv, &error),
		  1);
	check_list("then the next", &sv, "message 111111 m2@customer.test 0");
	/* a second index with the same messages: claims carry over */
	snprintf(old, sizeof(old), "%s/tickets.db", dir);
	{
		struct ticket_store *st2 = NULL;
		char p2[160];

		snprintf(p2, sizeof(p2), "%s/second.db", dir);
		check_int("second", ticket_store_open(p2, 0, 1, &st2, &error),
			  TICKET_OK);
		add_msg(st2, 111111, "k1", "m1@customer.test", "customer",
			1000);
		add_msg(st2, 111111, "k2", "m2@customer.test", "customer",
			1100);
		add_msg(st2, 111111, "k3", "m3@customer.test", "auto-reply",
			1200);
		ticket_store_add_event(st2, "ticket", 111111, 1, 1000, 1,
				       &error);
		ticket_store_add_event(st2, "message", 111111, 2, 1100, 0,
				       &error);
		ticket_store_add_event(st2, "bounce", 111111, 3, 1200, 0,
				       &error);
		check_int("carry", ticket_store_carry_claims(st2, old, &error),
			  0);
		check_int("carried: only the third is left",
			  ticket_store_claim_event(st2, &od, keep_event, &sv,
						   &error),
			  1);
		check_list("the third", &sv,
			   "bounce 111111 m3@customer.test 0");
		check_int("nothing left",
			  ticket_store_claim_event(st2, &od, keep_event, &sv,
						   &error),
			  0);
		check_int("carry from a quote path",
			  ticket_store_carry_claims(st2, "/tmp/it's", &error),
			  -1);
		check_int("carry from nowhere",
			  ticket_store_carry_claims(st2, "/nonexistent/x.db",
						    &error),
			  -1);
		ticket_store_add_event(st2, "message", 111111, 2, 1500, 0,
				       &error);
		check_int("claim all",
			  ticket_store_claim_all(st2, "reindex", &error), 0);
		check_int("none after claim all",
			  ticket_store_claim_event(st2, &od, keep_event, &sv,
						   &error),
			  0);
		check_int("unsynced", ticket_store_unsynced(st2, &error), 0);
		ticket_store_close(&st2);
	}
}

/* What a claim handed out: "id claim-length lease_until", the claim. */
struct got_claim {
	char line[64];
	char claim[TICKET_CLAIM_LEN + 1];
};

static int keep_claim(void *ctx, const struct ticket_store_event *ev,
		      const char **error_r)
{
	struct got_claim *g = ctx;

	(void)error_r;
	snprintf(g->line, sizeof(g->line), "%lld %zu %lld", (long long)ev->id,
		 strlen(ev->claim), (long long)ev->lease_until);
	snprintf(g->claim, sizeof(g->claim), "%s", ev->claim);
	return 0;
}

/* Claim as consumer at now with lease: got's line, or "none". */
static const char *offer(struct ticket_store *st, const char *consumer,
			 time_t now, int lease, struct got_claim *g)
{
	const struct ticket_store_offer o = {consumer, now, lease};
	const char *error = NULL;

	memset(g, 0, sizeof(*g));
	if (ticket_store_claim_event(st, &o, keep_claim, g, &error) != 1)
		snprintf(g->line, sizeof(g->line), "none");
	return g->line;
}

/* Ack: "outcome claim by acked lease_until" ("-" for an empty claim). */
static const char *ack(struct ticket_store *st, int64_t event,
		       const char *claim, const char *consumer, time_t now)
{
	static const char *const names[] = {"done", "already", "lost",
					    "unknown"};
	static char buf[160];
	struct ticket_store_ack a;
	const char *error = NULL;

	if (ticket_store_ack_event(st, event, claim, consumer, now, &a,
				   &error) < 0)
		return error;
	snprintf(buf, sizeof(buf), "%s %s %s %lld %lld", names[a.outcome],
		 a.claim[0] ? (strcmp(a.claim, claim ? claim : "") ? "other"
								   : "mine")
			    : "-",
		 a.by[0] ? a.by : "-", (long long)a.acked,
		 (long long)a.lease_until);
	return buf;
}

/* A store with messages k1..k3 and an event on each. */
static struct ticket_store *three_events(const char *name)
{
	struct ticket_store *st = NULL;
	const char *error = NULL;
	char p[160];
	int i;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (ticket_store_open(p, 0, 1, &st, &error) != TICKET_OK)
		return NULL;
	add_msg(st, 111111, "k1", "m1@customer.test", "customer", 1000);
	add_msg(st, 111111, "k2", "m2@customer.test", "customer", 1100);
	add_msg(st, 111111, "k3", "m3@customer.test", "customer", 1200);
	for (i = 1; i <= 3; i++)
		ticket_store_add_event(st, "message", 111111, i, 1000, 1,
				       &error);
	return st;
}

/* A lease holds its event for its seconds; then it is offered again. */
static void test_leases(void)
{
	struct ticket_store *st = three_events("lease.db");
	struct got_claim a, b, c;
	long long until = 0;
	time_t before;

	check_true("lease store", st != NULL);
	if (st == NULL)
		return;
	check_str("a claims the oldest", offer(st, "a", 1000, 10, &a),
		  "1 16 1010");
	check_str("its last second: the next one", offer(st, "b", 1010, 10, &b),
		  "2 16 1020");
	check_str("run out: offered again", offer(st, "b", 1011, 10, &c),
		  "1 16 1021");
	check_true("with a new claim", strcmp(a.claim, c.claim) != 0);
	check_str("then the third", offer(st, "c", 1011, 10, &a), "3 16 1021");
	check_str("nothing while all are leased", offer(st, "c", 1020, 10, &a),
		  "none");
	check_str("at most once: no lease", offer(st, "m", 1021, 0, &a),
		  "2 16 0");
	check_str("2 never again; 1 ran out", offer(st, "m", 9999, 10, &a),
		  "1 16 10009");
	check_str("ack it", ack(st, 1, a.claim, NULL, 9999),
		  "done mine m 9999 10009");
	check_str("acked at once", ack(st, 2, NULL, NULL, 9999),
		  "already other m 1021 0");
	check_str("the third, run out: offered", offer(st, "c", 9999, 10, &a),
		  "3 16 10009");
	check_str("all acked but one leased", offer(st, "c", 9999, 10, &b),
		  "none");
	before = time(NULL);
	offer(st, "c", 0, 10, &a); /* now 0: the clock */
	check_true("now 0: a lease from the clock",
		   sscanf(a.line, "3 16 %lld", &until) == 1 &&
			   until >= before + 10 && until <= time(NULL) + 10);
	ticket_store_close(&st);
}

/* A rebuilt index (same messages) keeps ack.db's consumer state. */
static void test_carry_acks(void)
{
	struct ticket_store *st = three_events("carry2.db");
	const char *error = NULL;
	struct got_claim g;
	char old[160];

	check_true("carry2 store", st != NULL);
	if (st == NULL)
		return;
	snprintf(old, sizeof(old), "%s/ack.db", dir);
	check_int("carry schema 2", ticket_store_carry_claims(st, old, &error),
		  0);
	check_str("carried: b's ack", ack(st, 1, NULL, NULL, 6000),
		  "already other b 1013 1021");
	check_str("carried: admin's ack", ack(st, 2, NULL, NULL, 6000),
		  "already - admin 1016 0");
	check_str("carried: c's late ack", ack(st, 3, NULL, NULL, 6000),
		  "already other c 5000 1026");
	check_str("carried: nothing to offer", offer(st, "c", 9999, 10, &g),
		  "none");
	ticket_store_close(&st);
}

/* Ack: idempotent, refused for a claim whose lease another took. */
static void test_acks(void)
{
	struct ticket_store *st = three_events("ack.db");
	struct got_claim a, b;
	char a1[TICKET_CLAIM_LEN + 1];

	check_true("ack store", st != NULL);
	if (st == NULL)
		return;
	check_str("a claims", offer(st, "a", 1000, 10, &a), "1 16 1010");
	snprintf(a1, sizeof(a1), "%s", a.claim);
	check_str("b takes it over", offer(st, "b", 1011, 10, &b), "1 16 1021");
	check_str("a's stale claim: refused", ack(st, 1, a1, "a", 1012),
		  "lost other b 0 1021");
	check_str("b acks", ack(st, 1, b.claim, NULL, 1013),
		  "done mine b 1013 1021");
	check_str("b again: idempotent", ack(st, 1, b.claim, NULL, 1014),
		  "already mine b 1013 1021");
	check_str("without a claim: idempotent", ack(st, 1, NULL, "x", 1014),
		  "already other b 1013 1021");
	check_str("a, after b acked: still refused", ack(st, 1, a1, "a", 1015),
		  "lost other b 1013 1021");
	check_str("a claim of an unclaimed event: refused",
		  ack(st, 2, a1, "a", 1015), "lost - - 0 0");
	check_str("no claim: acks an unclaimed event",
		  ack(st, 2, NULL, "admin", 1016), "done - admin 1016 0");
	check_str("run out but not taken over: still mine",
		  offer(st, "c", 1016, 10, &a), "3 16 1026");
	check_str("acked late", ack(st, 3, a.claim, NULL, 5000),
		  "done mine c 5000 1026");
	check_str("unknown event", ack(st, 99, NULL, NULL, 5000),
		  "unknown - - 0 0");
	check_str("nothing offered after all acks",
		  offer(st, "c", 9999, 10, &a), "none");
	test_carry_acks();
	ticket_store_close(&st);
}

/* Schema 1 as it was: claimed meant consumed (only the parts the
 * claim, the ack and the carry-over read). */
static const char *const schema1_sql =
	"CREATE TABLE messages (id INTEGER PRIMARY KEY, ticket INTEGER,"
	" dkey TEXT NOT NULL UNIQUE, message_id TEXT, kind TEXT NOT NULL,"
	" from_addr TEXT, subject TEXT NOT NULL);"
	"CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT NOT NULL,"
	" ticket INTEGER NOT NULL, message INTEGER NOT NULL,"
	" auto_answer INTEGER NOT NULL, created INTEGER NOT NULL,"
	" claimed INTEGER, claimed_by TEXT);"
	"CREATE INDEX events_unclaimed ON events(claimed, id);"
	"INSERT INTO messages VALUES (1, 111111, 'k1', 'm1@x', 'customer',"
	" 'a@x', 'one'), (2, 111111, 'k2', 'm2@x', 'customer', 'a@x', 'two');"
	"INSERT INTO events VALUES (1, 'message', 111111, 1, 1, 900, 950,"
	" 'old'), (2, 'message', 111111, 2, 1, 960, NULL, NULL);"
	"PRAGMA user_version = 1;";

/* One sqlite3 answer (first column of the first row, "|"-joined over
 * rows) from the database file at p. */
static void sql_text(const char *p, const char *sql, char *buf, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (sqlite3_open(p, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK)
		while (sqlite3_step(stmt) == SQLITE_ROW && n < size)
			n += (size_t)snprintf(
				buf + n, size - n, "%s%s", n ? "|" : "",
				(const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static const char *const columns_sql =
	"SELECT name || ' ' || type FROM pragma_table_info('events')";

/* A schema-1 index: carried over from, and upgraded in place. */
static void test_migration(void)
{
	struct ticket_store *st = NULL, *fresh = NULL;
	const char *error = NULL;
	char p1[160], p2[160], want[512], got[512];
	struct got_claim g;
	sqlite3 *db = NULL;

	snprintf(p1, sizeof(p1), "%s/schema1.db", dir);
	check_int("schema 1 made", sqlite3_open(p1, &db), SQLITE_OK);
	check_int("schema 1 sql",
		  sqlite3_exec(db, schema1_sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	fresh = three_events("fresh.db");
	check_true("fresh store", fresh != NULL);
	if (fresh == NULL)
		return;
	check_int("carry from schema 1",
		  ticket_store_carry_claims(fresh, p1, &error), 0);
	check_str("schema 1's claim counts as acked",
		  ack(fresh, 1, NULL, NULL, 2000), "already - old 950 0");
	check_str("the unclaimed one is offered",
		  offer(fresh, "n", 2000, 10, &g), "2 16 2010");
	ticket_store_close(&fresh);
	check_int("upgraded on open", ticket_store_open(p1, 0, 1, &st, &error),
		  TICKET_OK);
	sql_text(p1, "PRAGMA user_version", got, sizeof(got));
	check_str("now schema 2", got, "2");
	sql_text(p1, columns_sql, got, sizeof(got));
	snprintf(p2, sizeof(p2), "%s/fresh.db", dir);
	sql_text(p2, columns_sql, want, sizeof(want));
	check_str("the columns of a new index", got, want);
	sql_text(p1,
		 "SELECT name FROM sqlite_master WHERE tbl_name = 'events' "
		 "AND type = 'index'",
		 got, sizeof(got));
	check_str("the index for next", got, "events_pending");
	check_str("claimed under schema 1: acked, not offered again",
		  offer(st, "n", 2000, 10, &g), "2 16 2010");
	check_str("its ack", ack(st, 1, NULL, NULL, 2000),
		  "already - old 950 0");
	ticket_store_close(&st);
	check_int("reopened: nothing to upgrade",
		  ticket_store_open(p1, 0, 0, &st, &error), TICKET_OK);
	ticket_store_close(&st);
}

/* Busy is transient for every kind of call; a missing table is not. */
static void test_errors(struct ticket_store *st)
{
	const struct ticket_store_offer oc = {"c", 1000, 300};
	struct ticket_strv sv = {NULL, 0};
	const char *error = NULL;
	sqlite3 *other = NULL;
	uint64_t t;

	check_int("other", sqlite3_open(path, &other), SQLITE_OK);
	check_int("lock it",
		  sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
		  SQLITE_OK);
	check_int("busy: begin", ticket_store_begin(st, &error), -1);
	check_int("busy: begin transient", ticket_store_temp_failure(st), 1);
	check_int("busy: lookup",
		  ticket_store_ticket_by_message_id(st, "m1@customer.test", &t,
						    &error),
		  -1);
	check_int("busy: lookup transient", ticket_store_temp_failure(st), 1);
	check_int("busy: read",
		  ticket_store_each_ticket(st, NULL, keep_ticket, &sv, &error),
		  -1);
	check_int("busy: read transient", ticket_store_temp_failure(st), 1);
	check_true("busy: says why", error && strstr(error, "tickets.db"));
	check_int("busy: claim",
		  ticket_store_claim_event(st, &oc, keep_event, &sv, &error),
		  -1);
	check_int("busy: claim transient", ticket_store_temp_failure(st), 1);
	check_int("unlock, drop",
		  sqlite3_exec(other, "ROLLBACK; DROP TABLE participants", NULL,
			       NULL, NULL),
		  SQLITE_OK);
	check_int("gone: read",
		  ticket_store_each_participant(st, 111111, count_text, &sv,
						&error),
		  -1);
	check_int("gone: not transient", ticket_store_temp_failure(st), 0);
	check_int("gone: write",
		  ticket_store_add_participant(st, 1, "a@b", &error), -1);
	check_int("gone: write not transient", ticket_store_temp_failure(st),
		  0);
	ticket_strv_free(&sv);
	sqlite3_close(other);
}

int main(void)
{
	struct ticket_store *st = NULL;
	const char *error = NULL;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/tickets.db", dir);
	test_open();
	if (ticket_store_open(path, 0, 1, &st, &error) != TICKET_OK)
		return 1;
	fill(st);
	test_lookups(st);
	test_reads(st);
	test_update(st);
	test_events(st);
	test_leases();
	test_acks();
	test_migration();
	test_errors(st);
	ticket_store_close(&st);
	testutil_rm_tree(dir);
	return test_done("test_ticket_store");
}
