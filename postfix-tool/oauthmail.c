/*
 * oauthmail.c - the admin command: authorize accounts, hand out tokens,
 * report their health, move them between hosts.
 *
 * This file only parses global options and dispatches (through the
 * frame it shares with ticketq, cli_main.c); each subcommand lives in
 * cmd_<name>.c.  Exit codes are those of cli_main.h (docs/internals.md,
 * "Exit codes"), and every failure message says what to do next.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_main.h"
#include "commands.h"
#include "lib/log.h"
#include "token/oauthmail_conf.h"

static const struct cli_command commands[] = {
	{"authorize", CLI_FN(cmd_authorize),
	 "authorize ACCOUNT [--device | --paste] [--allow-other-user]\n"
	 "                                           get a refresh token"},
	{"token", CLI_FN(cmd_token),
	 "token ACCOUNT                            print a valid access token"},
	{"refresh", CLI_FN(cmd_refresh),
	 "refresh ACCOUNT [--force]                refresh the access token"},
	{"status", CLI_FN(cmd_status),
	 "status [ACCOUNT] [--json]                show token state"},
	{"list", CLI_FN(cmd_list),
	 "list                                     list configured accounts"},
	{"check", CLI_FN(cmd_check),
	 "check [ACCOUNT...] [--warn-days N] [--crit-days N] [--json]\n"
	 "                                           monitoring (Nagios) "
	 "check"},
	{"export", CLI_FN(cmd_export),
	 "export [ACCOUNT...] [--with-secrets]     accounts and tokens as "
	 "JSON"},
	{"import", CLI_FN(cmd_import),
	 "import FILE [--overwrite]                load an export"},
	{"tunnel", CLI_FN(cmd_tunnel),
	 "tunnel imap|pop3|smtp ACCOUNT            authenticated session on "
	 "stdin/stdout"},
	{"test", CLI_FN(cmd_test),
	 "test ACCOUNT [imap|pop3|smtp]            connect, authenticate, "
	 "report"},
	{"serve", CLI_FN(cmd_serve),
	 "serve [--listen PATH]                    token broker for Postfix "
	 "(spawn/systemd)"},
	{"postfix", CLI_FN(cmd_postfix),
	 "postfix check [--config-dir DIR]         check the Postfix set-up"},
};

static void footer(FILE *out)
{
	fprintf(out,
		"\n'oauthmail COMMAND --help' shows a command's options. "
		"Config: -c FILE, $OAUTHMAIL_CONF,\nor %s.\n",
		config_default_path());
}

static const struct cli_program program = {
	"oauthmail", "[-c FILE] [-v] COMMAND [ARGS]",
	commands,    sizeof(commands) / sizeof(commands[0]),
	footer,
};

/* The library's outcome classes are the exit codes (docs/internals.md,
 * "Exit codes"). */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(OM_OK, CLI_EXIT_OK) && SAME(OM_ERR_USAGE, CLI_EXIT_USAGE) &&
		       SAME(OM_ERR_CONFIG, CLI_EXIT_CONFIG) &&
		       SAME(OM_ERR_REAUTH, CLI_EXIT_REAUTH) &&
		       SAME(OM_ERR_TEMP, CLI_EXIT_TEMP),
	       "enum om_status and enum cli_exit disagree");
#undef SAME

struct oauthmail_config *cli_config(struct cli *cli)
{
	const char *error;

	if (cli->cfg != NULL)
		return cli->cfg;
	if (config_load(cli->config_path, &cli->cfg, &error) < 0) {
		log_error("%s", error);
		return NULL;
	}
	return cli->cfg;
}

/* global_options - -c FILE, -v, --help before the command: the index
 * of the command, or -1 with the exit code in *exit_r */
static int global_options(int argc, char **argv, struct cli *cli, int *exit_r)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cli->config_path = argv[++i];
		} else if (strcmp(argv[i], "-v") == 0) {
			cli->verbose++;
		} else {
			*exit_r = cli_is_help(argv[i]) ? CLI_EXIT_OK
						       : CLI_EXIT_USAGE;
			cli_usage(&program,
				  *exit_r == CLI_EXIT_OK ? stdout : stderr);
			return -1;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	const struct cli_command *cmd;
	int i, ret;

	log_init(program.name);
	cli_no_core_dumps();
	if (cli_version(&program, argc, argv))
		return CLI_EXIT_OK;
	if ((i = global_options(argc, argv, &cli, &ret)) < 0)
		return ret;
	if ((cmd = cli_find_command(&program, argc, argv, i)) == NULL)
		return CLI_EXIT_USAGE;
	if (cli.verbose)
		log_set_min_level(LOG_LEVEL_DEBUG);
	else
		log_stderr_min_level(LOG_LEVEL_WARN);
	log_to_syslog(getenv("OAUTHMAIL_NO_SYSLOG") == NULL);
	ret = ((command_fn *)cmd->fn)(&cli, argc - i, argv + i);
	config_free(&cli.cfg);
	return ret;
}
