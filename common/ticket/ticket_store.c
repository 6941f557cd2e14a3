/*
 * ticket_store.c - tickets.db, the index of the ticket queue.
 *
 * SQLite with a rollback journal (journal_mode=TRUNCATE) and a busy
 * timeout, so concurrent deliveries queue up instead of failing.  Every
 * delivery is one BEGIN IMMEDIATE transaction: the write lock is taken
 * up front, so the dedup check, the thread lookup and the inserts see
 * one consistent state.
 *
 * Durability: the raw message is fsync()ed in the Maildir before the
 * index is touched.  The index runs synchronous=NORMAL: at COMMIT the
 * journal is synced, then the database, and a killed writer is rolled
 * back by the next opener.  `deliver` turns syncing off for its own
 * connection (ticket_store_unsynced) when the queue heals its index
 * after an OS crash (ticket_heal.c, ticket_store_check_file here): 4
 * sync calls fewer per delivery.  (WAL was measured with `make
 * bench-ticketq`: every delivery being a process of its own, each one
 * creates the -wal and -shm files, checkpoints and unlinks them on
 * close - or, with a persistent WAL, rebuilds the wal-index from the
 * whole log on open.  87-90 deliveries/s against 165/s here, with or
 * without a persistent WAL; re-measured for issue 12 with synchronous
 * OFF and NORMAL, WAL stays the slowest: docs/internals.md.)  Should
 * the index ever be damaged, it is not the truth: the Maildir is, and
 * `ticketq reindex` rebuilds everything from it.
 *
 * Failure modes: every SQLite error is returned as -1 with error_r;
 * ticket_store_temp_failure() says whether it was transient (BUSY,
 * LOCKED, FULL, IOERR, NOMEM, CANTOPEN, PROTOCOL) so `deliver` exits 75
 * and the MTA retries.  A database from a newer schema is refused; one
 * of schema 1 is upgraded in place (in one transaction) by whoever
 * opens it first.
 *
 * Events (`ticketq next`, `ack`) are consumed at least once: a claim is
 * a random token and a lease; an event is offered again once its lease
 * ran out unacknowledged, so a consumer killed between `next` and `ack`
 * loses nothing (another gets it: the one duplicate).  `ack` with the
 * token is refused once the lease went to another claim.  At most once
 * (the lease 0) acknowledges the event in the claiming transaction, as
 * schema 1 did.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/errorf.h"
#include "ticket/ticket_ioerr.h"
#include "ticket/ticket_id.h"
#include "ticket/ticket_store.h"

struct ticket_store {
	sqlite3 *db;
	int in_txn;
	int temp; /* last failure transient */
};

static const char *const schema_sql =
	"CREATE TABLE tickets ("
	" id INTEGER PRIMARY KEY,"
	" status TEXT NOT NULL DEFAULT 'open',"
	" subject TEXT NOT NULL,"
	" requester TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL,"
	" flags TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX tickets_status ON tickets(status, updated);"
	"CREATE TABLE participants ("
	" ticket INTEGER NOT NULL REFERENCES tickets(id),"
	" address TEXT NOT NULL,"
	" UNIQUE (ticket, address));"
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" ticket INTEGER REFERENCES tickets(id),"
	" dkey TEXT NOT NULL UNIQUE,"
	" file TEXT NOT NULL,"
	" message_id TEXT,"
	" kind TEXT NOT NULL,"
	" flags TEXT NOT NULL DEFAULT '',"
	" reason TEXT,"
	" from_addr TEXT, from_name TEXT, reply_to TEXT,"
	" to_addrs TEXT, cc_addrs TEXT,"
	" subject TEXT NOT NULL,"
	" date INTEGER NOT NULL,"
	" arrived INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" text TEXT NOT NULL,"
	" html TEXT);"
	"CREATE INDEX messages_mid ON messages(message_id);"
	"CREATE INDEX messages_ticket ON messages(ticket, id);"
	"CREATE TABLE attachments ("
	" id INTEGER PRIMARY KEY,"
	" message INTEGER NOT NULL REFERENCES messages(id),"
	" name TEXT NOT NULL,"
	" content_type TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" path TEXT,"
	" content_id TEXT,"
	" inline INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX attachments_message ON attachments(message);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" type TEXT NOT NULL,"
	" ticket INTEGER NOT NULL,"
	" message INTEGER NOT NULL,"
	" auto_answer INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" claimed INTEGER,"
	" claimed_by TEXT,"
	" lease_until INTEGER,"
	" claim TEXT,"
	" acked INTEGER,"
	" acked_by TEXT);"
	"CREATE INDEX events_pending ON events(id) WHERE acked IS NULL;"
	"PRAGMA user_version = 2;";

