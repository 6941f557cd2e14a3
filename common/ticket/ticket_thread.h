/* ticket_thread.h - which ticket a message belongs to, and why */
#ifndef OAUTHMAIL_TICKET_THREAD_H
#define OAUTHMAIL_TICKET_THREAD_H

#include <stdint.h>

#include "ticket/ticket_mail.h"
#include "ticket/ticket_status.h"

struct ticket_config;
struct ticket_store;

/* What threading looks at, borrowed from the classified message. */
struct ticket_thread_keys {
	enum ticket_kind kind;	/* after ticket_classify */
	int unparsed;		/* TICKET_FLAG_UNPARSED: never threaded */
	uint64_t own_ticket;	/* reply, note: the ticket in our signed
				* Message-ID */
	const char *message_id; /* NULL when missing */
	const struct ticket_strv *refs;	    /* In-Reply-To, then References
					     * newest first */
	const struct ticket_strv *dsn_refs; /* bounce: the bounced message's */
	const char *subject;
	const char *from_addr;	 /* NULL when missing */
	const char *raw_subject; /* the Subject as sent (undecoded), or NULL:
				  * a tag is looked for here too */
};

enum ticket_thread_verdict {
	TICKET_THREAD_NONE,	/* filed on no ticket (robots, loops) */
	TICKET_THREAD_EXISTING, /* on decision.ticket */
	TICKET_THREAD_NEW,	/* opens a new ticket */
};

struct ticket_thread_decision {
	enum ticket_thread_verdict verdict;
	uint64_t ticket; /* TICKET_THREAD_EXISTING */
	const char *how; /* what matched: "References", "our Message-ID",
			  * "bounced message", "same Message-ID", "subject
			  * tag"; NULL when no thread key decided (our own
			  * reply or note, new, none) */
};

/* ticket_thread_decide - the threading rules, in order: our own reply
 * or note goes to the ticket its signed Message-ID names (if it
 * exists); a loop nowhere; then, unless unparsed, a bounce by the
 * bounced message's Message-IDs, In-Reply-To and References (each as
 * our signed Message-ID and as any stored one), the message's own
 * Message-ID, and (not for bounces) the subject tag, accepted only
 * from a participant of that ticket; else a customer opens a new
 * ticket and a robot goes on none.  Lookups go through st.  TICKET_OK
 * with *dec_r, or the class of the index failure with error_r. */
enum ticket_status ticket_thread_decide(const struct ticket_config *cfg,
					struct ticket_store *st,
					const struct ticket_thread_keys *keys,
					struct ticket_thread_decision *dec_r,
					const char **error_r);

#endif
