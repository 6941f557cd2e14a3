/* ticketq.h - the ticketq program: shared parts of the subcommands */
#ifndef OAUTHMAIL_TICKETQ_H
#define OAUTHMAIL_TICKETQ_H

#include <getopt.h>
#include <stdint.h>

#include "cli_main.h"
#include "ticket/ticket_queue.h"

/* ticketq's names for the shared exit codes (cli_main.h) of every
 * subcommand but deliver (which speaks sysexits) */
#define TQ_OK CLI_EXIT_OK
#define TQ_USAGE CLI_EXIT_USAGE	      /* bad command line */
#define TQ_QUEUE CLI_EXIT_CONFIG      /* no queue, bad config, broken index */
#define TQ_NOTFOUND CLI_EXIT_NOTFOUND /* no such ticket; `next`: nothing */
#define TQ_TEMP CLI_EXIT_TEMP	      /* busy, locked, disk full: try again */
#define TQ_LOST CLI_EXIT_LOST	      /* ack: the claim lost its lease */

/* `next`: how long a claim holds its event unless --lease says */
#define TQ_LEASE_DEFAULT 300
#define TQ_LEASE_MAX 86400

struct tq_cli {
	const char *queue_dir; /* --queue, $TICKETQ_QUEUE or the default */
	int argc;	       /* the subcommand's arguments (argv[0] = name) */
	char **argv;
};

typedef int tq_command_fn(struct tq_cli *cli);

tq_command_fn tq_init, tq_deliver, tq_list, tq_show, tq_next, tq_ack, tq_reply,
	tq_close, tq_reopen, tq_reindex, tq_lmtp;

/* tq_parse_options - getopt_long over the subcommand's argv with the
 * common --queue and --help; calls on_opt for the others.  Returns the
 * index of the first operand, or -1 after printing usage.  --help
 * prints the usage and exits 0, except for deliver: -1, and deliver
 * prints it after its 4.3.5 line and exits 75. */
int tq_parse_options(struct tq_cli *cli, const char *usage,
		     const struct option *longopts,
		     int (*on_opt)(int opt, const char *arg, void *ctx),
		     void *ctx);

/* tq_operands - 0 when exactly want operands follow first; else print
 * the usage (unless tq_parse_options already did) and return -1 */
int tq_operands(struct tq_cli *cli, int first, int want,
		const char *usage_text);

/* tq_open - open the queue, take the shared lock, open the index:
 * TQ_OK, or an exit code after printing why */
int tq_open(struct tq_cli *cli, struct ticket_queue **q_r);

/* tq_open_as - the same with another lock, the index opened or not */
int tq_open_as(struct tq_cli *cli, enum ticket_lock lock, int with_index,
	       struct ticket_queue **q_r);

/* tq_exit_for - the exit code for a queue status */
int tq_exit_for(enum ticket_status st);

/* tq_store_exit - the exit code after a failed index query: TQ_TEMP
 * when it was transient (busy, locked, disk full), else TQ_QUEUE */
int tq_store_exit(const struct ticket_queue *q);

/* tq_ticket_arg - parse a ticket number operand; -1 after printing */
int tq_ticket_arg(const char *arg, uint64_t *ticket_r);

/* tq_consumer_arg - check a --consumer NAME: 1 to TICKET_CONSUMER_MAX
 * bytes, no control bytes.  0, or -1 after printing why. */
int tq_consumer_arg(const char *name);

/* tq_deliver_usage_exit - print the 4.3.5 line for a broken deliver
 * command line and return 75 (the MTA defers, the admin fixes it) */
int tq_deliver_usage_exit(void);

/* tq_drop_privileges - when root, become the queue directory's owner
 * (so files we create stay usable by the delivery user).  0, or -1. */
int tq_drop_privileges(const char *dir);

#endif
