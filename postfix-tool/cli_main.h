/* cli_main.h - the command-line frame oauthmail and ticketq share: one
 * set of exit codes, a table of subcommands, dispatch, usage, --help */
#ifndef OAUTHMAIL_CLI_MAIN_H
#define OAUTHMAIL_CLI_MAIN_H

#include <stddef.h>
#include <stdio.h>
#include <sysexits.h>

/* The exit codes of both programs (oauthmail(1), ticketq(1)).  The
 * values are interfaces: scripts, monitoring and MTAs read them.
 * oauthmail's are its library outcome classes too (enum om_status,
 * asserted equal in oauthmail.c); `oauthmail check` exits with
 * monitoring codes instead (0 OK, 1 WARNING, 2 CRITICAL). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_USAGE = 1,    /* bad command line */
	CLI_EXIT_CONFIG = 2,   /* oauthmail: fix oauthmail.conf or the app
				  registration; ticketq: no queue, bad
				  config, broken index */
	CLI_EXIT_REAUTH = 3,   /* oauthmail: run oauthmail authorize ACCOUNT */
	CLI_EXIT_NOTFOUND = 3, /* ticketq: no such ticket; `next`: nothing
				  pending */
	CLI_EXIT_TEMP = 4,     /* provider, network, busy, locked, disk
				  full: try again later */
	CLI_EXIT_LOST = 5,     /* ticketq ack --claim: the lease ran out
				  and another claim took the event */
	/* `ticketq deliver` and `oauthmail graph send` speak sysexits to
	 * the MTA only: 0 stored/sent, */
	CLI_EXIT_DATAERR = EX_DATAERR,	 /* 65: refused (5.3.4 too big) */
	CLI_EXIT_TEMPFAIL = EX_TEMPFAIL, /* 75: the MTA retries later */
};

/* A command's function in its program's own type (oauthmail's take
 * (struct cli *, argc, argv), ticketq's (struct tq_cli *)), stored as
 * the generic function pointer type and cast back before the call. */
typedef void cli_fn(void);

struct cli_command {
	const char *name;
	cli_fn *fn;
	const char *summary; /* its line in the program's usage */
};

/* CLI_FN - a command's function as a table entry */
#define CLI_FN(fn) ((cli_fn *)(fn))

struct cli_program {
	const char *name;     /* "oauthmail": usage lines, the log ident */
	const char *synopsis; /* "[-c FILE] [-v] COMMAND [ARGS]" */
	const struct cli_command *commands;
	size_t count;
	void (*footer)(FILE *out); /* the lines after the list, or NULL */
};

/* cli_usage - "usage: NAME SYNOPSIS", one line per command, the footer */
void cli_usage(const struct cli_program *p, FILE *out);

/* cli_find_command - the command argv[i] names.  NULL when there is
 * none (i == argc) or it is unknown, after saying so and printing the
 * usage to stderr: the caller exits CLI_EXIT_USAGE. */
const struct cli_command *cli_find_command(const struct cli_program *p,
					   int argc, char **argv, int i);

/* cli_is_help - arg is --help or -h */
int cli_is_help(const char *arg);

/* cli_subcommand_help - 1 when argv[1..] asks for --help, after printing
 * "usage: PROG USAGE" to stdout (the caller exits 0); else 0 */
int cli_subcommand_help(const char *prog, int argc, char **argv,
			const char *usage);

/* cli_version - 1 when the command line is exactly "PROG --version",
 * after printing "NAME VERSION" to stdout (the caller exits 0); else 0.
 * Only alone: ticketq's MTA lines must never exit 0 unread. */
int cli_version(const struct cli_program *p, int argc, char **argv);

/* cli_catch_stop_signals - a daemon's SIGTERM and SIGINT run handler
 * (no SA_RESTART: poll() returns), SIGPIPE is ignored */
void cli_catch_stop_signals(void (*handler)(int));

/* cli_no_core_dumps - no core file and, on Linux, not dumpable (no
 * ptrace, no /proc/PID/mem for our own user): the secrets we hold stay
 * in the process (DESIGN.md rule 6).  Call first in main(), after
 * log_init(): a failure is a warning, and the program goes on. */
void cli_no_core_dumps(void);

#endif
