/*
 * ticket_json.c - the JSON that help-desk front ends read.
 *
 * The shape is DESIGN.md's and is stable: a ticket is
 *   {"id", "status", "subject", "requester", "participants", "created",
 *    "updated", "messages", "flags"}
 * plus "thread" in `show`: entries {"message_id", "from", "date",
 * "subject", "kind", "text", "html", "attachments"}, oldest first, and
 * attachments {"name", "content_type", "size", "path", "content_id"}.
 * Ticket ids are strings; times are UTC ISO 8601 with 'Z'; Message-IDs
 * keep their angle brackets; absent values are null.  All text in the
 * index is valid UTF-8 (ticket_mail cleans it), so cJSON output is too.
 *
 * `next` claims an event in one UPDATE ... RETURNING under BEGIN
 * IMMEDIATE and reads it in the same transaction: two consumers never
 * get the same event, and one that cannot be read stays unclaimed.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticket/ticket_json.h"
#include "ticket/ticket_mail.h"
#include "ticket/ticket_store.h"

void ticket_json_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int sql_fail(struct ticket_store *st, const char **error_r)
{
	return ticket_store_sql_fail(st, error_r);
}

static sqlite3_stmt *prepare(struct ticket_store *st, const char *sql,
			     const char **error_r)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(ticket_store_db(st), sql, -1, &stmt, NULL) !=
	    SQLITE_OK) {
		sql_fail(st, error_r);
		return NULL;
	}
	return stmt;
}

static const char *col_text(sqlite3_stmt *stmt, int i)
{
	return (const char *)sqlite3_column_text(stmt, i);
}

static void add_str_or_null(cJSON *obj, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(obj, key, v);
	else
		cJSON_AddNullToObject(obj, key);
}

static void add_time(cJSON *obj, const char *key, sqlite3_int64 t)
{
	char buf[32];

	ticket_json_time((time_t)t, buf, sizeof(buf));
	cJSON_AddStringToObject(obj, key, buf);
}

static void add_id(cJSON *obj, const char *key, sqlite3_int64 id)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	cJSON_AddStringToObject(obj, key, buf);
}

static void add_words(cJSON *obj, const char *key, const char *words)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, key);
	const char *p = words ? words : "";
	size_t n;
	char w[64];

	while (*p != '\0') {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n > 0 && n < sizeof(w)) {
			memcpy(w, p, n);
			w[n] = '\0';
			cJSON_AddItemToArray(arr, cJSON_CreateString(w));
		}
		p += n;
	}
}

/* A row's JSON value, or NULL with error_r. */
typedef cJSON *row_fn(struct ticket_store *st, sqlite3_stmt *stmt,
		      const char **error_r);

/* obj[key]: an array of row()'s value for each row of sql, which takes
 * one parameter, id.  0, or -1 with error_r. */
static int add_rows(struct ticket_store *st, cJSON *obj, const char *key,
		    const char *sql, sqlite3_int64 id, row_fn *row,
		    const char **error_r)
{
	sqlite3_stmt *stmt = prepare(st, sql, error_r);
	cJSON *arr = cJSON_AddArrayToObject(obj, key), *v;
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((v = row(st, stmt, error_r)) == NULL) {
			sqlite3_finalize(stmt);
			return -1;
		}
		cJSON_AddItemToArray(arr, v);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : sql_fail(st, error_r);
}

static cJSON *participant_row(struct ticket_store *st, sqlite3_stmt *stmt,
			      const char **error_r)
{
	cJSON *v = cJSON_CreateString(col_text(stmt, 0));

	(void)st;
	if (v == NULL)
		*error_r = "out of memory";
	return v;
}

static int add_participants(struct ticket_store *st, cJSON *obj,
			    sqlite3_int64 id, const char **error_r)
{
	return add_rows(st, obj, "participants",
			"SELECT address FROM participants WHERE ticket = ? "
			"ORDER BY rowid",
			id, participant_row, error_r);
}

