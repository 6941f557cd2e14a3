/*
 * ticketq_ack.c - `ticketq ack EVENT [--claim TOKEN] [--consumer NAME]`:
 * a consumer is done with the event `next` handed it.
 *
 * `next` leases an event to a claim; until it is acknowledged here the
 * event is offered again whenever the lease runs out, so a consumer
 * killed halfway loses nothing (docs/ticketq.1, CONSUMERS).
 *
 * Idempotent: an event acknowledged already is exit 0 with a note.
 * With --claim, only while that claim still holds the event: once its
 * lease ran out and `next` gave the event to another claim, nothing
 * changes and the exit is 5 (TQ_LOST): the other consumer has it, or
 * has done it, so this one's work was a duplicate.  No such event: 3.
 */
#include "oauthmail-config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/number.h"
#include "ticket/ticket_json.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_store.h"
#include "ticketq.h"

struct ack_opts {
	const char *claim;
	const char *consumer;
};

/* A claim token as `next` prints it: 16 lowercase hex digits. */
static int claim_arg(const char *arg)
{
	if (strlen(arg) == TICKET_CLAIM_LEN &&
	    strspn(arg, "0123456789abcdef") == TICKET_CLAIM_LEN)
		return 0;
	log_error("--claim '%s': the claim of ticketq next (%d hex digits)",
		  printable(arg, 40), TICKET_CLAIM_LEN);
	return -1;
}

static int ack_opt(int c, const char *arg, void *vctx)
{
	struct ack_opts *o = vctx;

	if (c == 'k') {
		o->claim = arg;
		return claim_arg(arg);
	}
	if (c == 'c') {
		o->consumer = arg;
		return tq_consumer_arg(arg);
	}
	return -1;
}

static const struct option ack_longopts[] = {
	{"queue", required_argument, NULL, 'Q'},
	{"claim", required_argument, NULL, 'k'},
	{"consumer", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int event_arg(const char *arg, int64_t *event_r)
{
	unsigned long long v;

	if (number_parse(arg, 1, INT64_MAX, &v) == 0) {
		*event_r = (int64_t)v;
		return 0;
	}
	log_error("'%s' is not an event number (\"event\" in ticketq next)",
		  printable(arg, 40));
	return -1;
}

/* What happened, and the exit code. */
static int report(int64_t event, const struct ticket_store_ack *a)
{
	char when[32] = "";

	if (a->acked != 0)
		ticket_json_time(a->acked, when, sizeof(when));
	else if (a->lease_until != 0)
		ticket_json_time(a->lease_until, when, sizeof(when));
	switch (a->outcome) {
	case TICKET_ACK_DONE:
		printf("event %lld acknowledged\n", (long long)event);
		return TQ_OK;
	case TICKET_ACK_ALREADY:
		printf("event %lld is already acknowledged (by %s at %s): "
		       "nothing to do\n",
		       (long long)event, printable(a->by, 80), when);
		return TQ_OK;
	case TICKET_ACK_LOST:
		log_error("event %lld: your claim ran out of its lease and "
			  "the event went to claim %s (%s, %s %s); "
			  "not acknowledged: expect it handled twice, or "
			  "use a longer --lease with next",
			  (long long)event, a->claim[0] ? a->claim : "none",
			  printable(a->by, 80),
			  a->acked ? "acknowledged at" : "leased until", when);
		return TQ_LOST;
	default:
		log_error("no event %lld", (long long)event);
		return TQ_NOTFOUND;
	}
}

int tq_ack(struct tq_cli *cli)
{
	static const char usage_text[] =
		"ack EVENT [--claim TOKEN] [--consumer NAME]";
	struct ack_opts o = {NULL, NULL};
	struct ticket_store_ack a;
	struct ticket_queue *q = NULL;
	const char *error;
	int64_t event;
	int i, rc;

	i = tq_parse_options(cli, usage_text, ack_longopts, ack_opt, &o);
	if (tq_operands(cli, i, 1, usage_text) < 0 ||
	    event_arg(cli->argv[i], &event) < 0)
		return TQ_USAGE;
	if ((rc = tq_open(cli, &q)) != TQ_OK)
		return rc;
	if (ticket_store_ack_event(q->store, event, o.claim, o.consumer, 0, &a,
				   &error) < 0) {
		log_error("%s", error);
		rc = tq_store_exit(q);
	} else {
		rc = report(event, &a);
	}
	ticket_queue_close(&q);
	return rc;
}
