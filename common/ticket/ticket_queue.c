/*
 * ticket_queue.c - open a ticket queue for work.
 *
 * A queue is its config, a lock file and the index.  The lock is a
 * flock(2) on DIR/ticketq.lock: deliveries and readers hold it shared,
 * `reindex` holds it exclusive while it swaps in a rebuilt tickets.db,
 * so nobody has the old database open at that moment.  Waiting for it
 * is bounded by lock_timeout; a timeout is a transient failure (the
 * MTA retries the delivery).  The index is healed after a reboot
 * before it is used (ticket_heal.c).
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/lockfile.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_heal.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_store.h"

void ticket_queue_path(const struct ticket_queue *q, const char *name,
		       char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", q->cfg->dir, name);
}

enum ticket_status ticket_queue_open(const char *dir, struct ticket_queue **q_r,
				     const char **error_r)
{
	struct ticket_queue *q = calloc(1, sizeof(*q));
	int r;

	if (q == NULL) {
		*error_r = "out of memory";
		return TICKET_ERR_TEMP;
	}
	q->lock_fd = -1;
	r = ticket_config_load(dir, &q->cfg, error_r);
	if (r != 0) {
		if (r > 0)
			*error_r = errorf("%s is not a ticket queue (no %s; "
					  "run: ticketq init --queue %s)",
					  dir, TICKET_CONFIG_NAME, dir);
		free(q);
		return TICKET_ERR_QUEUE;
	}
	ticket_queue_path(q, "files", q->files_root, sizeof(q->files_root));
	*q_r = q;
	return TICKET_OK;
}

enum ticket_status ticket_queue_lock(struct ticket_queue *q,
				     enum ticket_lock lock,
				     const char **error_r)
{
	char path[4096 + 32];

	if (q->lock == lock)
		return TICKET_OK;
	ticket_queue_path(q, TICKET_LOCK_NAME, path, sizeof(path));
	if (q->lock_fd < 0)
		q->lock_fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
	if (q->lock_fd < 0) {
		*error_r = errorf("open %s: %s", path, strerror(errno));
		return TICKET_ERR_TEMP;
	}
	if (lockfile_wait(q->lock_fd,
			  lock == TICKET_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH,
			  q->cfg->lock_timeout * 1000L) < 0) {
		if (errno == ETIMEDOUT)
			*error_r = errorf("queue locked for more than %d s "
					  "(reindex running?): %s",
					  q->cfg->lock_timeout, path);
		else
			*error_r = errorf("lock %s: %s", path, strerror(errno));
		return TICKET_ERR_TEMP;
	}
	q->lock = lock;
	return TICKET_OK;
}

enum ticket_status ticket_queue_store(struct ticket_queue *q,
				      const char **error_r)
{
	char path[4096 + 32];
	enum ticket_status st;

	if (q->store != NULL)
		return TICKET_OK;
	if (!q->heal_armed && (st = ticket_heal(q, error_r)) != TICKET_OK) {
		ticket_store_close(&q->store);
		return st;
	}
	if (q->store != NULL) /* a heal pass ran and left it open */
		return TICKET_OK;
	ticket_queue_path(q, TICKET_DB_NAME, path, sizeof(path));
	return ticket_store_open(path, q->cfg->busy_timeout, 1, &q->store,
				 error_r);
}

void ticket_queue_release(struct ticket_queue *q)
{
	ticket_store_close(&q->store);
	if (q->lock_fd >= 0)
		close(q->lock_fd);
	q->lock_fd = -1;
	q->lock = TICKET_LOCK_NONE;
}

void ticket_queue_close(struct ticket_queue **qp)
{
	struct ticket_queue *q = *qp;

	if (q == NULL)
		return;
	ticket_queue_release(q);
	ticket_config_free(&q->cfg);
	free(q);
	*qp = NULL;
}
