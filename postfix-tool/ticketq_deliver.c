/*
 * ticketq_deliver.c - `ticketq init` and `ticketq deliver`.
 *
 * deliver is what Postfix pipe(8), local(8) aliases, fetchmail's mda
 * or Dovecot/Sieve run for each message.
 * It speaks sysexits only, and defaults to 75 on doubt:
 *
 *   0   stored (or a duplicate of a stored message, or empty input)
 *   75  any transient fault, and any fault of ours (config, command
 *       line, --help too, broken index): the MTA keeps the mail and
 *       retries; the first output line is "4.3.x ticketq: why" for the
 *       DSN and log, a usage error's usage follows on stderr
 *   65  the message is over max_message_size: "5.3.4 ..." first
 *   67  with --queues: the map has no queue for --recipient, "5.1.1
 *       <addr>: no ticket queue for this recipient (add it to FILE)"
 *
 * With --queues FILE (ticket_qmap.c: one queue per recipient address
 * or domain) the queue is the one the map names for --recipient, not
 * --queue or $TICKETQ_QUEUE; --recipient is then required (75 without
 * it, like any other usage error), and a missing or broken map defers
 * with 75 and its FILE:LINE error.  The map is read before the switch
 * to the chosen queue's owner.
 *
 * SIGXFSZ is ignored: past a file-size limit the write fails (EFBIG),
 * the temp file is removed and the delivery defers with 75, naming
 * the limit.
 *
 * Output goes to stdout (pipe(8) puts it into the log and the DSN) and
 * to syslog (mail facility), never to the message's sender verbatim.
 *
 * init creates a queue: DIR, the Maildir, files/, ticketq.conf with a
 * fresh HMAC key, and tickets.db, owned by --owner when given.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/log.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_qmap.h"
#include "ticket/ticket_queue.h"
#include "ticketq.h"

struct deliver_opts {
	const char *sender;
	const char *recipient;
	const char *queues; /* --queues FILE, or NULL */
};

struct init_opts {
	const char *address;
	const char *owner;
};

int tq_deliver_usage_exit(void)
{
	printf("4.3.5 ticketq: bad command line in the MTA's configuration "
	       "(see ticketq(1))\n");
	fflush(stdout);
	return EX_TEMPFAIL;
}

static int deliver_opt(int c, const char *arg, void *vctx)
{
	struct deliver_opts *o = vctx;

	if (c == 's')
		o->sender = arg;
	else if (c == 'r')
		o->recipient = arg;
	else if (c == 'm')
		o->queues = arg;
	else
		return -1;
	return 0;
}

static int tempfail(const char *code, const char *why)
{
	printf("%s ticketq: %s\n", code, printable(why, 400));
	fflush(stdout);
	log_error("deliver deferred: %s", why);
	return EX_TEMPFAIL;
}

/* queue_from_map - with --queues, the queue directory for --recipient
 * into *dir_r (to free): EX_OK, or the exit code after saying why */
static int queue_from_map(const struct deliver_opts *o, char **dir_r)
{
	struct ticket_qmap *map = NULL;
	const char *error, *dir;
	int rc = EX_OK;

	if (ticket_qmap_load(o->queues, &map, &error) < 0)
		return tempfail("4.3.5", error);
	dir = ticket_qmap_lookup(map, o->recipient);
	if (dir == NULL) {
		printf("5.1.1 <%s>: no ticket queue for this recipient "
		       "(add it to %s)\n",
		       printable(o->recipient, 254), printable(o->queues, 400));
		log_warn("refused: no queue for <%s> in %s",
			 printable(o->recipient, 254),
			 printable(o->queues, 400));
		rc = EX_NOUSER;
	} else if ((*dir_r = strdup(dir)) == NULL) {
		rc = tempfail("4.3.0", "out of memory");
	}
	ticket_qmap_free(&map);
	return rc;
}

static const char *how(const struct ticket_delivery *d)
{
	if (d->new_ticket)
		return "new";
	return d->how != NULL ? d->how : "update";
}

static int report(const struct ticket_queue *q, const struct ticket_delivery *d)
{
	const char *kind = ticket_mail_class_name(d->kind, d->flags);

	switch (d->outcome) {
	case TICKET_TOO_LARGE:
		printf("5.3.4 ticketq: message too big for the ticket queue "
		       "(limit %llu bytes)\n",
		       (unsigned long long)q->cfg->max_message_size);
		log_warn("refused: message over %llu bytes",
			 (unsigned long long)q->cfg->max_message_size);
		return EX_DATAERR;
	case TICKET_EMPTY:
		printf("ticketq: empty message, nothing stored\n");
		return EX_OK;
	case TICKET_DUPLICATE:
		printf("ticketq: duplicate, already stored as %s\n", d->name);
		log_info("%s: duplicate delivery, already stored", d->name);
		return EX_OK;
	default:
		break;
	}
	if (d->ticket != 0)
		printf("ticketq: ticket %llu (%s, %s)",
		       (unsigned long long)d->ticket, how(d), kind);
	else
		printf("ticketq: stored, no ticket (%s%s%s)", kind,
		       d->reason[0] ? ": " : "", printable(d->reason, 120));
	printf("%s\n",
	       d->existed ? "; raw copy kept from an earlier attempt" : "");
	log_info("%s: from=<%s> size=%llu kind=%s ticket=%llu%s%s%s", d->name,
		 printable(d->from, 200), (unsigned long long)d->size, kind,
		 (unsigned long long)d->ticket, d->new_ticket ? " (new)" : "",
		 d->reason[0] ? " reason=" : "", printable(d->reason, 120));
	return EX_OK;
}

