/*
 * cmd_token.c - oauthmail token ACCOUNT and oauthmail refresh ACCOUNT
 * [--force]: the token cache from the command line.
 *
 * `token` prints a valid access token on stdout and nothing else (for
 * mbsync PassCmd, scripts and curl), refreshing under the shared lock
 * when needed.  `refresh` reports instead of printing the token;
 * --force refreshes even a valid token (and ignores back-off), which
 * also renews a Microsoft refresh token's 90 days.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lib/log.h"
#include "token/token_cache.h"

#define TOKEN_USAGE "token ACCOUNT\n  print a valid access token on stdout"
#define REFRESH_USAGE                 \
	"refresh ACCOUNT [--force]\n" \
	"  refresh the access token if it is due; --force: now, in any case"

static int one_account_arg(int argc, char **argv, const char *usage,
			   const char **account, int *force)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (force != NULL && strcmp(argv[i], "--force") == 0)
			*force = 1;
		else if (argv[i][0] != '-' && *account == NULL)
			*account = argv[i];
		else
			break;
	}
	if (i == argc && *account != NULL)
		return 0;
	fprintf(stderr, "usage: oauthmail %s\n", usage);
	return -1;
}

/* open_checked - the token cache, once token_dir and the account's file
 * are known to be closed to others (warned about, or refused) */
static int open_checked(struct cli *cli, const char *account,
			struct token_cache **cache_r)
{
	int ret;

	if ((ret = cli_open_cache(cli, cache_r)) != OM_OK)
		return ret;
	if ((ret = cli_token_perms(cli, account)) != OM_OK)
		token_cache_close(cache_r);
	return ret;
}

int cmd_token(struct cli *cli, int argc, char **argv)
{
	struct token_cache *cache;
	struct access_token tok;
	const char *account = NULL, *error;
	enum om_status st;
	int ret;

	if (cli_help(argc, argv, TOKEN_USAGE))
		return OM_OK;
	if (one_account_arg(argc, argv, TOKEN_USAGE, &account, NULL) < 0)
		return OM_ERR_USAGE;
	if ((ret = open_checked(cli, account, &cache)) != OM_OK)
		return ret;
	st = token_cache_get(cache, account, &tok, &error);
	if (st == OM_OK)
		printf("%s\n", tok.token);
	else
		log_error("%s", error);
	token_cache_close(&cache);
	return st;
}

int cmd_refresh(struct cli *cli, int argc, char **argv)
{
	struct token_cache *cache;
	struct access_token tok;
	const char *account = NULL, *error;
	enum om_status st;
	int force = 0, ret;

	if (cli_help(argc, argv, REFRESH_USAGE))
		return OM_OK;
	if (one_account_arg(argc, argv, REFRESH_USAGE, &account, &force) < 0)
		return OM_ERR_USAGE;
	if ((ret = open_checked(cli, account, &cache)) != OM_OK)
		return ret;
	st = force ? token_cache_refresh(cache, account, &tok, &error)
		   : token_cache_get(cache, account, &tok, &error);
	if (st == OM_OK)
		printf("account %s: access token %s valid until %s (%s left)\n",
		       account, tok.fingerprint, cli_time(tok.expires),
		       cli_duration((long long)(tok.expires - time(NULL))));
	else
		log_error("%s", error);
	token_cache_close(&cache);
	return st;
}
