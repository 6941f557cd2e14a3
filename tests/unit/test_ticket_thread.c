/* test_ticket_thread.c - which ticket a message belongs to, and why */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testlib.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_id.h"
#include "ticket/ticket_store.h"
#include "ticket/ticket_thread.h"
#include "ticket_testutil.h"

#define T1 111111 /* alice's ticket, has <a1@customer.test> */
#define T2 222222 /* bob's ticket, has <b1@customer.test> */
#define GONE 333333

enum { NONE = TICKET_THREAD_NONE, OLD = TICKET_THREAD_EXISTING };
#define NEW TICKET_THREAD_NEW

/* One row: the keys (refs/dsn as blank-separated ids; "OWN1" is our
 * signed Message-ID for T1, "OWNGONE" one for a ticket that is not
 * there), the decision wanted. */
static const struct {
	const char *what;
	enum ticket_kind kind;
	int unparsed;
	uint64_t own;
	const char *mid, *refs, *dsn, *subject, *from;
	int verdict;
	uint64_t ticket;
	const char *how;
} cases[] = {
	{"new customer", TICKET_KIND_CUSTOMER, 0, 0, "n1@x.test", "", "",
	 "Printer jams", "carol@customer.test", NEW, 0, NULL},
	{"new robot: none", TICKET_KIND_AUTOREPLY, 0, 0, "n2@x.test", "", "",
	 "Out of office", "carol@customer.test", NONE, 0, NULL},
	{"In-Reply-To", TICKET_KIND_CUSTOMER, 0, 0, "n3@x.test",
	 "a1@customer.test", "", "Re: x", "carol@customer.test", OLD, T1,
	 "References"},
	{"first ref that is known wins", TICKET_KIND_CUSTOMER, 0, 0,
	 "n4@x.test", "unknown@x.test b1@customer.test a1@customer.test", "",
	 "", "carol@customer.test", OLD, T2, "References"},
	{"our own Message-ID in References", TICKET_KIND_CUSTOMER, 0, 0,
	 "n5@x.test", "unknown@x.test OWN1", "", "", "carol@customer.test", OLD,
	 T1, "our Message-ID"},
	{"our Message-ID of a missing ticket: new", TICKET_KIND_CUSTOMER, 0, 0,
	 "n6@x.test", "OWNGONE", "", "", "carol@customer.test", NEW, 0, NULL},
	{"robot replying is filed too", TICKET_KIND_AUTOREPLY, 0, 0,
	 "n7@x.test", "b1@customer.test", "", "Auto: x", "bob@customer.test",
	 OLD, T2, "References"},
	{"same Message-ID again", TICKET_KIND_CUSTOMER, 0, 0,
	 "a1@customer.test", "", "", "list copy", "list@customer.test", OLD, T1,
	 "same Message-ID"},
	{"tag from a participant", TICKET_KIND_CUSTOMER, 0, 0, "n8@x.test", "",
	 "", "Re: [#111111] x", "alice@customer.test", OLD, T1, "subject tag"},
	{"tag from a stranger: new", TICKET_KIND_CUSTOMER, 0, 0, "n9@x.test",
	 "", "", "Re: [#111111] x", "mallory@evil.test", NEW, 0, NULL},
	{"tag without From: new", TICKET_KIND_CUSTOMER, 0, 0, "n10@x.test", "",
	 "", "Re: [#111111] x", NULL, NEW, 0, NULL},
	{"tag of another's ticket: new", TICKET_KIND_CUSTOMER, 0, 0,
	 "n11@x.test", "", "", "[#222222]", "alice@customer.test", NEW, 0,
	 NULL},
	{"References beat the tag", TICKET_KIND_CUSTOMER, 0, 0, "n12@x.test",
	 "b1@customer.test", "", "[#111111]", "alice@customer.test", OLD, T2,
	 "References"},
	{"bounce by the bounced message", TICKET_KIND_BOUNCE, 0, 0,
	 "n13@x.test", "a1@customer.test", "b1@customer.test", "Undeliverable",
	 "mailer-daemon@x.test", OLD, T2, "bounced message"},
	{"bounce by its References", TICKET_KIND_BOUNCE, 0, 0, "n14@x.test",
	 "a1@customer.test", "unknown@x.test", "", "mailer-daemon@x.test", OLD,
	 T1, "References"},
	{"bounce never by tag", TICKET_KIND_BOUNCE, 0, 0, "n15@x.test", "", "",
	 "[#111111] failed", "alice@customer.test", NONE, 0, NULL},
	{"loop: none", TICKET_KIND_LOOP, 0, 0, "n16@x.test", "a1@customer.test",
	 "", "[#111111]", "alice@customer.test", NONE, 0, NULL},
	{"unparsed: never threaded", TICKET_KIND_CUSTOMER, 1, 0,
	 "a1@customer.test", "a1@customer.test", "", "[#111111]",
	 "alice@customer.test", NEW, 0, NULL},
	{"our reply", TICKET_KIND_REPLY, 0, T1, "ignored", "b1@customer.test",
	 "", "", "help@tickets.test", OLD, T1, NULL},
	{"our note", TICKET_KIND_NOTE, 0, T2, "ignored", "", "", "", NULL, OLD,
	 T2, NULL},
	{"our reply on a missing ticket", TICKET_KIND_REPLY, 0, GONE, "ignored",
	 "a1@customer.test", "", "", NULL, NONE, 0, NULL},
};

