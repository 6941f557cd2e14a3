/* cmd_pending.c - subcommands not written yet (temporary, issue 2) */
#include "oauthmail-config.h"

#include "commands.h"
#include "log.h"

static int pending(const char *name)
{
	log_error("%s: not implemented yet", name);
	return OM_ERR_USAGE;
}

int cmd_authorize(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return pending(argv[0]);
}

int cmd_token(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return pending(argv[0]);
}

int cmd_refresh(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return pending(argv[0]);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return pending(argv[0]);
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return pending(argv[0]);
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return pending(argv[0]);
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return pending(argv[0]);
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return pending(argv[0]);
}
