/*
 * ticketq.c - the ticket queue program: a delivery filter that turns
 * mail into help-desk tickets (deliver), and the queue's CLI.
 *
 * This file parses the common options, finds the queue (--queue DIR,
 * $TICKETQ_QUEUE, or /var/spool/ticketq), switches from root to the
 * queue's owner and dispatches to ticketq_<command>.c, through the
 * frame it shares with oauthmail (cli_main.c: table, usage, exit codes).  `deliver`
 * speaks sysexits (0 stored, 75 try again, 65 with 5.3.4 for mail over
 * the size limit; 75 also for --help and any usage error: an MTA line
 * with those must keep the mail, not drop it); the other commands exit 0 ok, 1 usage, 2 queue or
 * config problem, 3 not found / nothing pending, 4 try again, and
 * `ack --claim` 5 when the claim's lease went to another claim.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "ticket/ticket_id.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_store.h"
#include "ticketq.h"

#define DEFAULT_QUEUE "/var/spool/ticketq"

static const struct cli_command commands[] = {
	{"init", CLI_FN(tq_init),
	 "init [--address ADDR] [--owner USER]   create a queue"},
	{"deliver", CLI_FN(tq_deliver),
	 "deliver [--sender S] [--recipient R]    store the message on stdin "
	 "(MTA)"},
	{"list", CLI_FN(tq_list),
	 "list [--status S] [--json]              list tickets"},
	{"show", CLI_FN(tq_show),
	 "show ID [--json]                        a ticket and its thread"},
	{"reply", CLI_FN(tq_reply),
	 "reply ID [--auto] [--to A] [--cc A]     answer (body on stdin)"},
	{"close", CLI_FN(tq_close),
	 "close ID                                close a ticket"},
	{"reopen", CLI_FN(tq_reopen),
	 "reopen ID                               reopen a ticket"},
	{"next", CLI_FN(tq_next),
	 "next [--json] [--consumer NAME] [--lease SECONDS | --at-most-once]\n"
	 "                                          claim the next event "
	 "(lease 300 s)"},
	{"ack", CLI_FN(tq_ack),
	 "ack EVENT [--claim TOKEN]               done with a claimed event"},
	{"lmtp", CLI_FN(tq_lmtp),
	 "lmtp --listen unix:PATH|inet:HOST:PORT  serve LMTP (Postfix "
	 "lmtp(8))"},
	{"reindex", CLI_FN(tq_reindex),
	 "reindex [--missing]                     rebuild tickets.db from "
	 "the Maildir"},
};

static void footer(FILE *out)
{
	fprintf(out,
		"\nEvents are consumed at least once: next (also next --json) "
		"leases the event\nfor %d s under a claim token; ack EVENT "
		"--claim TOKEN when done, else it is\noffered again after the "
		"lease.  --at-most-once: acknowledged at once, no ack.\n",
		TQ_LEASE_DEFAULT);
	fprintf(out,
		"\nThe queue: --queue DIR, $TICKETQ_QUEUE, or %s.  "
		"See ticketq(1).\n",
		DEFAULT_QUEUE);
}

static const struct cli_program program = {
	"ticketq", "[--queue DIR] COMMAND [ARGS]",
	commands,  sizeof(commands) / sizeof(commands[0]),
	footer,
};

int tq_exit_for(enum ticket_status st)
{
	switch (st) {
	case TICKET_OK:
		return TQ_OK;
	case TICKET_ERR_TEMP:
		return TQ_TEMP;
	default:
		return TQ_QUEUE;
	}
}

int tq_store_exit(const struct ticket_queue *q)
{
	return ticket_store_temp_failure(q->store) ? TQ_TEMP : TQ_QUEUE;
}

int tq_drop_privileges(const char *dir)
{
	struct stat st;

	if (geteuid() != 0 || stat(dir, &st) < 0 || st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 ||
	    setuid(st.st_uid) < 0) {
		log_error("cannot switch to the owner of %s (uid %ld): %s", dir,
			  (long)st.st_uid, strerror(errno));
		return -1;
	}
	cli_no_core_dumps(); /* a new uid resets "dumpable" */
	return 0;
}

int tq_ticket_arg(const char *arg, uint64_t *ticket_r)
{
	if (arg[0] == '#')
		arg++;
	if (ticket_id_parse_number(arg, ticket_r) < 0) {
		log_error("'%s' is not a ticket number (6 or more digits)",
			  printable(arg, 40));
		return -1;
	}
	return 0;
}

