/*
 * ticket_heal.c - an index that lost its last commits in an OS crash
 * is mended from the Maildir by the next process, without an admin.
 *
 * `deliver` commits to tickets.db without fsync (synchronous=OFF): the
 * raw message is durable in the Maildir before the index is touched,
 * and the Maildir is the truth.  A killed process loses nothing (its
 * rollback journal is in the page cache; the next opener plays it
 * back), but an OS crash or power loss can lose the last commits or
 * leave the file damaged.  So the queue records in DIR/ticketq.boot the
 * boot (/proc/sys/kernel/random/boot_id) in which the index was last
 * made to match the Maildir.  The first process of any other boot,
 * before it uses the index, under the exclusive queue lock:
 *
 *   1. checks the index (PRAGMA integrity_check); a damaged one is
 *      rebuilt from the Maildir, as `ticketq reindex` does
 *   2. indexes what new/ and cur/ hold and the index lacks, as
 *      `ticketq reindex --missing` does (by dedup key: nothing twice)
 *   3. writes this boot's id to ticketq.boot (atomically, fsync'd)
 *
 * Every later process of the same boot reads the record (one small
 * read) and goes on; any reboot, clean or not, costs one such pass.
 * Commands other than deliver keep synchronous commits, so what a
 * consumer saw (`next`) is on disk.  Without a readable boot id (no
 * /proc) a crash cannot be told: q->heal_armed stays 0 and deliver
 * keeps synchronous commits too.
 *
 * Failure modes: a lock timeout or I/O error is transient (the caller
 * defers, the next process tries again); a failed rebuild is
 * TICKET_ERR_QUEUE with the reason.  The record is written only after
 * a pass in which every message was indexed; until then each process
 * tries again.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_heal.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_reindex.h"
#include "ticket/ticket_store.h"

#define BOOT_ID_LEN 36 /* 8-4-4-4-12 hex digits */

/* The first line of path, if it is a boot id: 0, else -1. */
static int read_boot_id(const char *path, char id[BOOT_ID_LEN + 1])
{
	char buf[BOOT_ID_LEN + 2];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < BOOT_ID_LEN || (n > BOOT_ID_LEN && buf[BOOT_ID_LEN] != '\n') ||
	    strspn(buf, "0123456789abcdef-") != BOOT_ID_LEN)
		return -1;
	memcpy(id, buf, BOOT_ID_LEN);
	id[BOOT_ID_LEN] = '\0';
	return 0;
}

/* Does DIR/ticketq.boot name this boot? */
static int record_current(const struct ticket_queue *q, const char *boot)
{
	char path[4096 + 32], seen[BOOT_ID_LEN + 1];

	ticket_queue_path(q, TICKET_BOOT_NAME, path, sizeof(path));
	return read_boot_id(path, seen) == 0 && strcmp(seen, boot) == 0;
}

static enum ticket_status write_record(const struct ticket_queue *q,
				       const char *boot, const char **error_r)
{
	char path[4096 + 32], line[BOOT_ID_LEN + 2];

	ticket_queue_path(q, TICKET_BOOT_NAME, path, sizeof(path));
	snprintf(line, sizeof(line), "%s\n", boot);
	if (safefile_write(path, line, strlen(line), 0640, 1, error_r) < 0)
		return TICKET_ERR_TEMP;
	return TICKET_OK;
}

static enum ticket_status open_store(struct ticket_queue *q,
				     const char **error_r)
{
	char path[4096 + 32];

	ticket_queue_path(q, TICKET_DB_NAME, path, sizeof(path));
	return ticket_store_open(path, q->cfg->busy_timeout, 1, &q->store,
				 error_r);
}

/* Step 1: a damaged index is rebuilt from the Maildir. */
static enum ticket_status rebuild_if_damaged(struct ticket_queue *q,
					     const char **error_r)
{
	struct ticket_reindex_tally t;
	char path[4096 + 32];
	const char *why = NULL;
	int r;

	ticket_queue_path(q, TICKET_DB_NAME, path, sizeof(path));
	r = ticket_store_check_file(path, q->cfg->busy_timeout, &why);
	if (r < 0) {
		*error_r = why;
		return TICKET_ERR_TEMP;
	}
	if (r == 0)
		return TICKET_OK;
	log_warn("%s after a reboot (%s): rebuilding it from the Maildir", path,
		 why);
	if (ticket_reindex(q, 0, &t, error_r) != TICKET_OK)
		return TICKET_ERR_QUEUE;
	log_info("%s rebuilt: %lu messages, %lu tickets, %lu failed", path,
		 t.messages, t.tickets, t.failed);
	return TICKET_OK;
}

/* Steps 1 to 3, under the exclusive lock; q->store open after. */
static enum ticket_status mend(struct ticket_queue *q, const char *boot,
			       const char **error_r)
{
	struct ticket_reindex_tally t;
	enum ticket_status st;

	ticket_store_close(&q->store);
	if ((st = rebuild_if_damaged(q, error_r)) != TICKET_OK ||
	    (st = open_store(q, error_r)) != TICKET_OK ||
	    (st = ticket_reindex(q, 1, &t, error_r)) != TICKET_OK)
		return st;
	if (t.messages > 0 || t.failed > 0)
		log_warn("%s/%s: the index lacked %lu messages of the Maildir "
			 "after a reboot: indexed %lu, %lu failed",
			 q->cfg->dir, TICKET_DB_NAME, t.messages + t.failed,
			 t.messages, t.failed);
	if (t.failed > 0)
		return TICKET_OK; /* not recorded: the next process retries */
	if ((st = write_record(q, boot, error_r)) == TICKET_OK)
		q->heal_armed = 1;
	return st;
}

enum ticket_status ticket_heal(struct ticket_queue *q, const char **error_r)
{
	enum ticket_lock was = q->lock;
	enum ticket_status st, relock;
	char boot[BOOT_ID_LEN + 1];

	q->heal_armed = 0;
	if (read_boot_id(TICKET_BOOT_ID_PATH, boot) < 0)
		return TICKET_OK; /* no way to tell a reboot: stay synced */
	if (record_current(q, boot)) {
		q->heal_armed = 1;
		return TICKET_OK;
	}
	st = ticket_queue_lock(q, TICKET_LOCK_EXCLUSIVE, error_r);
	if (st == TICKET_OK && record_current(q, boot))
		q->heal_armed = 1; /* another process was first */
	else if (st == TICKET_OK)
		st = mend(q, boot, error_r);
	if (was == TICKET_LOCK_EXCLUSIVE || q->lock != TICKET_LOCK_EXCLUSIVE)
		return st;
	relock = ticket_queue_lock(q, TICKET_LOCK_SHARED, error_r);
	return st != TICKET_OK ? st : relock;
}
