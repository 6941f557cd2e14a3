/*
 * lmtp_proto.c - RFC 2033 LMTP without I/O: lines, commands, DATA.
 *
 * The parts of an LMTP server that judge what the client sent, kept
 * apart from sockets so that they can be tested and fuzzed alone:
 * where a line ends (CRLF; a bare LF is reported, not taken as one),
 * what a command line says (LHLO, MAIL FROM:<path> with SIZE= and
 * BODY=, RCPT TO:<path>, DATA, RSET, NOOP, QUIT), and the DATA
 * stream with its dot-stuffing removed.  A bad command gets the whole
 * reply to send, with its enhanced status code (RFC 3463).
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/number.h"
#include "lib/strbuf.h"
#include "ticket/lmtp_proto.h"

enum lmtp_line lmtp_next_line(const char *buf, size_t len, size_t max,
			      size_t *line_len_r, size_t *used_r)
{
	size_t scan = len < max + 2 ? len : max + 2; /* max, CR, LF */
	const char *lf = memchr(buf, '\n', scan);
	size_t n;

	if (lf == NULL) /* too long once max + 1 bytes are not "max, CR" */
		return len >= max + 2 || (len == max + 1 && buf[max] != '\r')
			       ? LMTP_LINE_TOO_LONG
			       : LMTP_LINE_MORE;
	n = (size_t)(lf - buf);
	*used_r = n + 1;
	if (n == 0 || buf[n - 1] != '\r') {
		*line_len_r = n;
		return n > max ? LMTP_LINE_TOO_LONG : LMTP_LINE_BARE_LF;
	}
	*line_len_r = n - 1;
	return n - 1 > max ? LMTP_LINE_TOO_LONG : LMTP_LINE_OK;
}

static const struct {
	const char *name;
	enum lmtp_verb verb;
} verbs[] = {
	{"LHLO", LMTP_LHLO}, {"MAIL", LMTP_MAIL}, {"RCPT", LMTP_RCPT},
	{"DATA", LMTP_DATA}, {"RSET", LMTP_RSET}, {"NOOP", LMTP_NOOP},
	{"QUIT", LMTP_QUIT},
};

/* verb_of - the command word of line[0..len), LMTP_UNKNOWN if none */
static enum lmtp_verb verb_of(const char *line, size_t len)
{
	size_t i;

	if (len < 4 || (len > 4 && line[4] != ' '))
		return LMTP_UNKNOWN;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strncasecmp(line, verbs[i].name, 4) == 0)
			return verbs[i].verb;
	return LMTP_UNKNOWN;
}

/* is_smtp_greeting - HELO or EHLO: a client that thinks it speaks SMTP */
static int is_smtp_greeting(const char *line, size_t len)
{
	return len >= 4 && (len == 4 || line[4] == ' ') &&
	       (strncasecmp(line, "HELO", 4) == 0 ||
		strncasecmp(line, "EHLO", 4) == 0);
}

/* has_control - a control byte or NUL in s[0..len) */
static int has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

static int parse_lhlo(const char *arg, size_t len, struct lmtp_command *cmd,
		      const char **reply_r)
{
	if (len == 0 || memchr(arg, ' ', len) != NULL) {
		*reply_r = "501 5.5.4 Syntax: LHLO hostname";
		return -1;
	}
	if (len > LMTP_DOMAIN_MAX) {
		*reply_r = "501 5.5.4 LHLO hostname too long";
		return -1;
	}
	memcpy(cmd->domain, arg, len);
	cmd->domain[len] = '\0';
	return 0;
}

/* path_end - the '>' closing the path at s[0] == '<' (quotes allowed
 * in the local part), or NULL */
static const char *path_end(const char *s, const char *end)
{
	int quoted = 0;
	const char *p;

	for (p = s + 1; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '>')
			return p;
		else if (!quoted && (*p == '<' || *p == ' '))
			return NULL;
	}
	return NULL;
}

/* take_path - "<path>" at *s into cmd->address, source route dropped;
 * *s moves past it.  0, -1 bad syntax, -2 too long. */
static int take_path(const char **s, const char *end, struct lmtp_command *cmd)
{
	const char *close, *from;
	size_t n;

	if (*s >= end || **s != '<' || (close = path_end(*s, end)) == NULL)
		return -1;
	from = *s + 1;
	if (from < close && *from == '@') { /* <@a,@b:user@c> */
		const char *colon = memchr(from, ':', (size_t)(close - from));

		if (colon == NULL)
			return -1;
		from = colon + 1;
	}
	n = (size_t)(close - from);
	if (n > LMTP_ADDRESS_MAX)
		return -2;
	memcpy(cmd->address, from, n);
	cmd->address[n] = '\0';
	*s = close + 1;
	return 0;
}

/* size_param - SIZE=digits; 0, or -1 */
static int size_param(const char *v, size_t len, uint64_t *size_r)
{
	unsigned long long n;

	if (number_parse_len(v, len, 0, UINT64_MAX, &n) < 0)
		return -1;
	*size_r = n;
	return 0;
}