#define TICKET_COLS                                                        \
	"SELECT id, status, subject, requester, created, updated, flags, " \
	"(SELECT count(*) FROM messages m WHERE m.ticket = t.id) "         \
	"FROM tickets t "

static cJSON *ticket_row(struct ticket_store *st, sqlite3_stmt *stmt,
			 const char **error_r)
{
	cJSON *obj = cJSON_CreateObject();
	sqlite3_int64 id = sqlite3_column_int64(stmt, 0);

	add_id(obj, "id", id);
	cJSON_AddStringToObject(obj, "status", col_text(stmt, 1));
	cJSON_AddStringToObject(obj, "subject", col_text(stmt, 2));
	cJSON_AddStringToObject(obj, "requester", col_text(stmt, 3));
	if (add_participants(st, obj, id, error_r) < 0) {
		cJSON_Delete(obj);
		return NULL;
	}
	add_time(obj, "created", sqlite3_column_int64(stmt, 4));
	add_time(obj, "updated", sqlite3_column_int64(stmt, 5));
	cJSON_AddNumberToObject(obj, "messages",
				(double)sqlite3_column_int64(stmt, 7));
	add_words(obj, "flags", col_text(stmt, 6));
	return obj;
}

static cJSON *attachment_row(struct ticket_store *st, sqlite3_stmt *stmt,
			     const char **error_r)
{
	cJSON *a = cJSON_CreateObject();

	(void)st;
	if (a == NULL) {
		*error_r = "out of memory";
		return NULL;
	}
	cJSON_AddStringToObject(a, "name", col_text(stmt, 0));
	cJSON_AddStringToObject(a, "content_type", col_text(stmt, 1));
	cJSON_AddNumberToObject(a, "size",
				(double)sqlite3_column_int64(stmt, 2));
	add_str_or_null(a, "path", col_text(stmt, 3));
	add_str_or_null(a, "content_id", col_text(stmt, 4));
	return a;
}

static int add_attachments(struct ticket_store *st, cJSON *entry,
			   sqlite3_int64 msg, const char **error_r)
{
	return add_rows(st, entry, "attachments",
			"SELECT name, content_type, size, path, content_id "
			"FROM attachments WHERE message = ? ORDER BY id",
			msg, attachment_row, error_r);
}

static void add_message_id(cJSON *obj, const char *key, const char *mid)
{
	char *v;

	if (mid == NULL || asprintf(&v, "<%s>", mid) < 0) {
		cJSON_AddNullToObject(obj, key);
		return;
	}
	cJSON_AddStringToObject(obj, key, v);
	free(v);
}

static cJSON *thread_entry(struct ticket_store *st, sqlite3_stmt *stmt,
			   const char **error_r)
{
	cJSON *e = cJSON_CreateObject();
	const char *from = col_text(stmt, 2);

	add_message_id(e, "message_id", col_text(stmt, 1));
	cJSON_AddStringToObject(e, "from", from ? from : "");
	add_time(e, "date", sqlite3_column_int64(stmt, 3));
	cJSON_AddStringToObject(e, "subject", col_text(stmt, 4));
	cJSON_AddStringToObject(e, "kind", col_text(stmt, 5));
	cJSON_AddStringToObject(e, "text", col_text(stmt, 6));
	add_str_or_null(e, "html", col_text(stmt, 7));
	if (add_attachments(st, e, sqlite3_column_int64(stmt, 0), error_r) <
	    0) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

static int add_thread(struct ticket_store *st, cJSON *obj, sqlite3_int64 id,
		      const char **error_r)
{
	return add_rows(st, obj, "thread",
			"SELECT id, message_id, from_addr, date, subject, "
			"kind, text, html FROM messages WHERE ticket = ? "
			"ORDER BY arrived, id",
			id, thread_entry, error_r);
}

int ticket_json_ticket(struct ticket_store *st, uint64_t id, int with_thread,
		       cJSON **obj_r, const char **error_r)
{
	sqlite3_stmt *stmt = prepare(st, TICKET_COLS "WHERE id = ?", error_r);
	cJSON *obj = NULL;
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		obj = ticket_row(st, stmt, error_r);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return sql_fail(st, error_r);
	if (obj == NULL ||
	    (with_thread &&
	     add_thread(st, obj, (sqlite3_int64)id, error_r) < 0)) {
		cJSON_Delete(obj);
		return -1;
	}
	*obj_r = obj;
	return 1;
}

int ticket_json_list(struct ticket_store *st, const char *status, cJSON **arr_r,
		     const char **error_r)
{
	sqlite3_stmt *stmt =
		prepare(st,
			TICKET_COLS "WHERE ?1 IS NULL OR status = ?1 "
				    "ORDER BY updated DESC, id",
			error_r);
	cJSON *arr, *obj;
	int rc;

	if (stmt == NULL)
		return -1;
	if (status != NULL)
		sqlite3_bind_text(stmt, 1, status, -1, SQLITE_STATIC);
	arr = cJSON_CreateArray();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((obj = ticket_row(st, stmt, error_r)) == NULL)
			break;
		cJSON_AddItemToArray(arr, obj);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(arr);
		return rc == SQLITE_ROW ? -1 : sql_fail(st, error_r);
	}
	*arr_r = arr;
	return 0;
}

