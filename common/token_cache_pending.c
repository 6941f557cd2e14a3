/*
 * token_cache_pending.c - TEMPORARY placeholder so the sasl branch links
 * before the lead's token cache (common/token_cache.c) lands on main.
 * Every lookup fails with a clear message; raw access tokens work.
 * Removed when main's token_cache.c is merged.
 */
#include "oauthmail-config.h"

#include <stdlib.h>

#include "token_cache.h"

struct token_cache {
	int unused;
};

int token_cache_open(const struct oauthmail_config *cfg,
		     struct token_cache **cache_r, const char **error_r)
{
	(void)cfg;
	*cache_r = calloc(1, sizeof(**cache_r));
	*error_r = "out of memory";
	return *cache_r == NULL ? -1 : 0;
}

enum om_status token_cache_get(struct token_cache *cache, const char *account,
			       struct access_token *tok_r, const char **error_r)
{
	(void)cache;
	(void)account;
	(void)tok_r;
	*error_r = "token cache not built yet";
	return OM_ERR_CONFIG;
}

enum om_status token_cache_get_path(struct token_cache *cache, const char *path,
				    struct access_token *tok_r,
				    const char **error_r)
{
	return token_cache_get(cache, path, tok_r, error_r);
}

void token_cache_invalidate(struct token_cache *cache, const char *account)
{
	(void)cache;
	(void)account;
}

void token_cache_close(struct token_cache **cache)
{
	free(*cache);
	*cache = NULL;
}
