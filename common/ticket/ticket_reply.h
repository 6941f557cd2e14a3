/* ticket_reply.h - our outgoing mail: replies and status notes */
#ifndef OAUTHMAIL_TICKET_REPLY_H
#define OAUTHMAIL_TICKET_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "ticket/ticket_mail.h"
#include "ticket/ticket_status.h"

struct ticket_config;
struct ticket_queue;
struct ticket_store;

/* What a reply needs to know about its ticket. */
struct ticket_reply_info {
	uint64_t ticket;
	char *status;
	char *subject;	       /* the ticket's subject */
	char *requester;       /* the ticket's requester */
	struct ticket_strv to; /* the requester: Reply-To, else From, of
				* their newest message */
	struct ticket_strv cc; /* the other participants: not in to, not
				* the queue's address, no robots */
	size_t cc_dropped;     /* older participants left off cc
					  * (it holds the newest 20) */
	struct ticket_strv participants; /* all of them, as stored */
	char *in_reply_to;	       /* Message-ID answered (the last customer
				* message, no <>), or NULL */
	struct ticket_strv references; /* thread Message-IDs, oldest first */
	unsigned int last_flags;       /* flags of the last inbound message */
	char *last_kind;	       /* its kind */
};

/* Whom `ticket_reply_send` writes to: NULL lists are the defaults
 * (to: the requester, refused when it is the queue's own address;
 * cc: the newest 20 other participants with an @domain, none for an
 * automatic answer). */
struct ticket_reply_opts {
	int automatic; /* an automatic answer (reply --auto) */
	const struct ticket_strv *to;
	const struct ticket_strv *cc;
};

/* A composed message: what goes to sendmail and what we keep. */
struct ticket_outgoing {
	char *message_id; /* no <> */
	char *to;	  /* the To addresses, ", "-separated */
	char *cc;	  /* the Cc addresses, or "" */
	char *sent;	  /* the message as sent */
	char *stored; /* the same with our signed X-Ticketq-Sent/Note header */
};

/* ticket_reply_load - read the ticket's reply facts: 1 found, 0 no such
 * ticket, -1 error (ri is left empty but for 1; free it in every case) */
int ticket_reply_load(struct ticket_store *st, uint64_t ticket,
		      struct ticket_reply_info *ri, const char **error_r);

/* ticket_reply_info_free - free the fields */
void ticket_reply_info_free(struct ticket_reply_info *ri);

/* ticket_reply_addrs_parse - a list of addresses as given on the
 * command line ("a@x.example, B <b@y.example>"), parsed by GMime, into
 * lower-case addr-specs appended to out; "" adds none.  0, or -1 with
 * error_r naming the bad address (a bare name without @domain) or
 * saying there are more than 100. */
int ticket_reply_addrs_parse(const char *list, struct ticket_strv *out,
			     const char **error_r);

/* ticket_reply_build - a reply: From the queue address, To and Cc as
 * ri says, "Re: [#tag] subject", In-Reply-To/References, our signed
 * Message-ID, the loop header, body (UTF-8 text) as text/plain.
 * automatic marks it Auto-Submitted: auto-replied (with Precedence
 * bulk and X-Auto-Response-Suppress).  0, or -1. */
int ticket_reply_build(const struct ticket_config *cfg,
		       const struct ticket_reply_info *ri, const char *body,
		       int automatic, struct ticket_outgoing *out,
		       const char **error_r);

/* ticket_reply_note - a status note ("close", "reopen") about ticket,
 * kept in the Maildir so reindex replays it; never sent.  0, or -1. */
int ticket_reply_note(const struct ticket_config *cfg, uint64_t ticket,
		      const char *action, const char *who,
		      struct ticket_outgoing *out, const char **error_r);

/* ticket_outgoing_free - free the fields */
void ticket_outgoing_free(struct ticket_outgoing *out);

/* ticket_reply_subject - "Re: [#482913] subject" for a ticket subject
 * (existing Re:/AW:/Fwd: prefixes and our tag are not repeated); a new
 * string */
char *ticket_reply_subject(const struct ticket_config *cfg, uint64_t ticket,
			   const char *subject);

/* What ticket_reply_send and ticket_reply_set_status did. */
enum ticket_reply_outcome {
	TICKET_REPLY_DONE,	/* sent (reply) or noted (close, reopen) */
	TICKET_REPLY_NO_TICKET, /* no such ticket */
	TICKET_REPLY_REFUSED,	/* automatic: the last message must not
				  * be answered by a robot */
	TICKET_REPLY_UNCHANGED, /* the ticket already has that status */
};

struct ticket_reply_result {
	enum ticket_reply_outcome outcome;
	char *message_id;  /* DONE, reply: what was sent (no <>) */
	char *to;	   /* DONE: to whom; REFUSED: whom it would answer */
	char *cc;	   /* DONE, reply: Cc, or "" */
	size_t cc_dropped; /* DONE, default Cc: older participants left
			    * off it (at most 20 go on) */
	char *last_kind;   /* REFUSED: what came in last ("none") */
	char *warning;	   /* DONE, reply: sent, but our copy is not (yet)
			   * on the ticket; what to do about it */
};

/* ticket_reply_send - answer ticket with body (UTF-8 text), to and cc
 * as o says: compose
 * (ticket_reply_build), keep the stored twin durable in tmp/, hand the
 * reply to the sendmail command, and only once it exits 0 move the
 * twin to new/ and index it.  After a send the result is DONE whatever
 * happens next (an error would make the caller send it twice): a
 * failure to record it is res->warning.  o->automatic refuses to
 * answer mail flagged no-auto-answer or a no-reply address (REFUSED).
 * The caller holds the shared lock with the index open.  TICKET_OK
 * with res, or an error class with error_r (nothing sent); free res
 * with ticket_reply_result_free in every case. */
enum ticket_status ticket_reply_send(struct ticket_queue *q, uint64_t ticket,
				     const char *body,
				     const struct ticket_reply_opts *o,
				     struct ticket_reply_result *res,
				     const char **error_r);

/* ticket_reply_set_status - action "close" or "reopen": keep it as a
 * signed note in the Maildir (so reindex replays it) and index it,
 * unless the ticket is already closed / open (UNCHANGED); who is named
 * in the note.  TICKET_OK with res, or an error class with error_r. */
enum ticket_status ticket_reply_set_status(struct ticket_queue *q,
					   uint64_t ticket, const char *action,
					   const char *who,
					   struct ticket_reply_result *res,
					   const char **error_r);

/* ticket_reply_result_free - free the fields */
void ticket_reply_result_free(struct ticket_reply_result *res);

#endif
