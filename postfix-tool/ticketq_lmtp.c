/*
 * ticketq_lmtp.c - `ticketq lmtp`: the ticket queue as an LMTP server
 * (RFC 2033) for Postfix's lmtp(8) (mailbox_transport, transport_maps
 * with lmtp:unix:PATH) and any other LMTP client.
 *
 *   ticketq [--queue DIR] lmtp [--queues FILE] --listen unix:PATH|inet:HOST:PORT
 *           [--mode MODE] [--group GROUP] [--max-sessions N]
 *           [--timeout SECONDS] [--any-address]
 *
 * Without --listen the socket comes from systemd (LISTEN_FDS, a
 * ticketq-lmtp.socket with Accept=no).  Each recipient's message goes
 * through the same library path as `ticketq deliver` (ticket_deliver:
 * durable raw copy in the Maildir, then the index), in groups: the
 * messages whose DATA ended in one round of the server are each made
 * durable in tmp/, linked into new/ together, new/ fsync'd once for
 * all of them, then indexed; a 250 is sent only after that; the
 * replies:
 *
 *   250 2.0.0  stored (or a duplicate of a stored message)
 *   452 4.3.1  disk full (or over quota): Postfix retries
 *   451 4.3.0  any other transient fault; 451 4.3.5 a queue problem the
 *              admin must fix (config, broken index): Postfix keeps it
 *   552 5.3.4  over the queue's max_message_size
 *   550 5.1.1  with --queues: no queue for the recipient
 *
 * As root it binds the socket, then becomes the owner of the queue
 * directory (the first queue of --queues), like deliver.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/listener.h"
#include "lib/log.h"
#include "lib/number.h"
#include "lmtp_server.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_maildir.h"
#include "ticket/ticket_qmap.h"
#include "ticketq.h"

#define DEFAULT_SESSIONS 20 /* Postfix's default destination concurrency */
#define DEFAULT_TIMEOUT 300 /* RFC 5321 4.5.3.2: 5 minutes */
#define DEFAULT_MODE 0660
#define REPLY_WHY_MAX 200
#define HOLD_MAX_MS 1000 /* queues let go at least this often */

struct lmtp_opts {
	const char *listen;
	const char *queues;
	const char *group;
	unsigned long long mode;
	unsigned long long sessions;
	unsigned long long timeout;
	int any_address;
};