static struct ticket_store *make_store(const char *dir)
{
	struct ticket_store *st = NULL;
	struct ticket_store_msg m;
	const char *error = NULL;
	char path[256];
	int i;

	snprintf(path, sizeof(path), "%s/tickets.db", dir);
	if (ticket_store_open(path, 1, 1, &st, &error) != TICKET_OK) {
		printf("open: %s\n", error);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		uint64_t t = i ? T2 : T1;
		const char *who =
			i ? "bob@customer.test" : "alice@customer.test";

		memset(&m, 0, sizeof(m));
		m.ticket = t;
		m.dkey = i ? "k2" : "k1";
		m.file = "new/x";
		m.message_id = i ? "b1@customer.test" : "a1@customer.test";
		m.kind = "customer";
		m.flags = "";
		m.subject = "x";
		m.text = "";
		check_int("create",
			  ticket_store_create_ticket(st, t, "x", who, 1000, "",
						     &error),
			  0);
		check_int("participant",
			  ticket_store_add_participant(st, t, who, &error), 0);
		check_int("message", ticket_store_add_message(st, &m, &error),
			  0);
	}
	return st;
}

/* "a b OWN1" into a list; OWN1/OWNGONE become signed Message-IDs. */
static void split_ids(const struct ticket_config *cfg, const char *s,
		      struct ticket_strv *sv)
{
	char buf[512], mid[256], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
		if (strncmp(p, "OWN", 3) == 0) {
			ticket_id_message_id(cfg, strcmp(p, "OWN1") ? GONE : T1,
					     mid, sizeof(mid));
			p = mid;
		}
		ticket_strv_add(sv, p, 100);
	}
}

static void test_cases(const struct ticket_config *cfg, struct ticket_store *st)
{
	struct ticket_thread_decision dec;
	struct ticket_strv refs, dsn;
	const char *error;
	char what[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ticket_thread_keys k = {
			cases[i].kind,
			cases[i].unparsed,
			cases[i].own,
			cases[i].mid,
			&refs,
			&dsn,
			cases[i].subject,
			cases[i].from,
			NULL,
		};

		memset(&refs, 0, sizeof(refs));
		memset(&dsn, 0, sizeof(dsn));
		split_ids(cfg, cases[i].refs, &refs);
		split_ids(cfg, cases[i].dsn, &dsn);
		snprintf(what, sizeof(what), "%s: status", cases[i].what);
		check_int(what, ticket_thread_decide(cfg, st, &k, &dec, &error),
			  TICKET_OK);
		snprintf(what, sizeof(what), "%s: verdict", cases[i].what);
		check_int(what, dec.verdict, cases[i].verdict);
		snprintf(what, sizeof(what), "%s: ticket", cases[i].what);
		check_int(what, (long long)dec.ticket,
			  (long long)cases[i].ticket);
		snprintf(what, sizeof(what), "%s: how", cases[i].what);
		check_str(what, dec.how, cases[i].how);
		ticket_strv_free(&refs);
		ticket_strv_free(&dsn);
	}
}

