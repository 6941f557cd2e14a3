/*
 * lmtp_session.c - one LMTP session of `ticketq lmtp` (RFC 2033): the
 * commands in order, the message into an anonymous file, one reply
 * per recipient once the server's delivery round has stored it (or
 * said why not): the session waits in state DELIVER meanwhile, its
 * further input unread.
 *
 * Rules:
 *   - lines end in CRLF; a bare LF, in a command or in the message, is
 *     refused (500 5.5.2) and ends the session, so a message can never
 *     end at a lone "." the MTA did not mean (SMTP smuggling), and
 *     nothing of that message is stored;
 *   - a command line over LMTP_COMMAND_MAX or a message line over
 *     LMTP_DATA_LINE_MAX is refused (500 5.5.2) and ends the session;
 *   - a message over the size limit is read to its end and refused for
 *     every recipient (552 5.3.4); nothing is kept;
 *   - the message goes to a memfd (not the queue): only the hooks'
 *     delivery makes it visible, durable first.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lmtp_session.h"

#define OUT_MAX (256 * 1024)
#define CHUNK_MAX (1024 * 1024)
#define CHUNK_FLUSH (256 * 1024)

static void reply(struct lmtp_session *s, const char *text)
{
	if (strbuf_append_str(&s->out, text) < 0 ||
	    strbuf_append(&s->out, "\r\n", 2) < 0)
		s->state = LMTP_STATE_DONE; /* a client that reads nothing */
}

void lmtp_session_start(struct lmtp_session *s, const struct lmtp_hooks *h)
{
	memset(s, 0, sizeof(*s));
	s->hooks = h;
	s->data_fd = -1;
	strbuf_init(&s->out, OUT_MAX);
	strbuf_init(&s->chunk, CHUNK_MAX);
	strbuf_printf(&s->out, "220 %s ticketq LMTP ready\r\n", h->hostname);
}

static void drop_message(struct lmtp_session *s)
{
	if (s->data_fd >= 0)
		close(s->data_fd);
	s->data_fd = -1;
	strbuf_free(&s->chunk);
	strbuf_init(&s->chunk, CHUNK_MAX);
	s->bad_data = 0;
}

static void reset_transaction(struct lmtp_session *s)
{
	drop_message(s);
	s->nrcpt = 0;
	s->sender[0] = '\0';
	if (s->state != LMTP_STATE_LHLO && s->state != LMTP_STATE_DONE)
		s->state = LMTP_STATE_IDLE;
}

void lmtp_session_end(struct lmtp_session *s)
{
	drop_message(s);
	strbuf_free(&s->chunk);
	strbuf_free(&s->out);
}

static void on_lhlo(struct lmtp_session *s)
{
	char line[160];

	reset_transaction(s);
	s->state = LMTP_STATE_IDLE;
	snprintf(line, sizeof(line), "250-%s", s->hooks->hostname);
	reply(s, line);
	reply(s, "250-PIPELINING");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-8BITMIME");
	snprintf(line, sizeof(line), "250 SIZE %llu",
		 (unsigned long long)s->hooks->max_size);
	reply(s, line);
}

