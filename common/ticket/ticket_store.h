/* ticket_store.h - tickets.db: the SQLite index of the queue */
#ifndef OAUTHMAIL_TICKET_STORE_H
#define OAUTHMAIL_TICKET_STORE_H

#include <stdint.h>
#include <time.h>

#include "ticket/ticket_status.h"

struct ticket_store;
struct ticket_strv;

#define TICKET_STORE_SCHEMA 2

#define TICKET_CLAIM_LEN 16    /* hex digits of a claim token */
#define TICKET_CONSUMER_MAX 64 /* bytes of a consumer's name */

/* A message row as stored. */
struct ticket_store_msg {
	int64_t id;	 /* set by ticket_store_add_message */
	uint64_t ticket; /* 0 = not filed on a ticket */
	const char *dkey;
	const char *file;
	const char *message_id;
	const char *kind;
	const char *flags;
	const char *reason;
	const char *from_addr;
	const char *from_name;
	const char *reply_to;
	const char *to_addrs;
	const char *cc_addrs;
	const char *subject;
	time_t date;
	time_t arrived;
	int64_t size;
	const char *text;
	const char *html; /* NULL = none */
};

struct ticket_store_att {
	int64_t message;
	const char *name;
	const char *content_type;
	int64_t size;
	const char *path; /* NULL = not saved */
	const char *content_id;
	int is_inline;
};

/* ticket_store_open - open (create=1: create if missing) the database
 * at path with the busy timeout.  TICKET_OK; TICKET_ERR_TEMP when
 * retrying may help (busy, cannot open, disk full), else
 * TICKET_ERR_QUEUE (a newer schema, no index), with error_r. */
enum ticket_status ticket_store_open(const char *path, int busy_timeout,
				     int create, struct ticket_store **st_r,
				     const char **error_r);

/* ticket_store_close - close and NULL */
void ticket_store_close(struct ticket_store **st);

/* ticket_store_temp_failure - 1 when the last failure was transient
 * (busy, locked, disk full, I/O error, out of memory) */
int ticket_store_temp_failure(const struct ticket_store *st);

/* ticket_store_begin - BEGIN IMMEDIATE (waits up to the busy timeout) */
int ticket_store_begin(struct ticket_store *st, const char **error_r);
/* ticket_store_commit - COMMIT */
int ticket_store_commit(struct ticket_store *st, const char **error_r);
/* ticket_store_rollback - ROLLBACK, if a transaction is open */
void ticket_store_rollback(struct ticket_store *st);

/* ticket_store_has_dkey - 1 when a message with this key is stored */
int ticket_store_has_dkey(struct ticket_store *st, const char *dkey,
			  const char **error_r);

/* ticket_store_ticket_by_message_id - ticket of the newest filed
 * message with this Message-ID: 1 found, 0 none, -1 error */
int ticket_store_ticket_by_message_id(struct ticket_store *st,
				      const char *message_id,
				      uint64_t *ticket_r, const char **error_r);

/* ticket_store_ticket_exists - 1 yes, 0 no, -1 error */
int ticket_store_ticket_exists(struct ticket_store *st, uint64_t ticket,
			       const char **error_r);

/* ticket_store_is_participant - 1 yes, 0 no, -1 error */
int ticket_store_is_participant(struct ticket_store *st, uint64_t ticket,
				const char *addr, const char **error_r);

/* ticket_store_create_ticket - a new ticket, status open */
int ticket_store_create_ticket(struct ticket_store *st, uint64_t ticket,
			       const char *subject, const char *requester,
			       time_t now, const char *flags,
			       const char **error_r);

/* ticket_store_add_participant - add (ignored when present) */
int ticket_store_add_participant(struct ticket_store *st, uint64_t ticket,
				 const char *addr, const char **error_r);

/* ticket_store_update - set status (NULL = keep) and updated time
 * (0 = keep), add a flag word (NULL = none) */
int ticket_store_update(struct ticket_store *st, uint64_t ticket,
			const char *status, time_t updated,
			const char *add_flag, const char **error_r);