/* The tag is looked for in the raw Subject too: a decoder that loses
 * the words after a padded base64 word cannot lose the link. */
static void test_raw_subject(const struct ticket_config *cfg,
			     struct ticket_store *st)
{
	struct ticket_strv none = {NULL, 0};
	struct ticket_thread_keys k = {
		TICKET_KIND_CUSTOMER,
		0,
		0,
		"r1@x.test",
		&none,
		&none,
		"Re: x",
		"alice@customer.test",
		"Re: =?utf-8?B?eA==?= [#111111]",
	};
	struct ticket_thread_decision dec;
	const char *error;

	check_int("raw tag: status",
		  ticket_thread_decide(cfg, st, &k, &dec, &error), TICKET_OK);
	check_int("raw tag: ticket", (long long)dec.ticket, T1);
	check_str("raw tag: how", dec.how, "subject tag");
	k.from_addr = "mallory@evil.test";
	ticket_thread_decide(cfg, st, &k, &dec, &error);
	check_int("raw tag from a stranger: new", dec.verdict, NEW);
}

/* A lookup that fails: busy is transient, a missing table is not. */
static void test_errors(const struct ticket_config *cfg,
			struct ticket_store *st, const char *dir)
{
	struct ticket_strv refs = {NULL, 0};
	struct ticket_thread_keys k = {
		TICKET_KIND_CUSTOMER,
		0,
		0,
		"e1@x.test",
		&refs,
		NULL,
		"",
		NULL,
		NULL,
	};
	struct ticket_thread_decision dec;
	const char *error = NULL;
	sqlite3 *other = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/tickets.db", dir);
	check_int("other", sqlite3_open(path, &other), SQLITE_OK);
	check_int("lock it",
		  sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
		  SQLITE_OK);
	check_int("busy: transient",
		  ticket_thread_decide(cfg, st, &k, &dec, &error),
		  TICKET_ERR_TEMP);
	check_true("busy: says why", error && strstr(error, "tickets.db"));
	k.kind = TICKET_KIND_REPLY;
	k.own_ticket = T1;
	check_int("busy: reply transient",
		  ticket_thread_decide(cfg, st, &k, &dec, &error),
		  TICKET_ERR_TEMP);
	check_int("unlock, drop",
		  sqlite3_exec(other, "ROLLBACK; DROP TABLE messages", NULL,
			       NULL, NULL),
		  SQLITE_OK);
	k.kind = TICKET_KIND_CUSTOMER;
	check_int("gone: permanent",
		  ticket_thread_decide(cfg, st, &k, &dec, &error),
		  TICKET_ERR_QUEUE);
	sqlite3_close(other);
}

int main(void)
{
	struct ticket_config *cfg = testutil_config("/q");
	char dir[] = "/tmp/test_ticket_thread.XXXXXX";
	struct ticket_store *st;

	if (cfg == NULL || mkdtemp(dir) == NULL)
		return 1;
	st = make_store(dir);
	if (st != NULL) {
		test_cases(cfg, st);
		test_raw_subject(cfg, st);
		test_errors(cfg, st, dir);
	}
	ticket_store_close(&st);
	testutil_rm_tree(dir);
	ticket_config_free(&cfg);
	return test_done("test_ticket_thread");
}