/* Schema 1 to 2: leases and acknowledgements.  What schema 1 handed
 * out was gone for good (claimed = consumed): acknowledged, so nothing
 * is offered again after the upgrade.  The columns go at the end, as in
 * schema_sql. */
static const char *const migrate_1_2_sql =
	"ALTER TABLE events ADD COLUMN lease_until INTEGER;"
	"ALTER TABLE events ADD COLUMN claim TEXT;"
	"ALTER TABLE events ADD COLUMN acked INTEGER;"
	"ALTER TABLE events ADD COLUMN acked_by TEXT;"
	"UPDATE events SET acked = claimed, acked_by = claimed_by "
	" WHERE claimed IS NOT NULL;"
	"DROP INDEX IF EXISTS events_unclaimed;"
	"CREATE INDEX events_pending ON events(id) WHERE acked IS NULL;"
	"PRAGMA user_version = 2;";

static int is_temp_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
	case SQLITE_READONLY:
		return 1;
	default:
		return 0;
	}
}

/* SQLite's text; for a write past the file-size limit (EFBIG under
 * SQLITE_IOERR or SQLITE_FULL) also which limit and the fix. */
static const char *db_error_text(struct ticket_store *st, int rc)
{
	if (st->db == NULL)
		return sqlite3_errstr(rc);
	if (((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL) &&
	    sqlite3_system_errno(st->db) == EFBIG)
		return errorf("%s: %s", sqlite3_errmsg(st->db),
			      ticket_ioerr_text(EFBIG));
	return sqlite3_errmsg(st->db);
}

static int fail(struct ticket_store *st, int rc, const char *what,
		const char **error_r)
{
	st->temp = is_temp_code(rc);
	*error_r = errorf("tickets.db: %s: %s", what, db_error_text(st, rc));
	return -1;
}

int ticket_store_temp_failure(const struct ticket_store *st)
{
	return st->temp;
}

/* A query on the handle failed: "tickets.db: why". */
static int sql_fail(struct ticket_store *st, const char **error_r)
{
	st->temp = is_temp_code(sqlite3_errcode(st->db));
	*error_r = errorf("tickets.db: %s",
			  db_error_text(st, sqlite3_errcode(st->db)));
	return -1;
}

/* Run SQL without results (schema, pragmas, reindex). */
static int exec_sql(struct ticket_store *st, const char *sql,
		    const char **error_r)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(st, rc, "exec", error_r);
}

/* Bind by a type string: 't' text (NULL binds NULL), 'i' int64,
 * 'u' uint64 ticket (0 binds NULL). */
static int bind_args(sqlite3_stmt *stmt, const char *types, va_list ap)
{
	const char *s;
	uint64_t u;
	int i, rc = SQLITE_OK;

	for (i = 0; types[i] != '\0' && rc == SQLITE_OK; i++) {
		switch (types[i]) {
		case 't':
			s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(stmt, i + 1, s, -1,
						   SQLITE_STATIC)
			       : sqlite3_bind_null(stmt, i + 1);
			break;
		case 'i':
			rc = sqlite3_bind_int64(stmt, i + 1,
						va_arg(ap, int64_t));
			break;
		default:
			u = va_arg(ap, uint64_t);
			rc = u ? sqlite3_bind_int64(stmt, i + 1, (int64_t)u)
			       : sqlite3_bind_null(stmt, i + 1);
			break;
		}
	}
	return rc;
}

/* Run one statement; with out != NULL, the first column of the first
 * row goes there.  1 row, 0 no row, -1 error. */
static int run(struct ticket_store *st, int64_t *out, const char **error_r,
	       const char *sql, const char *types, ...)
{
	sqlite3_stmt *stmt = NULL;
	va_list ap;
	int rc, ret;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(st, rc, "prepare", error_r);
	va_start(ap, types);
	rc = bind_args(stmt, types, ap);
	va_end(ap);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if (out != NULL)
			*out = sqlite3_column_int64(stmt, 0);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = fail(st, rc, "query", error_r);
	}
	sqlite3_finalize(stmt);
	return ret;
}

/* Create (version 0) or upgrade (1) the schema under the write lock;
 * the version is read again there: another process may have done it. */
