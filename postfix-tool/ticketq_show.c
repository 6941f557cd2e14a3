/*
 * ticketq_show.c - `ticketq list`, `show` and `next`: reading the queue.
 *
 * `next` claims an event with a lease (default TQ_LEASE_DEFAULT
 * seconds, --lease) and prints its claim token for `ticketq ack`
 * (ticketq_ack.c): at least once.  --at-most-once acknowledges it in
 * the same transaction instead (lost if the consumer dies before it
 * is done with it).
 *
 * --json prints the stable shape of docs/internals.md (built by
 * common/ticket/ticket_json.c); the text form is for people at a
 * terminal.  Mail text is outside input:
 * control bytes other than newline and tab are shown as '?', so a
 * message cannot drive the terminal.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/number.h"
#include "ticket/ticket_json.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_store.h"
#include "ticketq.h"

struct show_opts {
	int json;
	const char *status;
};

static int show_opt(int c, const char *arg, void *vctx)
{
	struct show_opts *o = vctx;

	if (c == 'j')
		o->json = 1;
	else if (c == 's')
		o->status = arg;
	else
		return -1;
	return 0;
}

static const struct option show_longopts[] = {
	{"queue", required_argument, NULL, 'Q'},
	{"json", no_argument, NULL, 'j'},
	{"status", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Outside text to the terminal: no control bytes but \n and \t. */
static void put_safe(const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		putchar(c < 0x20 && c != '\n' && c != '\t' ? '?'
			: c == 0x7f			   ? '?'
							   : c);
	}
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int print_json(cJSON *obj)
{
	char *s = cJSON_Print(obj);

	if (s == NULL) {
		log_error("out of memory printing JSON");
		return TQ_TEMP;
	}
	printf("%s\n", s);
	free(s);
	return TQ_OK;
}

static void print_row(const cJSON *t)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "messages");

	printf("%-8s %-9s %-20s %4d  %-28s ", str(t, "id"), str(t, "status"),
	       str(t, "updated"), cJSON_IsNumber(n) ? n->valueint : 0,
	       printable(str(t, "requester"), 28));
	put_safe(printable(str(t, "subject"), 60));
	putchar('\n');
}

/* Options, no operands, the queue open: TQ_OK, or the exit code. */
static int start(struct tq_cli *cli, const char *usage_text,
		 struct show_opts *o, struct ticket_queue **q_r)
{
	if (tq_operands(cli,
			tq_parse_options(cli, usage_text, show_longopts,
					 show_opt, o),
			0, usage_text) < 0)
		return TQ_USAGE;
	return tq_open(cli, q_r);
}

int tq_list(struct tq_cli *cli)
{
	struct show_opts o = {0, NULL};
	struct ticket_queue *q = NULL;
	const cJSON *t;
	const char *error;
	cJSON *arr;
	int rc;

	static const char usage_text[] = "list [--status S] [--json]";

	if ((rc = start(cli, usage_text, &o, &q)) != TQ_OK)
		return rc;
	if (ticket_json_list(q->store, o.status, &arr, &error) < 0) {
		log_error("%s", error);
		rc = tq_store_exit(q);
		ticket_queue_close(&q);
		return rc;
	}
	if (o.json) {
		rc = print_json(arr);
	} else {
		printf("%-8s %-9s %-20s %4s  %-28s %s\n", "ID", "STATUS",
		       "UPDATED", "MSGS", "REQUESTER", "SUBJECT");
		cJSON_ArrayForEach(t, arr) print_row(t);
	}
	cJSON_Delete(arr);
	ticket_queue_close(&q);
	return rc;
}

static void print_attachments(const cJSON *e)
{
	const cJSON *a;

	cJSON_ArrayForEach(a,
			   cJSON_GetObjectItemCaseSensitive(e, "attachments"))
	{
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(a, "size");

		printf("  [attachment] ");
		put_safe(printable(str(a, "name"), 100));
		printf(" (%s, %.0f bytes) %s\n", str(a, "content_type"),
		       cJSON_IsNumber(size) ? size->valuedouble : 0,
		       *str(a, "path") ? str(a, "path") : "(not saved)");
	}
}

static void print_thread(const cJSON *t)
{
	const cJSON *e;
	int i = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(t, "thread"))
	{
		printf("\n--- %d. %s  %s  %s\nSubject: ", ++i, str(e, "kind"),
		       str(e, "date"), printable(str(e, "from"), 200));
		put_safe(printable(str(e, "subject"), 300));
		printf("\nMessage-ID: %s\n\n",
		       printable(str(e, "message_id"), 300));
		put_safe(str(e, "text"));
		putchar('\n');
		print_attachments(e);
	}
}

static void print_ticket(const cJSON *t)
{
	const cJSON *p;

	printf("Ticket %s  [%s]  ", str(t, "id"), str(t, "status"));
	put_safe(printable(str(t, "subject"), 300));
	printf("\nRequester:    %s\nParticipants:",
	       printable(str(t, "requester"), 200));
	cJSON_ArrayForEach(p,
			   cJSON_GetObjectItemCaseSensitive(t, "participants"))
		printf(" %s", printable(p->valuestring, 200));
	printf("\nCreated: %s  Updated: %s  Flags:", str(t, "created"),
	       str(t, "updated"));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(t, "flags"))
		printf(" %s", p->valuestring);
	putchar('\n');
	print_thread(t);
}

