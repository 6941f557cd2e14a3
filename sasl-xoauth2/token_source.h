/* token_source.h - turn the SASL "password" into an access token:
 * "oauthmail:ACCOUNT", an absolute token-file path, or a raw token */
#ifndef OAUTHMAIL_TOKEN_SOURCE_H
#define OAUTHMAIL_TOKEN_SOURCE_H

#include <time.h>

#include "token/om_status.h"

struct oauthmail_config;
struct token_cache;

/* Per process, set up in sasl_client_plug_init (before a chroot). */
struct token_source {
	struct oauthmail_config *cfg; /* NULL: raw tokens only */
	struct token_cache *cache;    /* NULL: broker or raw tokens only */
	char *why_no_config;	      /* why cfg is NULL */
	char *why_no_cache;	      /* why cache is NULL */
};

/* A resolved token; free with token_source_release. */
struct source_token {
	char *token;	 /* malloc'd copy, wiped on release */
	char *account;	 /* account or path it came from; NULL = raw */
	int from_broker; /* invalidate through the broker */
	char fingerprint[7];
};

/* token_source_init - load the config at path (NULL: OAUTHMAIL_CONF or
 * the default) and open the token cache.  A missing default config
 * leaves raw-token mode; a config that exists but is broken, or a cache
 * that cannot open when no broker is configured, is an error. */
int token_source_init(struct token_source *ts, const char *path,
		      const char **error_r);

/* token_source_get - resolve password.  OM_OK with tok_r filled;
 * OM_ERR_TEMP (defer and retry), OM_ERR_REAUTH or OM_ERR_CONFIG with
 * error_r naming the account and the fix.  Never logs the token. */
enum om_status token_source_get(struct token_source *ts, const char *password,
				struct source_token *tok_r,
				const char **error_r);

/* token_source_invalidate - the server refused tok: refresh next time */
void token_source_invalidate(struct token_source *ts,
			     const struct source_token *tok);

/* token_source_release - wipe and free tok's contents */
void token_source_release(struct source_token *tok);

/* token_source_free - close the cache, free the config */
void token_source_free(struct token_source *ts);

#endif
