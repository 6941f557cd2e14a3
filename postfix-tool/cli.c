/*
 * cli.c - what the oauthmail subcommands share: finding the account,
 * opening the token cache, --help, and times printed the same way
 * everywhere.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_main.h"
#include "lib/log.h"
#include "token/oauthmail_conf.h"
#include "token/token_cache.h"
#include "token/token_perms.h"

const struct account_config *cli_account(struct cli *cli, const char *name)
{
	struct oauthmail_config *cfg = cli_config(cli);
	const struct account_config *acct;

	if (cfg == NULL)
		return NULL;
	acct = config_find_account(cfg, name);
	if (acct == NULL)
		log_error("account '%s' is not in %s (see: oauthmail list)",
			  printable(name, 64), cfg->path);
	return acct;
}

int cli_open_cache(struct cli *cli, struct token_cache **cache_r)
{
	struct oauthmail_config *cfg = cli_config(cli);
	const char *error;

	if (cfg == NULL)
		return OM_ERR_CONFIG;
	if (token_cache_open(cfg, cache_r, &error) < 0) {
		log_error("%s", error);
		return OM_ERR_CONFIG;
	}
	return OM_OK;
}

int cli_token_perms(struct cli *cli, const char *account)
{
	const struct oauthmail_config *cfg = cli_config(cli);
	enum token_perms_level level;
	const char *why, *name;
	size_t i;

	if (cfg == NULL)
		return OM_ERR_CONFIG;
	level = token_perms_dir(cfg->token_dir, &why);
	if (level == TOKEN_PERMS_REFUSE) {
		log_error("%s", why);
		return OM_ERR_CONFIG;
	}
	if (level == TOKEN_PERMS_WARN)
		log_warn("%s", why);
	for (i = 0; i < cfg->account_count; i++) {
		name = cfg->accounts[i]->name;
		if ((account == NULL || strcmp(name, account) == 0) &&
		    token_perms_file(cfg->token_dir, name, &why) !=
			    TOKEN_PERMS_OK)
			log_warn("%s", why);
	}
	return OM_OK;
}

int cli_help(int argc, char **argv, const char *usage)
{
	return cli_subcommand_help("oauthmail", argc, argv, usage);
}

const char *cli_time(time_t t)
{
	static _Thread_local char ring[4][40];
	static _Thread_local unsigned int next;
	char *buf = ring[next++ % 4];
	struct tm tm;

	if (t == 0)
		return "never";
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(ring[0]), "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

const char *cli_duration(long long s)
{
	static _Thread_local char ring[4][32];
	static _Thread_local unsigned int next;
	char *buf = ring[next++ % 4];
	const char *sign = s < 0 ? "-" : "";

	if (s < 0)
		s = -s;
	if (s >= 86400)
		snprintf(buf, sizeof(ring[0]), "%s%lldd %lldh", sign, s / 86400,
			 s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, sizeof(ring[0]), "%s%lldh %lldm", sign, s / 3600,
			 s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, sizeof(ring[0]), "%s%lldm", sign, s / 60);
	else
		snprintf(buf, sizeof(ring[0]), "%s%llds", sign, s);
	return buf;
}
