/* lmtp_session.h - one LMTP client's session for `ticketq lmtp`: the
 * state machine over lmtp_proto.c, without sockets */
#ifndef OAUTHMAIL_LMTP_SESSION_H
#define OAUTHMAIL_LMTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "ticket/lmtp_proto.h"

#define LMTP_RCPT_MAX 100	 /* recipients per transaction */
#define LMTP_DATA_LINE_MAX 65536 /* a line of the message */
#define LMTP_IN_MAX (LMTP_DATA_LINE_MAX + 2)
#define LMTP_REPLY_MAX 512

/* What the server does for a session (ticketq_lmtp.c). */
struct lmtp_hooks {
	/* rcpt - the queue directory for a recipient, or NULL: no queue
	 * for it (550 5.1.1) */
	const char *(*rcpt)(void *ctx, const char *address);
	/* deliver - the message in fd (from offset 0) into queue dir, for
	 * recipient (the first of its recipients for that queue): its reply
	 * line, without CRLF, into reply (size LMTP_REPLY_MAX); the other
	 * recipients of the same queue get the same reply */
	void (*deliver)(void *ctx, int fd, const char *sender,
			const char *recipient, const char *dir, char *reply);
	/* idle - called once the server has had nothing to do for a moment
	 * after some work (the queues are released then); may be NULL */
	void (*idle)(void *ctx);
	void *ctx;
	const char *hostname;
	uint64_t max_size; /* SIZE: over it 552 5.3.4, nothing kept */
};

struct lmtp_rcpt {
	char address[LMTP_ADDRESS_MAX + 1];
	const char *dir; /* owned by the hooks' map */
};

enum lmtp_state {
	LMTP_STATE_LHLO, /* greeted, LHLO expected */
	LMTP_STATE_IDLE, /* ready for MAIL */
	LMTP_STATE_MAIL, /* MAIL given: RCPT, DATA */
	LMTP_STATE_DATA, /* reading the message */
	LMTP_STATE_DONE, /* QUIT, or an error that ends it: flush, close */
};

struct lmtp_session {
	const struct lmtp_hooks *hooks;
	enum lmtp_state state;
	char in[LMTP_IN_MAX];
	size_t inlen;
	struct strbuf out; /* replies not yet written */
	char sender[LMTP_ADDRESS_MAX + 1];
	struct lmtp_rcpt rcpt[LMTP_RCPT_MAX];
	size_t nrcpt;
	struct lmtp_data data;
	struct strbuf chunk; /* message bytes not yet in data_fd */
	int data_fd;	     /* the message being received, or -1 */
	int bad_data;	     /* the message cannot be kept (I/O) */
};

/* lmtp_session_start - a new session: the 220 greeting in out */
void lmtp_session_start(struct lmtp_session *s, const struct lmtp_hooks *h);

/* lmtp_session_input - act on every complete line in s->in (the caller
 * appended what it read), leaving a partial line there; replies go to
 * s->out.  State DONE afterwards: write out, then close. */
void lmtp_session_input(struct lmtp_session *s);

/* lmtp_session_end - free what the session holds (a message half
 * received is dropped: nothing of it was stored) */
void lmtp_session_end(struct lmtp_session *s);

#endif
