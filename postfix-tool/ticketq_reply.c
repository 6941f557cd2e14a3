/*
 * ticketq_reply.c - `ticketq reply`, `close` and `reopen`: writing to
 * tickets.
 *
 * The flow (stored twin held in tmp/, sendmail, then new/ and the
 * index) is common/ticket/ticket_reply.c's; this file reads the
 * arguments and the body, calls it, and prints.  After a successful
 * send the exit is 0 whatever happens next (4 would make a caller send
 * it twice): a failure to record it is a warning.
 *
 * `reply --to` / `--cc` (repeatable, comma-separated lists, parsed by
 * GMime) replace the default recipients (the requester; the other
 * participants on Cc); the queue's own address is refused (a loop).
 *
 * `reply --auto` is for robots answering new tickets: it refuses,
 * quietly and with exit 0, to answer mail flagged no-auto-answer
 * (auto-replies, bounces, lists, noreply senders).
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/strbuf.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_mail.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_reply.h"
#include "ticketq.h"

#define BODY_MAX (10 * 1024 * 1024)

/* The command line of `reply`: --auto, and --to/--cc lists (each
 * repeatable, each value one address or a comma-separated list). */
struct reply_args {
	int automatic;
	int to_set, cc_set;
	struct ticket_strv to, cc;
};

static int reply_opt(int c, const char *arg, void *vctx)
{
	struct reply_args *a = vctx;
	const char *error;

	if (c == 'a') {
		a->automatic = 1;
		return 0;
	}
	if (c != 't' && c != 'c')
		return -1;
	if (ticket_reply_addrs_parse(arg, c == 't' ? &a->to : &a->cc, &error) <
	    0) {
		log_error("--%s: %s", c == 't' ? "to" : "cc", error);
		return -1;
	}
	*(c == 't' ? &a->to_set : &a->cc_set) = 1;
	return 0;
}

/* --to given with no address, or the queue's own address named: a
 * usage error (a reply to ourselves is a mail loop). */
static int check_recipients(const struct reply_args *a, const char *own)
{
	const struct ticket_strv *lists[2] = {&a->to, &a->cc};
	size_t i, l;

	if (a->to_set && a->to.n == 0) {
		log_error("--to: no address given");
		return -1;
	}
	for (l = 0; l < 2; l++)
		for (i = 0; i < lists[l]->n; i++)
			if (strcasecmp(lists[l]->v[i], own) == 0) {
				log_error("--%s %s: that is the queue's own "
					  "address (a mail loop)",
					  l ? "cc" : "to", printable(own, 200));
				return -1;
			}
	return 0;
}

static int read_body(struct strbuf *body)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || strbuf_append(body, buf, (size_t)n) < 0) {
			log_error("reading the reply body: %s",
				  n < 0 ? strerror(errno)
					: "larger than 10 MB");
			return -1;
		}
	}
	return ticket_utf8_clean(body);
}

/* What the library did, said to the user: the exit code. */
static int tell(enum ticket_status st, const struct ticket_reply_result *res,
		uint64_t id, const char *error)
{
	if (st != TICKET_OK) {
		log_error("%s", error);
		return tq_exit_for(st);
	}
	if (res->outcome == TICKET_REPLY_NO_TICKET) {
		log_error("no ticket %llu", (unsigned long long)id);
		return TQ_NOTFOUND;
	}
	if (res->outcome == TICKET_REPLY_REFUSED)
		printf("ticketq: no automatic answer on ticket %llu: the last "
		       "message (%s from %s) must not be answered by a robot\n",
		       (unsigned long long)id, res->last_kind,
		       printable(res->to, 200));
	return TQ_OK;
}

