/* test_ticket_json.c - the stable JSON of list, show and next */
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
#include "ticket/ticket_store.h"
#include "ticket_testutil.h"

static char dir[] = "/tmp/test_ticket_json.XXXXXX";

/* obj's value at a path like "thread.0.kind", printed compactly. */
static char *at(const cJSON *obj, const char *path)
{
	char buf[256], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p && obj;
	     p = strtok_r(NULL, ".", &save))
		obj = cJSON_IsArray(obj)
			      ? cJSON_GetArrayItem(obj,
						   (int)strtol(p, NULL, 10))
			      : cJSON_GetObjectItemCaseSensitive(obj, p);
	return obj ? cJSON_PrintUnformatted(obj) : strdup("(none)");
}

static const struct {
	const char *path, *want;
} show_fields[] = {
	{"status", "\"open\""},
	{"subject", "\"Printer jams\""},
	{"requester", "\"alice@customer.test\""},
	{"participants", "[\"alice@customer.test\",\"bob@customer.test\"]"},
	{"messages", "2"},
	{"flags", "[]"},
	{"thread.0.message_id", "\"<a1@customer.test>\""},
	{"thread.0.from", "\"alice@customer.test\""},
	{"thread.0.date", "\"2026-11-16T08:12:44Z\""},
	{"thread.0.kind", "\"customer\""},
	{"thread.0.text", "\"It jams.\\n\""},
	{"thread.0.html", "null"},
	{"thread.0.attachments", "[]"},
	{"thread.1.message_id", "\"<a2@customer.test>\""},
	{"thread.1.kind", "\"auto-reply\""},
	{"thread.2", "(none)"},
};

static void test_show(struct ticket_store *st, uint64_t t)
{
	const char *error = NULL;
	char id[32], *got;
	cJSON *obj = NULL;
	size_t i;

	check_int("show", ticket_json_ticket(st, t, 1, &obj, &error), 1);
	snprintf(id, sizeof(id), "\"%llu\"", (unsigned long long)t);
	got = at(obj, "id");
	check_str("id is a string", got, id);
	free(got);
	got = at(obj, "created"); /* arrival, not the Date header */
	check_true("created: UTC ISO 8601",
		   strlen(got) == 22 && got[11] == 'T' && got[20] == 'Z');
	free(got);
	for (i = 0; i < sizeof(show_fields) / sizeof(show_fields[0]); i++) {
		got = at(obj, show_fields[i].path);
		check_str(show_fields[i].path, got, show_fields[i].want);
		free(got);
	}
	cJSON_Delete(obj);
	obj = NULL;
	check_int("show without thread",
		  ticket_json_ticket(st, t, 0, &obj, &error), 1);
	got = at(obj, "thread");
	check_str("no thread", got, "(none)");
	free(got);
	cJSON_Delete(obj);
	check_int("no such ticket",
		  ticket_json_ticket(st, 999999, 1, &obj, &error), 0);
}

static void test_list(struct ticket_store *st)
{
	const char *error = NULL;
	cJSON *arr = NULL;

	check_int("list", ticket_json_list(st, NULL, &arr, &error), 0);
	check_int("list: both", cJSON_GetArraySize(arr), 2);
	cJSON_Delete(arr);
	check_int("list open", ticket_json_list(st, "open", &arr, &error), 0);
	check_int("list open: both", cJSON_GetArraySize(arr), 2);
	cJSON_Delete(arr);
	check_int("list closed", ticket_json_list(st, "closed", &arr, &error),
		  0);
	check_int("list closed: none", cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
}

static void test_next(struct ticket_store *st, uint64_t t)
{
	struct ticket_store_offer o = {"tester", 1000000000, 300};
	const char *error = NULL;
	char id[32], *got;
	cJSON *obj = NULL;

	check_int("next", ticket_json_next(st, &o, &obj, &error), 1);
	snprintf(id, sizeof(id), "\"%llu\"", (unsigned long long)t);
	got = at(obj, "ticket");
	check_str("next: the ticket", got, id);
	free(got);
	got = at(obj, "type");
	check_str("next: a new ticket", got, "\"ticket\"");
	free(got);
	got = at(obj, "auto_answer");
	check_str("next: may be answered", got, "true");
	free(got);
	got = at(obj, "message_id");
	check_str("next: its message", got, "\"<a1@customer.test>\"");
	free(got);
	got = at(obj, "lease_until");
	check_str("next: the lease", got, "\"2001-09-09T01:51:40Z\"");
	free(got);
	got = at(obj, "claim");
	check_true("next: a claim of 16 hex digits",
		   got && strlen(got) == 18 &&
			   strspn(got + 1, "0123456789abcdef") == 16);
	free(got);
	cJSON_Delete(obj);
	obj = NULL;
	o.lease = 0; /* at most once */
	check_int("next 2", ticket_json_next(st, &o, &obj, &error), 1);
	got = at(obj, "auto_answer");
	check_str("next 2: the robot's, never answered", got, "false");
	free(got);
	got = at(obj, "lease_until");
	check_str("next 2: at most once, no lease", got, "null");
	free(got);
	cJSON_Delete(obj);
	obj = NULL;
	check_int("next 3", ticket_json_next(st, &o, &obj, &error), 1);
	cJSON_Delete(obj);
	obj = NULL;
	check_int("then none", ticket_json_next(st, &o, &obj, &error), 0);
}

static void test_busy(struct ticket_store *st)
{
	struct ticket_store_offer o = {"t", 1000000000, 300};
	const char *error = NULL;
	sqlite3 *other = NULL;
	cJSON *obj = NULL;
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, TICKET_DB_NAME);
	sqlite3_open(path, &other);
	sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
	check_int("busy: next", ticket_json_next(st, &o, &obj, &error), -1);
	check_int("busy: transient", ticket_store_temp_failure(st), 1);
	sqlite3_exec(other, "ROLLBACK; DROP TABLE attachments", NULL, NULL,
		     NULL);
	check_int("no attachments table: show fails",
		  ticket_json_ticket(st, 1, 1, &obj, &error) <= 0, 1);
	sqlite3_close(other);
}

static void test_time(void)
{
	char buf[32];

	ticket_json_time(1794816764, buf, sizeof(buf));
	check_str("time", buf, "2026-11-16T08:12:44Z");
	ticket_json_time(0, buf, sizeof(buf));
	check_str("epoch", buf, "1970-01-01T00:00:00Z");
}

int main(void)
{
	struct ticket_queue *q;
	uint64_t t;

	if (mkdtemp(dir) == NULL || (q = testutil_queue(dir, "")) == NULL)
		return 1;
	t = testutil_deliver(
		q, "From: alice@customer.test\nCc: bob@customer.test\n"
		   "Subject: Printer jams\nMessage-ID: <a1@customer.test>\n"
		   "Date: Mon, 16 Nov 2026 08:12:44 +0000\n\nIt jams.\n");
	testutil_deliver(q, "From: carol@customer.test\nSubject: Auto: away\n"
			    "Auto-Submitted: auto-replied\n"
			    "In-Reply-To: <a1@customer.test>\n"
			    "Message-ID: <a2@customer.test>\n\nAway.\n");
	testutil_deliver(q, "From: dave@customer.test\nSubject: Other\n"
			    "Message-ID: <d1@customer.test>\n\nOther.\n");
	check_true("a ticket", t != 0);
	test_show(q->store, t);
	test_list(q->store);
	test_next(q->store, t);
	test_busy(q->store);
	test_time();
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
	g_mime_shutdown();
	return test_done("test_ticket_json");
}