struct lmtp_ctx {
	const char *queue_dir; /* without --queues */
	struct ticket_qmap *map;
	struct ticket_queue **open; /* per queue (map order), kept between
				     * messages, released when idle */
	size_t nqueues;
	long long held_since; /* when the open queues were locked */
	unsigned long long messages, rounds; /* delivered, commit rounds */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* An octal file mode such as 0660. */
static int parse_mode(const char *arg, unsigned long long *mode_r)
{
	size_t n = strlen(arg);

	if (n == 0 || n > 4 || strspn(arg, "01234567") != n) {
		log_error("--mode takes an octal mode such as 0660");
		return -1;
	}
	*mode_r = strtoull(arg, NULL, 8);
	return 0;
}

static int lmtp_opt(int c, const char *arg, void *vctx)
{
	struct lmtp_opts *o = vctx;

	switch (c) {
	case 'l':
		o->listen = arg;
		return 0;
	case 'm':
		o->queues = arg;
		return 0;
	case 'g':
		o->group = arg;
		return 0;
	case 'a':
		o->any_address = 1;
		return 0;
	case 'M':
		return parse_mode(arg, &o->mode);
	case 'S':
		return number_parse(arg, 1, LMTP_SESSIONS_MAX, &o->sessions);
	case 'T':
		return number_parse(arg, 1, 86400, &o->timeout);
	default:
		return -1;
	}
}

static const char *lookup_rcpt(void *vctx, const char *address)
{
	struct lmtp_ctx *ctx = vctx;

	if (ctx->map == NULL)
		return ctx->queue_dir;
	return ticket_qmap_lookup(ctx->map, address);
}

/* Our own error texts come from strerror(): a full disk is 452. */
static int disk_full(const char *error)
{
	return strstr(error, strerror(ENOSPC)) != NULL ||
	       strstr(error, strerror(EDQUOT)) != NULL ||
	       strstr(error, "database or disk is full") != NULL;
}

static void reply_stored(const struct ticket_queue *q,
			 const struct ticket_delivery *d, const char *recipient,
			 char *reply)
{
	switch (d->outcome) {
	case TICKET_TOO_LARGE:
		snprintf(reply, LMTP_REPLY_MAX,
			 "552 5.3.4 Message too big for the ticket queue "
			 "(limit %llu bytes)",
			 (unsigned long long)q->cfg->max_message_size);
		return;
	case TICKET_DUPLICATE:
		snprintf(reply, LMTP_REPLY_MAX,
			 "250 2.0.0 Duplicate, already stored");
		log_info("%s: to=<%s> duplicate delivery, already stored",
			 d->name, recipient);
		return;
	case TICKET_EMPTY:
		snprintf(reply, LMTP_REPLY_MAX,
			 "250 2.0.0 Empty message, nothing stored");
		return;
	default:
		break;
	}
	snprintf(reply, LMTP_REPLY_MAX, "250 2.0.0 Stored, ticket %llu",
		 (unsigned long long)d->ticket);
	log_info("%s: from=<%s> to=<%s> size=%llu kind=%s ticket=%llu%s",
		 d->name, printable(d->from, 200), recipient,
		 (unsigned long long)d->size,
		 ticket_mail_class_name(d->kind, d->flags),
		 (unsigned long long)d->ticket, d->new_ticket ? " (new)" : "");
}

static void reply_failed(enum ticket_status st, const char *error,
			 const char *recipient, char *reply)
{
	const char *code = st == TICKET_ERR_QUEUE ? "451 4.3.5"
			   : disk_full(error)	  ? "452 4.3.1"
						  : "451 4.3.0";

	snprintf(reply, LMTP_REPLY_MAX, "%s ticketq: %s", code,
		 printable(error, REPLY_WHY_MAX));
	log_error("to=<%s>: deferred (%.9s): %s", recipient, code,
		  printable(error, 400));
}

/* The lmtp_server hook: quiet for a moment, so let every queue go (a
 * reindex waits for them; the next message takes them again). */
static void release_queues(void *vctx)
{
	struct lmtp_ctx *ctx = vctx;
	size_t i;

	for (i = 0; i < ctx->nqueues; i++)
		if (ctx->open[i] != NULL)
			ticket_queue_release(ctx->open[i]);
	ctx->held_since = 0;
}

static size_t queue_index(const struct lmtp_ctx *ctx, const char *dir)
{
	size_t i;

	for (i = 0; ctx->map != NULL && i < ctx->nqueues; i++)
		if (ticket_qmap_dir(ctx->map, i) == dir)
			return i;
	return 0;
}

/* The queue for dir, opened once (its config; lock and index are
 * taken by the delivery and kept until release_queues).  Under steady
 * load they are let go every HOLD_MAX_MS all the same. */
static enum ticket_status queue_for(struct lmtp_ctx *ctx, const char *dir,
				    struct ticket_queue **q_r,
				    const char **error_r)
{
	size_t i = queue_index(ctx, dir);
	long long now = fdio_now_ms();
	enum ticket_status st = TICKET_OK;

	if (ctx->held_since != 0 && now - ctx->held_since > HOLD_MAX_MS)
		release_queues(ctx);
	if (ctx->held_since == 0)
		ctx->held_since = now;
	if (ctx->open[i] == NULL)
		st = ticket_queue_open(dir, &ctx->open[i], error_r);
	*q_r = ctx->open[i];
	return st;
}

/* One message of a group on its way into a queue. */
struct held {
	struct lmtp_job *job;
	struct ticket_delivery d;
	struct ticket_spool sp;
	int pending; /* its reply waits for the group's next step */
};

static void held_failed(struct held *h, enum ticket_status st,
			const char *error)
{
	reply_failed(st, error, h->job->recipient, h->job->reply);
	h->pending = 0;
}

/* Step 1: durable in tmp/ and parsed (TICKET_STORED), or its reply is
 * known now (too large, empty, a fault). */
static void hold_one(struct ticket_queue *q, struct held *h)
{
	struct ticket_deliver_opts in = {.from = TICKET_FROM_FD, .hold = 1};
	const char *error = "unknown error";
	enum ticket_status st;

	in.in_fd = h->job->fd;
	in.sender = h->job->sender;
	in.recipient = h->job->recipient;
	in.spool = &h->sp;
	h->pending = 0;
	if (lseek(h->job->fd, 0, SEEK_SET) < 0) {
		held_failed(h, TICKET_ERR_TEMP, strerror(errno));
		return;
	}
	st = ticket_deliver(q, &in, &h->d, &error);
	if (st != TICKET_OK)
		held_failed(h, st, error);
	else if (h->d.outcome != TICKET_STORED)
		reply_stored(q, &h->d, h->job->recipient, h->job->reply);
	else
		h->pending = 1;
}

/* Step 2: linked into new/, not yet durable there. */
static void link_one(struct ticket_queue *q, struct held *h)
{
	struct ticket_deliver_opts in = {.from = TICKET_FROM_HELD,
					 .defer_sync = 1};
	const char *error = "unknown error";
	enum ticket_status st;

	in.spool = &h->sp;
	st = ticket_deliver(q, &in, &h->d, &error);
	if (st != TICKET_OK)
		held_failed(h, st, error);
}

/* Step 4: new/ is synced: the index, then the reply. */
static void index_one(struct ticket_queue *q, struct held *h)
{
	struct ticket_deliver_opts in = {.from = TICKET_FROM_LINKED};
	const char *error = "unknown error";
	enum ticket_status st = ticket_deliver(q, &in, &h->d, &error);

	if (st != TICKET_OK)
		held_failed(h, st, error);
	else
		reply_stored(q, &h->d, h->job->recipient, h->job->reply);
}

/* The group's messages for one queue: each durable in tmp/, all
 * linked into new/, one fsync of new/ for all, then each indexed; no
 * reply is sent before the hook returns. */
static void deliver_group(struct lmtp_ctx *ctx, struct held *h, size_t n)
{
	struct ticket_queue *q = NULL;
	const char *error = "unknown error";
	enum ticket_status st;
	size_t i, linked = 0;
	int failed = 0;

	st = queue_for(ctx, h[0].job->dir, &q, &error);
	for (i = 0; i < n; i++)
		if (st != TICKET_OK)
			held_failed(&h[i], st, error);
		else
			hold_one(q, &h[i]);
	for (i = 0; i < n; i++)
		if (h[i].pending) {
			link_one(q, &h[i]);
			linked += h[i].pending;
		}
	if (linked > 0 && ticket_maildir_sync_new(q->cfg->dir, &error) < 0)
		for (i = 0; i < n; i++)
			if (h[i].pending)
				held_failed(&h[i], TICKET_ERR_TEMP, error);
	for (i = 0; i < n; i++) {
		if (h[i].pending)
			index_one(q, &h[i]);
		failed |= h[i].job->reply[0] == '4';
		ticket_delivery_done(&h[i].d);
		ticket_maildir_discard(&h[i].sp);
	}
	ctx->messages += n;
	ctx->rounds++;
	/* a fault may have left the index in a state best not reused */
	if (failed && q != NULL)
		ticket_queue_release(q);
}

/* The lmtp_server hook: the jobs of one delivery round, grouped by
 * queue. */
static void deliver_jobs(void *vctx, struct lmtp_job *const *jobs, size_t n)
{
	struct held *h = calloc(n, sizeof(*h));
	char *taken = calloc(n, 1);
	size_t i, j, m;

	for (i = 0; i < n; i++) {
		if (h == NULL || taken == NULL) {
			snprintf(jobs[i]->reply, LMTP_REPLY_MAX,
				 "451 4.3.0 ticketq: out of memory");
			continue;
		}
		if (taken[i])
			continue;
		for (j = i, m = 0; j < n; j++)
			if (!taken[j] &&
			    strcmp(jobs[j]->dir, jobs[i]->dir) == 0) {
				taken[j] = 1;
				memset(&h[m], 0, sizeof(h[m]));
				h[m++].job = jobs[j];
			}
		deliver_group(vctx, h, m);
	}
	free(taken);
	free(h);
}

static void close_queues(struct lmtp_ctx *ctx)
{
	size_t i;

	for (i = 0; ctx->open != NULL && i < ctx->nqueues; i++)
		ticket_queue_close(&ctx->open[i]);
	free(ctx->open);
	ctx->open = NULL;
}

/* The largest message any of our queues takes (LHLO's SIZE). */
static int max_size(const struct lmtp_ctx *ctx, uint64_t *max_r)
{
	struct ticket_queue *q = NULL;
	const char *error, *dir;
	size_t i, n = ctx->map ? ticket_qmap_count(ctx->map) : 1;

	*max_r = 0;
	for (i = 0; i < n; i++) {
		dir = ctx->map ? ticket_qmap_dir(ctx->map, i) : ctx->queue_dir;
		if (ticket_queue_open(dir, &q, &error) != TICKET_OK) {
			log_error("%s", error);
			return -1;
		}
		if (q->cfg->max_message_size > *max_r)
			*max_r = q->cfg->max_message_size;
		ticket_queue_close(&q);
	}
	return 0;
}

static int open_listener(const struct lmtp_opts *o, const char **error_r)
{
	char host[256];
	const char *colon;

	if (o->listen == NULL) {
		*error_r = "no --listen and no socket from systemd "
			   "(LISTEN_FDS): give --listen unix:PATH or "
			   "--listen inet:127.0.0.1:PORT";
		return listener_systemd();
	}
	if (strncmp(o->listen, "unix:", 5) == 0)
		return listener_unix(o->listen + 5, (mode_t)o->mode, o->group,
				     error_r);
	colon = strrchr(o->listen, ':');
	if (strncmp(o->listen, "inet:", 5) != 0 || colon == o->listen + 4 ||
	    (size_t)(colon - o->listen - 5) >= sizeof(host)) {
		*error_r = "--listen takes unix:PATH or inet:HOST:PORT";
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - o->listen - 5),
		 o->listen + 5);
	return listener_inet(host, colon + 1, o->any_address, error_r);
}

