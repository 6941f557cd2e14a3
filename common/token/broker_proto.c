/*
 * broker_proto.c - parse and build the lines of the token broker's
 * protocol (see broker_proto.h for the grammar).
 *
 * Both directions carry outside input: the broker reads requests from
 * any process that can reach its socket, the plugin reads replies.
 * Lines are parsed as (ptr, len) with fixed caps, every field is
 * checked, and nothing a peer sent is echoed back unsanitized.  Replies
 * carry access tokens, so every buffer that held one is wiped.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "token/bearer_msg.h"
#include "token/broker_proto.h"
#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/strbuf.h"

static const struct {
	enum om_status status;
	const char *word;
} reply_classes[] = {
	{OM_ERR_TEMP, "TEMP"},
	{OM_ERR_REAUTH, "REAUTH"},
	{OM_ERR_CONFIG, "CONFIG"},
	{OM_ERR_USAGE, "BAD"},
};

#define CLASS_COUNT (sizeof(reply_classes) / sizeof(reply_classes[0]))

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

/* strip_eol - length without one trailing LF and one CR before it */
static size_t strip_eol(const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

/* word_is - the line starts with word followed by end or a space */
static int word_is(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(line, word, n) == 0 &&
	       (len == n || line[n] == ' ');
}

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

int broker_proto_parse_request(const char *line, size_t len,
			       struct broker_request *req_r,
			       const char **error_r)
{
	memset(req_r, 0, sizeof(*req_r));
	if (len > BROKER_REQUEST_MAX) {
		*error_r = "request line too long";
		return -1;
	}
	len = strip_eol(line, len);
	if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len)) {
		*error_r = "one request per line";
		return -1;
	}
	if (len == 4 && memcmp(line, "PING", 4) == 0) {
		req_r->cmd = BROKER_PING;
		return 0;
	}
	if (word_is(line, len, "TOKEN")) {
		req_r->cmd = BROKER_TOKEN;
		return parse_account_arg(line, len, 5, req_r, error_r);
	}
	if (word_is(line, len, "INVALIDATE")) {
		req_r->cmd = BROKER_INVALIDATE;
		return parse_account_arg(line, len, 10, req_r, error_r);
	}
	*error_r = "unknown request (TOKEN, INVALIDATE or PING)";
	return -1;
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
		return strbuf_printf(out, "INVALIDATE %s\n", req->account);
	}
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
	const char *word = "TEMP";
	size_t i;

	for (i = 0; i < CLASS_COUNT; i++)
		if (reply_classes[i].status == status)
			word = reply_classes[i].word;
	return strbuf_printf(out, "%s %s\n", word,
			     printable(text ? text : "error", BROKER_TEXT_MAX));
}

static int parse_ok(const char *line, size_t len, struct broker_reply *r,
		    const char **error_r)
{
	const char *sp;
	char num[24], *end;
	size_t toklen, numlen;
	long long v;

	r->status = OM_OK;
	if (len == 2)
		return 0;
	line += 3;
	len -= 3;
	sp = memchr(line, ' ', len);
	if (sp == NULL || (toklen = (size_t)(sp - line)) == 0 ||
	    (numlen = len - toklen - 1) == 0 || numlen >= sizeof(num)) {
		*error_r = "malformed OK reply (want: OK TOKEN EXPIRES)";
		return -1;
	}
	memcpy(num, sp + 1, numlen);
	num[numlen] = '\0';
	errno = 0;
	v = strtoll(num, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || num[0] == '-' ||
	    num[0] == '+') {
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
		if (!word_is(line, len, reply_classes[i].word))
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
	len = strip_eol(line, len);
	if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len)) {
		*error_r = "broker reply is not one line";
		return -1;
	}
	if (word_is(line, len, "OK"))
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
