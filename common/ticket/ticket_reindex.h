/* ticket_reindex.h - rebuild tickets.db from the Maildir, the truth */
#ifndef OAUTHMAIL_TICKET_REINDEX_H
#define OAUTHMAIL_TICKET_REINDEX_H

#include "ticket/ticket_status.h"

struct ticket_queue;

/* What a reindex did. */
struct ticket_reindex_tally {
	unsigned long messages;	  /* indexed now */
	unsigned long tickets;	  /* new tickets among them */
	unsigned long unfiled;	  /* indexed on no ticket */
	unsigned long duplicates; /* already indexed */
	unsigned long failed;	  /* could not be indexed (logged) */
};

/* ticket_reindex - missing = 0: rebuild the whole index and files/
 * from the Maildir (the caller holds the exclusive queue lock, the
 * index not open); missing = 1: index only the Maildir files the index
 * lacks (shared lock, index open).  Both then remove files older than
 * 36 h from tmp/.  Each message that fails is logged and counted in
 * t->failed.  TICKET_OK (look at t->failed), or TICKET_ERR_QUEUE when
 * the Maildir cannot be read or the new index not put in place, with
 * error_r. */
enum ticket_status ticket_reindex(struct ticket_queue *q, int missing,
				  struct ticket_reindex_tally *t,
				  const char **error_r);

#endif