/* mail_param - one ESMTP parameter of MAIL FROM */
static int mail_param(const char *p, size_t len, struct lmtp_command *cmd,
		      const char **reply_r)
{
	if (len >= 5 && strncasecmp(p, "SIZE=", 5) == 0) {
		if (size_param(p + 5, len - 5, &cmd->size) == 0)
			return 0;
		*reply_r = "501 5.5.4 Syntax: SIZE=number";
		return -1;
	}
	if (len == 13 && strncasecmp(p, "BODY=8BITMIME", 13) == 0) {
		cmd->body_8bit = 1;
		return 0;
	}
	if (len == 9 && strncasecmp(p, "BODY=7BIT", 9) == 0)
		return 0;
	*reply_r = "555 5.5.4 Unsupported MAIL FROM parameter";
	return -1;
}

/* params - the parameters after the path: " KEY=VALUE ..." */
static int params(const char *s, const char *end, struct lmtp_command *cmd,
		  const char **reply_r)
{
	while (s < end) {
		const char *sp;

		if (*s != ' ') {
			*reply_r =
				cmd->verb == LMTP_MAIL
					? "501 5.5.4 Syntax: MAIL "
					  "FROM:<address>"
					: "501 5.5.4 Syntax: RCPT TO:<address>";
			return -1;
		}
		while (s < end && *s == ' ')
			s++;
		if (s == end)
			break;
		sp = memchr(s, ' ', (size_t)(end - s));
		if (sp == NULL)
			sp = end;
		if (cmd->verb == LMTP_RCPT) {
			*reply_r = "555 5.5.4 Unsupported RCPT TO parameter";
			return -1;
		}
		if (mail_param(s, (size_t)(sp - s), cmd, reply_r) < 0)
			return -1;
		s = sp;
	}
	return 0;
}

static int parse_path_command(const char *arg, size_t len,
			      struct lmtp_command *cmd, const char **reply_r)
{
	int mail = cmd->verb == LMTP_MAIL;
	const char *key = mail ? "FROM:" : "TO:";
	size_t klen = strlen(key);
	const char *s = arg, *end = arg + len;
	int r;

	if (len < klen || strncasecmp(s, key, klen) != 0) {
		*reply_r = mail ? "501 5.5.4 Syntax: MAIL FROM:<address>"
				: "501 5.5.4 Syntax: RCPT TO:<address>";
		return -1;
	}
	s += klen;
	while (s < end && *s == ' ')
		s++;
	r = take_path(&s, end, cmd);
	if (r == -2) {
		*reply_r = mail ? "501 5.1.7 Sender address too long"
				: "501 5.1.3 Recipient address too long";
		return -1;
	}
	if (r < 0 || (!mail && cmd->address[0] == '\0')) {
		*reply_r = mail ? "501 5.1.7 Syntax: MAIL FROM:<address>"
				: "501 5.1.3 Syntax: RCPT TO:<address>";
		return -1;
	}
	return params(s, end, cmd, reply_r);
}

int lmtp_parse_command(const char *line, size_t len, struct lmtp_command *cmd,
		       const char **reply_r)
{
	const char *arg = len > 5 ? line + 5 : line + len;
	size_t arg_len = len > 5 ? len - 5 : 0;

	memset(cmd, 0, sizeof(*cmd));
	if (has_control(line, len)) {
		*reply_r = "500 5.5.2 Control characters in the command line";
		return -1;
	}
	cmd->verb = verb_of(line, len);
	switch (cmd->verb) {
	case LMTP_LHLO:
		return parse_lhlo(arg, arg_len, cmd, reply_r);
	case LMTP_MAIL:
	case LMTP_RCPT:
		return parse_path_command(arg, arg_len, cmd, reply_r);
	case LMTP_NOOP:
		return 0;
	case LMTP_DATA:
	case LMTP_RSET:
	case LMTP_QUIT:
		if (len == 4)
			return 0;
		*reply_r = "501 5.5.4 Syntax: no parameters allowed";
		return -1;
	case LMTP_UNKNOWN:
		break;
	}
	*reply_r = is_smtp_greeting(line, len)
			   ? "500 5.5.1 This is an LMTP server: say LHLO"
			   : "500 5.5.2 Command unrecognized";
	return -1;
}

void lmtp_data_init(struct lmtp_data *d, uint64_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = max;
}

int lmtp_data_line(struct lmtp_data *d, const char *line, size_t len,
		   struct strbuf *out)
{
	if (len == 1 && line[0] == '.')
		return 1;
	if (len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	d->size += len + 1;
	if (d->max != 0 && d->size > d->max)
		d->too_large = 1;
	if (d->too_large || d->failed)
		return 0;
	if (strbuf_append(out, line, len) < 0 ||
	    strbuf_append(out, "\n", 1) < 0)
		d->failed = 1;
	return 0;
}
