/* ticket_queue.h - an open ticket queue: config, lock, index */
#ifndef OAUTHMAIL_TICKET_QUEUE_H
#define OAUTHMAIL_TICKET_QUEUE_H

#include <stddef.h>

#include "ticket/ticket_status.h"

struct ticket_config;
struct ticket_store;

#define TICKET_DB_NAME "tickets.db"
#define TICKET_LOCK_NAME "ticketq.lock"

enum ticket_lock {
	TICKET_LOCK_NONE,
	TICKET_LOCK_SHARED,    /* deliveries and readers */
	TICKET_LOCK_EXCLUSIVE, /* reindex */
};

struct ticket_queue {
	struct ticket_config *cfg;
	struct ticket_store *store; /* NULL until ticket_queue_store() */
	int lock_fd;
	enum ticket_lock lock;
	int heal_armed;	       /* an OS crash will be healed: ticket_heal.c */
	char files_root[4096]; /* where attachments are written */
};

/* ticket_queue_open - load DIR's config.  TICKET_OK; TICKET_ERR_QUEUE
 * when it is missing or wrong (error_r says what to run). */
enum ticket_status ticket_queue_open(const char *dir, struct ticket_queue **q_r,
				     const char **error_r);

/* ticket_queue_lock - take the queue lock, waiting up to lock_timeout:
 * TICKET_OK, or TICKET_ERR_TEMP on timeout or error */
enum ticket_status ticket_queue_lock(struct ticket_queue *q,
				     enum ticket_lock lock,
				     const char **error_r);

/* ticket_queue_store - open DIR/tickets.db (created when missing),
 * healed first after a reboot (ticket_heal) */
enum ticket_status ticket_queue_store(struct ticket_queue *q,
				      const char **error_r);

/* ticket_queue_release - close the index and drop the lock, keeping
 * the config: a long-lived process (ticketq lmtp) between bursts, so
 * a reindex can take the queue */
void ticket_queue_release(struct ticket_queue *q);

/* ticket_queue_close - close the index, drop the lock, free, NULL */
void ticket_queue_close(struct ticket_queue **q);

/* ticket_queue_path - DIR/name into buf */
void ticket_queue_path(const struct ticket_queue *q, const char *name,
		       char *buf, size_t size);

#endif
