/* commands.h - the oauthmail subcommands and what they share */
#ifndef OAUTHMAIL_COMMANDS_H
#define OAUTHMAIL_COMMANDS_H

#include "token/om_status.h"

struct oauthmail_config;

/* What every subcommand gets: global options and the lazily loaded
 * config.  Exit codes (enum cli_exit, cli_main.h; enum om_status has
 * the same values; docs/internals.md, "Exit codes"): 0 ok, 1 usage,
 * 2 config, 3 needs re-authorization, 4 provider or network error. */
struct cli {
	const char *config_path; /* -c FILE, or NULL for the default */
	struct oauthmail_config *cfg;
	int verbose;
};

/* cli_config - the config, loaded on first use; NULL after printing
 * the error (the caller exits OM_ERR_CONFIG) */
struct oauthmail_config *cli_config(struct cli *cli);

/* A subcommand: argv[0] is its name; returns the process exit code.
 * oauthmail.c's table holds these (CLI_FN). */
typedef int command_fn(struct cli *cli, int argc, char **argv);

int cmd_authorize(struct cli *cli, int argc, char **argv);
int cmd_token(struct cli *cli, int argc, char **argv);
int cmd_refresh(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_tunnel(struct cli *cli, int argc, char **argv);
int cmd_test(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_postfix(struct cli *cli, int argc, char **argv);

#endif
