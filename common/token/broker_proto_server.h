/* broker_proto_server.h - the broker's half of the token broker's
 * protocol (grammar: broker_proto.h): read a request, write a reply.
 * Linked by `oauthmail serve`, not by the SASL plugin. */
#ifndef OAUTHMAIL_BROKER_PROTO_SERVER_H
#define OAUTHMAIL_BROKER_PROTO_SERVER_H

#include <stddef.h>
#include <time.h>

#include "token/broker_proto.h"

struct strbuf;

/* broker_proto_parse_request - one line (with or without its LF; need
 * not end in NUL).  0, or -1 with error_r (safe to send back as BAD). */
int broker_proto_parse_request(const char *line, size_t len,
			       struct broker_request *req_r,
			       const char **error_r);

/* broker_proto_format_ok - "OK token expires\n", or "OK\n" when token
 * is NULL.  -1 when the token cannot be sent. */
int broker_proto_format_ok(const char *token, time_t expires,
			   struct strbuf *out);

/* broker_proto_format_error - "CLASS text\n"; text is made printable and
 * cut to BROKER_TEXT_MAX bytes */
int broker_proto_format_error(enum om_status status, const char *text,
			      struct strbuf *out);

#endif
