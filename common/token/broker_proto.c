/*
 * broker_proto.c - the lines of the token broker's protocol (see
 * broker_proto.h for the grammar): what both ends share (account
 * names, line ends, reply classes) and the client's half, which the
 * SASL plugin links: build a request, parse the reply.  The broker's
 * half (parse a request, build a reply) is broker_proto_server.c.
 *
 * Both directions carry outside input: the broker reads requests from
 * any process that can reach its socket, the plugin reads replies.
 * Lines are parsed as (ptr, len) with fixed caps, every field is
 * checked, and nothing a peer sent is echoed back unsanitized.  Replies
 * carry access tokens, so every buffer that held one is wiped.
 */
#include "oauthmail-config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/number.h"
#include "lib/strbuf.h"
#include "token/bearer_msg.h"
#include "token/broker_proto.h"

static const struct {
	enum om_status status;
	const char *word;
} reply_classes[] = {
	{OM_ERR_TEMP, "TEMP"},
	{OM_ERR_REAUTH, "REAUTH"},
	{OM_ERR_CONFIG, "CONFIG"},
	{OM_ERR_USAGE, "BAD"},
};

#define EXPIRES_DIGITS_MAX 23 /* longer: not an expiry, a malformed reply */
#define CLASS_COUNT (sizeof(reply_classes) / sizeof(reply_classes[0]))

const char *broker_proto_class_word(enum om_status status)
{
	size_t i;

	for (i = 0; i < CLASS_COUNT; i++)
		if (reply_classes[i].status == status)
			return reply_classes[i].word;
	return "TEMP";
}

int broker_proto_account_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > BROKER_ACCOUNT_MAX || name[0] == '.' ||
	    name[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '@' || c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

int broker_proto_fingerprint_ok(const char *fp, size_t len)
{
	size_t i;

	if (len != BROKER_FINGERPRINT_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((fp[i] >= '0' && fp[i] <= '9') ||
		      (fp[i] >= 'a' && fp[i] <= 'f')))
			return 0;
	return 1;
}

size_t broker_proto_strip_eol(const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

int broker_proto_word_is(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(line, word, n) == 0 &&
	       (len == n || line[n] == ' ');
}

int broker_proto_format_request(const struct broker_request *req,
				struct strbuf *out)
{
	switch (req->cmd) {
	case BROKER_PING:
		return strbuf_append_str(out, "PING\n");
	case BROKER_TOKEN:
		return strbuf_printf(out, "TOKEN %s\n", req->account);
	case BROKER_INVALIDATE:
		if (req->fingerprint[0] == '\0')
			return strbuf_printf(out, "INVALIDATE %s\n",
					     req->account);
		return strbuf_printf(out, "INVALIDATE %s %s\n", req->account,
				     req->fingerprint);
	}
	return -1;
}

static int parse_ok(const char *line, size_t len, struct broker_reply *r,
		    const char **error_r)
{
	const char *sp;
	size_t toklen, numlen;
	unsigned long long v;

	r->status = OM_OK;
	if (len == 2)
		return 0;
	line += 3;
	len -= 3;
	sp = memchr(line, ' ', len);
	if (sp == NULL || (toklen = (size_t)(sp - line)) == 0 ||
	    (numlen = len - toklen - 1) == 0 || numlen > EXPIRES_DIGITS_MAX) {
		*error_r = "malformed OK reply (want: OK TOKEN EXPIRES)";
		return -1;
	}
	if (number_parse_len(sp + 1, numlen, 0, LLONG_MAX, &v) < 0) {
		*error_r = "malformed expiry time in OK reply";
		return -1;
	}
	r->token = strndup(line, toklen);
	if (r->token == NULL || !bearer_msg_token_ok(r->token)) {
		*error_r = "broker sent something that is not a bearer token";
		return -1;
	}
	r->expires = (time_t)v;
	return 0;
}

static int parse_class(const char *line, size_t len, struct broker_reply *r,
		       const char **error_r)
{
	size_t i, n;

	for (i = 0; i < CLASS_COUNT; i++) {
		n = strlen(reply_classes[i].word);
		if (!broker_proto_word_is(line, len, reply_classes[i].word))
			continue;
		r->status = reply_classes[i].status;
		r->text = len > n + 1 ? strdup(printable_len(line + n + 1,
							     len - n - 1,
							     BROKER_TEXT_MAX))
				      : strdup("(no reason given)");
		if (r->text == NULL) {
			*error_r = "out of memory";
			return -1;
		}
		return 0;
	}
	*error_r = errorf("unknown broker reply '%s'",
			  printable_len(line, len, 40));
	return -1;
}

int broker_proto_parse_reply(const char *line, size_t len,
			     struct broker_reply *reply_r, const char **error_r)
{
	int ret;

	memset(reply_r, 0, sizeof(*reply_r));
	if (len > BROKER_REPLY_MAX) {
		*error_r = "broker reply too long";
		return -1;
	}
	len = broker_proto_strip_eol(line, len);
	if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len)) {
		*error_r = "broker reply is not one line";
		return -1;
	}
	if (broker_proto_word_is(line, len, "OK"))
		ret = parse_ok(line, len, reply_r, error_r);
	else
		ret = parse_class(line, len, reply_r, error_r);
	if (ret < 0)
		broker_proto_reply_free(reply_r);
	return ret;
}

void broker_proto_reply_free(struct broker_reply *reply)
{
	wipe_free_str(&reply->token);
	free(reply->text);
	reply->text = NULL;
}