/* ticket_store_add_message - insert; sets msg->id */
int ticket_store_add_message(struct ticket_store *st,
			     struct ticket_store_msg *msg,
			     const char **error_r);

/* ticket_store_add_attachment - insert */
int ticket_store_add_attachment(struct ticket_store *st,
				const struct ticket_store_att *att,
				const char **error_r);

/* ticket_store_add_event - queue an event for `ticketq next` */
int ticket_store_add_event(struct ticket_store *st, const char *type,
			   uint64_t ticket, int64_t message, time_t now,
			   int auto_answer, const char **error_r);

/* --- reading (show, list, reply): each row to a callback ------------
 * The row's strings live until the callback returns.  A callback that
 * returns -1 (with error_r) stops the walk, which then returns -1. */

/* A ticket row. */
struct ticket_store_ticket {
	uint64_t id;
	const char *status;
	const char *subject;
	const char *requester;
	time_t created;
	time_t updated;
	const char *flags; /* words separated by blanks */
	int64_t messages;  /* how many messages are filed on it */
};

/* A message as a thread entry. */
struct ticket_store_entry {
	int64_t id;
	const char *message_id; /* no <>, or NULL */
	const char *from_addr;	/* or NULL */
	const char *reply_to;	/* or NULL */
	time_t date;
	const char *subject;
	const char *kind;
	const char *flags;
	const char *text;
	const char *html; /* or NULL */
};

/* An event for `ticketq next`, with its message. */
struct ticket_store_event {
	int64_t id;
	const char *type;
	uint64_t ticket;
	int auto_answer;
	const char *message_id; /* or NULL */
	const char *kind;
	const char *from_addr; /* or NULL */
	const char *subject;
	time_t created;
	const char *claim;  /* the claim token: ack with it */
	time_t lease_until; /* 0: at most once, acknowledged already */
};

typedef int ticket_store_ticket_fn(void *ctx,
				   const struct ticket_store_ticket *t,
				   const char **error_r);
typedef int ticket_store_entry_fn(void *ctx, const struct ticket_store_entry *e,
				  const char **error_r);
typedef int ticket_store_att_fn(void *ctx, const struct ticket_store_att *a,
				const char **error_r);
typedef int ticket_store_text_fn(void *ctx, const char *text,
				 const char **error_r);
typedef int ticket_store_event_fn(void *ctx,
				  const struct ticket_store_event *ev,
				  const char **error_r);

/* ticket_store_get_ticket - ticket id to fn: 1 found, 0 none, -1 */
int ticket_store_get_ticket(struct ticket_store *st, uint64_t id,
			    ticket_store_ticket_fn *fn, void *ctx,
			    const char **error_r);

/* ticket_store_each_ticket - every ticket (status NULL) or those with
 * status, most recently updated first.  0, or -1. */
int ticket_store_each_ticket(struct ticket_store *st, const char *status,
			     ticket_store_ticket_fn *fn, void *ctx,
			     const char **error_r);

/* ticket_store_each_participant - the ticket's addresses, in the order
 * they were added.  0, or -1. */
int ticket_store_each_participant(struct ticket_store *st, uint64_t ticket,
				  ticket_store_text_fn *fn, void *ctx,
				  const char **error_r);

/* ticket_store_each_message - the ticket's thread, oldest first (by
 * arrival).  0, or -1. */
int ticket_store_each_message(struct ticket_store *st, uint64_t ticket,
			      ticket_store_entry_fn *fn, void *ctx,
			      const char **error_r);

/* ticket_store_each_attachment - a message's attachments, in order
 * (a->message, a->is_inline not set).  0, or -1. */
int ticket_store_each_attachment(struct ticket_store *st, int64_t message,
				 ticket_store_att_fn *fn, void *ctx,
				 const char **error_r);

/* ticket_store_each_reference - Message-IDs of the ticket's messages
 * (not our notes), oldest first: the References of a reply.  0, -1. */
int ticket_store_each_reference(struct ticket_store *st, uint64_t ticket,
				ticket_store_text_fn *fn, void *ctx,
				const char **error_r);

