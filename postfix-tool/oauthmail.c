/*
 * oauthmail.c - the admin command: authorize accounts, hand out tokens,
 * report their health, move them between hosts.
 *
 * This file only parses global options and dispatches; each subcommand
 * lives in cmd_<name>.c.  Exit codes are those of docs/internals.md
 * ("Exit codes"), and every failure message says what to do next.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "token/oauthmail_conf.h"
#include "lib/log.h"

struct command {
	const char *name;
	command_fn *fn;
	const char *summary;
};

static const struct command commands[] = {
	{"authorize", cmd_authorize,
	 "authorize ACCOUNT [--device | --paste]   get a refresh token"},
	{"token", cmd_token,
	 "token ACCOUNT                            print a valid access token"},
	{"refresh", cmd_refresh,
	 "refresh ACCOUNT [--force]                refresh the access token"},
	{"status", cmd_status,
	 "status [ACCOUNT] [--json]                show token state"},
	{"list", cmd_list,
	 "list                                     list configured accounts"},
	{"check", cmd_check,
	 "check [--warn-days N]                    monitoring (Nagios) check"},
	{"export", cmd_export,
	 "export [ACCOUNT...] [--with-secrets]     accounts and tokens as "
	 "JSON"},
	{"import", cmd_import,
	 "import FILE [--overwrite]                load an export"},
	{"tunnel", cmd_tunnel,
	 "tunnel imap|pop3|smtp ACCOUNT            authenticated session on "
	 "stdin/stdout"},
	{"test", cmd_test,
	 "test ACCOUNT [imap|pop3|smtp]            connect, authenticate, "
	 "report"},
	{"serve", cmd_serve,
	 "serve [--listen PATH]                    token broker for Postfix "
	 "(spawn/systemd)"},
	{"postfix", cmd_postfix,
	 "postfix check [--config-dir DIR]         check the Postfix set-up"},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: oauthmail [-c FILE] [-v] COMMAND [ARGS]\n\n");
	for (i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %s\n", commands[i].summary);
	fprintf(out,
		"\n'oauthmail COMMAND --help' shows a command's options. "
		"Config: -c FILE, $OAUTHMAIL_CONF,\nor %s.\n",
		config_default_path());
}

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

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	const struct command *cmd;
	int i = 1, ret;

	log_init("oauthmail");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cli.config_path = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			cli.verbose++;
		else if (strcmp(argv[i], "--help") == 0 ||
			 strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return OM_OK;
		} else {
			usage(stderr);
			return OM_ERR_USAGE;
		}
	}
	if (i >= argc || (cmd = find_command(argv[i])) == NULL) {
		if (i < argc)
			log_error("unknown command '%s'",
				  printable(argv[i], 40));
		usage(stderr);
		return OM_ERR_USAGE;
	}
	if (cli.verbose)
		log_set_min_level(LOG_LEVEL_DEBUG);
	else
		log_stderr_min_level(LOG_LEVEL_WARN);
	log_to_syslog(getenv("OAUTHMAIL_NO_SYSLOG") == NULL);
	ret = cmd->fn(&cli, argc - i, argv + i);
	config_free(&cli.cfg);
	return ret;
}
