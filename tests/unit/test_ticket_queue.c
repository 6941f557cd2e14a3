/* test_ticket_queue.c - opening a queue: config, lock, index */
#include "oauthmail-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testlib.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_queue.h"
#include "ticket_testutil.h"

static void test_open(void)
{
	char dir[] = "/tmp/test_ticket_queue.XXXXXX", want[128], got[4200];
	struct ticket_queue *q = NULL;
	const char *error = NULL;

	check_true("mkdtemp", mkdtemp(dir) != NULL);
	check_int("no config: needs an admin",
		  ticket_queue_open(dir, &q, &error), TICKET_ERR_QUEUE);
	check_true("says what to run", error && strstr(error, "ticketq init"));
	check_true("nothing returned", q == NULL);
	q = testutil_queue(dir, "");
	check_true("opened", q != NULL);
	if (q == NULL)
		return;
	snprintf(want, sizeof(want), "%s/files", dir);
	check_str("attachments go to files/", q->files_root, want);
	ticket_queue_path(q, TICKET_DB_NAME, got, sizeof(got));
	snprintf(want, sizeof(want), "%s/tickets.db", dir);
	check_str("path", got, want);
	check_true("no index yet", q->store == NULL);
	check_int("lock", ticket_queue_lock(q, TICKET_LOCK_SHARED, &error),
		  TICKET_OK);
	check_int("lock again: nothing to do",
		  ticket_queue_lock(q, TICKET_LOCK_SHARED, &error), TICKET_OK);
	check_int("index", ticket_queue_store(q, &error), TICKET_OK);
	check_true("index open", q->store != NULL);
	check_int("index again", ticket_queue_store(q, &error), TICKET_OK);
	ticket_queue_close(&q);
	check_true("closed is NULL", q == NULL);
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
}

/* reindex holds it exclusive: a delivery waits lock_timeout, then
 * defers (transient). */
static void test_lock_timeout(void)
{
	char dir[] = "/tmp/test_ticket_queue.XXXXXX", path[4200];
	struct ticket_queue *q;
	const char *error = NULL;
	time_t start;
	int fd;

	if (mkdtemp(dir) == NULL ||
	    (q = testutil_queue(dir, "lock_timeout = 1\n")) == NULL) {
		check_true("queue", 0);
		return;
	}
	ticket_queue_path(q, TICKET_LOCK_NAME, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
	check_int("someone holds it", flock(fd, LOCK_EX), 0);
	start = time(NULL);
	check_int("locked: transient",
		  ticket_queue_lock(q, TICKET_LOCK_SHARED, &error),
		  TICKET_ERR_TEMP);
	check_true("after the timeout", time(NULL) - start >= 1);
	check_true("says why", error && strstr(error, "locked for more"));
	flock(fd, LOCK_UN);
	check_int("free again",
		  ticket_queue_lock(q, TICKET_LOCK_SHARED, &error), TICKET_OK);
	close(fd);
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
}

/* The index: a newer schema needs an admin, one that cannot be opened
 * is transient. */
static void test_index_errors(void)
{
	char dir[] = "/tmp/test_ticket_queue.XXXXXX", path[4200];
	struct ticket_queue *q;
	const char *error = NULL;
	sqlite3 *db;

	if (mkdtemp(dir) == NULL || (q = testutil_queue(dir, "")) == NULL) {
		check_true("queue", 0);
		return;
	}
	ticket_queue_path(q, TICKET_DB_NAME, path, sizeof(path));
	check_int("a directory in its place", mkdir(path, 0700), 0);
	check_int("cannot open: transient", ticket_queue_store(q, &error),
		  TICKET_ERR_TEMP);
	rmdir(path);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL);
	sqlite3_close(db);
	check_int("newer schema: needs an admin", ticket_queue_store(q, &error),
		  TICKET_ERR_QUEUE);
	check_true("no index kept", q->store == NULL);
	ticket_queue_close(&q);
	testutil_rm_tree(dir);
}

int main(void)
{
	test_open();
	test_lock_timeout();
	test_index_errors();
	return test_done("test_ticket_queue");
}
