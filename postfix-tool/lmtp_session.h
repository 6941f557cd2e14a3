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

/* One queue's copy of a message whose DATA ended: what the deliver
 * hook stores, and its reply. */
struct lmtp_job {
	int fd; /* the message, read from offset 0 */
	const char *sender;
	const char *recipient; /* the first of its recipients for dir */
	const char *dir;
	char reply[LMTP_REPLY_MAX]; /* set by the hook, without CRLF */
};

/* What the server does for a session (ticketq_lmtp.c). */
struct lmtp_hooks {
	/* rcpt - the queue directory for a recipient, or NULL: no queue
	 * for it (550 5.1.1) */
	const char *(*rcpt)(void *ctx, const char *address);
	/* deliver - the n jobs of every session whose DATA ended in one
	 * round of the server, stored together (one commit round for the
	 * group): each job's reply set, and none of them sent before the
	 * hook returns; the other recipients of a job's queue in the same
	 * session get its reply */
	void (*deliver)(void *ctx, struct lmtp_job *const *jobs, size_t n);
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
	size_t job;	 /* its reply: jobs[job] */
};

enum lmtp_state {
	LMTP_STATE_LHLO,    /* greeted, LHLO expected */
	LMTP_STATE_IDLE,    /* ready for MAIL */
	LMTP_STATE_MAIL,    /* MAIL given: RCPT, DATA */
	LMTP_STATE_DATA,    /* reading the message */
	LMTP_STATE_DELIVER, /* the message is complete: the server's
			     * delivery round stores it (jobs) */
	LMTP_STATE_DONE,    /* QUIT, or an error that ends it: flush, close */
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
	struct lmtp_job jobs[LMTP_RCPT_MAX]; /* one per queue, DELIVER */
	size_t njobs;
};

/* lmtp_session_start - a new session: the 220 greeting in out */
void lmtp_session_start(struct lmtp_session *s, const struct lmtp_hooks *h);

/* lmtp_session_input - act on every complete line in s->in (the caller
 * appended what it read), leaving a partial line there; replies go to
 * s->out.  State DONE afterwards: write out, then close. */
void lmtp_session_input(struct lmtp_session *s);

/* lmtp_session_jobs - in state DELIVER: the jobs the deliver hook
 * must do into jobs_r (room for LMTP_RCPT_MAX), their count (0 when
 * every recipient's reply is known already: too large, no memory) */
size_t lmtp_session_jobs(struct lmtp_session *s, struct lmtp_job **jobs_r);

/* lmtp_session_delivered - after the deliver hook: each recipient's
 * reply to out, the transaction reset, and the input left in s->in
 * acted on (lmtp_session_input) */
void lmtp_session_delivered(struct lmtp_session *s);

/* lmtp_session_end - free what the session holds (a message half
 * received is dropped: nothing of it was stored) */
void lmtp_session_end(struct lmtp_session *s);

#endif