/* Send, say what happened: the exit code. */
static int send_body(struct ticket_queue *q, uint64_t id,
		     const struct reply_args *a, const char *body)
{
	struct ticket_reply_opts o = {a->automatic, a->to_set ? &a->to : NULL,
				      a->cc_set ? &a->cc : NULL};
	struct ticket_reply_result res;
	enum ticket_status st;
	const char *error = NULL;
	int rc;

	st = ticket_reply_send(q, id, body, &o, &res, &error);
	if (st == TICKET_OK && res.outcome == TICKET_REPLY_DONE) {
		printf("sent <%s> to %s", res.message_id,
		       printable(res.to, 400));
		if (res.cc != NULL && res.cc[0] != '\0')
			printf(" cc %s", printable(res.cc, 400));
		printf(" on ticket %llu\n", (unsigned long long)id);
		if (res.cc_dropped > 0)
			log_warn("ticket %llu: %zu older participants left "
				 "off the Cc (at most 20 by default); name "
				 "them with --cc to include them",
				 (unsigned long long)id, res.cc_dropped);
		if (res.warning != NULL)
			log_warn("%s", res.warning);
	}
	rc = tell(st, &res, id, error);
	ticket_reply_result_free(&res);
	return rc;
}

int tq_reply(struct tq_cli *cli)
{
	static const struct option longopts[] = {
		{"queue", required_argument, NULL, 'Q'},
		{"auto", no_argument, NULL, 'a'},
		{"to", required_argument, NULL, 't'},
		{"cc", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char usage_text[] =
		"reply ID [--auto] [--to ADDR[,ADDR...]]... "
		"[--cc ADDR[,ADDR...]]... < body";
	struct reply_args a;
	struct ticket_queue *q = NULL;
	struct strbuf body;
	uint64_t id;
	int i, rc;

	memset(&a, 0, sizeof(a));
	strbuf_init(&body, BODY_MAX);
	i = tq_parse_options(cli, usage_text, longopts, reply_opt, &a);
	if (tq_operands(cli, i, 1, usage_text) < 0 ||
	    tq_ticket_arg(cli->argv[i], &id) < 0 || read_body(&body) < 0)
		rc = TQ_USAGE;
	else if ((rc = tq_open(cli, &q)) == TQ_OK)
		rc = check_recipients(&a, q->cfg->address) < 0
			     ? TQ_USAGE
			     : send_body(q, id, &a, body.data ? body.data : "");
	ticket_queue_close(&q);
	strbuf_free(&body);
	ticket_strv_free(&a.to);
	ticket_strv_free(&a.cc);
	return rc;
}

static const char *who_am_i(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (sudo != NULL && *sudo != '\0')
		return sudo;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

static int set_status(struct tq_cli *cli, const char *action, const char *want)
{
	static const struct option longopts[] = {
		{"queue", required_argument, NULL, 'Q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *usage_text =
		strcmp(action, "close") == 0 ? "close ID" : "reopen ID";
	struct ticket_reply_result res;
	struct ticket_queue *q = NULL;
	enum ticket_status st;
	const char *error = NULL;
	uint64_t id;
	int i, rc;

	i = tq_parse_options(cli, usage_text, longopts, NULL, NULL);
	if (tq_operands(cli, i, 1, usage_text) < 0 ||
	    tq_ticket_arg(cli->argv[i], &id) < 0)
		return TQ_USAGE;
	if ((rc = tq_open(cli, &q)) != TQ_OK)
		return rc;
	st = ticket_reply_set_status(q, id, action, who_am_i(), &res, &error);
	if (st == TICKET_OK && res.outcome == TICKET_REPLY_UNCHANGED)
		printf("ticket %llu is already %s\n", (unsigned long long)id,
		       want);
	else if (st == TICKET_OK && res.outcome == TICKET_REPLY_DONE)
		printf("ticket %llu %s\n", (unsigned long long)id, want);
	rc = tell(st, &res, id, error);
	ticket_reply_result_free(&res);
	ticket_queue_close(&q);
	return rc;
}

int tq_close(struct tq_cli *cli)
{
	return set_status(cli, "close", "closed");
}

int tq_reopen(struct tq_cli *cli)
{
	return set_status(cli, "reopen", "open");
}