int tq_consumer_arg(const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0;
	     i < len && (unsigned char)name[i] >= 0x20 && name[i] != 0x7f; i++)
		;
	if (len >= 1 && len <= TICKET_CONSUMER_MAX && i == len)
		return 0;
	log_error("--consumer '%s': a name of 1 to %d bytes, no control "
		  "characters",
		  printable(name, 80), TICKET_CONSUMER_MAX);
	return -1;
}

int tq_parse_options(struct tq_cli *cli, const char *usage_text,
		     const struct option *longopts,
		     int (*on_opt)(int opt, const char *arg, void *ctx),
		     void *ctx)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(cli->argc, cli->argv, "", longopts, NULL)) !=
	       -1) {
		if (c == 'Q') {
			cli->queue_dir = optarg;
		} else if (c == 'h' && strcmp(cli->argv[0], "deliver") == 0) {
			return -1; /* never exit 0 without reading the mail */
		} else if (c == 'h') {
			printf("usage: ticketq %s\n", usage_text);
			exit(0);
		} else if (c == '?' || on_opt == NULL ||
			   on_opt(c, optarg, ctx) < 0) {
			log_error("usage: ticketq %s", usage_text);
			return -1;
		}
	}
	return optind;
}

int tq_operands(struct tq_cli *cli, int first, int want, const char *usage_text)
{
	if (first >= 0 && cli->argc - first == want)
		return 0;
	if (first >= 0)
		log_error("usage: ticketq %s", usage_text);
	return -1;
}

int tq_open_as(struct tq_cli *cli, enum ticket_lock lock, int with_index,
	       struct ticket_queue **q_r)
{
	enum ticket_status st;
	const char *error;

	if (tq_drop_privileges(cli->queue_dir) < 0)
		return TQ_QUEUE;
	st = ticket_queue_open(cli->queue_dir, q_r, &error);
	if (st == TICKET_OK)
		st = ticket_queue_lock(*q_r, lock, &error);
	if (st == TICKET_OK && with_index)
		st = ticket_queue_store(*q_r, &error);
	if (st != TICKET_OK) {
		log_error("%s", error);
		ticket_queue_close(q_r);
	}
	return tq_exit_for(st);
}

int tq_open(struct tq_cli *cli, struct ticket_queue **q_r)
{
	return tq_open_as(cli, TICKET_LOCK_SHARED, 1, q_r);
}

/* An MTA must defer, never bounce, on our command-line mistakes. */
static int mentions_deliver(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "deliver") == 0)
			return 1;
	return 0;
}

/* Options before the command: --queue DIR, --help. */
static int global_options(int argc, char **argv, struct tq_cli *cli)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--queue") == 0 && i + 1 < argc) {
			cli->queue_dir = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--queue=", 8) == 0) {
			cli->queue_dir = argv[i] + 8;
			i++;
		} else if (cli_is_help(argv[i]) &&
			   !mentions_deliver(argc, argv)) {
			cli_usage(&program, stdout);
			exit(CLI_EXIT_OK);
		} else {
			return -1;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
	struct tq_cli cli;
	const char *env = getenv("TICKETQ_QUEUE");
	int i, rc;

	log_init(program.name);
	cli_no_core_dumps();
	/* past a file-size limit (ulimit -f, local(8)'s mailbox_size_limit)
	 * a write fails with EFBIG and every command reports it and cleans
	 * up, instead of being killed with a partial file left behind */
	signal(SIGXFSZ, SIG_IGN);
	if (cli_version(&program, argc, argv))
		return CLI_EXIT_OK;
	umask(027);
	memset(&cli, 0, sizeof(cli));
	cli.queue_dir = env != NULL && *env != '\0' ? env : DEFAULT_QUEUE;
	i = global_options(argc, argv, &cli);
	if (i < 0 || i >= argc) {
		rc = mentions_deliver(argc, argv) ? tq_deliver_usage_exit()
						  : TQ_USAGE;
		cli_usage(&program, stderr);
		return rc;
	}
	if ((cmd = cli_find_command(&program, argc, argv, i)) == NULL)
		return TQ_USAGE;
	cli.argc = argc - i;
	cli.argv = argv + i;
	return ((tq_command_fn *)cmd->fn)(&cli);
}