static void on_mail(struct lmtp_session *s, const struct lmtp_command *c)
{
	if (s->state == LMTP_STATE_MAIL) {
		reply(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (c->size > s->hooks->max_size && s->hooks->max_size != 0) {
		reply(s, "552 5.3.4 Message too big for the ticket queue");
		return;
	}
	snprintf(s->sender, sizeof(s->sender), "%s", c->address);
	s->state = LMTP_STATE_MAIL;
	reply(s, "250 2.1.0 Sender OK");
}

static void on_rcpt(struct lmtp_session *s, const struct lmtp_command *c)
{
	const char *dir;

	if (s->state != LMTP_STATE_MAIL) {
		reply(s, "503 5.5.1 MAIL first");
		return;
	}
	if (s->nrcpt == LMTP_RCPT_MAX) {
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	dir = s->hooks->rcpt(s->hooks->ctx, c->address);
	if (dir == NULL) {
		reply(s, "550 5.1.1 No ticket queue for this recipient");
		return;
	}
	snprintf(s->rcpt[s->nrcpt].address, LMTP_ADDRESS_MAX + 1, "%s",
		 c->address);
	s->rcpt[s->nrcpt++].dir = dir;
	reply(s, "250 2.1.5 Recipient OK");
}

static void on_data(struct lmtp_session *s)
{
	if (s->state != LMTP_STATE_MAIL) {
		reply(s, "503 5.5.1 MAIL first");
		return;
	}
	if (s->nrcpt == 0) {
		reply(s, "503 5.5.1 RCPT first");
		return;
	}
	s->data_fd = memfd_create("ticketq-lmtp", MFD_CLOEXEC);
	s->bad_data = s->data_fd < 0;
	lmtp_data_init(&s->data, s->hooks->max_size);
	s->state = LMTP_STATE_DATA;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void on_command(struct lmtp_session *s, const char *line, size_t len)
{
	struct lmtp_command c;
	const char *error;

	if (lmtp_parse_command(line, len, &c, &error) < 0) {
		reply(s, error);
		return;
	}
	if (s->state == LMTP_STATE_LHLO && c.verb != LMTP_LHLO &&
	    c.verb != LMTP_NOOP && c.verb != LMTP_QUIT && c.verb != LMTP_RSET) {
		reply(s, "503 5.5.1 LHLO first");
		return;
	}
	switch (c.verb) {
	case LMTP_LHLO:
		on_lhlo(s);
		break;
	case LMTP_MAIL:
		on_mail(s, &c);
		break;
	case LMTP_RCPT:
		on_rcpt(s, &c);
		break;
	case LMTP_DATA:
		on_data(s);
		break;
	case LMTP_RSET:
		reset_transaction(s);
		reply(s, "250 2.0.0 OK");
		break;
	case LMTP_NOOP:
		reply(s, "250 2.0.0 OK");
		break;
	case LMTP_QUIT:
		reply(s, "221 2.0.0 Bye");
		s->state = LMTP_STATE_DONE;
		break;
	default:
		reply(s, "500 5.5.2 Command not recognized");
		break;
	}
}

static void flush_chunk(struct lmtp_session *s)
{
	if (s->bad_data || s->chunk.len == 0)
		return;
	if (fdio_write_all(s->data_fd, s->chunk.data, s->chunk.len) < 0)
		s->bad_data = 1;
	strbuf_reset(&s->chunk);
}

/* The message is complete: one job per queue among its recipients
 * (one copy per queue, as a message without a Message-ID would
 * otherwise be stored once per recipient), for the server's delivery
 * round. */
static void message_complete(struct lmtp_session *s)
{
	struct lmtp_job *job;
	size_t i, j;

	flush_chunk(s);
	s->njobs = 0;
	for (i = 0; i < s->nrcpt; i++) {
		for (j = 0; j < s->njobs; j++)
			if (strcmp(s->jobs[j].dir, s->rcpt[i].dir) == 0)
				break;
		s->rcpt[i].job = j;
		if (j < s->njobs)
			continue;
		job = &s->jobs[s->njobs++];
		job->fd = s->data_fd;
		job->sender = s->sender;
		job->recipient = s->rcpt[i].address;
		job->dir = s->rcpt[i].dir;
		snprintf(job->reply, LMTP_REPLY_MAX,
			 "451 4.3.0 Not delivered: internal error");
	}
	s->state = LMTP_STATE_DELIVER;
}

size_t lmtp_session_jobs(struct lmtp_session *s, struct lmtp_job **jobs_r)
{
	const char *known = NULL;
	size_t i, n = 0;

	if (s->data.too_large)
		known = "552 5.3.4 Message too big for the ticket queue";
	else if (s->bad_data || s->data.failed)
		known = "451 4.3.0 Cannot hold the message: out of memory";
	for (i = 0; i < s->njobs; i++) {
		if (known != NULL)
			snprintf(s->jobs[i].reply, LMTP_REPLY_MAX, "%s", known);
		else
			jobs_r[n++] = &s->jobs[i];
	}
	return n;
}

void lmtp_session_delivered(struct lmtp_session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpt; i++)
		reply(s, s->jobs[s->rcpt[i].job].reply);
	s->njobs = 0;
	s->state = LMTP_STATE_IDLE;
	reset_transaction(s);
	lmtp_session_input(s);
}

static void on_data_line(struct lmtp_session *s, const char *line, size_t len)
{
	if (lmtp_data_line(&s->data, line, len, &s->chunk) == 1) {
		message_complete(s);
		return;
	}
	if (s->chunk.len >= CHUNK_FLUSH)
		flush_chunk(s);
}

/* A line that ends the session: say why, drop the message. */
static void fatal(struct lmtp_session *s, const char *text)
{
	drop_message(s);
	reply(s, text);
	s->state = LMTP_STATE_DONE;
}

void lmtp_session_input(struct lmtp_session *s)
{
	size_t used = 0, line_len, n;
	enum lmtp_line r;
	size_t max;

	while (s->state != LMTP_STATE_DONE && s->state != LMTP_STATE_DELIVER) {
		max = s->state == LMTP_STATE_DATA ? LMTP_DATA_LINE_MAX
						  : LMTP_COMMAND_MAX;
		r = lmtp_next_line(s->in + used, s->inlen - used, max,
				   &line_len, &n);
		if (r == LMTP_LINE_MORE)
			break;
		if (r == LMTP_LINE_BARE_LF) {
			fatal(s, "500 5.5.2 Bare LF received: lines must end "
				 "in CRLF (RFC 5321 2.3.8)");
			break;
		}
		if (r == LMTP_LINE_TOO_LONG) {
			fatal(s, s->state == LMTP_STATE_DATA
					 ? "500 5.5.2 Message line too long"
					 : "500 5.5.2 Command line too long");
			break;
		}
		if (s->state == LMTP_STATE_DATA)
			on_data_line(s, s->in + used, line_len);
		else
			on_command(s, s->in + used, line_len);
		used += n;
	}
	memmove(s->in, s->in + used, s->inlen - used);
	s->inlen -= used;
}
