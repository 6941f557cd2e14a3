/*
 * ticketq_reply.c - `ticketq reply`, `close` and `reopen`: writing to
 * tickets.
 *
 * Everything we write is mail kept in the Maildir first (the stored
 * twin with our signed header), so `reindex` sees our replies and
 * status changes too.  A reply is stored, then handed to the sendmail
 * command (`sendmail -t -i` by default: no shell, blank-separated
 * words from ticketq.conf).  The copy waits in tmp/ until sendmail
 * exits 0 and only then goes to new/, so neither a crash nor a
 * concurrent `reindex --missing` records a reply that was not sent; if
 * sendmail fails the copy is removed and nothing is recorded.  After a
 * successful send the exit is 0 whatever happens next (4 would make a
 * caller send it twice): if indexing fails we warn, and
 * `ticketq reindex --missing` adds the stored copy.
 *
 * `reply --auto` is for robots answering new tickets: it refuses,
 * quietly and with exit 0, to answer mail flagged no-auto-answer
 * (auto-replies, bounces, lists, noreply senders), so we never start a
 * mail loop.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "ticket/ticket_classify.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_maildir.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_reply.h"
#include "ticket/ticket_store.h"
#include "ticketq.h"

#define BODY_MAX (10 * 1024 * 1024)
#define SENDMAIL_ARGS_MAX 32

static int reply_opt(int c, const char *arg, void *vctx)
{
	(void)arg;
	if (c != 'a')
		return -1;
	*(int *)vctx = 1;
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

static int split_words(char *cmd, char **argv, int max)
{
	int n = 0;
	char *p = cmd;

	while (*p != '\0' && n < max - 1) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		argv[n++] = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
	}
	argv[n] = NULL;
	return n;
}

/* Hand text to the configured command on its stdin; 0 when it exits 0. */
static int run_sendmail(const char *command, const char *text)
{
	char *cmd = strdup(command), *argv[SENDMAIL_ARGS_MAX];
	int fds[2], status = 0, ret = -1;
	pid_t pid;

	if (cmd == NULL || split_words(cmd, argv, SENDMAIL_ARGS_MAX) == 0 ||
	    pipe(fds) < 0) {
		free(cmd);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		fprintf(stderr, "ticketq: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	if (pid > 0) {
		signal(SIGPIPE, SIG_IGN);
		ret = fdio_write_all(fds[1], text, strlen(text));
		close(fds[1]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (ret == 0 &&
		    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			ret = -1;
	} else {
		close(fds[1]);
	}
	if (ret < 0)
		log_error("%s failed (%s %d)", argv[0],
			  WIFSIGNALED(status) ? "signal" : "exit status",
			  WIFSIGNALED(status) ? WTERMSIG(status)
					      : WEXITSTATUS(status));
	free(cmd);
	return ret;
}

/* The stored twin, durable in tmp/ until the reply is sent. */
static int spool_text(struct ticket_queue *q, const char *text,
		      struct ticket_delivery *d, struct ticket_spool *sp)
{
	int fd = memfd_create("ticketq", MFD_CLOEXEC);
	const char *error = "cannot create a memory file";
	enum ticket_status st = TICKET_ERR_TEMP;

	memset(d, 0, sizeof(*d));
	memset(sp, 0, sizeof(*sp));
	if (fd >= 0 && fdio_write_all(fd, text, strlen(text)) == 0 &&
	    lseek(fd, 0, SEEK_SET) == 0)
		st = ticket_deliver_receive(q, fd, NULL, NULL, d, sp, &error);
	if (fd >= 0)
		close(fd);
	if (st != TICKET_OK || d->outcome != TICKET_STORED) {
		log_error("storing our copy: %s", error);
		ticket_maildir_discard(sp);
		ticket_delivery_done(d);
		return -1;
	}
	return 0;
}

/* A note: stored in new/ at once, then indexed. */
static int store_note(struct ticket_queue *q, const char *text)
{
	char path[4096 + 128];
	struct ticket_delivery d;
	struct ticket_spool sp;
	enum ticket_status st;
	const char *error;

	if (spool_text(q, text, &d, &sp) < 0)
		return -1;
	st = ticket_deliver_commit(q, &d, &sp, &error);
	ticket_maildir_discard(&sp);
	snprintf(path, sizeof(path), "%s/new/%s", q->cfg->dir, d.name);
	if (st == TICKET_OK)
		st = ticket_deliver_file(q, path, d.name, &d, &error);
	ticket_delivery_done(&d);
	if (st != TICKET_OK) {
		log_error("%s", error);
		return -1;
	}
	return 0;
}

/* Sent: the twin into new/, then into the index.  A failure here is a
 * warning, never "try again", which would send the reply twice. */
static void record_sent(struct ticket_queue *q, struct ticket_delivery *d,
			struct ticket_spool *sp)
{
	char path[4096 + 128];
	const char *error;

	if (ticket_deliver_commit(q, d, sp, &error) != TICKET_OK) {
		log_warn("the reply was sent but our copy is not stored "
			 "(%s); it is left in %s and is not on the ticket",
			 error, sp->tmp_path);
		sp->tmp_path[0] = '\0';
		ticket_maildir_discard(sp);
		ticket_delivery_done(d);
		return;
	}
	snprintf(path, sizeof(path), "%s/new/%s", q->cfg->dir, d->name);
	if (ticket_deliver_file(q, path, d->name, d, &error) != TICKET_OK)
		log_warn("the reply was sent and stored as %s but is not "
			 "in the index yet (%s): ticketq reindex --missing "
			 "adds it",
			 path, error);
	ticket_delivery_done(d);
}

static int refuse_auto(const struct ticket_reply_info *ri)
{
	if (!(ri->last_flags & TICKET_FLAG_NO_AUTO_ANSWER) &&
	    !ticket_classify_no_reply_address(ri->to))
		return 0;
	printf("ticketq: no automatic answer on ticket %llu: the last "
	       "message (%s from %s) must not be answered by a robot\n",
	       (unsigned long long)ri->ticket,
	       ri->last_kind ? ri->last_kind : "none",
	       printable(ri->to ? ri->to : "", 200));
	return 1;
}

static int send_reply(struct ticket_queue *q, struct ticket_reply_info *ri,
		      const char *body, int automatic)
{
	struct ticket_outgoing out;
	struct ticket_delivery d;
	struct ticket_spool sp;
	const char *error;

	if (ri->to == NULL || strchr(ri->to, '@') == NULL) {
		log_error("ticket %llu has no address to reply to",
			  (unsigned long long)ri->ticket);
		return TQ_QUEUE;
	}
	if (ticket_reply_build(q->cfg, ri, body, automatic, &out, &error) < 0) {
		log_error("%s", error);
		return TQ_TEMP;
	}
	if (spool_text(q, out.stored, &d, &sp) < 0) {
		ticket_outgoing_free(&out);
		return TQ_TEMP;
	}
	if (run_sendmail(q->cfg->sendmail, out.sent) < 0) {
		ticket_maildir_discard(&sp);
		ticket_delivery_done(&d);
		log_error("reply not sent; nothing recorded");
		ticket_outgoing_free(&out);
		return TQ_TEMP;
	}
	printf("sent <%s> to %s on ticket %llu\n", out.message_id,
	       printable(out.to, 200), (unsigned long long)ri->ticket);
	ticket_outgoing_free(&out);
	record_sent(q, &d, &sp);
	return TQ_OK;
}

/* The ticket's reply facts: TQ_OK, or an exit code after saying why. */
static int load_ticket(struct ticket_queue *q, uint64_t id,
		       struct ticket_reply_info *ri)
{
	const char *error;
	int r = ticket_reply_load(q->store, id, ri, &error);

	if (r < 0)
		log_error("%s", error);
	else if (r == 0)
		log_error("no ticket %llu", (unsigned long long)id);
	return r < 0 ? tq_store_exit(q) : r == 0 ? TQ_NOTFOUND : TQ_OK;
}

int tq_reply(struct tq_cli *cli)
{
	static const struct option longopts[] = {
		{"queue", required_argument, NULL, 'Q'},
		{"auto", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char usage_text[] = "reply ID [--auto] < body";
	struct ticket_reply_info ri;
	struct ticket_queue *q = NULL;
	struct strbuf body;
	int automatic = 0, i, rc;
	uint64_t id;

	i = tq_parse_options(cli, usage_text, longopts, reply_opt, &automatic);
	if (tq_operands(cli, i, 1, usage_text) < 0 ||
	    tq_ticket_arg(cli->argv[i], &id) < 0)
		return TQ_USAGE;
	strbuf_init(&body, BODY_MAX);
	if (read_body(&body) < 0) {
		strbuf_free(&body);
		return TQ_USAGE;
	}
	if ((rc = tq_open(cli, &q)) != TQ_OK) {
		strbuf_free(&body);
		return rc;
	}
	rc = load_ticket(q, id, &ri);
	if (rc == TQ_OK && !(automatic && refuse_auto(&ri)))
		rc = send_reply(q, &ri, body.data ? body.data : "", automatic);
	ticket_reply_info_free(&ri);
	strbuf_free(&body);
	ticket_queue_close(&q);
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

/* Keep the status change as a signed note in the Maildir, index it. */
static int write_note(struct ticket_queue *q, uint64_t id, const char *action,
		      const char *want)
{
	struct ticket_outgoing out;
	const char *error;
	int rc;

	if (ticket_reply_note(q->cfg, id, action, who_am_i(), &out, &error) <
	    0) {
		log_error("%s", error);
		return TQ_TEMP;
	}
	rc = store_note(q, out.stored) < 0 ? TQ_TEMP : TQ_OK;
	if (rc == TQ_OK)
		printf("ticket %llu %s\n", (unsigned long long)id, want);
	ticket_outgoing_free(&out);
	return rc;
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
	struct ticket_reply_info ri;
	struct ticket_queue *q = NULL;
	uint64_t id;
	int i, rc;

	i = tq_parse_options(cli, usage_text, longopts, NULL, NULL);
	if (tq_operands(cli, i, 1, usage_text) < 0 ||
	    tq_ticket_arg(cli->argv[i], &id) < 0)
		return TQ_USAGE;
	if ((rc = tq_open(cli, &q)) != TQ_OK)
		return rc;
	if ((rc = load_ticket(q, id, &ri)) == TQ_OK) {
		if (strcmp(ri.status, want) == 0)
			printf("ticket %llu is already %s\n",
			       (unsigned long long)id, want);
		else
			rc = write_note(q, id, action, want);
	}
	ticket_reply_info_free(&ri);
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
