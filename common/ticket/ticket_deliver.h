/* ticket_deliver.h - one message into the queue: Maildir, then index */
#ifndef OAUTHMAIL_TICKET_DELIVER_H
#define OAUTHMAIL_TICKET_DELIVER_H

#include <stdint.h>

#include "ticket/ticket_mail.h"
#include "ticket/ticket_queue.h"

struct ticket_spool;

#define TICKET_LOOP_HEADER "X-Ticketq-Loop"
#define TICKET_SENT_HEADER "X-Ticketq-Sent"
#define TICKET_NOTE_HEADER "X-Ticketq-Note"

enum ticket_outcome {
	TICKET_STORED,	  /* stored and indexed */
	TICKET_DUPLICATE, /* already stored: nothing new */
	TICKET_TOO_LARGE, /* over max_message_size: refused, nothing kept */
	TICKET_EMPTY,	  /* nothing on input: nothing kept */
};

struct ticket_delivery {
	enum ticket_outcome outcome;
	char name[64];	 /* Maildir file name (the dedup key) */
	uint64_t ticket; /* 0 = not filed on a ticket */
	int new_ticket;
	int existed;	 /* the raw copy was already there (a retry) */
	const char *how; /* how it was threaded: "References", "subject tag" */
	enum ticket_kind kind;
	unsigned int flags;
	char reason[160];
	char from[256];
	uint64_t size;
	struct ticket_mail *mail; /* parsed by the spool step, used by the
				   * index step; ticket_delivery_done frees it */
};

/* ticket_deliver - read one message from in_fd into the queue: raw
 * copy durable in new/ first, then indexed in one transaction (takes
 * the shared queue lock and opens the index when not yet done).
 * sender/recipient (may be NULL) become Return-Path / Delivered-To
 * like local(8) adds them.  TICKET_OK with the outcome in d, or an
 * error class with error_r. */
enum ticket_status ticket_deliver(struct ticket_queue *q, int in_fd,
				  const char *sender, const char *recipient,
				  struct ticket_delivery *d,
				  const char **error_r);

/* ticket_deliver_spool - only the first half: the raw copy durable in
 * new/ (d->name, outcome TICKET_STORED, TICKET_TOO_LARGE or
 * TICKET_EMPTY); index it later with ticket_deliver_file */
enum ticket_status ticket_deliver_spool(struct ticket_queue *q, int in_fd,
					const char *sender,
					const char *recipient,
					struct ticket_delivery *d,
					const char **error_r);

/* ticket_deliver_receive - the spool step in two: first the raw copy
 * durable in DIR/tmp (sp->tmp_path) and parsed, d->name set; outcome
 * TICKET_STORED means it waits there for ticket_deliver_commit (or
 * ticket_maildir_discard).  Used for our replies, which go to new/
 * only once sent. */
enum ticket_status ticket_deliver_receive(struct ticket_queue *q, int in_fd,
					  const char *sender,
					  const char *recipient,
					  struct ticket_delivery *d,
					  struct ticket_spool *sp,
					  const char **error_r);

/* ticket_deliver_commit - then link it into new/ (d->existed) and
 * free sp; on failure the copy stays in tmp/ (sp->tmp_path) */
enum ticket_status ticket_deliver_commit(struct ticket_queue *q,
					 struct ticket_delivery *d,
					 struct ticket_spool *sp,
					 const char **error_r);

/* ticket_deliver_file - index one message already in the Maildir
 * (path, Maildir name); used by deliver, reindex and retries.  The
 * caller holds the lock and has the index open. */
enum ticket_status ticket_deliver_file(struct ticket_queue *q, const char *path,
				       const char *name,
				       struct ticket_delivery *d,
				       const char **error_r);

/* ticket_delivery_done - free what a delivery still holds */
void ticket_delivery_done(struct ticket_delivery *d);

/* ticket_deliver_dkey - the dedup key of a Maildir name (before ':') */
void ticket_deliver_dkey(const char *name, char *buf, size_t size);

#endif