static int schema_create(struct ticket_store *st, const char **error_r)
{
	int64_t version = 0;

	if (ticket_store_begin(st, error_r) < 0)
		return -1;
	if (run(st, &version, error_r, "PRAGMA user_version", "") < 0)
		goto fail;
	if (version == 0 && exec_sql(st, schema_sql, error_r) < 0)
		goto fail;
	if (version == 1 && exec_sql(st, migrate_1_2_sql, error_r) < 0)
		goto fail;
	return ticket_store_commit(st, error_r);
fail:
	ticket_store_rollback(st);
	return -1;
}

static int schema_check(struct ticket_store *st, int create,
			const char **error_r)
{
	int64_t version = 0;

	if (run(st, &version, error_r, "PRAGMA user_version", "") < 0)
		return -1;
	if (version == TICKET_STORE_SCHEMA)
		return 0;
	if (version > TICKET_STORE_SCHEMA) {
		*error_r = errorf("tickets.db: schema %lld is newer than this "
				  "ticketq (%d)",
				  (long long)version, TICKET_STORE_SCHEMA);
		return -1;
	}
	if (version == 0 && !create) {
		*error_r = "tickets.db: empty index (run: ticketq reindex)";
		return -1;
	}
	return schema_create(st, error_r);
}

static int configure(struct ticket_store *st, int busy_timeout,
		     const char **error_r)
{
	sqlite3_busy_timeout(st->db, busy_timeout * 1000);
	sqlite3_extended_result_codes(st->db, 1);
	return exec_sql(st,
			"PRAGMA journal_mode=TRUNCATE;"
			"PRAGMA synchronous=NORMAL;"
			"PRAGMA foreign_keys=OFF;"
			"PRAGMA trusted_schema=OFF;",
			error_r);
}

enum ticket_status ticket_store_open(const char *path, int busy_timeout,
				     int create, struct ticket_store **st_r,
				     const char **error_r)
{
	struct ticket_store *st = calloc(1, sizeof(*st));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    (create ? SQLITE_OPEN_CREATE : 0);
	enum ticket_status ret = TICKET_ERR_TEMP;
	int rc;

	if (st == NULL) {
		*error_r = "out of memory";
		return TICKET_ERR_TEMP;
	}
	rc = sqlite3_open_v2(path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		fail(st, rc, "open", error_r);
		*error_r = errorf("%s: %s", path, *error_r);
		if (!st->temp && rc != SQLITE_CANTOPEN)
			ret = TICKET_ERR_QUEUE;
		ticket_store_close(&st);
		return ret;
	}
	if (configure(st, busy_timeout, error_r) < 0 ||
	    schema_check(st, create, error_r) < 0) {
		ret = st->temp ? TICKET_ERR_TEMP : TICKET_ERR_QUEUE;
		ticket_store_close(&st);
		return ret;
	}
	*st_r = st;
	return TICKET_OK;
}

void ticket_store_close(struct ticket_store **stp)
{
	struct ticket_store *st = *stp;

	if (st == NULL)
		return;
	ticket_store_rollback(st);
	sqlite3_close_v2(st->db);
	free(st);
	*stp = NULL;
}

int ticket_store_begin(struct ticket_store *st, const char **error_r)
{
	int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return fail(st, rc, "begin", error_r);
	st->in_txn = 1;
	return 0;
}

int ticket_store_commit(struct ticket_store *st, const char **error_r)
{
	int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		fail(st, rc, "commit", error_r);
		ticket_store_rollback(st);
		return -1;
	}
	st->in_txn = 0;
	return 0;
}