/* Which message ticket_store_newest_message looks for. */
enum ticket_store_newest {
	TICKET_NEWEST_CUSTOMER, /* the last a customer wrote */
	TICKET_NEWEST_INBOUND,	/* the last that came in: customer,
				 * auto-reply or bounce */
};

/* ticket_store_newest_message - that message to fn: 1 found, 0 none,
 * -1 */
int ticket_store_newest_message(struct ticket_store *st, uint64_t ticket,
				enum ticket_store_newest which,
				ticket_store_entry_fn *fn, void *ctx,
				const char **error_r);

/* How `next` hands out an event. */
struct ticket_store_offer {
	const char *consumer; /* claimed_by (and acked_by, at most once) */
	time_t now;	      /* 0: the clock once the write lock is held */
	int lease; /* seconds the claim holds the event; 0: at most once,
		    * acknowledged in the claiming transaction */
};

/* ticket_store_claim_event - in one transaction, claim the oldest
 * event that is not acknowledged and has no lease (or one that ran
 * out before o->now) with a fresh claim token and a lease of o->lease
 * seconds (lease_until = now + lease, offered again only after that
 * second), and pass it to fn; when fn or the read fails the claim is
 * rolled back (two consumers never hold the same event at once, one
 * that cannot be read stays offerable).  1 claimed, 0 none offerable,
 * -1. */
int ticket_store_claim_event(struct ticket_store *st,
			     const struct ticket_store_offer *o,
			     ticket_store_event_fn *fn, void *ctx,
			     const char **error_r);

/* What ticket_store_ack_event found and did. */
enum ticket_ack {
	TICKET_ACK_DONE,    /* acknowledged now */
	TICKET_ACK_ALREADY, /* acknowledged before: nothing done */
	TICKET_ACK_LOST,    /* the claim given is not the event's claim
			     * (its lease ran out and another took it):
			     * nothing done */
	TICKET_ACK_UNKNOWN, /* no such event */
};

struct ticket_store_ack {
	enum ticket_ack outcome;
	char claim[TICKET_CLAIM_LEN + 1]; /* the event's claim; "" none */
	time_t acked;			  /* when acknowledged; 0 not yet */
	time_t lease_until;		  /* its claim's lease; 0 none */
	char by[TICKET_CONSUMER_MAX + 1]; /* acked_by, or else claimed_by */
};

/* ticket_store_ack_event - acknowledge event (done: never offered
 * again), in one transaction, at now (0: the clock once the write lock
 * is held).  With claim (else NULL: whatever holds it), only when that
 * is still the event's claim.  acked_by is consumer, NULL: the claim's
 * consumer.  0 with *a_r, or -1. */
int ticket_store_ack_event(struct ticket_store *st, int64_t event,
			   const char *claim, const char *consumer, time_t now,
			   struct ticket_store_ack *a_r, const char **error_r);

/* ticket_store_unsynced - no fsync at all: a private index being
 * rebuilt (synced once as a whole before it is put in place), or a
 * delivery whose queue heals its index after an OS crash
 * (ticket_heal.c) */
int ticket_store_unsynced(struct ticket_store *st, const char **error_r);

/* ticket_store_check_file - is the database at path damaged (not a
 * database, or PRAGMA integrity_check fails)?  0 intact or missing,
 * 1 damaged (why_r says how), -1 it cannot be checked (why_r; busy,
 * I/O).  A hot journal of a killed writer is rolled back first. */
int ticket_store_check_file(const char *path, int busy_timeout,
			    const char **why_r);

/* ticket_store_carry_claims - the consumer state of the events in the
 * index at old_db (schema 1 or 2; same message, same type) is copied
 * here: claims, leases, acknowledgements (schema 1's claims count as
 * acknowledged).  0, or -1. */
int ticket_store_carry_claims(struct ticket_store *st, const char *old_db,
			      const char **error_r);

/* ticket_store_claim_all - mark every unacknowledged event claimed and
 * acknowledged by consumer.  0, or -1. */
int ticket_store_claim_all(struct ticket_store *st, const char *consumer,
			   const char **error_r);

#endif