static void log_listening(int fd, const struct lmtp_opts *o)
{
	int port = listener_port(fd);

	if (port > 0)
		log_info("LMTP: listening on 127.0.0.1 port %d", port);
	else
		log_info("LMTP: listening on %s",
			 o->listen ? o->listen : "the socket from systemd");
	/* tests read the port from this line on stdout */
	if (port > 0)
		printf("listening on port %d\n", port);
	fflush(stdout);
}

static int serve(struct lmtp_ctx *ctx, const struct lmtp_opts *o, int fd)
{
	char hostname[128] = "localhost";
	struct lmtp_hooks hooks = {lookup_rcpt, deliver_jobs, release_queues,
				   ctx,		hostname,     0};
	const char *owner_dir =
		ctx->map ? ticket_qmap_dir(ctx->map, 0) : ctx->queue_dir;

	(void)gethostname(hostname, sizeof(hostname) - 1);
	ctx->nqueues = ctx->map ? ticket_qmap_count(ctx->map) : 1;
	ctx->open = calloc(ctx->nqueues, sizeof(*ctx->open));
	if (ctx->open == NULL) {
		log_error("out of memory");
		return TQ_TEMP;
	}
	if (tq_drop_privileges(owner_dir) < 0 ||
	    max_size(ctx, &hooks.max_size) < 0)
		return TQ_QUEUE;
	cli_catch_stop_signals(on_signal);
	log_listening(fd, o);
	if (lmtp_server_run(fd, &hooks, o->sessions, (int)o->timeout,
			    &stop_requested) < 0) {
		log_error("LMTP: the listening socket failed: %s",
			  strerror(errno));
		return TQ_TEMP;
	}
	log_info("LMTP: stopped (%llu messages in %llu commit rounds)",
		 ctx->messages, ctx->rounds);
	return TQ_OK;
}