int tq_show(struct tq_cli *cli)
{
	static const char usage_text[] = "show ID [--json]";
	struct show_opts o = {0, NULL};
	struct ticket_queue *q = NULL;
	const char *error;
	uint64_t id;
	cJSON *obj = NULL;
	int i, r, rc;

	i = tq_parse_options(cli, usage_text, show_longopts, show_opt, &o);
	if (tq_operands(cli, i, 1, usage_text) < 0 ||
	    tq_ticket_arg(cli->argv[i], &id) < 0)
		return TQ_USAGE;
	if ((rc = tq_open(cli, &q)) != TQ_OK)
		return rc;
	r = ticket_json_ticket(q->store, id, 1, &obj, &error);
	if (r < 0) {
		log_error("%s", error);
		rc = tq_store_exit(q);
	} else if (r == 0)
		log_error("no ticket %llu", (unsigned long long)id);
	else if (o.json)
		rc = print_json(obj);
	else
		print_ticket(obj);
	cJSON_Delete(obj);
	ticket_queue_close(&q);
	return r == 0 ? TQ_NOTFOUND : rc;
}

/* The first line is for robots: "event N claim TOKEN until TIME" (or
 * "acknowledged", at most once); then the event for people. */
static void print_event(const cJSON *e)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "event");
	const char *until = str(e, "lease_until");

	printf("event %.0f claim %s %s%s\n",
	       cJSON_IsNumber(n) ? n->valuedouble : 0, str(e, "claim"),
	       *until ? "until " : "acknowledged", until);
	printf("  %s on ticket %s, %s from %s: ", str(e, "type"),
	       str(e, "ticket"), str(e, "kind"),
	       printable(str(e, "from"), 200));
	put_safe(printable(str(e, "subject"), 200));
	printf("%s\n",
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "auto_answer"))
		       ? ""
		       : " (no automatic answer)");
}

struct next_opts {
	int json;
	int at_most_once;
	int lease_set;
	unsigned long long lease;
	const char *consumer;
};

static int next_opt(int c, const char *arg, void *vctx)
{
	struct next_opts *o = vctx;

	switch (c) {
	case 'j':
		o->json = 1;
		return 0;
	case 'c':
		o->consumer = arg;
		return tq_consumer_arg(arg);
	case 'a':
		o->at_most_once = 1;
		return 0;
	case 'l':
		o->lease_set = 1;
		if (number_parse(arg, 1, TQ_LEASE_MAX, &o->lease) == 0)
			return 0;
		log_error("--lease %s: seconds, 1 to %d", printable(arg, 20),
			  TQ_LEASE_MAX);
		return -1;
	default:
		return -1;
	}
}

static const struct option next_longopts[] = {
	{"queue", required_argument, NULL, 'Q'},
	{"json", no_argument, NULL, 'j'},
	{"consumer", required_argument, NULL, 'c'},
	{"lease", required_argument, NULL, 'l'},
	{"at-most-once", no_argument, NULL, 'a'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The command line of next into o and the offer: 0, or -1. */
static int next_args(struct tq_cli *cli, struct next_opts *o,
		     struct ticket_store_offer *offer, char *who, size_t size)
{
	static const char usage_text[] =
		"next [--json] [--consumer NAME] [--lease SECONDS | "
		"--at-most-once]";

	o->lease = TQ_LEASE_DEFAULT;
	if (tq_operands(cli,
			tq_parse_options(cli, usage_text, next_longopts,
					 next_opt, o),
			0, usage_text) < 0)
		return -1;
	if (o->at_most_once && o->lease_set) {
		log_error("next: --lease or --at-most-once, not both");
		return -1;
	}
	if (o->consumer != NULL)
		snprintf(who, size, "%s", o->consumer);
	else
		snprintf(who, size, "pid %ld", (long)getpid());
	offer->consumer = who;
	offer->now = 0; /* the clock once the index is locked */
	offer->lease = o->at_most_once ? 0 : (int)o->lease;
	return 0;
}

int tq_next(struct tq_cli *cli)
{
	struct next_opts o = {0, 0, 0, 0, NULL};
	struct ticket_store_offer offer;
	struct ticket_queue *q = NULL;
	const char *error;
	char who[TICKET_CONSUMER_MAX + 1];
	cJSON *obj = NULL;
	int r, rc;

	if (next_args(cli, &o, &offer, who, sizeof(who)) < 0)
		return TQ_USAGE;
	if ((rc = tq_open(cli, &q)) != TQ_OK)
		return rc;
	r = ticket_json_next(q->store, &offer, &obj, &error);
	if (r < 0)
		log_error("%s", error);
	else if (r == 1 && o.json)
		rc = print_json(obj);
	else if (r == 1)
		print_event(obj);
	cJSON_Delete(obj);
	ticket_queue_close(&q);
	return r < 0 ? TQ_TEMP : r == 0 ? TQ_NOTFOUND : rc;
}
