/* cli.h - helpers the oauthmail subcommands share */
#ifndef OAUTHMAIL_CLI_H
#define OAUTHMAIL_CLI_H

#include <time.h>

#include "commands.h"

struct account_config;
struct token_cache;

/* cli_account - the named account, or NULL after printing why */
const struct account_config *cli_account(struct cli *cli, const char *name);
/* cli_open_cache - the token cache; OM_OK or the exit code (printed) */
int cli_open_cache(struct cli *cli, struct token_cache **cache_r);
/* cli_token_perms - warn on stderr about token_dir or a token file
 * (account's, or every account's when NULL) that group or others can
 * reach, each with its chmod fix; OM_OK, or OM_ERR_CONFIG (said why)
 * when others can write token_dir */
int cli_token_perms(struct cli *cli, const char *account);
/* cli_help - 1 when argv asks for --help (usage printed to stdout) */
int cli_help(int argc, char **argv, const char *usage);
/* cli_time - "2026-11-22 13:45 UTC", or "never" for 0 */
const char *cli_time(time_t t);
/* cli_duration - "3d 4h", "59m", "12s"; negative as "-3d 4h" */
const char *cli_duration(long long seconds);

#endif
