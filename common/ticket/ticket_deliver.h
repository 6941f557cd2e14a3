/* ticket_deliver.h - one message into the queue: Maildir, then index */
#ifndef OAUTHMAIL_TICKET_DELIVER_H
#define OAUTHMAIL_TICKET_DELIVER_H

#include <stdint.h>

#include "ticket/ticket_mail.h"
#include "ticket/ticket_queue.h"

struct ticket_spool;

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
	int in_maildir;	 /* the raw copy is in new/ (or cur/) */
	const char *how; /* how it was threaded: "References", "subject tag" */
	enum ticket_kind kind;
	unsigned int flags; /* enum ticket_flag bits */
	char reason[160];
	char from[256];
	uint64_t size;
	struct ticket_mail *mail; /* parsed by the spool step, used by the
				   * index step; ticket_delivery_done frees it */
};

/* Where the message comes from. */
enum ticket_deliver_from {
	TICKET_FROM_FD,	     /* in_fd: copied to tmp/, then new/, indexed */
	TICKET_FROM_HELD,    /* the copy a hold left in tmp/ (spool, and
			      * the same d): into new/, indexed */
	TICKET_FROM_MAILDIR, /* path, name: already in new/ or cur/
			      * (reindex, retries): indexed */
	TICKET_FROM_LINKED,  /* a group's copy: linked into new/ by
			      * TICKET_FROM_HELD with defer_sync, new/
			      * synced since (ticket_maildir_sync_new),
			      * the same d: indexed */
};

struct ticket_deliver_opts {
	enum ticket_deliver_from from;
	int in_fd;		    /* TICKET_FROM_FD */
	const char *sender;	    /* TICKET_FROM_FD, may be NULL: becomes */
	const char *recipient;	    /* Return-Path / Delivered-To (local(8)) */
	int hold;		    /* TICKET_FROM_FD: stop once durable in
				 * tmp/ and parsed (our replies go to new/
				 * only once sent) */
	int named_hold;		    /* hold: keep the copy under a name in
				     * tmp/ (a reply left there when it
				     * cannot be recorded); else the copy
				     * may have none (O_TMPFILE) */
	struct ticket_spool *spool; /* hold: set; TICKET_FROM_HELD: taken
				     * over on success, left as it is (the
				     * copy in tmp/) on failure */
	int defer_sync;		    /* TICKET_FROM_HELD: link into new/ and
				     * stop, not indexed; the caller syncs
				     * new/ once for a group of messages,
				     * then indexes each (TICKET_FROM_LINKED) */
	const char *path;	    /* TICKET_FROM_MAILDIR */
	const char *name;	    /* its Maildir name (the dedup key) */
};

/* ticket_deliver - one message into the queue, in this order: the raw
 * copy durable in tmp/, parsed, named by its dedup key and linked
 * into new/ (fsync), then indexed in one transaction under the shared
 * queue lock (taken and the index opened when the caller has not).
 * TICKET_OK with the outcome in d (with hold: TICKET_STORED means it
 * waits in tmp/), or an error class with error_r; free d with
 * ticket_delivery_done in every case. */
enum ticket_status ticket_deliver(struct ticket_queue *q,
				  const struct ticket_deliver_opts *opts,
				  struct ticket_delivery *d,
				  const char **error_r);

/* ticket_delivery_done - free what a delivery still holds */
void ticket_delivery_done(struct ticket_delivery *d);

#endif