/* deliver_to - the message on stdin into the queue in dir */
static int deliver_to(const char *dir, const struct deliver_opts *o)
{
	struct ticket_deliver_opts in = {.from = TICKET_FROM_FD,
					 .in_fd = STDIN_FILENO};
	struct ticket_queue *q = NULL;
	struct ticket_delivery d;
	enum ticket_status st;
	const char *error = "unknown error";
	int rc;

	if (tq_drop_privileges(dir) < 0)
		return tempfail("4.3.5", "cannot switch to the queue owner");
	st = ticket_queue_open(dir, &q, &error);
	if (st != TICKET_OK)
		return tempfail("4.3.5", error);
	in.sender = o->sender;
	in.recipient = o->recipient;
	st = ticket_deliver(q, &in, &d, &error);
	if (st != TICKET_OK)
		rc = tempfail(st == TICKET_ERR_QUEUE ? "4.3.5" : "4.3.0",
			      error);
	else
		rc = report(q, &d);
	ticket_delivery_done(&d);
	ticket_queue_close(&q);
	fflush(stdout); /* stored is stored, even if nobody reads this */
	return rc;
}

int tq_deliver(struct tq_cli *cli)
{
	static const struct option longopts[] = {
		{"queue", required_argument, NULL, 'Q'},
		{"sender", required_argument, NULL, 's'},
		{"recipient", required_argument, NULL, 'r'},
		{"queues", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char usage_text[] =
		"deliver [--queue DIR | --queues FILE] [--sender S] "
		"[--recipient R] < message";
	struct deliver_opts o = {NULL, NULL, NULL};
	char *mapped_dir = NULL;
	int rc, first;

	signal(SIGPIPE, SIG_IGN); /* SIGXFSZ: main() ignores it */
	log_to_stderr(0);
	log_to_syslog(1);
	first = tq_parse_options(cli, usage_text, longopts, deliver_opt, &o);
	if (first != cli->argc || (o.queues != NULL && o.recipient == NULL)) {
		rc = tq_deliver_usage_exit();
		if (first == cli->argc)
			fprintf(stderr,
				"ticketq: --queues needs --recipient "
				"(pipe(8): --recipient ${recipient})\n");
		fprintf(stderr, "usage: ticketq %s\n", usage_text);
		return rc;
	}
	if (o.queues != NULL && (rc = queue_from_map(&o, &mapped_dir)) != EX_OK)
		return rc;
	rc = deliver_to(mapped_dir != NULL ? mapped_dir : cli->queue_dir, &o);
	free(mapped_dir);
	return rc;
}

static int init_opt(int c, const char *arg, void *vctx)
{
	struct init_opts *o = vctx;

	if (c == 'a')
		o->address = arg;
	else if (c == 'o')
		o->owner = arg;
	else
		return -1;
	return 0;
}

static int chown_queue(const char *dir, const char *owner)
{
	struct passwd *pw = getpwnam(owner);

	if (pw == NULL) {
		log_error("no such user: %s", printable(owner, 64));
		return -1;
	}
	if ((mkdir(dir, 0750) < 0 && errno != EEXIST) ||
	    chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
		log_error("%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int tq_init(struct tq_cli *cli)
{
	static const struct option longopts[] = {
		{"queue", required_argument, NULL, 'Q'},
		{"address", required_argument, NULL, 'a'},
		{"owner", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct init_opts o = {NULL, NULL};
	struct ticket_queue *q = NULL;
	char address[300];
	const char *error;
	int created, rc;

	static const char usage_text[] =
		"init [--queue DIR] [--address ADDR] [--owner USER]";

	if (tq_operands(
		    cli,
		    tq_parse_options(cli, usage_text, longopts, init_opt, &o),
		    0, usage_text) < 0)
		return TQ_USAGE;
	ticket_config_default_address(address, sizeof(address));
	if (o.owner != NULL && chown_queue(cli->queue_dir, o.owner) < 0)
		return TQ_QUEUE;
	if (ticket_config_init(cli->queue_dir, o.address ? o.address : address,
			       &created, &error) < 0) {
		log_error("%s", error);
		return TQ_QUEUE;
	}
	rc = tq_open(cli, &q);
	if (rc != TQ_OK)
		return rc;
	printf("%s %s (address %s, config %s)\n",
	       created ? "created queue" : "queue exists, config kept:",
	       cli->queue_dir, q->cfg->address, q->cfg->path);
	ticket_queue_close(&q);
	return TQ_OK;
}
