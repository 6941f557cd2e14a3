/* ticket_reply.h - our outgoing mail: replies and status notes */
#ifndef OAUTHMAIL_TICKET_REPLY_H
#define OAUTHMAIL_TICKET_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "ticket/ticket_mail.h"

struct ticket_config;
struct ticket_store;

/* What a reply needs to know about its ticket. */
struct ticket_reply_info {
	uint64_t ticket;
	char *status;
	char *subject;	   /* the ticket's subject */
	char *to;	   /* Reply-To or From of the last customer message */
	char *in_reply_to; /* Message-ID answered (no <>), or NULL */
	struct ticket_strv references; /* thread Message-IDs, oldest first */
	unsigned int last_flags;       /* flags of the last inbound message */
	char *last_kind;	       /* its kind */
};

/* A composed message: what goes to sendmail and what we keep. */
struct ticket_outgoing {
	char *message_id; /* no <> */
	char *to;
	char *sent;   /* the message as sent */
	char *stored; /* the same with our signed X-Ticketq-Sent/Note header */
};

/* ticket_reply_load - read the ticket's reply facts: 1 found, 0 no such
 * ticket, -1 error (ri is left empty but for 1; free it in every case) */
int ticket_reply_load(struct ticket_store *st, uint64_t ticket,
		      struct ticket_reply_info *ri, const char **error_r);

/* ticket_reply_info_free - free the fields */
void ticket_reply_info_free(struct ticket_reply_info *ri);

/* ticket_reply_build - a reply: From the queue address, To the
 * customer, "Re: [#tag] subject", In-Reply-To/References, our signed
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

#endif
