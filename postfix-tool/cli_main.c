/*
 * cli_main.c - the frame of both command-line programs, oauthmail and
 * ticketq: a table of subcommands, finding the one named, the usage
 * (one summary line per command), --help, and the one set of exit
 * codes (cli_main.h).
 *
 * Each program keeps what is its own: its global options, its context
 * (the config for oauthmail, the queue for ticketq), and, for ticketq,
 * the rule that any command-line mistake on a `deliver` line exits 75
 * so the MTA keeps the mail.  Messages go to stderr through log.c;
 * requested help goes to stdout.
 *
 * Both programs hold secrets in memory (tokens, client secrets, the
 * queue's HMAC key), so both start by making sure no core file or
 * same-user debugger sees them (DESIGN.md rule 6): cli_no_core_dumps().
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cli_main.h"
#include "lib/log.h"

void cli_usage(const struct cli_program *p, FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s %s\n\n", p->name, p->synopsis);
	for (i = 0; i < p->count; i++)
		fprintf(out, "  %s\n", p->commands[i].summary);
	if (p->footer != NULL)
		p->footer(out);
}

const struct cli_command *cli_find_command(const struct cli_program *p,
					   int argc, char **argv, int i)
{
	size_t k;

	for (k = 0; i < argc && k < p->count; k++)
		if (strcmp(p->commands[k].name, argv[i]) == 0)
			return &p->commands[k];
	if (i < argc)
		log_error("unknown command '%s'", printable(argv[i], 40));
	cli_usage(p, stderr);
	return NULL;
}

int cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_subcommand_help(const char *prog, int argc, char **argv,
			const char *usage)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			printf("usage: %s %s\n", prog, usage);
			return 1;
		}
	}
	return 0;
}

int cli_version(const struct cli_program *p, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "--version") != 0)
		return 0;
	printf("%s %s\n", p->name, PACKAGE_VERSION);
	return 1;
}

void cli_catch_stop_signals(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void cli_no_core_dumps(void)
{
	struct rlimit none = {0, 0};

	if (setrlimit(RLIMIT_CORE, &none) < 0)
		log_warn("cannot turn core files off (setrlimit): %s",
			 strerror(errno));
#ifdef __linux__
	/* also keeps other processes of our user out of /proc/PID/mem
	   and /proc/PID/environ, and ptrace out */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("cannot turn core dumps off (prctl): %s",
			 strerror(errno));
#endif
}