void ticket_store_rollback(struct ticket_store *st)
{
	if (st->in_txn && sqlite3_get_autocommit(st->db) == 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_txn = 0;
}

int ticket_store_has_dkey(struct ticket_store *st, const char *dkey,
			  const char **error_r)
{
	return run(st, NULL, error_r, "SELECT 1 FROM messages WHERE dkey = ?",
		   "t", dkey);
}

int ticket_store_ticket_by_message_id(struct ticket_store *st,
				      const char *message_id,
				      uint64_t *ticket_r, const char **error_r)
{
	int64_t t = 0;
	int r = run(st, &t, error_r,
		    "SELECT ticket FROM messages WHERE message_id = ? AND "
		    "ticket IS NOT NULL ORDER BY id DESC LIMIT 1",
		    "t", message_id);

	if (r == 1)
		*ticket_r = (uint64_t)t;
	return r;
}

int ticket_store_ticket_exists(struct ticket_store *st, uint64_t ticket,
			       const char **error_r)
{
	return run(st, NULL, error_r, "SELECT 1 FROM tickets WHERE id = ?", "u",
		   ticket);
}

int ticket_store_is_participant(struct ticket_store *st, uint64_t ticket,
				const char *addr, const char **error_r)
{
	return run(st, NULL, error_r,
		   "SELECT 1 FROM participants WHERE ticket = ? AND "
		   "address = ?",
		   "ut", ticket, addr);
}

int ticket_store_create_ticket(struct ticket_store *st, uint64_t ticket,
			       const char *subject, const char *requester,
			       time_t now, const char *flags,
			       const char **error_r)
{
	return run(st, NULL, error_r,
		   "INSERT INTO tickets (id, status, subject, requester, "
		   "created, updated, flags) VALUES (?, 'open', ?, ?, ?, ?, ?)",
		   "uttiit", ticket, subject, requester, (int64_t)now,
		   (int64_t)now, flags ? flags : "") < 0
		       ? -1
		       : 0;
}

int ticket_store_add_participant(struct ticket_store *st, uint64_t ticket,
				 const char *addr, const char **error_r)
{
	return run(st, NULL, error_r,
		   "INSERT OR IGNORE INTO participants (ticket, address) "
		   "VALUES (?, ?)",
		   "ut", ticket, addr) < 0
		       ? -1
		       : 0;
}

int ticket_store_update(struct ticket_store *st, uint64_t ticket,
			const char *status, time_t updated,
			const char *add_flag, const char **error_r)
{
	return run(st, NULL, error_r,
		   "UPDATE tickets SET status = coalesce(?, status), "
		   "updated = CASE WHEN ? > updated THEN ? ELSE updated END, "
		   "flags = CASE WHEN ? IS NULL OR "
		   " (' ' || flags || ' ') LIKE ('% ' || ? || ' %') "
		   " THEN flags ELSE trim(flags || ' ' || ?) END "
		   "WHERE id = ?",
		   "tiitttu", status, (int64_t)updated, (int64_t)updated,
		   add_flag, add_flag, add_flag, ticket) < 0
		       ? -1
		       : 0;
}

int ticket_store_add_message(struct ticket_store *st,
			     struct ticket_store_msg *m, const char **error_r)
{
	if (run(st, NULL, error_r,
		"INSERT INTO messages (ticket, dkey, file, message_id, kind, "
		"flags, reason, from_addr, from_name, reply_to, to_addrs, "
		"cc_addrs, subject, date, arrived, size, text, html) VALUES "
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		"utttttttttttt"
		"iiitt",
		m->ticket, m->dkey, m->file, m->message_id, m->kind, m->flags,
		m->reason, m->from_addr, m->from_name, m->reply_to, m->to_addrs,
		m->cc_addrs, m->subject, (int64_t)m->date, (int64_t)m->arrived,
		m->size, m->text, m->html) < 0)
		return -1;
	m->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int ticket_store_add_attachment(struct ticket_store *st,
				const struct ticket_store_att *a,
				const char **error_r)
{
	return run(st, NULL, error_r,
		   "INSERT INTO attachments (message, name, content_type, "
		   "size, path, content_id, inline) VALUES "
		   "(?, ?, ?, ?, ?, ?, ?)",
		   "ittitti", a->message, a->name, a->content_type, a->size,
		   a->path, a->content_id, (int64_t)a->is_inline) < 0
		       ? -1
		       : 0;
}

int ticket_store_add_event(struct ticket_store *st, const char *type,
			   uint64_t ticket, int64_t message, time_t now,
			   int auto_answer, const char **error_r)
{
	return run(st, NULL, error_r,
		   "INSERT INTO events (type, ticket, message, auto_answer, "
		   "created) VALUES (?, ?, ?, ?, ?)",
		   "tuiii", type, ticket, message, (int64_t)auto_answer,
		   (int64_t)now) < 0
		       ? -1
		       : 0;
}

int ticket_store_unsynced(struct ticket_store *st, const char **error_r)
{
	return exec_sql(st, "PRAGMA synchronous=OFF", error_r);
}

static int is_damage_code(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* The first row of integrity_check: "ok", or what is wrong. */
static int integrity(struct ticket_store *st, const char **why_r)
{
	sqlite3_stmt *stmt = NULL;
	const char *row;
	int rc, ret;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check(1)", -1, &stmt,
				NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		row = (const char *)sqlite3_column_text(stmt, 0);
		ret = row == NULL || strcmp(row, "ok") != 0;
		if (ret)
			*why_r = errorf("tickets.db: damaged: %.200s",
					row ? row : "?");
	} else if (is_damage_code(rc)) {
		ret = 1;
		*why_r = errorf("tickets.db: %s", db_error_text(st, rc));
	} else {
		ret = fail(st, rc, "check", why_r);
	}
	sqlite3_finalize(stmt);
	return ret;
}

int ticket_store_check_file(const char *path, int busy_timeout,
			    const char **why_r)
{
	struct ticket_store st = {NULL, 0, 0};
	int rc, ret;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	rc = sqlite3_open_v2(path, &st.db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK && is_damage_code(rc)) {
		ret = 1;
		*why_r = errorf("tickets.db: %s", sqlite3_errstr(rc));
	} else if (rc != SQLITE_OK) {
		ret = fail(&st, rc, "open", why_r);
	} else {
		sqlite3_busy_timeout(st.db, busy_timeout * 1000);
		sqlite3_extended_result_codes(st.db, 1);
		ret = integrity(&st, why_r);
	}
	sqlite3_close_v2(st.db);
	return ret;
}

/* Copies the consumer state of the attached index's events onto ours
 * (same message by dkey, same type).  %s: the old columns lease_until,
 * claim, acked, acked_by (carry_cols). */
static const char *const carry_fmt =
	"UPDATE events SET claimed = o.claimed, claimed_by = o.claimed_by, "
	" lease_until = o.lease_until, claim = o.claim, acked = o.acked, "
	" acked_by = o.acked_by FROM (SELECT om.dkey, oe.type, oe.claimed, "
	" oe.claimed_by, %s FROM old.events oe JOIN old.messages om "
	" ON om.id = oe.message) o, messages m WHERE "
	" m.id = events.message AND m.dkey = o.dkey AND o.type = events.type";

/* By the old index's schema: schema 1 knew only "claimed", which
 * meant consumed, so it counts as acknowledged. */
static const char *carry_cols(int64_t version)
{
	if (version == 1)
		return "NULL AS lease_until, NULL AS claim, "
		       "oe.claimed AS acked, oe.claimed_by AS acked_by";
	if (version == TICKET_STORE_SCHEMA)
		return "oe.lease_until, oe.claim, oe.acked, oe.acked_by";
	return NULL;
}

/* The copy, with old attached. */
static int carry_attached(struct ticket_store *st, const char **error_r)
{
	int64_t version = 0;
	const char *cols;
	char *sql = NULL;
	int r;

	if (run(st, &version, error_r, "PRAGMA old.user_version", "") < 0)
		return -1;
	if ((cols = carry_cols(version)) == NULL) {
		*error_r = errorf("tickets.db: the old index has schema %lld, "
				  "not 1 or %d",
				  (long long)version, TICKET_STORE_SCHEMA);
		return -1;
	}
	if (asprintf(&sql, carry_fmt, cols) < 0) {
		*error_r = "out of memory";
		return -1;
	}
	r = exec_sql(st, sql, error_r);
	free(sql);
	return r;
}

int ticket_store_carry_claims(struct ticket_store *st, const char *old_db,
			      const char **error_r)
{
	char *sql = NULL;
	int r;

	if (strchr(old_db, '\'') != NULL) {
		*error_r = "tickets.db: a quote in the old index's path";
		return -1;
	}
	if (asprintf(&sql, "ATTACH DATABASE '%s' AS old", old_db) < 0) {
		*error_r = "out of memory";
		return -1;
	}
	r = exec_sql(st, sql, error_r);
	free(sql);
	if (r < 0)
		return -1;
	r = carry_attached(st, error_r);
	sqlite3_exec(st->db, "DETACH DATABASE old", NULL, NULL, NULL);
	return r;
}

int ticket_store_claim_all(struct ticket_store *st, const char *consumer,
			   const char **error_r)
{
	return run(st, NULL, error_r,
		   "UPDATE events SET claimed = strftime('%s','now'), "
		   "claimed_by = ?1, acked = strftime('%s','now'), "
		   "acked_by = ?1 WHERE acked IS NULL",
		   "t", consumer) < 0
		       ? -1
		       : 0;
}

/* --- reading: rows to callbacks -------------------------------------- */

/* The caller's callback, by row type. */
struct visit {
	union {
		ticket_store_ticket_fn *ticket;
		ticket_store_entry_fn *entry;
		ticket_store_att_fn *att;
		ticket_store_text_fn *text;
		ticket_store_event_fn *event;
	} fn;
	void *ctx;
};

typedef int row_fn(sqlite3_stmt *stmt, const struct visit *v,
		   const char **error_r);

static const char *col_text(sqlite3_stmt *stmt, int i)
{
	return (const char *)sqlite3_column_text(stmt, i);
}

/* Each row of sql (bound as bind_args) to row(): how many rows, or -1
 * (a failed row() keeps its error_r). */
static int each(struct ticket_store *st, row_fn *row, const struct visit *v,
		const char **error_r, const char *sql, const char *types, ...)
{
	sqlite3_stmt *stmt = NULL;
	va_list ap;
	int rc, n = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return sql_fail(st, error_r);
	va_start(ap, types);
	rc = bind_args(stmt, types, ap);
	va_end(ap);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (row(stmt, v, error_r) < 0) {
			sqlite3_finalize(stmt);
			return -1;
		}
		n++;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? n : sql_fail(st, error_r);
}

#define TICKET_COLS                                                        \
	"SELECT id, status, subject, requester, created, updated, flags, " \
	"(SELECT count(*) FROM messages m WHERE m.ticket = t.id) "         \
	"FROM tickets t "

static int ticket_row(sqlite3_stmt *stmt, const struct visit *v,
		      const char **error_r)
{
	struct ticket_store_ticket t = {
		.id = (uint64_t)sqlite3_column_int64(stmt, 0),
		.status = col_text(stmt, 1),
		.subject = col_text(stmt, 2),
		.requester = col_text(stmt, 3),
		.created = (time_t)sqlite3_column_int64(stmt, 4),
		.updated = (time_t)sqlite3_column_int64(stmt, 5),
		.flags = col_text(stmt, 6),
		.messages = sqlite3_column_int64(stmt, 7),
	};

	return v->fn.ticket(v->ctx, &t, error_r);
}

int ticket_store_get_ticket(struct ticket_store *st, uint64_t id,
			    ticket_store_ticket_fn *fn, void *ctx,
			    const char **error_r)
{
	struct visit v = {.fn.ticket = fn, .ctx = ctx};

	return each(st, ticket_row, &v, error_r, TICKET_COLS "WHERE id = ?",
		    "i", (int64_t)id);
}

int ticket_store_each_ticket(struct ticket_store *st, const char *status,
			     ticket_store_ticket_fn *fn, void *ctx,
			     const char **error_r)
{
	struct visit v = {.fn.ticket = fn, .ctx = ctx};

	return each(st, ticket_row, &v, error_r,
		    TICKET_COLS "WHERE ?1 IS NULL OR status = ?1 "
				"ORDER BY updated DESC, id",
		    "t", status) < 0
		       ? -1
		       : 0;
}

static int text_row(sqlite3_stmt *stmt, const struct visit *v,
		    const char **error_r)
{
	return v->fn.text(v->ctx, col_text(stmt, 0), error_r);
}

int ticket_store_each_participant(struct ticket_store *st, uint64_t ticket,
				  ticket_store_text_fn *fn, void *ctx,
				  const char **error_r)
{
	struct visit v = {.fn.text = fn, .ctx = ctx};

	return each(st, text_row, &v, error_r,
		    "SELECT address FROM participants WHERE ticket = ? "
		    "ORDER BY rowid",
		    "i", (int64_t)ticket) < 0
		       ? -1
		       : 0;
}

int ticket_store_each_reference(struct ticket_store *st, uint64_t ticket,
				ticket_store_text_fn *fn, void *ctx,
				const char **error_r)
{
	struct visit v = {.fn.text = fn, .ctx = ctx};

	return each(st, text_row, &v, error_r,
		    "SELECT message_id FROM messages WHERE ticket = ? AND "
		    "message_id IS NOT NULL AND kind <> 'note' "
		    "ORDER BY arrived, id",
		    "i", (int64_t)ticket) < 0
		       ? -1
		       : 0;
}

#define ENTRY_COLS                                                    \
	"SELECT id, message_id, from_addr, reply_to, date, subject, " \
	"kind, flags, text, html FROM messages WHERE ticket = ? "

static int entry_row(sqlite3_stmt *stmt, const struct visit *v,
		     const char **error_r)
{
	struct ticket_store_entry e = {
		.id = sqlite3_column_int64(stmt, 0),
		.message_id = col_text(stmt, 1),
		.from_addr = col_text(stmt, 2),
		.reply_to = col_text(stmt, 3),
		.date = (time_t)sqlite3_column_int64(stmt, 4),
		.subject = col_text(stmt, 5),
		.kind = col_text(stmt, 6),
		.flags = col_text(stmt, 7),
		.text = col_text(stmt, 8),
		.html = col_text(stmt, 9),
	};

	return v->fn.entry(v->ctx, &e, error_r);
}

int ticket_store_each_message(struct ticket_store *st, uint64_t ticket,
			      ticket_store_entry_fn *fn, void *ctx,
			      const char **error_r)
{
	struct visit v = {.fn.entry = fn, .ctx = ctx};

	return each(st, entry_row, &v, error_r,
		    ENTRY_COLS "ORDER BY arrived, id", "i", (int64_t)ticket) < 0
		       ? -1
		       : 0;
}

int ticket_store_newest_message(struct ticket_store *st, uint64_t ticket,
				enum ticket_store_newest which,
				ticket_store_entry_fn *fn, void *ctx,
				const char **error_r)
{
	struct visit v = {.fn.entry = fn, .ctx = ctx};

	return each(st, entry_row, &v, error_r,
		    which == TICKET_NEWEST_CUSTOMER ? ENTRY_COLS
			    "AND kind = 'customer' "
			    "ORDER BY arrived DESC, id DESC LIMIT 1"
						    : ENTRY_COLS
			    "AND kind IN ('customer', 'auto-reply', 'bounce') "
			    "ORDER BY arrived DESC, id DESC LIMIT 1",
		    "i", (int64_t)ticket);
}

static int att_row(sqlite3_stmt *stmt, const struct visit *v,
		   const char **error_r)
{
	struct ticket_store_att a = {
		.name = col_text(stmt, 0),
		.content_type = col_text(stmt, 1),
		.size = sqlite3_column_int64(stmt, 2),
		.path = col_text(stmt, 3),
		.content_id = col_text(stmt, 4),
	};

	return v->fn.att(v->ctx, &a, error_r);
}

int ticket_store_each_attachment(struct ticket_store *st, int64_t message,
				 ticket_store_att_fn *fn, void *ctx,
				 const char **error_r)
{
	struct visit v = {.fn.att = fn, .ctx = ctx};

	return each(st, att_row, &v, error_r,
		    "SELECT name, content_type, size, path, content_id "
		    "FROM attachments WHERE message = ? ORDER BY id",
		    "i", message) < 0
		       ? -1
		       : 0;
}

/* The oldest offerable event (not acknowledged, no lease or one that
 * ran out before now) claimed with token: a lease of o->lease seconds,
 * or acknowledged at once (o->lease 0).  1 (*event_r), 0 none, -1. */
static int claim(struct ticket_store *st, const struct ticket_store_offer *o,
		 const char *token, int64_t *event_r, const char **error_r)
{
	return run(st, event_r, error_r,
		   "UPDATE events SET claimed = ?1, claimed_by = ?2, "
		   "claim = ?3, lease_until = CASE WHEN ?4 > 0 THEN ?1 + ?4 "
		   "END, acked = CASE WHEN ?4 = 0 THEN ?1 END, "
		   "acked_by = CASE WHEN ?4 = 0 THEN ?2 END "
		   "WHERE id = (SELECT id FROM events WHERE acked IS NULL AND "
		   "(lease_until IS NULL OR lease_until < ?1) ORDER BY id "
		   "LIMIT 1) RETURNING id",
		   "itti", (int64_t)o->now, o->consumer, token,
		   (int64_t)o->lease);
}

static int event_row(sqlite3_stmt *stmt, const struct visit *v,
		     const char **error_r)
{
	struct ticket_store_event ev = {
		.id = sqlite3_column_int64(stmt, 0),
		.type = col_text(stmt, 1),
		.ticket = (uint64_t)sqlite3_column_int64(stmt, 2),
		.auto_answer = sqlite3_column_int(stmt, 3),
		.message_id = col_text(stmt, 4),
		.kind = col_text(stmt, 5),
		.from_addr = col_text(stmt, 6),
		.subject = col_text(stmt, 7),
		.created = (time_t)sqlite3_column_int64(stmt, 8),
		.claim = col_text(stmt, 9),
		.lease_until = (time_t)sqlite3_column_int64(stmt, 10),
	};

	return v->fn.event(v->ctx, &ev, error_r);
}

/* A fresh claim token into token (TICKET_CLAIM_LEN + 1 bytes), from
 * the kernel's CSPRNG (ticket_id_random: ticketq does not load
 * libcrypto, see ticket_id.c). */
static int new_token(struct ticket_store *st, char *token, const char **error_r)
{
	unsigned char raw[TICKET_CLAIM_LEN / 2];
	size_t i;

	if (ticket_id_random(raw, sizeof(raw)) < 0) {
		st->temp = 1;
		*error_r = "tickets.db: no random bytes for a claim token "
			   "(getrandom)";
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(token + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

int ticket_store_claim_event(struct ticket_store *st,
			     const struct ticket_store_offer *o,
			     ticket_store_event_fn *fn, void *ctx,
			     const char **error_r)
{
	struct visit v = {.fn.event = fn, .ctx = ctx};
	struct ticket_store_offer at = *o;
	char token[TICKET_CLAIM_LEN + 1];
	int64_t event = 0;
	int r;

	if (new_token(st, token, error_r) < 0 ||
	    ticket_store_begin(st, error_r) < 0)
		return -1;
	if (at.now == 0) /* after waiting for the lock: a full lease */
		at.now = time(NULL);
	r = claim(st, &at, token, &event, error_r);
	if (r > 0)
		r = each(st, event_row, &v, error_r,
			 "SELECT e.id, e.type, e.ticket, e.auto_answer, "
			 "m.message_id, m.kind, m.from_addr, m.subject, "
			 "e.created, e.claim, e.lease_until FROM events e "
			 "JOIN messages m ON m.id = e.message WHERE e.id = ?",
			 "i", event);
	if (r == 0 && event != 0) /* claimed, but its message is gone */
		r = sql_fail(st, error_r);
	if (r <= 0 || ticket_store_commit(st, error_r) < 0) {
		ticket_store_rollback(st);
		return r == 0 ? 0 : -1;
	}
	return 1;
}

/* The event as ack finds it, into v->ctx (struct ticket_store_ack). */
static int ack_row(sqlite3_stmt *stmt, const struct visit *v,
		   const char **error_r)
{
	struct ticket_store_ack *a = v->ctx;
	const char *claim = col_text(stmt, 0), *by = col_text(stmt, 3);

	(void)error_r;
	snprintf(a->claim, sizeof(a->claim), "%s", claim ? claim : "");
	a->acked = (time_t)sqlite3_column_int64(stmt, 1);
	a->lease_until = (time_t)sqlite3_column_int64(stmt, 2);
	snprintf(a->by, sizeof(a->by), "%s", by ? by : "");
	return 0;
}

/* After the UPDATE: *a as the event is now. */
static void ack_done(struct ticket_store_ack *a, const char *consumer,
		     time_t now)
{
	a->acked = now;
	if (consumer != NULL)
		snprintf(a->by, sizeof(a->by), "%s", consumer);
	else if (a->by[0] == '\0')
		snprintf(a->by, sizeof(a->by), "ack");
}

/* What acknowledging does to the event ack_row read. */
static enum ticket_ack ack_outcome(const struct ticket_store_ack *a,
				   const char *claim)
{
	if (claim != NULL && strcmp(claim, a->claim) != 0)
		return TICKET_ACK_LOST;
	return a->acked != 0 ? TICKET_ACK_ALREADY : TICKET_ACK_DONE;
}

int ticket_store_ack_event(struct ticket_store *st, int64_t event,
			   const char *claim, const char *consumer, time_t now,
			   struct ticket_store_ack *a_r, const char **error_r)
{
	struct visit v = {.ctx = a_r};
	int r;

	memset(a_r, 0, sizeof(*a_r));
	if (ticket_store_begin(st, error_r) < 0)
		return -1;
	if (now == 0)
		now = time(NULL);
	r = each(st, ack_row, &v, error_r,
		 "SELECT claim, acked, lease_until, CASE WHEN acked IS NULL "
		 "THEN claimed_by ELSE acked_by END FROM events WHERE id = ?",
		 "i", event);
	a_r->outcome = r == 0 ? TICKET_ACK_UNKNOWN : ack_outcome(a_r, claim);
	if (r > 0 && a_r->outcome == TICKET_ACK_DONE)
		r = run(st, NULL, error_r,
			"UPDATE events SET acked = ?1, acked_by = "
			"coalesce(?2, claimed_by, 'ack'), claimed = "
			"coalesce(claimed, ?1) WHERE id = ?3",
			"iti", (int64_t)now, consumer, event);
	if (r >= 0 && a_r->outcome == TICKET_ACK_DONE)
		ack_done(a_r, consumer, now);
	if (r < 0 || ticket_store_commit(st, error_r) < 0) {
		ticket_store_rollback(st);
		return -1;
	}
	return 0;
}
