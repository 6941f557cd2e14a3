/* serve.h - the token broker's request handling (oauthmail serve):
 * shared by the one-connection path (cmd_serve.c: Postfix spawn,
 * systemd Accept=yes) and the concurrent loop (serve_loop.c) */
#ifndef OAUTHMAIL_SERVE_H
#define OAUTHMAIL_SERVE_H

#include <signal.h>
#include <stddef.h>

#include "token/broker_proto.h"

struct strbuf;
struct token_cache;

#define SERVE_REQUEST_TIMEOUT_MS 10000 /* to send a request, read a reply */
#define SERVE_REQUESTS_PER_CONN 16

enum serve_next {
	SERVE_REPLY,   /* reply filled: send it */
	SERVE_REFRESH, /* TOKEN needs the locked path (peek only) */
};

/* serve_parse - one request line; -1 with a BAD reply (the connection
 * ends after it) */
int serve_parse(const char *line, size_t len, struct broker_request *req_r,
		struct strbuf *reply);

/* serve_too_long - the BAD reply to a request line over
 * BROKER_REQUEST_MAX (the connection ends after it) */
void serve_too_long(struct strbuf *reply);

/* serve_request - the reply to req.  With peek, a TOKEN that only the
 * locked path can answer (refresh, back-off, error) is left unanswered:
 * SERVE_REFRESH, and the caller runs serve_answer_token elsewhere. */
enum serve_next serve_request(struct token_cache *cache,
			      const struct broker_request *req, int peek,
			      struct strbuf *reply);

/* serve_answer_token - the reply to TOKEN account, refreshing under the
 * account's lock when needed (may wait for the network) */
void serve_answer_token(struct token_cache *cache, const char *account,
			struct strbuf *reply);

/* serve_loop - serve the listening socket lfd, many connections at once,
 * until *stop is set; OM_OK */
int serve_loop(struct token_cache *cache, int lfd, volatile sig_atomic_t *stop);

#endif
