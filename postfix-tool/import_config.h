/* import_config.h - the config half of `oauthmail import`: create (or,
 * with --overwrite, replace) the exported accounts' sections in this
 * host's oauthmail.conf, and put their client secrets in place */
#ifndef OAUTHMAIL_IMPORT_CONFIG_H
#define OAUTHMAIL_IMPORT_CONFIG_H

#include <cjson/cJSON.h>

#include "commands.h"

/* import_config - every account of the export (root) that carries a
 * section: added when the config lacks it, replaced with overwrite,
 * else kept (a difference is said).  The config file is rewritten
 * atomically, once, after a backup; cli's loaded config is dropped so
 * the next cli_config() reads the new one.  Returns the number of
 * accounts whose config could not be put in place (each said why). */
int import_config(struct cli *cli, const cJSON *root, int overwrite);

#endif