int tq_lmtp(struct tq_cli *cli)
{
	static const struct option longopts[] = {
		{"queue", required_argument, NULL, 'Q'},
		{"listen", required_argument, NULL, 'l'},
		{"queues", required_argument, NULL, 'm'},
		{"mode", required_argument, NULL, 'M'},
		{"group", required_argument, NULL, 'g'},
		{"max-sessions", required_argument, NULL, 'S'},
		{"timeout", required_argument, NULL, 'T'},
		{"any-address", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char usage_text[] =
		"lmtp [--queues FILE] [--listen unix:PATH|inet:HOST:PORT] "
		"[--mode MODE] [--group GROUP] [--max-sessions N] "
		"[--timeout SECONDS] [--any-address]";
	struct lmtp_opts o = {NULL,
			      NULL,
			      NULL,
			      DEFAULT_MODE,
			      DEFAULT_SESSIONS,
			      DEFAULT_TIMEOUT,
			      0};
	struct lmtp_ctx ctx = {cli->queue_dir, NULL, NULL, 0, 0, 0, 0};
	const char *error = "";
	int first, fd, rc;

	log_to_syslog(1);
	first = tq_parse_options(cli, usage_text, longopts, lmtp_opt, &o);
	if (first < 0 || tq_operands(cli, first, 0, usage_text) < 0)
		return TQ_USAGE;
	if (o.queues != NULL &&
	    ticket_qmap_load(o.queues, &ctx.map, &error) < 0) {
		log_error("%s", error);
		return TQ_QUEUE;
	}
	fd = open_listener(&o, &error);
	if (fd < 0) {
		log_error("%s", error);
		ticket_qmap_free(&ctx.map);
		return TQ_USAGE;
	}
	rc = serve(&ctx, &o, fd);
	close_queues(&ctx);
	close(fd);
	if (o.listen != NULL && strncmp(o.listen, "unix:", 5) == 0)
		(void)unlink(o.listen + 5);
	ticket_qmap_free(&ctx.map);
	return rc;
}
