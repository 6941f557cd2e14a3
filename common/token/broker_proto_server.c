/*
 * broker_proto_server.c - the broker's half of the token broker's
 * protocol (grammar: broker_proto.h): parse a request line, build the
 * reply.  Linked by `oauthmail serve` only; the SASL plugin, a client,
 * carries just broker_proto.c.
 *
 * Requests come from any process that can reach the broker's socket:
 * a line is parsed as (ptr, len) with a fixed cap, the account name is
 * checked, and error text going back is made printable and cut.
 */
#include "oauthmail-config.h"

#include <string.h>

#include "lib/log.h"
#include "lib/strbuf.h"
#include "token/bearer_msg.h"
#include "token/broker_proto.h"
#include "token/broker_proto_server.h"

static int parse_account_arg(const char *line, size_t len, size_t skip,
			     struct broker_request *req_r, const char **error_r)
{
	if (len <= skip + 1 || line[skip] != ' ') {
		*error_r = "missing account name";
		return -1;
	}
	line += skip + 1;
	len -= skip + 1;
	if (!broker_proto_account_ok(line, len)) {
		*error_r = "bad account name (1-64 of A-Z a-z 0-9 _ . @ + -)";
		return -1;
	}
	memcpy(req_r->account, line, len);
	req_r->account[len] = '\0';
	return 0;
}

/* parse_invalidate - "INVALIDATE account [fingerprint]" */
static int parse_invalidate(const char *line, size_t len,
			    struct broker_request *req_r, const char **error_r)
{
	const char *sp = len > 11 ? memchr(line + 11, ' ', len - 11) : NULL;
	size_t fplen;

	if (sp == NULL)
		return parse_account_arg(line, len, 10, req_r, error_r);
	fplen = len - (size_t)(sp + 1 - line);
	if (!broker_proto_fingerprint_ok(sp + 1, fplen)) {
		*error_r = "bad token fingerprint (6 lowercase hex digits)";
		return -1;
	}
	memcpy(req_r->fingerprint, sp + 1, fplen);
	req_r->fingerprint[fplen] = '\0';
	return parse_account_arg(line, (size_t)(sp - line), 10, req_r, error_r);
}

int broker_proto_parse_request(const char *line, size_t len,
			       struct broker_request *req_r,
			       const char **error_r)
{
	memset(req_r, 0, sizeof(*req_r));
	if (len > BROKER_REQUEST_MAX) {
		*error_r = "request line too long";
		return -1;
	}
	len = broker_proto_strip_eol(line, len);
	if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len)) {
		*error_r = "one request per line";
		return -1;
	}
	if (len == 4 && memcmp(line, "PING", 4) == 0) {
		req_r->cmd = BROKER_PING;
		return 0;
	}
	if (broker_proto_word_is(line, len, "TOKEN")) {
		req_r->cmd = BROKER_TOKEN;
		return parse_account_arg(line, len, 5, req_r, error_r);
	}
	if (broker_proto_word_is(line, len, "INVALIDATE")) {
		req_r->cmd = BROKER_INVALIDATE;
		return parse_invalidate(line, len, req_r, error_r);
	}
	*error_r = "unknown request (TOKEN, INVALIDATE or PING)";
	return -1;
}

int broker_proto_format_ok(const char *token, time_t expires,
			   struct strbuf *out)
{
	if (token == NULL)
		return strbuf_append_str(out, "OK\n");
	if (!bearer_msg_token_ok(token) || expires < 0)
		return -1;
	return strbuf_printf(out, "OK %s %lld\n", token, (long long)expires);
}

int broker_proto_format_error(enum om_status status, const char *text,
			      struct strbuf *out)
{
	return strbuf_printf(out, "%s %s\n", broker_proto_class_word(status),
			     printable(text ? text : "error", BROKER_TEXT_MAX));
}
