/* lmtp_proto.h - RFC 2033 LMTP without I/O: lines, commands, the DATA stream */
#ifndef OAUTHMAIL_LMTP_PROTO_H
#define OAUTHMAIL_LMTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define LMTP_COMMAND_MAX 2048 /* a command line, CRLF not counted */
#define LMTP_ADDRESS_MAX 254  /* RFC 5321 path, without the <> */
#define LMTP_DOMAIN_MAX 255

enum lmtp_line {
	LMTP_LINE_MORE,	    /* no line end in the buffer yet */
	LMTP_LINE_OK,	    /* a line ending in CRLF */
	LMTP_LINE_BARE_LF,  /* a line ending in LF alone */
	LMTP_LINE_TOO_LONG, /* over max before its end */
};

/* lmtp_next_line - find the first line in buf[0..len): its length
 * without the line end in *line_len_r, with it in *used_r (both set
 * for OK and BARE_LF only).  A line longer than max is TOO_LONG as
 * soon as max bytes are seen without an LF. */
enum lmtp_line lmtp_next_line(const char *buf, size_t len, size_t max,
			      size_t *line_len_r, size_t *used_r);

enum lmtp_verb {
	LMTP_UNKNOWN,
	LMTP_LHLO,
	LMTP_MAIL,
	LMTP_RCPT,
	LMTP_DATA,
	LMTP_RSET,
	LMTP_NOOP,
	LMTP_QUIT,
};

struct lmtp_command {
	enum lmtp_verb verb;
	char domain[LMTP_DOMAIN_MAX + 1];   /* LHLO */
	char address[LMTP_ADDRESS_MAX + 1]; /* MAIL, RCPT: the path without
					     * <> and source route; "" is
					     * the null sender */
	uint64_t size;			    /* MAIL SIZE=, 0 when not given */
	int body_8bit;			    /* MAIL BODY=8BITMIME */
};

/* lmtp_parse_command - one command line (without its line end) into
 * cmd: 0, or -1 with the whole reply for the client in *reply_r
 * ("501 5.5.4 ..."), a static string. */
int lmtp_parse_command(const char *line, size_t len, struct lmtp_command *cmd,
		       const char **reply_r);

/* The DATA stream, one line at a time, into the message with LF line
 * ends and the leading dots of RFC 5321 4.5.2 removed. */
struct lmtp_data {
	uint64_t max;  /* message size limit, 0 = none */
	uint64_t size; /* bytes of the message seen so far */
	int too_large; /* over max: the rest is counted, not kept */
	int failed;    /* out of memory: nothing more is kept */
};

/* lmtp_data_init - start a message of at most max bytes (0: no limit) */
void lmtp_data_init(struct lmtp_data *d, uint64_t max);

/* lmtp_data_line - one line of the stream (without its line end):
 * 1 for the lone "." that ends it, else 0 with the line added to out
 * (unless too_large or failed is set) */
int lmtp_data_line(struct lmtp_data *d, const char *line, size_t len,
		   struct strbuf *out);

#endif