static cJSON *event_row(sqlite3_stmt *stmt)
{
	cJSON *e = cJSON_CreateObject();
	const char *from = col_text(stmt, 6);

	cJSON_AddNumberToObject(e, "event",
				(double)sqlite3_column_int64(stmt, 0));
	cJSON_AddStringToObject(e, "type", col_text(stmt, 1));
	add_id(e, "ticket", sqlite3_column_int64(stmt, 2));
	add_message_id(e, "message_id", col_text(stmt, 4));
	cJSON_AddStringToObject(e, "kind", col_text(stmt, 5));
	cJSON_AddStringToObject(e, "from", from ? from : "");
	cJSON_AddStringToObject(e, "subject", col_text(stmt, 7));
	cJSON_AddBoolToObject(e, "auto_answer", sqlite3_column_int(stmt, 3));
	add_time(e, "created", sqlite3_column_int64(stmt, 8));
	return e;
}

static int claim(struct ticket_store *st, const char *consumer,
		 sqlite3_int64 *event_r, const char **error_r)
{
	sqlite3_stmt *stmt = prepare(
		st,
		"UPDATE events SET claimed = strftime('%s','now'), "
		"claimed_by = ? WHERE id = (SELECT min(id) FROM events WHERE "
		"claimed IS NULL) RETURNING id",
		error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, consumer, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*event_r = sqlite3_column_int64(stmt, 0);
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return sql_fail(st, error_r);
	return *event_r != 0;
}

static int read_event(struct ticket_store *st, sqlite3_int64 event,
		      cJSON **obj_r, const char **error_r)
{
	sqlite3_stmt *stmt = prepare(
		st,
		"SELECT e.id, e.type, e.ticket, e.auto_answer, "
		"m.message_id, m.kind, m.from_addr, m.subject, e.created "
		"FROM events e JOIN messages m ON m.id = e.message "
		"WHERE e.id = ?",
		error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, event);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*obj_r = event_row(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : sql_fail(st, error_r);
}

/* Claim and read in one transaction: an event whose row cannot be read
 * stays unclaimed for the next try. */
int ticket_json_next(struct ticket_store *st, const char *consumer,
		     cJSON **obj_r, const char **error_r)
{
	sqlite3_int64 event = 0;
	cJSON *obj = NULL;
	int r;

	if (ticket_store_begin(st, error_r) < 0)
		return -1;
	r = claim(st, consumer, &event, error_r);
	if (r > 0 && read_event(st, event, &obj, error_r) < 0)
		r = -1;
	if (r <= 0 || ticket_store_commit(st, error_r) < 0) {
		ticket_store_rollback(st);
		cJSON_Delete(obj);
		return r == 0 ? 0 : -1;
	}
	*obj_r = obj;
	return 1;
}
